import importlib
import math
import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse as sp
from sklearn.datasets import load_digits

import randla
from randla import sketch_size

from ._problems import ill_conditioned, lstsq_reference

linalg_module = importlib.import_module("randla._linalg")

TALL = (4000, 20)


def _problem(cond, rng, shape=TALL, noise=1e-3):
    A = ill_conditioned(*shape, cond, rng)
    b = A @ rng.standard_normal(shape[1]) + noise * rng.standard_normal(shape[0])
    return A, b


def _error(x, ref):
    return np.linalg.norm(x - ref) / np.linalg.norm(ref)


@pytest.mark.parametrize("cond", [1.0, 1e6, 1e10, 1e12])
@pytest.mark.parametrize("noise", [0.0, 1e-3])
def test_precondition_is_as_accurate_as_numpy(cond, noise):
    # Forward errors against extended precision: ours within 10x of
    # numpy.linalg.lstsq's (plus 100 eps). rank_tol and rcond are set below
    # 1/cond so that neither drops a direction.
    rng = np.random.default_rng(0)
    A, b = _problem(cond, rng, noise=noise)
    ref = lstsq_reference(A, b).astype(np.float64)
    res = randla.lstsq(A, b, method="precondition", rank_tol=1e-15, rng=0)
    assert res.method == "precondition" and res.rank == TALL[1]
    numpy_error = _error(np.linalg.lstsq(A, b, rcond=1e-15)[0], ref)
    assert _error(res.x, ref) <= 10 * numpy_error + 100 * np.finfo(float).eps
    # The condition estimate (1-norm, of the triangular factor) is within a
    # factor d of the 2-norm condition number.
    assert cond / 2 <= res.condition_estimate <= 2 * TALL[1] * cond


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_paths(fmt):
    rng = np.random.default_rng(1)
    A, b = _problem(1e3, rng)
    A[rng.random(A.shape) < 0.5] = 0
    ref = np.linalg.lstsq(A, b, rcond=None)[0]
    As = sp.csr_array(A).asformat(fmt)
    for method in ("precondition", "lsqr", "direct"):
        res = randla.lstsq(As, b, method=method, rng=0)
        assert res.method == method
        assert _error(res.x, ref) < 1e-10, method
    res = randla.lstsq(As, b, method="lsqr", rng=0)
    assert 0 < res.iterations < 100 and res.converged


def test_auto_rule():
    rng = np.random.default_rng(2)
    A, b = _problem(10.0, rng)
    assert randla.lstsq(A, b, rng=0).method == "precondition"
    assert randla.lstsq(A[:100], b[:100], rng=0).method == "direct"
    very_sparse = sp.random_array(TALL, density=0.01, format="csr", rng=rng)
    assert randla.lstsq(very_sparse, b, rng=0).method == "lsqr"
    assert randla.lstsq(sp.csr_array(A), b, rng=0).method == "precondition"


def test_weights_multiple_rhs_and_float32():
    rng = np.random.default_rng(3)
    A, b = _problem(100.0, rng)
    w = rng.random(TALL[0])
    w[:10] = 0
    sw = np.sqrt(w)
    ref = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)[0]
    res = randla.lstsq(A, b, weights=w, rng=0)
    np.testing.assert_allclose(res.x, ref, rtol=1e-10)
    assert res.residual_norm == pytest.approx(np.linalg.norm(sw * (b - A @ ref)), rel=1e-10)
    B = np.column_stack([b, 2 * b + 1])
    multi = randla.lstsq(A, B, rng=0)
    assert multi.x.shape == (TALL[1], 2) and multi.residual_norm.shape == (2,)
    for j in range(2):
        np.testing.assert_allclose(multi.x[:, j], randla.lstsq(A, B[:, j], rng=0).x, rtol=1e-12)
    res32 = randla.lstsq(A.astype(np.float32), b.astype(np.float32), rng=0)
    assert res32.x.dtype == np.float32
    ref32 = np.linalg.lstsq(A, b, rcond=None)[0]
    assert _error(res32.x, ref32) < 100 * 100 * np.finfo(np.float32).eps  # eps32 * cond


