import numpy as np
import pytest
from scipy.optimize import linprog, minimize

import randla

from ._problems import coherent, heavy_tailed


def _independent_sensitivities(A, p):
    """checks.py's way (shared/spec): a dense LP for p = 1, BFGS for p > 1."""
    n, d = A.shape
    out = []
    for i in range(n):
        if p == 1:
            c = np.r_[np.zeros(d), np.ones(n)]
            A_ub = np.block([[A, -np.eye(n)], [-A, -np.eye(n)]])
            A_eq = np.r_[A[i], np.zeros(n)][None]
            bounds = [(None, None)] * d + [(0, None)] * n
            out.append(1 / linprog(c, A_ub, np.zeros(2 * n), A_eq, [1], bounds=bounds).fun)
        else:
            x0 = A[i] / (A[i] @ A[i])
            P = np.eye(d) - np.outer(A[i], A[i]) / (A[i] @ A[i])
            res = minimize(
                lambda u, x0=x0, P=P: np.sum(np.abs(A @ (x0 + P @ u)) ** p),
                np.zeros(d),
                method="BFGS",
                options={"gtol": 1e-10},
            )
            out.append(1 / res.fun)
    return np.array(out)


MATRICES = {
    "gaussian": lambda rng: rng.standard_normal((40, 4)),
    "coherent": lambda rng: coherent(40, 4, rng),
    "heavy-tailed": lambda rng: heavy_tailed(40, 4, rng),
}


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_exact_agrees_with_an_independent_solver(p):
    A = heavy_tailed(40, 4, np.random.default_rng(0))
    ours = randla.lp_sensitivities(A, p, method="exact", progress=False)
    np.testing.assert_allclose(ours, _independent_sensitivities(A, p), rtol=1e-7)


@pytest.mark.parametrize("kind", list(MATRICES))
@pytest.mark.parametrize("p", [1.0, 1.5, 3.0, 4.0])
def test_structural_inequalities(kind, p):
    # shared/spec section 1.2 (1)-(5), elementwise, with a 1e-7 slack for the
    # solvers' tolerance.
    A = MATRICES[kind](np.random.default_rng(1))
    d = A.shape[1]
    sigma = randla.lp_sensitivities(A, p, method="exact", progress=False)
    w = randla.lewis_weights(A, p)
    tau = randla.leverage_scores(A)
    slack = 1 + 1e-7
    assert np.all((0 <= sigma) & (sigma <= 1))
    if p <= 2:
        assert np.all(sigma <= w * slack)  # (1)
        assert np.all(w <= d ** (1 - p / 2) * sigma * slack)  # (2)
        assert np.all(sigma <= tau ** (p / 2) * slack)  # (5)
        assert sigma.sum() <= d * slack
    else:
        assert np.all(sigma <= d ** (p / 2 - 1) * w * slack)  # (3)
        assert np.all(w <= sigma * slack)  # (4)
        assert d / slack <= sigma.sum() <= d ** (p / 2) * slack


def test_identity_rows_have_sensitivity_one_and_zero_rows_zero():
    A = np.vstack([np.eye(3), np.zeros((5, 3))])
    for p in (1.0, 1.5, 2.0, 3.0):
        sigma = randla.lp_sensitivities(A, p, method="exact", progress=False)
        np.testing.assert_allclose(sigma, [1, 1, 1, 0, 0, 0, 0, 0], atol=1e-9)


def test_p2_is_leverage():
    A = coherent(300, 5, np.random.default_rng(2))
    np.testing.assert_allclose(
        randla.lp_sensitivities(A, 2, method="exact"), randla.leverage_scores(A), rtol=1e-12
    )


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_bound_methods_are_upper_bounds(p):
    A = heavy_tailed(60, 4, np.random.default_rng(3))
    sigma = randla.lp_sensitivities(A, p, method="exact", progress=False)
    assert np.all(sigma <= randla.lp_sensitivities(A, p, method="lewis") * (1 + 1e-7))
    if p <= 2:
        assert np.all(sigma <= randla.lp_sensitivities(A, p, method="root-leverage") * (1 + 1e-7))
    total = randla.total_sensitivity(A, p, progress=False)
    assert total == pytest.approx(sigma.sum())


def test_bad_arguments():
    A = np.ones((10, 2))
    with pytest.raises(ValueError, match="method must be one of 'exact', 'lewis', 'root-leverage'"):
        randla.lp_sensitivities(A, 1.5, method="bound")
    with pytest.raises(ValueError, match="bounds the sensitivities only for p <= 2, got p=3.0"):
        randla.lp_sensitivities(A, 3, method="root-leverage")
