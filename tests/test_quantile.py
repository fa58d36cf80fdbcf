"""The pinball-loss solver (quantile_solve) against the primal LP of scipy's linprog.

quantile_solve is the l1 machinery of lp_regression on per-row dual boxes;
these tests run both of its solvers (HiGHS on the dual, and the smoothed
homotopy, forced by lowering the row threshold) on problems with ties,
dependent columns, weights with zeros and the l1 penalty.
"""

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from sklearn.datasets import load_diabetes

import randla
import randla._lp_regression as lpr
from randla._lp_regression import quantile_solve


def _linprog(A, b, q, alpha=0.0, weights=None, penalized=None):
    """min (1/W) sum w_i rho_q(b_i - a_i x) + alpha sum_pen |x_j| as the primal LP (HiGHS).

    Variables x+ and x- (d each), u+ and u- (n each) >= 0, A (x+ - x-) + u+ - u- = b.
    """
    n, d = A.shape
    w = np.ones(n) if weights is None else weights
    pen = np.ones(d) if penalized is None else np.asarray(penalized, float)
    W = w.sum()
    c = np.r_[alpha * pen, alpha * pen, q * w / W, (1 - q) * w / W]
    A_eq = sp.hstack([sp.csr_array(A), -sp.csr_array(A), sp.eye(n), -sp.eye(n)])
    res = scipy.optimize.linprog(c, A_eq=A_eq, b_eq=b, bounds=(0, None), method="highs")
    assert res.status == 0
    return res.fun, res.x[:d] - res.x[d : 2 * d]


def _objective(A, b, x, q, alpha=0.0, weights=None, penalized=None):
    w = np.ones(len(b)) if weights is None else weights
    pen = np.ones(A.shape[1], bool) if penalized is None else penalized
    u = b - A @ x
    return w @ np.maximum(q * u, (q - 1) * u) / w.sum() + alpha * np.sum(np.abs(x[pen]))


def _problem(kind, seed=0, n=300):
    """(A with a column of ones first, b): continuous, integer targets, or dummies."""
    rng = np.random.default_rng(seed)
    if kind == "dummies":
        # One-hot columns of a 4-level factor sum to the intercept: rank d - 1.
        levels = rng.integers(0, 4, size=n)
        A = np.column_stack([np.ones(n), np.eye(4)[levels], rng.standard_normal((n, 2))])
        b = np.round(A @ rng.standard_normal(7) + rng.standard_t(2, size=n))
        return A, b
    A = np.column_stack([np.ones(n), rng.standard_normal((n, 4))])
    b = A @ rng.standard_normal(5) + rng.standard_t(2, size=n)
    return A, (np.round(b) if kind == "integer" else b)


@pytest.fixture(params=["highs", "homotopy"])
def solver(request, monkeypatch):
    """Which of the two l1 solvers runs: the homotopy by lowering HiGHS's row limit to 0."""
    if request.param == "homotopy":
        monkeypatch.setattr(lpr, "_HIGHS_MAX_ROWS", 0)
    return request.param


@pytest.mark.parametrize("kind", ["continuous", "integer", "dummies"])
@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("alpha", [0.0, 0.05])
def test_objective_matches_linprog_and_the_gap_bounds_it(solver, kind, q, alpha):
    A, b = _problem(kind, seed=int(100 * q))
    rng = np.random.default_rng(1)
    w = rng.uniform(0, 3, size=len(b))
    w[rng.choice(len(b), 20, replace=False)] = 0.0
    pen = np.r_[False, np.ones(A.shape[1] - 1, bool)]
    x, objective, gap, iterations, method = quantile_solve(
        A, b, q, alpha=alpha, penalized=pen, weights=w
    )
    best, _ = _linprog(A, b, q, alpha, w, pen)
    assert method == solver
    assert (iterations == 0) == (solver == "highs")
    assert objective == pytest.approx(_objective(A, b, x, q, alpha, w, pen), rel=1e-14)
    assert abs(objective - best) <= 1e-9 * best
    assert gap <= 1e-10
    # The certificate is an upper bound on the relative suboptimality (up to
    # the reference's own rounding).
    assert (objective - best) / objective <= gap + 1e-13


