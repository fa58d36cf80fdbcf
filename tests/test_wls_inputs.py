"""fit_wls, dpp_wls and the point samplers: every argument checked by name, results owned."""

import copy
import warnings

import numpy as np
import pytest

import randla
from randla import bases

BASIS = bases.legendre(3)  # m = 4
SAMPLE = randla.optimal_sample(BASIS, 30, rng=0)
X, Y, W = SAMPLE.points, np.cos(3 * SAMPLE.points[:, 0]), SAMPLE.weights


def _reference_coef(x, y, w):
    """The weighted least-squares coefficients by numpy, from the normal definition."""
    Phi = BASIS(x)
    scale = np.sqrt(w / len(y))
    return np.linalg.lstsq(Phi * scale[:, None], y * scale, rcond=None)[0]


@pytest.mark.parametrize(
    "args, name",
    [((X, Y + 1j, W), "y"), ((X, Y, W + 0.5j), "weights"), ((X + 0j, Y, W), "x")],
)
def test_complex_inputs_are_refused_not_truncated(args, name):
    # Before: numpy's ComplexWarning and the imaginary part silently dropped.
    with pytest.raises(TypeError, match=f"^{name} must be real numbers, got dtype complex128"):
        randla.fit_wls(BASIS, *args[:2], weights=args[2])


@pytest.mark.parametrize("n", [0, 1, 3])
def test_fewer_points_than_functions_are_refused_naming_x(n):
    with pytest.raises(ValueError, match=rf"^x must have at least m = 4 points .* got {n}$"):
        randla.fit_wls(BASIS, X[:n], Y[:n], weights=W[:n])
    assert randla.fit_wls(BASIS, X[:4], Y[:4], weights=W[:4]).coef.shape == (4,)


def test_the_result_owns_its_arrays():
    x, y, w = X.copy(), Y.copy(), W.copy()
    res = randla.fit_wls(BASIS, x, y, weights=w)
    coef, at = res.coef.copy(), res(np.array([[0.3]]))
    x[:] = 0.0
    y[:] = 1e6
    w[:] = 7.0
    np.testing.assert_array_equal(res.points, X)
    np.testing.assert_array_equal(res.values, Y)
    np.testing.assert_array_equal(res.weights, W)
    np.testing.assert_array_equal(res.coef, coef)
    np.testing.assert_array_equal(res(np.array([[0.3]])), at)
    np.testing.assert_allclose(coef, _reference_coef(X, Y, W), rtol=1e-12)


def test_dpp_wls_owns_the_values_f_returned():
    buffer = np.zeros(8)

    def f(x):
        buffer[:] = np.cos(x[:, 0])
        return buffer

    res = randla.dpp_wls(f, BASIS, 8, rng=0)
    buffer[:] = 1e6
    np.testing.assert_allclose(res.values, np.cos(res.points[:, 0]))


@pytest.mark.parametrize(
    "x, y, w, message",
    [
        (np.full((30, 1), 1e200), Y, W, r"basis functions overflow at x\[0\] = \[1e\+200\]"),
        (np.vstack([X[:29], [[-1e120]]]), Y, W, r"overflow at x\[29\] = \[-1e\+120\]"),
        # Finite features and weights whose product overflows.
        (np.full((30, 1), 1e100), Y, np.full(30, 1e300), r"sqrt\(w/n\) \* phi\(x\) overflows"),
        (X, np.full(30, 1e300), np.full(30, 1e300), r"sqrt\(w/n\) \* y overflows"),
    ],
)
def test_overflow_is_a_clear_error_and_lapack_prints_nothing(x, y, w, message, capfd):
    # Before: LAPACK printed "** On entry to DLASCL parameter number 4 had an
    # illegal value" to the terminal, then LinAlgError "SVD did not converge".
    with pytest.raises(ValueError, match=message):
        randla.fit_wls(BASIS, x, y, weights=w)
    assert capfd.readouterr() == ("", "")


