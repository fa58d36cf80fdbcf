"""Inputs of self_calibrate and blind_deconvolve: each bad argument is named, with where and why."""

import numpy as np
import pytest

import randla

from .test_calibration import _instance, _sizes


def _data(model="repeated", subspace=False):
    y, A, _, _ = _instance(model, *_sizes(model), False)
    B = np.column_stack([np.ones(y.shape[1]), np.arange(y.shape[1]) / 10.0]) if subspace else None
    return y, A, B


def _with(M, index, value):
    M = np.array(M, dtype=float)
    M[index] = value
    return M


def _poisoned(argument, value):
    """(function, kwargs with one entry of ``argument`` set to value, expected position)."""
    y, A, B = _data(subspace=True)
    K = y.shape[1] + A.shape[-1]
    ys, As, _ = _data("snapshots")
    yd, C, _ = _data("diverse-inputs")
    Kd = yd.shape[1] + C.shape[0] * C.shape[2]
    cases = {
        "y": (randla.self_calibrate, dict(y=_with(y, (1, 4), value), A=A), "row 1, column 4"),
        "A": (randla.self_calibrate, dict(y=y, A=_with(A, (1, 2, 3), value)), r"index \(1, 2, 3\)"),
        "A (snapshots)": (
            randla.self_calibrate,
            dict(y=ys, A=_with(As, (3, 2), value), model="snapshots"),
            "row 3, column 2",
        ),
        "subspace": (
            randla.self_calibrate,
            dict(y=y, A=A, subspace=_with(B, (7, 1), value)),
            "row 7, column 1",
        ),
        "constraint w": (
            randla.self_calibrate,
            dict(y=y, A=A, constraint=(_with(np.ones(K), 5, value), 1.0)),
            "index 5",
        ),
        "y (blind)": (
            randla.blind_deconvolve,
            dict(y=_with(yd, (2, 0), value), C=C),
            "row 2, column 0",
        ),
        "C": (
            randla.blind_deconvolve,
            dict(y=yd, C=_with(C, (0, 5, 1), value)),
            r"index \(0, 5, 1\)",
        ),
        "constraint w (blind)": (
            randla.blind_deconvolve,
            dict(y=yd, C=C, constraint=(_with(np.ones(Kd), 9, value), 1.0)),
            "index 9",
        ),
    }
    return cases[argument]


@pytest.mark.parametrize("value, kind", [(np.nan, "NaN"), (np.inf, "inf")])
@pytest.mark.parametrize(
    "argument",
    [
        "y",
        "A",
        "A (snapshots)",
        "subspace",
        "constraint w",
        "y (blind)",
        "C",
        "constraint w (blind)",
    ],
)
def test_non_finite_entries_are_named_with_their_position(argument, value, kind):
    function, kwargs, position = _poisoned(argument, value)
    name = argument.split(" (")[0]
    with pytest.raises(ValueError, match=rf"^{name} contains {kind} \(first at {position}\)$"):
        function(**kwargs)


@pytest.mark.parametrize("c", [np.nan, np.inf, -np.inf, complex(np.inf, 1), complex(0, np.nan)])
def test_non_finite_constraint_value_is_refused_by_name(c):
    y, A, _ = _data()
    w = np.ones(y.shape[1] + A.shape[-1])
    with pytest.raises(ValueError, match="constraint c must be"):
        randla.self_calibrate(y, A, constraint=(w, c))


