import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import randla

from ._problems import (
    coherent,
    heavy_tailed,
    ill_conditioned,
    lewis_reference,
    lewis_reference_convex,
)

PS = [1.0, 1.5, 3.0, 4.0, 6.0]


@pytest.mark.parametrize("p", PS)
@pytest.mark.parametrize("shape", [(300, 4), (6000, 12)], ids=["householder", "preconditioned"])
def test_fixed_point_sum_and_reference(p, shape):
    rng = np.random.default_rng(0)
    A = heavy_tailed(*shape, rng)
    w = randla.lewis_weights(A, p, rng=0)
    assert w.sum() == pytest.approx(shape[1], abs=1e-8)
    assert randla.lewis_residual(A, w, p=p) < 1e-9
    if shape[0] <= 300:
        reference = lewis_reference(A, p) if p <= 2 else lewis_reference_convex(A, p)
        np.testing.assert_allclose(w, reference, rtol=1e-8)


@pytest.mark.parametrize("p", [10.0, 20.0, 50.0])
@pytest.mark.parametrize("make", [heavy_tailed, coherent])
def test_large_p(p, make):
    # Weights span dozens of orders of magnitude here (down to 1e-40 at p = 20).
    A = make(300, 4, np.random.default_rng(5))
    w = randla.lewis_weights(A, p, rng=0)
    assert w.sum() == pytest.approx(4, abs=1e-8)
    assert randla.lewis_residual(A, w, p=p) < 1e-9
    if p <= 20:
        np.testing.assert_allclose(w, lewis_reference_convex(A, p), rtol=1e-8)


def _convex_objective(A, w, p):
    """F(w) = -log det(A^T W^(1-2/p) A) + (1 - 2/p) sum(w), minimised by the Lewis weights."""
    c = 1 - 2 / p
    return -np.linalg.slogdet(A.T @ (w[:, None] ** c * A))[1] + c * w.sum()


@pytest.mark.parametrize("p", [6.0, 20.0])
def test_large_p_iterates_descend(p):
    # The safeguard's guarantee: every iterate decreases the convex objective.
    A = heavy_tailed(2000, 6, np.random.default_rng(6))
    values = []
    for k in range(1, 25):
        with pytest.warns(randla.ConvergenceWarning):
            w = randla.lewis_weights(A, p, max_iter=k, rng=0)
        values.append(_convex_objective(A, w, p))
    assert np.all(np.diff(values) <= 1e-12 * np.abs(values[1:]))
    w = randla.lewis_weights(A, p, rng=0)
    assert _convex_objective(A, w, p) <= values[-1]


def test_p2_is_leverage():
    A = coherent(2000, 6, np.random.default_rng(1))
    np.testing.assert_allclose(randla.lewis_weights(A, 2), randla.leverage_scores(A), rtol=1e-12)


@pytest.mark.parametrize("p", [1.0, 3.0])
def test_invariance_and_duplication(p):
    rng = np.random.default_rng(2)
    A = heavy_tailed(500, 5, rng)
    w = randla.lewis_weights(A, p, rng=0)
    R = rng.standard_normal((5, 5))
    np.testing.assert_allclose(randla.lewis_weights(A @ R, p, rng=0), w, rtol=1e-8)
    w3 = randla.lewis_weights(np.vstack([A, A, A]), p, rng=0)
    np.testing.assert_allclose(w3, np.tile(w, 3) / 3, rtol=1e-8)


def test_zero_rows_rank_deficiency_sparse_and_float32():
    rng = np.random.default_rng(3)
    A = heavy_tailed(800, 5, rng)
    A[[4, 50]] = 0
    A = np.hstack([A, A[:, :2]])  # rank 5
    w = randla.lewis_weights(A, 1.5, rng=0)
    assert w[4] == 0 and w[50] == 0
    assert w.sum() == pytest.approx(5, abs=1e-8)
    np.testing.assert_allclose(randla.lewis_weights(sp.csr_array(A), 1.5, rng=0), w, rtol=1e-8)
    w32 = randla.lewis_weights(A.astype(np.float32), 1.5, rng=0)
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32, w, rtol=1e-4)


def test_non_convergence_warns():
    A = heavy_tailed(300, 4, np.random.default_rng(4))
    with pytest.warns(
        randla.ConvergenceWarning, match="Lewis weights not converged after 2 iterations"
    ):
        randla.lewis_weights(A, 1.0, max_iter=2)


