"""self_calibrate beside the route a user has today: scipy's LSQR on the sparse system.

No library solves self-calibration; by hand one assembles the sparse
constrained system [A_w; w^T] z = (0, c) (spec section 3.3) and hands it to
scipy.sparse.linalg.lsqr. Both runs record the relative error of d up to
scale. Under CI (CI=true) m shrinks eightfold.
"""

import os

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg

import randla

SCALE = 8 if os.environ.get("CI") == "true" else 1


def _problem(m, n, p, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((p, m, n))
    d = 1 + 0.5 * rng.random(m)
    y = d * np.einsum("lmn,n->lm", A, rng.standard_normal(n))
    return y, A, d


def _error(estimate, truth):
    alpha = np.vdot(estimate, truth) / np.vdot(estimate, estimate)
    return float(np.linalg.norm(alpha * estimate - truth) / np.linalg.norm(truth))


def _scipy_lsqr(y, A):
    """[diag(y_l) -A_l] stacked, plus the row mean(s) = 1, through LSQR."""
    p, m, n = A.shape
    system = sp.vstack(
        [
            sp.hstack(
                [sp.vstack([sp.diags_array(row) for row in y]), sp.csr_array(-A.reshape(p * m, n))]
            ),
            sp.csr_array(np.concatenate([np.ones(m), np.zeros(n)])[None, :]),
        ]
    ).tocsr()
    rhs = np.zeros(p * m + 1)
    rhs[-1] = m
    z = scipy.sparse.linalg.lsqr(system, rhs, atol=1e-12, btol=1e-12, iter_lim=20_000)[0]
    return 1 / z[:m]


SIZES = [(1024 // SCALE, 256 // SCALE, 8)]


@pytest.mark.parametrize("m, n, p", SIZES)
def test_randla(bench, m, n, p):
    y, A, d = _problem(m, n, p)
    bench(
        "randla",
        f"self-calibration repeated m={m} n={n} p={p}",
        lambda: randla.self_calibrate(y, A),
        error=_error(randla.self_calibrate(y, A).d, d),
    )


@pytest.mark.parametrize("m, n, p", SIZES)
def test_scipy_lsqr(bench, m, n, p):
    y, A, d = _problem(m, n, p)
    bench(
        "scipy lsqr on the sparse system",
        f"self-calibration repeated m={m} n={n} p={p}",
        _scipy_lsqr,
        y,
        A,
        heavy=True,
        error=_error(_scipy_lsqr(y, A), d),
    )


@pytest.mark.parametrize("m", [1024 // SCALE, 2048 // SCALE, 4096 // SCALE])
def test_randla_scaling(bench, m):
    # The size (m = 4096, n = 1024, p = 8) and two smaller m, for the slope in m p.
    y, A, d = _problem(m, 1024 // SCALE, 8)
    randla.self_calibrate(y, A)
    bench(
        "randla",
        f"self-calibration repeated m={m} n={1024 // SCALE} p=8",
        lambda: randla.self_calibrate(y, A),
        heavy=True,
    )
