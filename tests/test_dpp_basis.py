"""DPP samples depend on the kernel and the seed, not on the eigensolver's eigenbasis.

A repeated eigenvalue has no preferred eigenvectors; eigh and the SVD pick
a basis of its eigenspace that changes with the BLAS thread count. The
samplers must give the same sample for every orthonormal eigenbasis of the
same kernel (and keep the law, checked by enumeration at level ALPHA).
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import randla
from randla import dpp
from randla._dpp import eigen_of

from .conftest import ALPHA
from .test_dpp import DRAWS, _det, _orthonormal, _p_value, _subsets

SEEDS = range(50)


def _kernel(n, multiplicities, values, rng, complex_=False):
    """(eigenvalues, eigenvectors) with each value repeated as often as asked."""
    lam = np.repeat(np.asarray(values, dtype=float), multiplicities)
    return lam, _orthonormal(n, len(lam), rng, complex_)


def _rotated(lam, U, rng):
    """Another eigenbasis of the same kernel: each eigenspace rotated, the pairs shuffled."""
    U = U.copy()
    for value in np.unique(lam):
        block = np.flatnonzero(lam == value)
        W = _orthonormal(len(block), len(block), rng, np.iscomplexobj(U))
        U[:, block] = U[:, block] @ W
    order = rng.permutation(len(lam))
    return lam[order], U[:, order]


def _low_rank_plus_identity(n, m, c, complex_=False):
    rng = np.random.default_rng(1)
    B = rng.standard_normal((n, m)) + (1j * rng.standard_normal((n, m)) if complex_ else 0)
    return B @ B.conj().T + c * np.eye(n)


def _repeated_singular_values(n):
    # L = B B^T has eigenvalues 9 (x4), 4 (x2), 1 (x3), 0.25 and 0 (x n - 10).
    s, U = _kernel(n, [4, 2, 3, 1], [3.0, 2.0, 1.0, 0.5], np.random.default_rng(2))
    return (U * s) @ _orthonormal(10, 10, np.random.default_rng(3)).T


_L = _low_rank_plus_identity(300, 12, 1.0)
_L_HALF = _low_rank_plus_identity(150, 6, 0.5)
_L_COMPLEX = _low_rank_plus_identity(150, 8, 1.0, complex_=True)
_lam, _U = _kernel(150, [10, 30, 110], [1.0, 0.5, 0.0], np.random.default_rng(4))
_K_PROJECTION = _U[:, :40] @ _U[:, :40].T
_K_HALF = (_U * _lam) @ _U.T
_B = _repeated_singular_values(500)

CASES = {
    "kdpp_L_BBt_plus_I": lambda s: dpp.sample_kdpp(10, L=_L, rng=s),
    "dpp_L_BBt_plus_half_I": lambda s: dpp.sample_dpp(L=_L_HALF, rng=s),
    "dpp_K_projection": lambda s: dpp.sample_dpp(K=_K_PROJECTION, rng=s),
    "dpp_K_repeated_half": lambda s: dpp.sample_dpp(K=_K_HALF, rng=s),
    "dpp_factor": lambda s: dpp.sample_dpp(factor=_B, rng=s),
    "kdpp_factor": lambda s: dpp.sample_kdpp(4, factor=_B, rng=s),
    "dpp_L_complex": lambda s: dpp.sample_dpp(L=_L_COMPLEX, rng=s),
    "kdpp_L_complex": lambda s: dpp.sample_kdpp(6, L=_L_COMPLEX, rng=s),
    "volume_sample_k_below_d": lambda s: randla.volume_sample(_B, 4, rng=s).indices,
}


@pytest.mark.parametrize("name", list(CASES))
def test_same_sample_on_one_thread_and_on_all(name):
    many = [CASES[name](s) for s in SEEDS]
    with threadpool_limits(1):
        one = [CASES[name](s) for s in SEEDS]
    differ = [s for s, a, b in zip(SEEDS, many, one, strict=True) if not np.array_equal(a, b)]
    assert differ == []


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_same_sample_from_any_eigenbasis(complex_):
    # The thread count need not change eigh's basis on every machine; a
    # rotation of each eigenspace (and a shuffle of the pairs) always does.
    rng = np.random.default_rng(5)
    lam, U = _kernel(150, [1, 20, 5, 40, 3], [7.0, 2.0, 1.5, 0.3, 0.0], rng, complex_)
    other = _rotated(lam, U, rng)
    for s in SEEDS:
        np.testing.assert_array_equal(
            dpp.sample_dpp(eig=(lam, U), rng=s), dpp.sample_dpp(eig=other, rng=s)
        )
        np.testing.assert_array_equal(
            dpp.sample_kdpp(12, eig=(lam, U), rng=s), dpp.sample_kdpp(12, eig=other, rng=s)
        )


def test_same_sample_from_any_factor_of_the_same_kernel():
    # B and BW (W orthogonal) are factors of the same L = BB^T; with repeated
    # singular values their SVDs give different left singular vectors.
    BW = _B @ _orthonormal(10, 10, np.random.default_rng(6))
    for s in SEEDS:
        np.testing.assert_array_equal(
            dpp.sample_dpp(factor=_B, rng=s), dpp.sample_dpp(factor=BW, rng=s)
        )
        np.testing.assert_array_equal(
            dpp.sample_kdpp(4, factor=_B, rng=s), dpp.sample_kdpp(4, factor=BW, rng=s)
        )
        a, b = randla.volume_sample(_B, 4, rng=s), randla.volume_sample(BW, 4, rng=s)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_allclose(a.probabilities, b.probabilities, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("orthonormalize", [False, True])
def test_projection_dpp_depends_on_the_column_space_only(orthonormalize):
    # The chain rule sees V only through V V^H: no canonical basis is needed.
    rng = np.random.default_rng(7)
    V = _orthonormal(300, 25, rng)
    G = V @ _orthonormal(25, 25, rng)  # another orthonormal basis of the same space
    if orthonormalize:
        G = G @ np.triu(rng.standard_normal((25, 25)) + 10 * np.eye(25))  # and not orthonormal
    for s in SEEDS:
        np.testing.assert_array_equal(
            dpp.sample_projection_dpp(V, rng=s),
            dpp.sample_projection_dpp(G, orthonormalize=orthonormalize, rng=s),
        )


def test_canonical_eigenbasis_spans_the_eigenspaces():
    rng = np.random.default_rng(8)
    lam, U = _kernel(40, [3, 1, 4, 2], [5.0, 2.0, 1.0, 0.0], rng)
    noisy = lam + 1e-15 * rng.standard_normal(len(lam))  # equal to rounding
    noisy[4] += 1e-9  # distinct from its neighbours: a cluster of its own
    given = (noisy.copy(), U.copy())
    values, vectors, name = eigen_of(eig=given)
    assert name == "eig"
    np.testing.assert_array_equal(given[0], noisy)  # the caller's arrays are not touched
    np.testing.assert_array_equal(given[1], U)
    assert np.all(np.diff(values) >= 0)
    np.testing.assert_allclose(np.unique(values), [0.0, 1.0, 1.0 + 1e-9, 2.0, 5.0], atol=1e-14)
    assert len(np.unique(values)) == 5
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(10), atol=1e-14)
    np.testing.assert_allclose((vectors * values) @ vectors.T, (U * lam) @ U.T, atol=1e-8)
    for value in np.unique(lam):  # each eigenspace kept
        P = U[:, lam == value] @ U[:, lam == value].T
        Q = vectors[:, np.isclose(values, value, atol=1e-6)]
        np.testing.assert_allclose(Q @ Q.T, P, atol=1e-13)


@pytest.mark.slow
def test_laws_with_a_repeated_eigenvalue(global_seed):
    # Eigenvalues 2 (x3), 0.5 (x2), 0: the canonical eigenbasis keeps the laws
    # P(Y = S) = det L_S / det(I + L) and, for the 2-DPP, det L_S / e_2.
    rng = np.random.default_rng((global_seed, 9))
    lam, U = _kernel(6, [3, 2, 1], [2.0, 0.5, 0.0], rng)
    L = (U * lam) @ U.T
    Z = _det(np.eye(6) + L)
    law = {S: _det(L[np.ix_(S, S)]) / Z for S in _subsets(6, range(7))}
    law = {S: q for S, q in law.items() if q > 1e-14}
    assert sum(law.values()) == pytest.approx(1)
    draws = [dpp.sample_dpp(L=L, rng=rng) for _ in range(DRAWS)]
    assert _p_value(draws, law) > ALPHA
    draws = [dpp.sample_dpp(factor=U[:, :5] * np.sqrt(lam[:5]), rng=rng) for _ in range(DRAWS)]
    assert _p_value(draws, law) > ALPHA
    weights = {S: _det(L[np.ix_(S, S)]) for S in _subsets(6, [2])}
    total = sum(weights.values())
    law = {S: w / total for S, w in weights.items()}
    other = _rotated(lam, U, rng)
    draws = [dpp.sample_kdpp(2, eig=other, rng=rng) for _ in range(DRAWS)]
    assert _p_value(draws, law) > ALPHA
