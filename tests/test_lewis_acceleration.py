"""The accelerated exact Lewis iteration for p < 4 (issue 16): fewer passes, the same weights.

The plain Cohen-Peng iteration needed 16 to 36 passes over A for
tol = 1e-10 at p = 1, 1.5 and 3; Anderson acceleration on the d x d
matrix A^T W^(1-2/p) A needs 5 to 12, each pass still one streaming pass
that certifies the weights it computed.
"""

import cvxpy as cp
import dask
import numpy as np
import pytest

import randla
from randla import _lewis

from ._problems import DaskReads, coherent, heavy_tailed, lewis_reference, orthonormal


def _problem(kind, n, d, seed=0):
    """(A, an orthonormal basis of its column space): the weights depend on the space only."""
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        A = rng.standard_normal((n, d))
    elif kind == "heavy-tailed":
        A = heavy_tailed(n, d, rng)
    elif kind == "cauchy":
        A = heavy_tailed(n, d, rng, df=1.0)
    elif kind == "coherent":
        A = coherent(n, d, rng)
    else:  # ill-conditioned: cond 1e6 on a heavy-tailed column space
        U = np.linalg.qr(heavy_tailed(n, d, rng, df=2.0))[0]
        return (U * np.geomspace(1, 1e-6, d)) @ orthonormal(d, d, rng).T, U
    return A, np.linalg.qr(A)[0]


KINDS = ["gaussian", "heavy-tailed", "cauchy", "coherent", "ill-conditioned"]


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
@pytest.mark.parametrize("kind", KINDS)
def test_weights_equal_the_plain_fixed_point(kind, p):
    # 12000 x 6 takes the sketch-preconditioned path; the reference is the
    # plain iteration run to convergence on an orthonormal basis.
    A, U = _problem(kind, 12_000, 6)
    w = randla.lewis_weights(A, p, rng=0)
    np.testing.assert_allclose(w, lewis_reference(U, p, iterations=300), rtol=1e-9)
    # The certificate holds to the rounding of the solves, about eps cond(A).
    assert randla.lewis_residual(U, w, p=p) < (1e-9 if kind == "ill-conditioned" else 1e-10)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
@pytest.mark.parametrize("kind", ["gaussian", "heavy-tailed", "cauchy", "coherent"])
def test_passes_over_a_dask_array(kind, p):
    # Validation, zero rows, the sketch and the Gram matrix of the factor,
    # then one pass per iteration: 20 to 40 passes with the plain iteration.
    A = _problem(kind, 100_000, 8)[0]
    with dask.config.set(scheduler="synchronous"):
        reads = DaskReads(A, 10_000)
        w = randla.lewis_weights(reads.array, p, rng=0)
    assert reads.passes <= (16 if p == 1 else 13)
    np.testing.assert_allclose(w, randla.lewis_weights(A, p, rng=0), rtol=1e-9)


def _passes(monkeypatch, A, p):
    """(weights, passes of the Lewis iteration) on an in-memory A."""
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return map_rows(*args, **kwargs)

    map_rows = _lewis.map_rows
    monkeypatch.setattr(_lewis, "map_rows", counting)
    w = randla.lewis_weights(A, p, rng=0)
    monkeypatch.setattr(_lewis, "map_rows", map_rows)
    return w, len(calls)


def test_a_memmap_gives_the_in_memory_weights(tmp_path):
    A = heavy_tailed(60_000, 5, np.random.default_rng(1))
    np.save(tmp_path / "A.npy", A)
    mapped = np.load(tmp_path / "A.npy", mmap_mode="r")
    # Same blocks, same order: the same numbers.
    np.testing.assert_array_equal(
        randla.lewis_weights(mapped, 1.5, rng=0), randla.lewis_weights(A, 1.5, rng=0)
    )


def test_the_residual_of_unconverged_weights_is_certified():
    # The warning's residual bounds the residual of the weights returned (the
    # best seen), and it never grows with max_iter.
    A = heavy_tailed(5000, 8, np.random.default_rng(2))
    reported = []
    for k in range(1, 7):
        with pytest.warns(randla.ConvergenceWarning, match=f"after {k} iterations") as caught:
            w = randla.lewis_weights(A, 1.5, max_iter=k, rng=0)
        bound = float(str(caught[0].message).split("residual ")[1].split()[0])
        assert randla.lewis_residual(A, w, p=1.5) <= bound * 1.01  # printed to 3 digits
        reported.append(bound)
    assert reported == sorted(reported, reverse=True)
    assert reported[-1] < 1e-3 * reported[0]


@pytest.mark.parametrize("p", [1.0, 3.0])
def test_bad_extrapolations_fall_back_to_the_plain_step(monkeypatch, p):
    # An Anderson point whose residual does not decrease is replaced by the
    # plain step, a contraction for p < 4: with every extrapolation made
    # wrong, the iteration still converges to the same weights.
    A = heavy_tailed(3000, 5, np.random.default_rng(3))
    reference, passes = _passes(monkeypatch, A, p)
    monkeypatch.setattr(
        _lewis, "_anderson", lambda history: 3 * _lewis._spectral(history[-1][1], np.log)
    )
    w, slow = _passes(monkeypatch, A, p)
    np.testing.assert_allclose(w, reference, rtol=1e-9)
    assert slow > passes


def test_an_unsafe_factor_is_recomputed_from_the_rescaled_rows(monkeypatch):
    # When the update of the factor is not safely positive definite, the
    # plain step is factored afresh from the rescaled rows: same weights.
    A = heavy_tailed(3000, 5, np.random.default_rng(4))
    reference = randla.lewis_weights(A, 1.5, rng=0)
    monkeypatch.setattr(_lewis, "cholesky_factor", lambda G: None)
    np.testing.assert_allclose(randla.lewis_weights(A, 1.5, rng=0), reference, rtol=1e-9)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_small_problems_solve_the_defining_equation(p):
    # w_i = (a_i^T (A^T W^(1-2/p) A)^-1 a_i)^(p/2), evaluated directly.
    A = heavy_tailed(200, 3, np.random.default_rng(5))
    w = randla.lewis_weights(A, p, rng=0)
    M = A.T @ (w[:, None] ** (1 - 2 / p) * A)
    T = np.einsum("ij,ij->i", A @ np.linalg.inv(M), A) ** (p / 2)
    np.testing.assert_allclose(w, T, rtol=1e-9)


def test_p3_against_cvxpy():
    # For p >= 2 the Lewis weights are w_i = (a_i^T M a_i)^(p/2) at the
    # maximiser of log det M - (2/p) sum_i (a_i^T M a_i)^(p/2), a concave
    # program (Clarabel, to its tolerance).
    A = heavy_tailed(60, 3, np.random.default_rng(6))
    M = cp.Variable((3, 3), PSD=True)
    forms = cp.sum(cp.multiply(A @ M, A), axis=1)
    cp.Problem(cp.Maximize(cp.log_det(M) - (2 / 3) * cp.sum(cp.power(forms, 1.5)))).solve(
        solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12, tol_ktratio=1e-10
    )
    reference = np.einsum("ij,jk,ik->i", A, M.value, A) ** 1.5
    np.testing.assert_allclose(randla.lewis_weights(A, 3.0, rng=0), reference, rtol=1e-7)