def test_rank_deficient_digits_residual_matches_numpy():
    X = load_digits().data
    rng = np.random.default_rng(4)
    b = X @ rng.standard_normal(64) + rng.standard_normal(len(X))
    x_np = np.linalg.lstsq(X, b, rcond=None)[0]
    best = np.linalg.norm(b - X @ x_np)
    for method in ("precondition", "lsqr", "direct"):
        res = randla.lstsq(X, b, method=method, rng=0)
        assert res.rank == np.linalg.matrix_rank(X)
        assert res.residual_norm == pytest.approx(best, rel=1e-9), method
    # The basic solution puts zeros on the dropped (constant-zero) columns.
    res = randla.lstsq(X, b, method="precondition", rng=0)
    assert np.count_nonzero(res.x == 0) >= 64 - res.rank


def test_sketch_and_solve_residual_bound():
    # With a Gaussian sketch at the documented size for an eps-embedding of
    # the (d + 1)-dimensional span of [A, b] (delta = 1e-3), the residual is
    # at most (1 + eps) / (1 - eps) times the optimum.
    rng = np.random.default_rng(5)
    A, b = _problem(10.0, rng, shape=(20_000, 5), noise=1.0)
    best = np.linalg.norm(b - A @ np.linalg.lstsq(A, b, rcond=None)[0])
    eps = 0.5
    k = sketch_size("gaussian", 6, eps=eps, delta=1e-3)
    res = randla.lstsq(A, b, method="sketch", kind="gaussian", k=k, rng=0)
    assert res.method == "sketch" and res.k == k
    assert best <= res.residual_norm <= (1 + eps) / (1 - eps) * best


def test_fallback_to_direct(monkeypatch):
    monkeypatch.setattr(linalg_module, "_MIN_RCOND", 2.0)
    rng = np.random.default_rng(6)
    A, b = _problem(1e4, rng)
    res = randla.lstsq(A, b, method="precondition", rng=0)
    assert res.method == "direct"
    np.testing.assert_allclose(res.x, np.linalg.lstsq(A, b, rcond=None)[0], rtol=1e-9)


def test_lsqr_non_convergence_warns():
    rng = np.random.default_rng(7)
    A, b = _problem(1e6, rng)
    with pytest.warns(randla.ConvergenceWarning, match="LSQR stopped after"):
        res = randla.lstsq(A, b, method="lsqr", max_iter=2, rng=0)
    assert not res.converged


def test_input_not_modified_and_repr():
    rng = np.random.default_rng(8)
    A, b = _problem(10.0, rng)
    A0, b0 = A.copy(), b.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = randla.lstsq(A, b, weights=np.ones(len(b)), rng=0)
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(b, b0)
    assert repr(res).startswith("LstsqResult(method='precondition', residual_norm=")
    assert math.isfinite(res.condition_estimate)


def test_bad_arguments():
    A, b = np.ones((10, 2)), np.ones(10)
    with pytest.raises(ValueError, match="b must have 10 rows to match A, got 9"):
        randla.lstsq(A, b[:9])
    with pytest.raises(
        ValueError, match="b contains nan \\(first at index 3\\)".replace("nan", "NaN")
    ):
        randla.lstsq(A, np.where(np.arange(10) == 3, np.nan, 1.0))
    with pytest.raises(ValueError, match="weights must be >= 0, got -1.0 at index 0"):
        randla.lstsq(A, b, weights=-np.ones(10))
    with pytest.raises(ValueError, match="weights must be 1-D of length 10"):
        randla.lstsq(A, b, weights=np.ones(3))
    with pytest.raises(
        ValueError, match="method must be one of 'auto', 'precondition', 'lsqr', 'sketch', 'direct'"
    ):
        randla.lstsq(A, b, method="qr")
    with pytest.raises(ValueError, match="kind must be one of"):
        randla.lstsq(A, b, kind="srft")
    with pytest.raises(ValueError, match="tol must be in \\(0, 1\\), got 0.0"):
        randla.lstsq(A, b, tol=0.0)
    with pytest.raises(ValueError, match="b must be 1-D or 2-D"):
        randla.lstsq(A, np.ones((10, 1, 1)))