def test_bad_arguments():
    A = np.ones((10, 2))
    with pytest.raises(ValueError, match="p must be >= 1"):
        randla.lewis_weights(A, 0.5)
    with pytest.raises(ValueError, match="tol must be in \\(0, 1\\)"):
        randla.lewis_weights(A, 1.5, tol=0)
    with pytest.raises(ValueError, match="w must have shape \\(10,\\)"):
        randla.lewis_residual(A, np.ones(3), p=1.5)
    with pytest.raises(ValueError, match="w must be positive on the nonzero rows"):
        randla.lewis_residual(A, np.zeros(10), p=1.5)


@pytest.mark.parametrize("p", [3.0, 6.0])
def test_large_p_ill_conditioned_reaches_the_precision_floor(p):
    # cond(A) = 1e8: rounding in the accumulated factor R once made the Armijo
    # test reject every step and stop at errors near 1e-5; the weights of A
    # must match those of an orthonormal basis of its columns (A -> AR).
    rng = np.random.default_rng(7)
    U = np.linalg.qr(rng.standard_t(2, size=(3000, 20)))[0]
    V = np.linalg.qr(rng.standard_normal((20, 20)))[0]
    A = (U * np.logspace(0, -8, 20)) @ V.T
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", randla.ConvergenceWarning)  # the floor is above 1e-10
        w = randla.lewis_weights(A, p, max_iter=80, rng=0)
    np.testing.assert_allclose(np.log(w), np.log(randla.lewis_weights(U, p, rng=0)), atol=1e-7)


@pytest.mark.parametrize("p", [1.0, 3.0])
def test_a_stalled_iteration_stops_at_its_rounding_floor(p):
    # At cond 1e10 the residual cannot reach 1e-10 (its floor is about
    # eps cond); the iteration stops once it makes no progress, instead of
    # spending max_iter passes over A, and says why.
    A = ill_conditioned(300, 5, 1e10, np.random.default_rng(0))
    with pytest.warns(randla.ConvergenceWarning, match="rounding floor") as caught:
        w = randla.lewis_weights(A, p, rng=0)
    iterations = int(str(caught[0].message).split(" after ")[1].split()[0])
    assert iterations < 100
    assert randla.lewis_residual(A, w, p=p) < 1e-5
    np.testing.assert_allclose(w.sum(), 5, rtol=1e-6)


@pytest.mark.parametrize(
    ("w", "error", "message"),
    [
        (
            np.where(np.arange(200) == 7, np.nan, 0.02),
            ValueError,
            r"w contains NaN \(first at index 7\)",
        ),
        (
            np.where(np.arange(200) == 3, np.inf, 0.02),
            ValueError,
            r"w contains inf \(first at index 3\)",
        ),
        (np.full(200, "0.02"), TypeError, "w must be real numbers"),
        (np.ma.masked_array(np.full(200, 0.02)), TypeError, "w is a numpy.ma.MaskedArray"),
    ],
    ids=["NaN", "inf", "text", "masked"],
)
def test_lewis_residual_names_its_weights(w, error, message):
    # NaN in w was blamed on A; an inf weight gave a residual of inf.
    A = np.random.default_rng(0).standard_normal((200, 3))
    with pytest.raises(error, match=message):
        randla.lewis_residual(A, w, p=1.5)


def test_lewis_residual_accepts_the_weights_lewis_weights_returns_at_large_p():
    # At p = 200 weights below the float range come back as 0 (and others as
    # subnormals with few bits); lewis_residual refused them as invalid
    # input. Zero is allowed for p > 2 where T(w) underflows too, and a
    # subnormal weight is judged to its own precision.
    A = np.random.default_rng(0).standard_normal((3000, 5))
    A[:5] *= 30
    w = randla.lewis_weights(A, 200, rng=0)
    assert np.count_nonzero(w == 0) > 0
    assert randla.lewis_residual(A, w, p=200) < 1e-9
    wrong = w.copy()
    wrong[np.argmax(w)] = 0.0  # a zero where T(w) is far from underflowing
    assert randla.lewis_residual(A, wrong, p=200) == np.inf
    with pytest.raises(ValueError, match="zero is allowed there for p > 2"):
        randla.lewis_residual(A, w, p=1.5)


def test_the_default_iteration_limit_has_a_ceiling():
    # max(500, 8 (p + 2)) grew without bound: lewis_sample(A, 50, p=1e6) ran
    # eight million passes over A before it would have warned.
    from randla._lewis import _max_iter

    assert _max_iter(1.5) == 500 and _max_iter(100) == 816
    assert _max_iter(1e6) == 5000
