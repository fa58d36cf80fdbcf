"""lp_regression on the cases of the reliability issue: the gap is a bound for the problem posed.

Ill-conditioned A (the gap bounds min over all x, not over a rank-truncated
column space), residuals of any scale and tiny residuals, l1 with massive
ties at zero (a real data set, integer responses, duplicated rows), and
large p. References: an extended-precision Newton solve written here, HiGHS
on the primal linear program, and cvxpy.
"""

import warnings

import cvxpy as cp
import numpy as np
import pytest
import scipy.optimize

import randla

from ._problems import _qr_longdouble, ill_conditioned


def _norm_ld(r, p):
    m = np.max(np.abs(r))
    return m * np.sum(np.abs(r / m) ** p) ** (1 / np.longdouble(p))


def _objective_ld(A, x, b, p):
    """||Ax - b||_p in long double: the objective of x on A, not its float64 rounding."""
    r = A.astype(np.longdouble) @ np.asarray(x, dtype=np.longdouble) - b
    return _norm_ld(r, p)


def _lp_reference(A, b, p, iterations=200):
    """min ||Ax - b||_p for full-column-rank A, p > 1, by damped Newton in long double.

    In an orthonormal basis from twice-run Gram-Schmidt in long double (about
    1e-19 accurate, tests/_problems.py); residuals scaled by their largest
    entry before powering.
    """
    Q, _ = _qr_longdouble(A)
    b = np.asarray(b, dtype=np.longdouble)
    r = Q @ (Q.T @ b) - b
    for _ in range(iterations):
        m = np.max(np.abs(r))
        u = r / m
        g = Q.T @ (np.sign(u) * np.abs(u) ** (p - 1))
        H = (Q.T * ((p - 1) * np.abs(u) ** (p - 2))) @ Q
        step = -np.linalg.lstsq(H.astype(float), g.astype(float), rcond=None)[0] * m
        direction = Q @ step.astype(np.longdouble)
        value, t = np.sum(np.abs(u) ** p), np.longdouble(1)
        while t > 1e-20 and np.sum(np.abs((r + t * direction) / m) ** p) >= value:
            t /= 2
        if t <= 1e-20:
            break
        r = r + t * direction
    return _norm_ld(r, p)