def test_the_rank_does_not_drop_a_direction_at_large_n():
    # 50000 x 10 at cond 1e12: a tolerance of n eps (1.1e-11) truncated to
    # rank 9 (residual 1.3e-5 above the optimum); the tolerance on the
    # equilibrated exact factor keeps all ten at any n. Within 1e-8 of gelsd:
    # at cond 1e12 rounding alone moves the residual by about 1e-9 (Householder
    # QR: 2e-10 here).
    rng = np.random.default_rng(20)
    A, b = _problem(1e12, rng, shape=(50_000, 10), noise=1.0)
    best = np.linalg.norm(b - A @ scipy.linalg.lstsq(A, b, cond=1e-16)[0])  # gelsd, full rank
    for method in ("precondition", "direct"):
        res = randla.lstsq(A, b, method=method, rng=0)
        assert res.rank == 10, method
        assert res.residual_norm <= best * (1 + 1e-8), method


@pytest.mark.parametrize("method", ["precondition", "lsqr", "sketch", "direct"])
@pytest.mark.parametrize("scale", [1e-150, 1e-12, 1e12, 1e150])
def test_a_column_in_other_units_gets_its_coefficient(method, scale):
    # Solving with column j scaled by c gives x_j / c: nothing is dropped for
    # its units (a tolerance on A itself zeroed a column scaled 1e-12).
    rng = np.random.default_rng(21)
    A, b = _problem(10.0, rng, shape=(8000, 6))
    units = np.array([1, 1, 1, 1, 1, scale])
    ref = randla.lstsq(A, b, method=method, rng=0)
    res = randla.lstsq(A * units, b, method=method, rng=0)
    assert res.rank == 6
    np.testing.assert_allclose(res.x * units, ref.x, rtol=1e-8)


def test_dummy_columns_that_sum_to_the_intercept():
    # Real-data rank deficiency: an intercept and a full set of 0/1 dummies
    # (rank d - 1) beside a covariate in other units. Every method keeps
    # d - 1 columns and reaches numpy's residual.
    rng = np.random.default_rng(22)
    n = 30_000
    group = rng.integers(0, 5, n)
    A = np.column_stack([np.ones(n), np.eye(5)[group], 1e4 * rng.standard_normal(n)])
    b = A @ rng.standard_normal(7) + rng.standard_normal(n)
    best = np.linalg.norm(b - A @ np.linalg.lstsq(A, b, rcond=None)[0])
    for method in ("precondition", "lsqr", "sketch", "direct"):
        res = randla.lstsq(A, b, method=method, rng=0)
        assert res.rank == 6, method
        if method != "sketch":
            assert res.residual_norm == pytest.approx(best, rel=1e-10), method