def test_symmetric_box_is_lp_regression_p1():
    """q = 0.5 without weights or penalty is half the l1 norm per row: lp_regression's problem."""
    A, b = _problem("continuous", n=500)
    x, objective, gap, _, _ = quantile_solve(A, b, 0.5)
    res = randla.lp_regression(A, b, 1)
    np.testing.assert_allclose(x, res.x, rtol=1e-9, atol=1e-12)
    assert objective == pytest.approx(0.5 * res.objective / len(b), rel=1e-12)


def test_weights_scale_the_rows_the_boxes_are_normalised(solver):
    """w rho(u) = rho(w u): scaling all weights (by 1e6 or 1e-6) changes nothing.

    The boxes are divided by their largest half-width before HiGHS sees
    them; with weights of 1e-6 its absolute tolerances would otherwise
    swallow the dual.
    """
    A, b = _problem("continuous", seed=3)
    w = np.random.default_rng(2).uniform(0.5, 2, size=len(b))
    x, objective, _, _, _ = quantile_solve(A, b, 0.2, weights=w)
    for scale in (1e-6, 1e6):
        xs, objective_s, gap, _, _ = quantile_solve(A, b, 0.2, weights=w * scale)
        np.testing.assert_allclose(xs, x, rtol=1e-8, atol=1e-10)
        assert objective_s == pytest.approx(objective, rel=1e-9)
        assert gap <= 1e-10


def test_integer_weights_are_repeated_rows(solver):
    A, b = _problem("integer", seed=4, n=120)
    w = np.random.default_rng(3).integers(0, 4, size=len(b)).astype(float)
    _, weighted, _, _, _ = quantile_solve(A, b, 0.3, alpha=0.02, weights=w)
    keep = np.repeat(np.arange(len(b)), w.astype(int))
    _, repeated, _, _, _ = quantile_solve(A[keep], b[keep], 0.3, alpha=0.02)
    assert weighted == pytest.approx(repeated, rel=1e-9)


def test_sparse_A_is_the_dense_problem():
    A, b = _problem("dummies", seed=5)
    pen = np.r_[False, np.ones(A.shape[1] - 1, bool)]
    dense = quantile_solve(A, b, 0.75, alpha=0.01, penalized=pen)
    sparse = quantile_solve(sp.csr_array(A), b, 0.75, alpha=0.01, penalized=pen)
    assert sparse[1] == pytest.approx(dense[1], rel=1e-10)
    assert sparse[2] <= 1e-10


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_diabetes(solver, q):
    """A real data set (scikit-learn's diabetes, 442 x 10, centred features) with a penalty."""
    X, y = load_diabetes(return_X_y=True)
    A = np.column_stack([np.ones(len(y)), X])
    pen = np.r_[False, np.ones(X.shape[1], bool)]
    for alpha in (0.0, 0.5):
        _, objective, gap, _, _ = quantile_solve(A, y, q, alpha=alpha, penalized=pen)
        best, _ = _linprog(A, y, q, alpha, None, pen)
        assert abs(objective - best) <= 1e-9 * best
        assert (objective - best) / objective <= gap + 1e-13 and gap <= 1e-10


def test_engel(solver):
    """statsmodels' Engel food expenditure data (235 x 1), Koenker's classic example."""
    import statsmodels.api as sm

    data = sm.datasets.engel.load_pandas().data
    A = np.column_stack([np.ones(len(data)), data["income"].to_numpy()])
    b = data["foodexp"].to_numpy()
    for q in (0.1, 0.5, 0.9):
        x, objective, gap, _, _ = quantile_solve(A, b, q)
        best, x_best = _linprog(A, b, q)
        assert abs(objective - best) <= 1e-9 * best and gap <= 1e-10
        np.testing.assert_allclose(x, x_best, rtol=1e-7)  # a unique optimum here