def _certifies(res, A, b, p, reference):
    """The relative suboptimality of res.x in the p-th power is at most res.gap."""
    return 1 - (reference / _objective_ld(A, res.x, b, p)) ** p <= res.gap


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gap_bounds_the_problem_over_all_x_at_cond_1e15(seed):
    # _qr's rank leaves out singular values 1.4e-13 and 1e-15 of 1; the gap
    # of the truncated problem was 0 with the objective 0.1% above the optimum.
    rng = np.random.default_rng(seed)
    A = ill_conditioned(2000, 8, 1e15, rng)
    b = A @ rng.standard_normal(8) + rng.standard_normal(2000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = randla.lp_regression(A, b, 3)
    reference = _lp_reference(A, b, 3)
    assert _certifies(res, A, b, 3, reference)
    assert _objective_ld(A, res.x, b, 3) <= reference * (1 + 1e-5)  # truncated: 1e-4 to 1.5e-3
    assert res.converged == (res.gap <= 1e-10) and res.rank == 8
    assert res.converged or any(w.category is randla.ConvergenceWarning for w in caught)


def test_exactly_dependent_columns_are_certified():
    # A dummy-variable trap and a duplicated column: the certificate leaves
    # out what is dependent to the long double rounding, and converges.
    rng = np.random.default_rng(5)
    group = rng.integers(0, 3, 600)
    A = np.column_stack(
        [np.ones(600), group == 0, group == 1, group == 2, rng.standard_normal(600)]
    )
    A = np.column_stack([A, A[:, 4]])
    b = A[:, :5] @ rng.standard_normal(5) + rng.standard_t(2, size=600)
    for p in (1.0, 1.5, 4.0):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = randla.lp_regression(A, b, p)
        assert res.converged and res.gap <= 1e-10 and res.rank == 4
        reference = randla.lp_regression(A[:, [1, 2, 3, 4]], b, p)
        assert res.objective == pytest.approx(reference.objective, rel=1e-9)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_a_consistent_system_is_solved_to_the_rounding_level(p):
    # b = A x0 + 1e-160 noise rounds to fl(A x0): the residuals are rounding
    # errors. converged=True came with gap=0.3 > tol. Now converged means
    # gap <= tol, and a residual within the rounding bound of A x - b
    # (Higham's gamma_{d+1} (|A||x| + |b|)) is certified with gap 0: x solves
    # A x = b as far as float64 can tell, and a minimum of 0 has no relative
    # gap. Newton stops there instead of running to max_iter.
    rng = np.random.default_rng(1)
    A = rng.standard_normal((1000, 4))
    b = A @ np.ones(4) + 1e-160 * rng.standard_normal(1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", randla.ConvergenceWarning)
        res = randla.lp_regression(A, b, p)
    assert res.converged and res.gap == 0 and res.iterations <= 2
    u = np.finfo(float).eps / 2
    bound = 5 * u / (1 - 5 * u) * (np.abs(A) @ np.abs(res.x) + np.abs(b))
    assert np.all(np.abs(A @ res.x - b) <= bound)
    np.testing.assert_allclose(res.x, 1.0, rtol=1e-13)


@pytest.mark.parametrize("scale", [1e-200, 1e-10, 1e7, 1e200])
def test_any_scale_of_b_at_p_50(scale):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((1000, 4))
    b = A @ rng.standard_normal(4) + rng.standard_normal(1000)
    res = randla.lp_regression(A, b * scale, 50)
    unscaled = randla.lp_regression(A, b, 50)
    assert res.converged and res.gap <= 1e-10
    assert res.objective / scale == pytest.approx(unscaled.objective, rel=1e-10)
    assert res.objective == pytest.approx(scale * float(_lp_reference(A, b, 50)), rel=1e-9)


def _l1_highs(A, b):
    """min ||Ax - b||_1 as the primal LP min 1^T(u + v), Ax + u - v = b, u, v >= 0 (HiGHS)."""
    n, d = A.shape
    res = scipy.optimize.linprog(
        np.r_[np.zeros(d), np.ones(2 * n)],
        A_eq=scipy.sparse.hstack(
            [scipy.sparse.csr_array(A), scipy.sparse.eye_array(n), -scipy.sparse.eye_array(n)]
        ),
        b_eq=b,
        bounds=[(None, None)] * d + [(0, None)] * (2 * n),
        method="highs",
    )
    assert res.status == 0
    return np.sum(np.abs(A @ res.x[:d] - b))


@pytest.mark.slow
def test_l1_on_the_rand_health_insurance_data():
    # 20190 x 10 (homotopy side): 31% of y are 0, 59 distinct values, many
    # residuals tie at zero; the Newton step raised LinAlgError.
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.randhie.load_pandas()
    A = np.column_stack([np.ones(len(data.exog)), data.exog.to_numpy(float)])
    y = data.endog.to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = randla.lp_regression(A, y, 1)
    assert res.method == "homotopy" and res.converged and res.gap <= 1e-10
    assert res.objective == pytest.approx(_l1_highs(A, y), rel=1e-8)


@pytest.mark.parametrize("kind", ["poisson", "duplicated rows"])
@pytest.mark.slow
def test_l1_vertex_with_massive_ties_is_certified(kind):
    # Ties at zero on the homotopy side (n > 20000). Duplicated integer rows
    # made the Newton step raise LinAlgError; the Poisson case (reported
    # with converged=False, gaps 6e-9 to 3.8e-6, on other draws) certified
    # before too, here it keeps the small LP on the tied rows covered.
    rng = np.random.default_rng(3)
    if kind == "poisson":
        A = np.column_stack([np.ones(20001), rng.standard_normal((20001, 4))])
        y = rng.poisson(np.exp(A @ np.array([0.5, 0.3, -0.2, 0.1, 0.4]))).astype(float)
    else:
        A = np.repeat(np.column_stack([np.ones(1820), rng.integers(0, 4, (1820, 3))]), 11, axis=0)
        y = np.repeat(rng.integers(0, 6, 1820), 11).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = randla.lp_regression(A, y, 1)
    assert res.method == "homotopy" and res.converged and res.gap <= 1e-10
    assert res.objective == pytest.approx(_l1_highs(A, y), rel=1e-9)


@pytest.mark.parametrize("p", [20, 50, 100])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_large_p_converges(p, seed):
    # Heavy-tailed noise: most weights |r|^(p-2) underflow and the Newton
    # Hessian was singular (LinAlgError) for most seeds.
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((1000, 4))
    b = A @ rng.standard_normal(4) + rng.standard_t(1.5, size=1000)
    res = randla.lp_regression(A, b, p)
    assert res.converged and res.gap <= 1e-10
    assert res.objective == pytest.approx(float(_lp_reference(A, b, p)), rel=1e-10)
    if p == 20:  # cvxpy's power cones stop near 1e-8
        x = cp.Variable(4)
        problem = cp.Problem(cp.Minimize(cp.norm(A @ x - b, p)))
        problem.solve()
        assert res.objective <= problem.value * (1 + 1e-7)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_columns_dependent_up_to_float_rounding_are_certified(p):
    # A rank-3 product of float64 factors, or a column computed from others,
    # is dependent only up to the rounding of its entries (remainders of at
    # most 2.7 u in long double). A basis that kept that remainder as a
    # direction made about half of such problems "not converged" (gaps of
    # 3 to 35%) although the solution was optimal.
    failures = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        U = np.linalg.qr(rng.standard_normal((12, 3)))[0]
        V = np.linalg.qr(rng.standard_normal((4, 3)))[0]
        A = (U * np.geomspace(1, 1e-3, 3)) @ V.T
        derived = rng.standard_normal((200, 3))
        B = np.column_stack([derived, derived @ rng.standard_normal(3)])
        for M in (A, B):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", randla.ConvergenceWarning)
                res = randla.lp_regression(M, rng.standard_normal(len(M)), p)
            failures += not res.converged
            assert res.rank == 3
    assert failures == 0


def test_l1_optimum_inside_a_face_is_certified():
    # Dummies beside continuous columns at n = 50000 (the homotopy): the
    # smoothed path ends at an optimum with 5 zero residuals for 7 columns,
    # inside a face of optima, not at a vertex. Forcing the 7 smallest
    # residuals into the dual's free set gave gap 8.2e-10 > tol and a
    # ConvergenceWarning although HiGHS confirms the objective to 1e-15.
    n = 50_000
    rng = np.random.default_rng(0)
    group = rng.integers(0, 4, n)
    X = rng.standard_normal((n, 3))
    A = np.column_stack([np.eye(4)[group], X])
    b = X @ [1.0, 2.0, 3.0] + group + rng.standard_normal(n)
    with warnings.catch_warnings():
        warnings.simplefilter("error", randla.ConvergenceWarning)
        res = randla.lp_regression(A, b, 1, rng=0)
    assert res.method == "homotopy" and res.converged and res.gap <= 1e-10


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
@pytest.mark.parametrize("n", [2000, 20_000])
def test_a_consistent_system_with_heavy_tailed_rows_is_certified(p, n):
    # b = A x exactly: the solve in the orthonormal basis gave x to 2e-16,
    # yet 0.25% of the rows of A x - b were beyond their rounding bound, and
    # the result said converged=False, gap 1, with a ConvergenceWarning.
    A = np.random.default_rng(0).standard_t(3, size=(n, 25))
    b = A[:, 0] + A[:, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error", randla.ConvergenceWarning)
        res = randla.lp_regression(A, b, p)
    assert res.converged and res.gap == 0
    np.testing.assert_allclose(res.x, np.r_[1.0, 1.0, np.zeros(23)], atol=1e-12)