@pytest.mark.parametrize("method", ["precondition", "lsqr", "sketch", "direct"])
@pytest.mark.parametrize(
    ("a_scale", "b_scale"),
    [(1, 1e300), (1, 1e-170), (1e300, 1e300), (1e-170, 1e-170), (1, 2.0**-1000)],
)
def test_extreme_scales_give_scaled_answers_without_warnings(method, a_scale, b_scale):
    # residual_norm was inf at A, b * 1e300 and 0.0 at 1e-170 (squares
    # overflowing or underflowing), and scipy warned of overflow inside.
    rng = np.random.default_rng(23)
    A, b = _problem(10.0, rng, shape=(20_000, 5), noise=1.0)
    ref = randla.lstsq(A, b, method=method, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = randla.lstsq(A * a_scale, b * b_scale, method=method, rng=0)
    c = b_scale / a_scale
    assert res.residual_norm == pytest.approx(ref.residual_norm * b_scale, rel=1e-12)
    np.testing.assert_allclose(res.x, ref.x * c, rtol=1e-10, atol=1e-10 * c * np.abs(ref.x).max())


def test_a_column_whose_norm_overflows_is_kept_or_named():
    # Entries near 1e307 at 500 rows: finite, but the column norms overflow.
    # lstsq divided by the infinite norms and dropped the columns (rank 0, or
    # 4 of 5, x zero there) with only numpy's overflow warning.
    rng = np.random.default_rng(24)
    G = rng.standard_normal((500, 5))
    b = G @ np.arange(1.0, 6.0) + rng.standard_normal(500)
    units = np.array([1, 1, 1, 1, 1e307])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = randla.lstsq(G * units, b)
    reference = randla.lstsq(G, b)
    assert res.rank == 5
    np.testing.assert_allclose(res.x * units, reference.x, rtol=1e-12)
    # No triangular factor of such an A is representable: a clear error, not
    # LAPACK's "SVD did not converge".
    with pytest.raises(ValueError, match="norm overflows although A is finite; rescale A"):
        randla.leverage_scores(G * 1e307)


def test_old_argument_names_are_refused_with_the_new_ones():
    A, b = np.ones((10, 2)), np.ones(10)
    with pytest.raises(TypeError, match=r"lstsq\(\) takes kind=, not sketch= \(renamed\)"):
        randla.lstsq(A, b, sketch="gaussian")
    with pytest.raises(TypeError, match=r"lstsq\(\) takes k=, not sketch_size= \(renamed\)"):
        randla.lstsq(A, b, sketch_size=40)


@pytest.mark.parametrize("shape", [(100, 5), (50_000, 5)], ids=["small", "tall"])
def test_parameters_are_checked_whatever_the_path(shape):
    # The small problem goes to gelsd, the tall one to the sketch: the same
    # value must be valid or not on both.
    A = np.random.default_rng(0).standard_normal(shape)
    b = A[:, 0].copy()
    for name, value in [("rank_tol", 5), ("rank_tol", -1), ("tol", 2.0), ("k", 0), ("max_iter", 0)]:
        with pytest.raises(ValueError, match=name):
            randla.lstsq(A, b, **{name: value})


def test_the_solution_is_reproducible_without_a_seed():
    A = np.random.default_rng(1).standard_normal((50_000, 8))
    b = A @ np.arange(8.0) + np.random.default_rng(2).standard_normal(50_000)
    for method in ("precondition", "lsqr"):
        x1, x2 = (randla.lstsq(A, b, method=method).x for _ in range(2))
        assert np.array_equal(x1, x2), method


def test_results_compare_by_identity():
    A = np.random.default_rng(0).standard_normal((20, 3))
    res = randla.lstsq(A, A[:, 0])
    assert res == res and res != randla.lstsq(A, A[:, 0])
    assert isinstance(hash(res), int)


@pytest.mark.parametrize("method", ["auto", "precondition", "lsqr", "sketch"])
def test_a_sketch_smaller_than_d_is_refused(method):
    # k = 3 < d = 10 returned rank 3, seven zero coefficients and a relative
    # error of 0.9 with converged=True (found by a hostile review).
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4000, 10))
    b = A @ np.arange(1.0, 11.0) + 0.01 * rng.standard_normal(4000)
    with pytest.raises(ValueError, match="k must be >= d = 10"):
        randla.lstsq(A, b, method=method, k=3, rng=0)
    res = randla.lstsq(A, b, method=method, k=10 if method != "sketch" else 200, rng=0)
    assert res.rank == 10


def test_a_sketch_size_for_the_direct_method_is_refused():
    A = np.random.default_rng(0).standard_normal((50, 3))
    with pytest.raises(ValueError, match="method='direct' uses no sketch"):
        randla.lstsq(A, A[:, 0], method="direct", k=20)


@pytest.mark.parametrize("method", ["precondition", "lsqr"])
def test_a_sketch_that_cancels_every_row_is_not_trusted(method):
    # Two equal rows in one bucket with opposite signs cancel: the sketch of
    # a nonzero A was zero, and lstsq returned x = 0 with rank 0 and
    # converged=True (hypothesis found A = [[c], [c]]; a sketch with as many
    # rows as A now uses A itself). Few nonzero rows, a small CountSketch:
    # the direct solve takes over.
    A = np.array([[0.6894138], [0.6894138]])
    b = np.array([0.0866, -0.0911])
    best = np.linalg.norm(A @ np.linalg.lstsq(A, b, rcond=None)[0] - b)
    res = randla.lstsq(A, b, method=method, rng=0)
    assert res.rank == 1 and res.residual_norm == pytest.approx(best, rel=1e-12)
    A = np.zeros((1000, 2))
    A[3] = A[700] = [1.0, 2.0]
    b = np.ones(1000)
    best = np.linalg.norm(A @ np.linalg.lstsq(A, b, rcond=None)[0] - b)
    for seed in range(60):
        res = randla.lstsq(A, b, method=method, kind="countsketch", k=12, rng=seed)
        assert res.rank == 1 and res.residual_norm == pytest.approx(best, rel=1e-12), seed