def test_huge_but_representable_inputs_give_a_finite_result(capfd):
    # Points far out but in range: the fit is solved, ||G - I|| is huge.
    res = randla.fit_wls(BASIS, X * 1e20, Y, weights=W)
    assert np.isfinite(res.coef).all() and res.gram_error > 1e100
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((X, Y.astype(str), W), TypeError, r"^y must be real numbers, got dtype <U"),
        ((X, Y, W.astype(str)), TypeError, r"^weights must be real numbers, got dtype <U"),
        ((X.astype(str), Y, W), TypeError, r"^x must be real numbers, got dtype <U"),
        ((X, list(Y[:29]) + [None], W), TypeError, r"^y must be real numbers, got dtype object"),
        ((X, Y[:29], W), ValueError, r"^y must have shape \(30,\), got \(29,\)"),
        ((X, Y, W[:, None][:29]), ValueError, r"^weights must have shape \(30,\), got \(29, 1\)"),
        ((X, np.where(np.arange(30) == 5, np.nan, Y), W), ValueError, r"^y contains NaN .*5"),
        ((X, Y, np.where(np.arange(30) == 2, np.inf, W)), ValueError, r"^weights contains inf .*2"),
        (
            (X, Y, np.where(np.arange(30) == 3, 0.0, W)),
            ValueError,
            r"^weights must be positive, got 0",
        ),
        ((X, np.ma.masked_array(Y), W), TypeError, "^y is a numpy.ma.MaskedArray"),
        ((X, Y, np.ma.masked_array(W)), TypeError, "^weights is a numpy.ma.MaskedArray"),
        ((np.ma.masked_array(X), Y, W), TypeError, "^x is a numpy.ma.MaskedArray"),
    ],
)
def test_fit_wls_names_the_bad_argument(args, error, message):
    # Before: string arrays were parsed as numbers, masks were dropped, and
    # the messages said "y and w must ..." for either.
    with pytest.raises(error, match=message):
        randla.fit_wls(BASIS, *args[:2], weights=args[2])


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_np_matrix_arguments_are_accepted():
    expected = randla.fit_wls(BASIS, X, Y, weights=W)
    for args in [
        (np.matrix(X), Y, W),
        (X, np.matrix(Y), W),
        (X, Y, np.matrix(W)),
        (X, np.matrix(Y).T, np.matrix(W).T),
    ]:
        got = randla.fit_wls(BASIS, *args[:2], weights=args[2])
        np.testing.assert_array_equal(got.coef, expected.coef)
        assert type(got.values) is np.ndarray and got.values.shape == (30,)
    candidates = np.linspace(-1, 1, 40)[:, None]
    a = randla.optimal_sample(BASIS, 10, candidates=np.matrix(candidates), rng=1)
    b = randla.optimal_sample(BASIS, 10, candidates=candidates, rng=1)
    np.testing.assert_array_equal(a.points, b.points)
    assert type(a.points) is np.ndarray


@pytest.mark.parametrize(
    "f, error, message",
    [
        (
            lambda x: np.full(len(x), "1.5"),
            TypeError,
            r"^f must return real numbers, got dtype <U3",
        ),
        (lambda x: None, TypeError, "^f must return real numbers, got dtype object"),
        (lambda x: x[:, 0] + 1j, TypeError, "^f must return real numbers, got dtype complex128"),
        (lambda x: np.ones(3), ValueError, r"^f must return shape \(\d+,\), got \(3,\)"),
        (
            lambda x: np.where(x[:, 0] > 0, np.inf, 0),
            ValueError,
            r"^f returned inf \(first at row \d+\) at x = ",
        ),
        (lambda x: np.ma.masked_array(x[:, 0]), TypeError, "^f returned a numpy.ma.MaskedArray"),
    ],
)
def test_what_f_returned_is_named(f, error, message):
    with pytest.raises(error, match=message):
        randla.dpp_wls(f, BASIS, 8, rng=0)


def test_f_may_return_a_column():
    a = randla.dpp_wls(lambda x: np.cos(x), BASIS, 8, rng=0)
    b = randla.dpp_wls(lambda x: np.cos(x[:, 0]), BASIS, 8, rng=0)
    np.testing.assert_array_equal(a.coef, b.coef)


@pytest.mark.parametrize(
    "candidates, error, message",
    [
        (np.array([[0.1]] * 9 + [[np.nan]]), ValueError, r"^candidates contains NaN \(first at"),
        (np.array([[0.1]] * 9 + [[1e200]]), ValueError, r"overflow at candidates\[9\]"),
        (np.ma.masked_array(np.linspace(-1, 1, 10)), TypeError, "^candidates is a numpy.ma"),
        (np.full((10, 1), "0.5"), TypeError, "^candidates must be real numbers"),
        (np.zeros((10, 2)), ValueError, r"^candidates must have shape \(N, 1\)"),
    ],
)
@pytest.mark.parametrize(
    "call",
    [
        lambda c: randla.optimal_sample(BASIS, 5, candidates=c, rng=0),
        lambda c: randla.projection_dpp_sample(BASIS, candidates=c, rng=0),
        lambda c: randla.dpp_wls(np.cos, BASIS, 6, candidates=c, rng=0),
    ],
)
def test_candidates_are_named(candidates, error, message, call):
    # Before: "x contains NaN or inf", for an argument called candidates.
    with pytest.raises(error, match=message):
        call(candidates)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"max_gram_error": 2}, ValueError, r"^max_gram_error must be in \(0, 1\), got 2.0"),
        ({"max_gram_error": 0.0}, ValueError, r"^max_gram_error must be in \(0, 1\), got 0.0"),
        ({"max_gram_error": np.nan}, ValueError, r"^max_gram_error must be in \(0, 1\), got NaN"),
        ({"max_gram_error": "0.5"}, TypeError, "^max_gram_error must be a real number"),
        ({"max_gram_error": True}, TypeError, "^max_gram_error must be a real number"),
        ({"n": 0}, ValueError, "^n must be >= 1, got 0"),
        ({"n": 12.0}, TypeError, "^n must be an integer"),
        (
            {"n": 3, "method": "iid"},
            ValueError,
            r"^n must be >= m = 4 to determine 4 coefficients, got 3",
        ),
    ],
)
def test_scalars_are_checked_by_name(kwargs, error, message):
    arguments = {"n": 12, "method": "iid-conditioned", "rng": 0} | kwargs
    n = arguments.pop("n")
    with pytest.raises(error, match=message):
        randla.dpp_wls(np.cos, BASIS, n, **arguments)


