"""Self-calibration is linear in y and in A: scaling the data scales the answer, nothing else.

y -> c y gives (d, c x), A -> c A gives (d, x / c), B -> c B gives (d, h / c), with the
same diagnostics and warnings, for every model, both solvers, real and complex data, at
scales from 1e-300 to 1e300.
"""

import warnings

import numpy as np
import pytest

import randla
from randla import _calibration as calibration

from .test_calibration import MODELS, _gaussian, _sizes

SCALES = [1e-300, 1e-150, 1e-8, 1e8, 1e15, 1e150, 1e300]
# Rounding of the scaled data (one rounding per entry), amplified by the conditioning of
# these small noisy problems; a unit-dependent tolerance or constraint row moves d by far
# more (1e-8 at y x 1e-8 before the fix; 1e-14 measured after).
RTOL = 1e-12


def _problem(model, complex_, subspace, seed=0, noise=1e-3):
    """(y, A, B or None): noisy measurements of a gain 1/s with s = B h when B is given."""
    p, m, n = _sizes(model)
    rng = np.random.default_rng(seed)
    B = None
    if subspace:
        B = np.column_stack([np.ones(m), 0.2 * _gaussian(rng, (m, 3), complex_)])
        s = B @ np.concatenate([[1.0], _gaussian(rng, 3, complex_)])
    else:
        s = 1 / (1 + 0.5 * rng.random(m))
    if model == "snapshots":
        A, x = _gaussian(rng, (m, n), complex_), _gaussian(rng, (p, n), complex_)
        clean = (x @ A.T) / s
    elif model == "repeated":
        A, x = _gaussian(rng, (p, m, n), complex_), _gaussian(rng, n, complex_)
        clean = np.einsum("lmn,n->lm", A, x) / s
    else:
        A, x = _gaussian(rng, (p, m, n), complex_), _gaussian(rng, (p, n), complex_)
        clean = np.einsum("lmn,ln->lm", A, x) / s
    y = clean + noise * np.linalg.norm(clean) / np.sqrt(clean.size) * _gaussian(
        rng, clean.shape, complex_
    )
    return y, A, B


