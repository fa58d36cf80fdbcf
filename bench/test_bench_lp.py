"""l_p regression and Lewis weights beside cvxpy, scipy's L-BFGS-B and HiGHS (issue 4).

Each reference records in extra_info its objective's relative excess over
randla's, which is optimal to its certified duality gap (< 1e-10 relative).
The references that take minutes (cvxpy, L-BFGS-B to 1e-8, HiGHS on the
primal LP) run once. Under CI (CI=true) the problems shrink tenfold in n:
CI only checks that the benchmarks run.
"""

import os

import cvxpy as cp
import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp

import randla


def _problem(n, d, cond, seed=0):
    rng = np.random.default_rng(seed)
    Q = np.linalg.qr(rng.standard_normal((n, d)))[0]
    V = np.linalg.qr(rng.standard_normal((d, d)))[0]
    A = (Q * np.geomspace(1, 1 / cond, d)) @ V.T * np.sqrt(n)
    b = A @ rng.standard_normal(d) + rng.standard_t(1.5, size=n)
    return A, b


SCALE = 10 if os.environ.get("CI") == "true" else 1


@pytest.fixture(scope="module")
def well():
    return _problem(100_000 // SCALE, 20, 10.0)


@pytest.fixture(scope="module")
def ill():
    return _problem(100_000 // SCALE, 20, 1e6)


def _objective(A, b, x, p):
    return float(np.sum(np.abs(A @ x - b) ** p) ** (1 / p))


def _cvxpy(A, b, p):
    x = cp.Variable(A.shape[1])
    cp.Problem(cp.Minimize(cp.norm(A @ x - b, p))).solve()
    return x.value


def _lbfgsb(A, b, p, target=None):
    """L-BFGS-B on ||Ax - b||_p^p from the least-squares start.

    With `target`, it stops as soon as the objective is within 1e-8
    relative of it (the time-to-accuracy the issue asks about), or after
    20000 iterations.
    """

    def f(x):
        r = A @ x - b
        a = np.abs(r)
        return np.sum(a**p), p * A.T @ (np.sign(r) * a ** (p - 1))

    def reached(intermediate_result):
        if target is not None and intermediate_result.fun <= target * (1 + 1e-8):
            raise StopIteration

    x0 = np.linalg.lstsq(A, b, rcond=None)[0]
    options = {"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20_000, "maxfun": 40_000}
    return scipy.optimize.minimize(
        f, x0, jac=True, method="L-BFGS-B", options=options, callback=reached
    ).x


def _highs_l1(A, b):
    n, d = A.shape
    eye = sp.identity(n, format="csr")
    A_ub = sp.vstack([sp.hstack([sp.csr_array(A), -eye]), sp.hstack([sp.csr_array(-A), -eye])])
    c = np.concatenate([np.zeros(d), np.ones(n)])
    bounds = [(None, None)] * d + [(0, None)] * n
    res = scipy.optimize.linprog(
        c, A_ub=A_ub, b_ub=np.concatenate([b, -b]), bounds=bounds, method="highs"
    )
    return res.x[:d]


@pytest.fixture(scope="module")
def optimum():
    """(problem, p) -> randla's objective, optimal to its certified gap (< 1e-10 relative)."""
    cache = {}

    def get(A, b, p):
        key = (id(A), p)
        if key not in cache:
            res = randla.lp_regression(A, b, p)
            assert res.gap < 1e-9
            cache[key] = res.objective
        return cache[key]

    return get


@pytest.mark.parametrize("p", [1.5, 3.0])
def test_well_conditioned_randla(bench, well, p):
    A, b = well
    bench(
        "randla", f"lp_regression p={p:g} 1e5x20", lambda: randla.lp_regression(A, b, p), heavy=True
    )


@pytest.mark.parametrize("p", [1.5, 3.0])
def test_well_conditioned_cvxpy(bench, well, optimum, p):
    A, b = well
    x = bench("cvxpy", f"lp_regression p={p:g} 1e5x20", _cvxpy, A, b, p, heavy="once")
    bench.extra(excess_over_randla=_objective(A, b, x, p) / optimum(A, b, p) - 1)


@pytest.mark.parametrize("p", [1.5, 3.0])
def test_ill_conditioned_randla(bench, ill, p):
    A, b = ill
    bench(
        "randla",
        f"lp_regression p={p:g} cond 1e6 1e5x20, to 1e-8",
        lambda: randla.lp_regression(A, b, p),
        heavy=True,
    )


@pytest.mark.parametrize("p", [1.5, 3.0])
def test_ill_conditioned_lbfgsb(bench, ill, optimum, p):
    # Time to 1e-8 relative objective, or to L-BFGS-B's own stop (20000
    # iterations); the excess it reached is recorded.
    A, b = ill
    target = optimum(A, b, p) ** p
    x = bench(
        "L-BFGS-B",
        f"lp_regression p={p:g} cond 1e6 1e5x20, to 1e-8",
        _lbfgsb,
        A,
        b,
        p,
        target,
        heavy="once",
    )
    bench.extra(excess=_objective(A, b, x, p) ** p / target - 1)


@pytest.fixture(scope="module")
def l1_problem():
    # HiGHS on the primal LP (2n constraints) takes minutes at 1e5 rows: 2e4 here.
    return _problem(20_000 // SCALE, 20, 10.0, seed=3)


def test_l1_randla(bench, l1_problem):
    A, b = l1_problem
    bench("randla", "lp_regression p=1 2e4x20", lambda: randla.lp_regression(A, b, 1), heavy=True)


def test_l1_highs(bench, l1_problem, optimum):
    A, b = l1_problem
    x = bench("HiGHS linprog", "lp_regression p=1 2e4x20", _highs_l1, A, b, heavy="once")
    bench.extra(excess_over_randla=_objective(A, b, x, 1) / optimum(A, b, 1) - 1)


@pytest.mark.parametrize("scores", ["lewis", "root-leverage"])
def test_sampled_pipeline(bench, tall, scores):
    A, b = tall
    full = randla.lp_regression(A, b, 1.5).objective
    sampled = randla.lp_regression(A, b, 1.5, k=20_000, method=scores, rng=0)
    bench(
        "randla" if scores == "lewis" else f"randla {scores}",
        "lp_regression p=1.5 sampled 1e6x20",
        lambda: randla.lp_regression(A, b, 1.5, k=20_000, method=scores, rng=0),
        heavy=True,
        objective_over_optimum=sampled.objective / full,
    )


def test_sampled_pipeline_vs_full(bench, tall):
    A, b = tall
    bench(
        "randla full data",
        "lp_regression p=1.5 sampled 1e6x20",
        lambda: randla.lp_regression(A, b, 1.5),
        heavy=True,
    )


@pytest.fixture(scope="module")
def lewis_matrix():
    return np.random.default_rng(2).standard_t(1.5, size=(1_000_000 // SCALE, 50))


def test_lewis_weights(bench, lewis_matrix):
    # Exact weights to tol = 1e-10: the factor of A, then one pass per
    # iteration (9 here, Anderson-accelerated); the residual of the result
    # is recorded, computed independently.
    w = bench(
        "randla",
        "lewis_weights p=1.5 1e6x50",
        lambda: randla.lewis_weights(lewis_matrix, 1.5, rng=0),
        heavy=True,
    )
    bench.extra(residual=randla.lewis_residual(lewis_matrix, w, p=1.5))


def test_lewis_vs_one_leverage(bench, lewis_matrix):
    # The unit of cost: one exact leverage computation (a sketch and two passes).
    bench(
        "randla leverage_scores",
        "lewis_weights p=1.5 1e6x50",
        lambda: randla.leverage_scores(lewis_matrix, rng=0),
        heavy=True,
    )