def test_a_numpy_scalar_max_gram_error_is_a_number():
    res = randla.dpp_wls(
        np.cos, BASIS, 40, method="iid-conditioned", max_gram_error=np.float32(0.9)
    )
    assert res.gram_error <= 0.9


def test_fit_wls_takes_weights_by_keyword():
    expected = randla.fit_wls(BASIS, X, Y, weights=W)
    np.testing.assert_allclose(expected.coef, _reference_coef(X, Y, W), rtol=1e-12)
    with pytest.raises(TypeError, match="takes 3 positional arguments but 4 were given"):
        randla.fit_wls(BASIS, X, Y, W)
    with pytest.raises(TypeError, match=r"^fit_wls\(\) takes weights=, not w= \(renamed\)$"):
        randla.fit_wls(BASIS, X, Y, w=W)
    with pytest.raises(TypeError, match="missing 1 required keyword-only argument: 'weights'"):
        randla.fit_wls(BASIS, X, Y)


def test_dpp_wls_condition_is_renamed_max_gram_error():
    with pytest.raises(
        TypeError, match=r"^dpp_wls\(\) takes max_gram_error=, not condition= \(renamed\)$"
    ):
        randla.dpp_wls(np.cos, BASIS, 40, method="iid-conditioned", condition=0.5, rng=0)
    res = randla.dpp_wls(np.cos, BASIS, 40, method="iid-conditioned", max_gram_error=0.5, rng=0)
    assert res.gram_error <= 0.5


@pytest.mark.parametrize("method", ["iid", "dpp", "volume", "repeated-dpp"])
def test_max_gram_error_is_refused_where_it_bounds_nothing(method):
    # Before, it was ignored: the result's gram_error could exceed it.
    with pytest.raises(ValueError, match=rf"^max_gram_error bounds .* method={method!r} reports"):
        randla.dpp_wls(np.cos, BASIS, 4, method=method, max_gram_error=0.5, rng=0)


def _flat_basis():
    """A basis without christoffel_bound: its samplers warn that they use candidates."""
    return bases.custom(
        lambda x: np.ones((len(x), 1)), 1, sample_measure=lambda n, rng: rng.uniform(-1, 1, n)
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda basis: randla.optimal_sample(basis, 0, rng=0),
        lambda basis: randla.volume_rescaled_sample(basis, 0, rng=0),
        lambda basis: randla.repeated_dpp_sample(basis, 0, rng=0),
        lambda basis: randla.dpp_wls(np.cos, basis, 0, rng=0),
        lambda basis: randla.dpp_wls(np.cos, basis, 4, method="volume", rng="0"),
        lambda basis: randla.projection_dpp_sample(basis, rng="0"),
    ],
)
def test_arguments_are_checked_before_the_sampling_domain_is_built(call):
    # Before: the candidate set was drawn (with its RandlaWarning, and a QR of
    # the candidates) before n or rng was looked at.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises((ValueError, TypeError), match="^(n|rng) must be"):
            call(_flat_basis())


@pytest.mark.parametrize(
    "call",
    [
        lambda basis: randla.optimal_sample(basis, 5, rng=0),
        lambda basis: randla.projection_dpp_sample(basis, rng=0),
        lambda basis: randla.volume_rescaled_sample(basis, 5, rng=0),
        lambda basis: randla.dpp_wls(np.cos, basis, 5, rng=0),
    ],
)
def test_the_candidates_warning_points_at_the_callers_line(call):
    basis = _flat_basis()
    with pytest.warns(randla.RandlaWarning, match="no christoffel_bound") as caught:
        call(basis)
    assert [w.filename for w in caught] == [__file__]


def test_point_samples_and_wls_results_compare_by_identity():
    res = randla.fit_wls(BASIS, X, Y, weights=W)
    for result in (SAMPLE, res):
        twin = copy.copy(result)
        assert result == result and result != twin and not (result == twin)
        assert hash(result) == hash(result) and len({result, twin}) == 2