def _run(y, A, **options):
    """(result, [warning messages]) of self_calibrate."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = randla.self_calibrate(y, A, rng=0, **options)
    return res, [str(w.message) for w in caught]


def _assert_same(res, caught, ref, ref_caught, *, x_factor, h_factor=1.0, residual_factor=1.0):
    assert caught == ref_caught
    np.testing.assert_allclose(res.d, ref.d, rtol=RTOL)
    np.testing.assert_allclose(res.s, ref.s, rtol=RTOL)
    x = ref.x * x_factor  # entries near 0 are accurate relative to the largest
    np.testing.assert_allclose(res.x, x, rtol=RTOL, atol=RTOL * np.abs(x).max())
    if ref.h is not None:
        np.testing.assert_allclose(res.h, ref.h * h_factor, rtol=RTOL)
    assert res.residual_norm == pytest.approx(ref.residual_norm * residual_factor, rel=1e-12)
    assert res.constraint_cosine == pytest.approx(ref.constraint_cosine, rel=1e-12)
    assert res.null_space_dim == ref.null_space_dim
    if np.isnan(ref.singular_gap):
        assert np.isnan(res.singular_gap)
    else:
        assert res.singular_gap == pytest.approx(ref.singular_gap, rel=1e-12)


SOLVERS = ["lstsq", "spectral", "spectral-iterative"]


def _solver(name, monkeypatch):
    if name == "spectral-iterative":  # the route of reduced systems over 1500 unknowns
        monkeypatch.setattr(calibration, "_DENSE_SPECTRAL_COLUMNS", 0)
        return "spectral"
    return name


@pytest.mark.parametrize("constraint", ["mean", "reference", "random"])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("subspace", [False, True], ids=["s", "s=Bh"])
@pytest.mark.parametrize("model", MODELS)
def test_scaling_y_A_and_B_scales_the_answer_only(
    model, subspace, complex_, solver, constraint, monkeypatch
):
    method = _solver(solver, monkeypatch)
    y, A, B = _problem(model, complex_, subspace)
    options = dict(model=model, method=method, constraint=constraint, subspace=B)
    ref, ref_caught = _run(y, A, **options)
    assert ref.null_space_dim == 1 and ref_caught == []
    for c in SCALES:
        _assert_same(*_run(y * c, A, **options), ref, ref_caught, x_factor=c, residual_factor=c)
        _assert_same(*_run(y, A * c, **options), ref, ref_caught, x_factor=1 / c)
        if subspace:
            scaled = dict(options, subspace=B * c)
            _assert_same(*_run(y, A, **scaled), ref, ref_caught, x_factor=1.0, h_factor=1 / c)


@pytest.mark.parametrize("model", MODELS)
def test_a_given_constraint_in_the_units_of_the_data(model):
    # w^* z = w_s^* s + w_x^* x = c: with y -> c y (x -> c x), w_x -> w_x / c is the same
    # constraint, and the answer is (d, c x) again.
    y, A, _ = _problem(model, True, False, seed=3)
    rng = np.random.default_rng(4)
    w = _gaussian(rng, y.shape[1] + A.shape[-1] * (1 if model == "repeated" else len(y)), True)
    m = y.shape[1]
    ref, ref_caught = _run(y, A, model=model, constraint=(w, 2.0))
    for c in SCALES:
        scaled = np.concatenate([w[:m], w[m:] / c])
        res, caught = _run(y * c, A, model=model, constraint=(scaled, 2.0))
        _assert_same(res, caught, ref, ref_caught, x_factor=c, residual_factor=c)


@pytest.mark.parametrize("solver", SOLVERS)
def test_warnings_do_not_depend_on_the_scale(solver, monkeypatch):
    method = _solver(solver, monkeypatch)
    # All p measurements the same: a null space of dimension >= 2, at every scale.
    rng = np.random.default_rng(3)
    A1, x, d = rng.standard_normal((20, 5)), rng.standard_normal(5), 1 + rng.random(20)
    A = np.stack([A1] * 4)
    y = d * np.einsum("lmn,n->lm", A, x)
    ref, ref_caught = _run(y, A, method=method)
    assert ref.null_space_dim >= 2 and any("null space" in w for w in ref_caught)
    for c in SCALES:
        res, caught = _run(y * c, A, method=method)
        assert caught == ref_caught and res.null_space_dim == ref.null_space_dim
        res, caught = _run(y, A * c, method=method)
        assert caught == ref_caught and res.null_space_dim == ref.null_space_dim


@pytest.mark.parametrize("method", ["lstsq", "spectral"])
def test_exact_data_give_the_same_cosine_at_every_scale(method):
    # The report: at y x 1e8 the cosine of an exact result read as unstable.
    y, A, _ = _problem("repeated", False, False, noise=0.0)
    ref = randla.self_calibrate(y, A, method=method)
    assert ref.constraint_cosine > 0.5
    for c in SCALES:
        res = randla.self_calibrate(y * c, A, method=method)
        assert res.constraint_cosine == pytest.approx(ref.constraint_cosine, rel=1e-12)
        assert res.residual_norm <= 1e-13 * np.linalg.norm(y) * c


def _blurred(complex_, seed=7):
    rng = np.random.default_rng(seed)
    p, m, n = 4, 32, 4
    h = np.exp(-np.arange(m) / 4.0) * (1 + 0.1 * rng.standard_normal(m))
    C, x = _gaussian(rng, (p, m, n), complex_), _gaussian(rng, (p, n), complex_)
    y = np.fft.ifft(np.fft.fft(h) * np.fft.fft(np.einsum("lmn,ln->lm", C, x), axis=1), axis=1)
    y = y if complex_ else y.real
    return y + 1e-4 * _gaussian(rng, y.shape, complex_), C


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("method", ["lstsq", "spectral"])
def test_blind_deconvolution_is_scale_equivariant(method, complex_):
    y, C = _blurred(complex_)
    ref = randla.blind_deconvolve(y, C, method=method)
    for c in SCALES:
        for res, x_factor in (
            (randla.blind_deconvolve(y * c, C, method=method), c),
            (randla.blind_deconvolve(y, C * c, method=method), 1 / c),
        ):
            np.testing.assert_allclose(res.h, ref.h, rtol=RTOL, atol=RTOL * np.abs(ref.h).max())
            x = ref.x * x_factor
            np.testing.assert_allclose(res.x, x, rtol=RTOL, atol=RTOL * np.abs(x).max())
            assert res.calibration.constraint_cosine == pytest.approx(
                ref.calibration.constraint_cosine, rel=1e-12
            )