def test_masked_arrays_are_refused_by_name():
    y, A, B = _data(subspace=True)
    K = y.shape[1] + A.shape[-1]
    masked = np.ma.masked_array
    for kwargs, name in [
        (dict(y=masked(y, mask=y > 1), A=A), "y"),
        (dict(y=y, A=masked(A)), "A"),
        (dict(y=y, A=A, subspace=masked(B)), "subspace"),
        (dict(y=y, A=A, constraint=(masked(np.ones(K)), 1.0)), "constraint w"),
    ]:
        with pytest.raises(TypeError, match=f"{name} is a numpy.ma.MaskedArray"):
            randla.self_calibrate(**kwargs)
    yd, C, _ = _data("diverse-inputs")
    with pytest.raises(TypeError, match="y is a numpy.ma.MaskedArray"):
        randla.blind_deconvolve(masked(yd), C)
    with pytest.raises(TypeError, match="C is a numpy.ma.MaskedArray"):
        randla.blind_deconvolve(yd, masked(C))


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_np_matrix_is_taken_as_an_ndarray():
    y, A, _ = _data("snapshots")
    ref = randla.self_calibrate(y, A, model="snapshots")
    res = randla.self_calibrate(np.asmatrix(y), np.asmatrix(A), model="snapshots")
    assert type(res.x) is np.ndarray and res.x.shape == ref.x.shape
    np.testing.assert_array_equal(res.d, ref.d)
    np.testing.assert_array_equal(res.x, ref.x)
    y, A, B = _data(subspace=True)
    ref = randla.self_calibrate(y, A, subspace=B)
    res = randla.self_calibrate(np.asmatrix(y), A, subspace=np.asmatrix(B))
    assert type(res.h) is np.ndarray and res.h.shape == ref.h.shape
    np.testing.assert_array_equal(res.d, ref.d)
    yd, C, _ = _data("diverse-inputs")
    ref = randla.blind_deconvolve(yd, C)
    res = randla.blind_deconvolve(np.asmatrix(yd), C)
    assert type(res.h) is np.ndarray and res.h.shape == ref.h.shape
    np.testing.assert_array_equal(res.h, ref.h)


def test_non_numeric_arrays_and_wrong_shapes_are_named():
    y, A, B = _data(subspace=True)
    K = y.shape[1] + A.shape[-1]
    words = np.full(y.shape, "a")
    ragged = [[1.0, 2.0], [3.0]]
    objects = np.array([[1.0, None]] * 3, dtype=object)
    for kwargs, error, message in [
        (dict(y=words, A=A), TypeError, "y must be real or complex numbers, got dtype <U1"),
        (dict(y=ragged, A=A), TypeError, "y must be array_like"),
        (dict(y=y, A=objects), TypeError, "A must be real or complex numbers, got dtype object"),
        (dict(y=y, A=A, subspace=B.astype(str)), TypeError, "subspace must be real or complex"),
        (dict(y=y, A=A, subspace=B[:5]), ValueError, r"subspace must have shape \(20, k\)"),
        (dict(y=y, A=A, constraint=(["a"] * K, 1.0)), TypeError, "constraint w must be real"),
        (dict(y=y, A=A, constraint=(ragged, 1.0)), TypeError, "constraint w must be array_like"),
        (
            dict(y=y, A=A, constraint=(np.ones((1, K)), 1.0)),
            ValueError,
            r"constraint w must be a non-empty 1-D array, got shape \(1, 30\)",
        ),
        (dict(y=y, A=A, constraint=(np.ones(K), "one")), TypeError, "constraint c must be a real"),
        (dict(y=y, A=A, constraint=(np.ones(K), True)), TypeError, "constraint c must be a real"),
        (dict(y=y, A=A, constraint=(np.ones(K), None)), TypeError, "constraint c must be a real"),
        (dict(y=y, A=A, constraint=5), TypeError, "constraint must be one of"),
        (dict(y=y, A=A, constraint="median"), ValueError, "constraint must be one of"),
        (dict(y=y, A=A, method="svd"), ValueError, "method must be one of"),
        (dict(y=y, A=A, model=3), ValueError, "model must be one of"),
        (dict(y=y, A=A, rng=-1), ValueError, "rng must be a non-negative seed"),
        (dict(y=y, A=A, rng="0"), TypeError, "rng must be None, an int seed"),
    ]:
        with pytest.raises(error, match=message):
            randla.self_calibrate(**kwargs)
    yd, C, _ = _data("diverse-inputs")
    with pytest.raises(TypeError, match="C must be real or complex numbers, got dtype <U"):
        randla.blind_deconvolve(yd, C.astype(str))
    with pytest.raises(TypeError, match="y must be array_like"):
        randla.blind_deconvolve(ragged, C)
    with pytest.raises(ValueError, match=r"C must have shape \(6, 20, n\)"):
        randla.blind_deconvolve(yd, C[:, :5])
    with pytest.raises(ValueError, match="C must be a non-empty 3-D array"):
        randla.blind_deconvolve(yd, C[0])