def test_zero_target_and_all_penalty():
    A, b = _problem("continuous")
    x, objective, gap, _, _ = quantile_solve(A, np.zeros(len(b)), 0.3, alpha=1.0)
    assert not x.any() and objective == 0.0 and gap == 0.0
    # A penalty so large that every penalized coefficient is 0 at the optimum:
    # the intercept is then the 0.305 quantile of b (unique: 0.305 n is not
    # an integer).
    pen = np.r_[False, np.ones(4, bool)]
    x, objective, gap, _, _ = quantile_solve(A, b, 0.305, alpha=1e3, penalized=pen)
    assert not x[1:].any()
    assert x[0] == pytest.approx(np.quantile(b, 0.305, method="inverted_cdf"), rel=1e-12)
    assert gap <= 1e-10


def test_sample():
    """k: a solve on a sample, certified for the sample, good on the full data."""
    rng = np.random.default_rng(6)
    n = 50_000
    A = np.column_stack([np.ones(n), rng.standard_normal((n, 5))])
    b = A @ rng.standard_normal(6) + rng.standard_t(2, size=n)
    pen = np.r_[False, np.ones(5, bool)]
    _, best, _, _, _ = quantile_solve(A, b, 0.8, alpha=1e-3, penalized=pen)
    runs = [quantile_solve(A, b, 0.8, alpha=1e-3, penalized=pen, k=500, rng=7) for _ in range(2)]
    x, objective, gap, _, method = runs[0]
    np.testing.assert_array_equal(x, runs[1][0])  # the seed fixes the sample
    assert method.startswith("sample+") and gap <= 1e-10
    assert best <= objective <= 1.05 * best


def test_homotopy_ends_on_the_exact_vertex(monkeypatch):
    """The homotopy's crossover returns HiGHS's vertex, certified at the rounding level.

    Without it the homotopy stopped once the smoothed or tie-based dual
    certified tol = 1e-10: a point near the vertex, about 1e-11 worse.
    """
    rng = np.random.default_rng(8)
    n = 20_000
    A = np.column_stack([np.ones(n), rng.standard_normal((n, 10))])
    b = A @ rng.standard_normal(11) + rng.standard_t(1.5, size=n)
    pen = np.r_[False, np.ones(10, bool)]
    monkeypatch.setattr(lpr, "_HIGHS_MAX_ROWS", n + 10)  # n rows and 10 of the penalty
    x_highs, best, _, _, method = quantile_solve(A, b, 0.9, alpha=1e-3, penalized=pen)
    assert method == "highs"
    monkeypatch.setattr(lpr, "_HIGHS_MAX_ROWS", 0)
    x, objective, gap, _, method = quantile_solve(A, b, 0.9, alpha=1e-3, penalized=pen)
    assert method == "homotopy"
    assert gap <= 1e-12
    assert objective <= best * (1 + 1e-14)
    np.testing.assert_allclose(x, x_highs, rtol=1e-10, atol=1e-12)


def test_homotopy_ends_on_a_degenerate_vertex(monkeypatch):
    """Ties (integer data, dummies): the optimum zeroes far more than d residuals.

    The crossover through the d smallest residuals misses it; the point
    zeroing all the settled near-ties, with its vertex dual, is exact.
    Without it the homotopy stopped at gap 8e-11 after 57 iterations.
    """
    rng = np.random.default_rng(3)
    n = 8000
    levels = rng.integers(0, 5, size=n)
    A = np.column_stack([np.ones(n), np.eye(5)[levels], rng.integers(0, 3, size=(n, 3))])
    b = np.round(A @ rng.standard_normal(9) + rng.standard_t(2, size=n))
    monkeypatch.setattr(lpr, "_HIGHS_MAX_ROWS", n)
    _, best, _, _, method = quantile_solve(A, b, 0.5)
    assert method == "highs"
    monkeypatch.setattr(lpr, "_HIGHS_MAX_ROWS", 0)
    _, objective, gap, _, method = quantile_solve(A, b, 0.5)
    assert method == "homotopy"
    assert gap <= 1e-12
    assert objective == pytest.approx(best, rel=1e-14)
