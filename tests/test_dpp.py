"""Finite DPPs, k-DPPs and volume sampling against their exact laws.

Every law test enumerates all subsets of a small ground set and runs a
chi-square goodness-of-fit test at level ALPHA (tests/conftest.py) on DRAWS
samples seeded by global_seed: a correct sampler fails it for a fraction
ALPHA of seeds (the false-alarm rate), and
test_chi_square_rejects_a_wrong_sampler shows that the test has the power
to catch a plausible mistake, under every seed.
"""

import itertools
import warnings
from collections import Counter

import numpy as np
import pytest
import scipy.stats

import randla
from randla import dpp
from randla._dpp import kdpp_eigen_inclusion, kdpp_eigenvectors

from .conftest import ALPHA, z_bound

DRAWS = 20_000


def _p_value(draws, law):
    """p-value of the subsets drawn against law {subset: probability}.

    The cells expected at least 5 times get a chi-square test. The rarer
    ones are pooled; a pool expected 5 times or more is one more cell of
    it, while a smaller pool (where the chi-square approximation fails: a
    pool expected 0.08 times and drawn twice has chi-square p 4e-12, exact
    p 0.003) gets the exact binomial tail of drawing it that often, the
    frequent cells a chi-square given their total, and the two are joined
    by Bonferroni.
    """
    counts = Counter(tuple(int(i) for i in s) for s in draws)
    assert set(counts) <= set(law), "a subset of probability 0 was drawn"
    n = len(draws)
    expected = np.array([law[s] for s in law]) * n
    observed = np.array([counts[s] for s in law])
    small = expected < 5
    pool_expected, pool_observed = expected[small].sum(), observed[small].sum()
    if pool_expected >= 5:
        return scipy.stats.chisquare(
            np.append(observed[~small], pool_observed), np.append(expected[~small], pool_expected)
        ).pvalue
    big_expected, big_observed = expected[~small], observed[~small]
    frequent = 1.0
    if len(big_expected) > 1:
        scaled = big_expected * (big_observed.sum() / big_expected.sum())
        frequent = scipy.stats.chisquare(big_observed, scaled).pvalue
    rare = scipy.stats.binom.sf(pool_observed - 1, n, pool_expected / n) if pool_observed else 1.0
    return min(1.0, 2 * min(frequent, rare))


def _subsets(n, sizes):
    return [s for k in sizes for s in itertools.combinations(range(n), k)]


def _det(M):
    return float(np.real(np.linalg.det(M))) if M.size else 1.0


def _orthonormal(n, r, rng, complex_=False):
    G = rng.standard_normal((n, r))
    if complex_:
        G = G + 1j * rng.standard_normal((n, r))
    return np.linalg.qr(G)[0]


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_projection_dpp_law(complex_, global_seed):
    V = _orthonormal(7, 3, np.random.default_rng((global_seed, 0)), complex_)
    law = {S: abs(np.linalg.det(V[list(S)])) ** 2 for S in _subsets(7, [3])}
    assert sum(law.values()) == pytest.approx(1)
    rng = np.random.default_rng((global_seed, 1))
    draws = [dpp.sample_projection_dpp(V, rng=rng) for _ in range(DRAWS)]
    assert _p_value(draws, law) > ALPHA


def _leverage_without_replacement(V, rng):
    """A plausible wrong sampler: r items drawn one by one proportionally to K_ii."""
    weights = np.sum(np.abs(V) ** 2, axis=1)
    return np.sort(rng.choice(len(V), V.shape[1], replace=False, p=weights / weights.sum()))


def test_chi_square_rejects_a_wrong_sampler(global_seed):
    V = _orthonormal(7, 3, np.random.default_rng((global_seed, 0)))
    law = {S: np.linalg.det(V[list(S)]) ** 2 for S in _subsets(7, [3])}
    rng = np.random.default_rng((global_seed, 1))
    draws = [_leverage_without_replacement(V, rng) for _ in range(DRAWS)]
    assert _p_value(draws, law) < ALPHA


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.slow
def test_l_ensemble_law(complex_, global_seed):
    rng = np.random.default_rng((global_seed, 2))
    B = rng.standard_normal((5, 4)) + (1j * rng.standard_normal((5, 4)) if complex_ else 0)
    L = B @ B.conj().T / 2
    Z = _det(np.eye(5) + L)
    law = {S: _det(L[np.ix_(S, S)]) / Z for S in _subsets(5, range(6))}
    draws = [dpp.sample_dpp(L=L, rng=rng) for _ in range(DRAWS)]
    assert _p_value(draws, law) > ALPHA
    # The same DPP from the factor (never forming L) and from the eigendecomposition.
    draws = [dpp.sample_dpp(factor=B / np.sqrt(2), rng=rng) for _ in range(DRAWS)]
    assert _p_value(draws, law) > ALPHA
    values, vectors = np.linalg.eigh(L)
    draws = [dpp.sample_dpp(eig=(values, vectors), rng=rng) for _ in range(DRAWS)]
    assert _p_value(draws, law) > ALPHA


@pytest.mark.slow
def test_k_ensemble_law(global_seed):
    rng = np.random.default_rng((global_seed, 3))
    U = _orthonormal(5, 5, rng)
    K = (U * np.array([1.0, 0.9, 0.5, 0.2, 0.0])) @ U.T
    # P(Y = S) = |det(K - I_{complement of S})| (Kulesza & Taskar, 2012, eq. 2.3)
    law = {}
    for S in _subsets(5, range(6)):
        D = np.diag([0.0 if i in S else 1.0 for i in range(5)])
        law[S] = abs(np.linalg.det(K - D))
    law = {S: q for S, q in law.items() if q > 1e-14}
    assert sum(law.values()) == pytest.approx(1)
    draws = [dpp.sample_dpp(K=K, rng=rng) for _ in range(DRAWS)]
    assert _p_value(draws, law) > ALPHA


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.slow
def test_kdpp_law(complex_, global_seed):
    rng = np.random.default_rng((global_seed, 4))
    B = rng.standard_normal((7, 5)) + (1j * rng.standard_normal((7, 5)) if complex_ else 0)
    L = B @ B.conj().T
    weights = {S: _det(L[np.ix_(S, S)]) for S in _subsets(7, [3])}
    total = sum(weights.values())
    law = {S: w / total for S, w in weights.items()}
    draws = [dpp.sample_kdpp(3, L=L, rng=rng) for _ in range(DRAWS)]
    assert _p_value(draws, law) > ALPHA
    draws = [dpp.sample_kdpp(3, factor=B, rng=rng) for _ in range(DRAWS)]
    assert _p_value(draws, law) > ALPHA


def test_elementary_symmetric_polynomials_and_eigen_inclusion():
    lam = np.array([3.0, 0.5, 2.0, 1e-3, 7.0])
    with np.errstate(divide="ignore"):
        table = randla._kernels.log_elementary_symmetric(np.log(lam), 3)
    for k in range(4):
        exact = sum(np.prod(c) for c in itertools.combinations(lam, k))
        assert np.exp(table[k, 5]) == pytest.approx(exact, rel=1e-12)
    # P(j among the k-DPP's eigenvectors) by enumeration of the k-subsets.
    subsets = list(itertools.combinations(range(5), 3))
    mass = np.array([np.prod(lam[list(J)]) for J in subsets])
    expected = [sum(m for J, m in zip(subsets, mass, strict=True) if j in J) for j in range(5)]
    np.testing.assert_allclose(
        kdpp_eigen_inclusion(lam, 3), np.array(expected) / mass.sum(), rtol=1e-12
    )


@pytest.mark.parametrize("k", [3, 2])  # d = 3: k = d (a DPP), k < d (a k-DPP)
@pytest.mark.slow
def test_volume_sampling_law(k, global_seed):
    rng = np.random.default_rng((global_seed, 5))
    A = rng.standard_normal((7, 3))
    if k >= 3:
        weights = {S: _det(A[list(S)].T @ A[list(S)]) for S in _subsets(7, [k])}
    else:
        weights = {S: _det(A[list(S)] @ A[list(S)].T) for S in _subsets(7, [k])}
    total = sum(weights.values())
    law = {S: w / total for S, w in weights.items()}
    samples = [randla.volume_sample(A, k, rng=rng) for _ in range(DRAWS)]
    assert _p_value([s.indices for s in samples], law) > ALPHA
    inclusion = [sum(q for S, q in law.items() if i in S) for i in range(7)]
    np.testing.assert_allclose(samples[0].probabilities, inclusion, rtol=1e-10)
    assert np.all(samples[0].scales == 1) and samples[0].p == 2


@pytest.mark.slow
def test_volume_sampling_law_more_rows_than_columns(global_seed):
    rng = np.random.default_rng((global_seed, 6))
    A = rng.standard_normal((7, 2))
    weights = {S: _det(A[list(S)].T @ A[list(S)]) for S in _subsets(7, [4])}
    total = sum(weights.values())
    law = {S: w / total for S, w in weights.items()}
    samples = [randla.volume_sample(A, 4, rng=rng) for _ in range(DRAWS)]
    assert _p_value([s.indices for s in samples], law) > ALPHA
    inclusion = [sum(q for S, q in law.items() if i in S) for i in range(7)]
    np.testing.assert_allclose(samples[0].probabilities, inclusion, rtol=1e-10)


def test_inclusion_probabilities_minors_and_size(global_seed):
    # Larger N: P(i in Y) = K_ii and P(i, j in Y) = K_ii K_jj - |K_ij|^2 by Monte Carlo.
    rng = np.random.default_rng((global_seed, 7))
    B = rng.standard_normal((60, 12))
    L = B @ B.T / 10
    lam, U = np.linalg.eigh(L)
    K = (U * (lam / (1 + lam))) @ U.T
    n = 10_000
    X = np.zeros((n, 60))
    sizes = []
    for t in range(n):
        S = dpp.sample_dpp(factor=B / np.sqrt(10), rng=rng)
        assert len(set(S.tolist())) == len(S)  # no repeated items
        X[t, S] = 1
        sizes.append(len(S))
    first = X.mean(axis=0)
    se = np.sqrt(np.diag(K) * (1 - np.diag(K)) / n)
    assert np.max(np.abs(first - np.diag(K)) / se) < z_bound(60)
    pairs = (X.T @ X) / n
    minors = np.outer(np.diag(K), np.diag(K)) - K**2
    iu = np.triu_indices(60, 1)
    se2 = np.sqrt(minors[iu] * (1 - minors[iu]) / n)
    assert np.max(np.abs(pairs[iu] - minors[iu]) / se2) < z_bound(len(se2))
    keep = lam / (1 + lam)  # |Y| is a sum of independent Bernoulli(keep_j)
    size_se = np.sqrt(np.sum(keep * (1 - keep)) / n)
    assert abs(np.mean(sizes) - np.trace(K)) < z_bound() * size_se  # E|Y| = tr K


@pytest.mark.slow
def test_volume_lstsq_is_unbiased(global_seed):
    rng = np.random.default_rng((global_seed, 8))
    A = rng.standard_normal((40, 3)) * np.array([1.0, 10.0, 0.1])
    b = A @ np.ones(3) + rng.standard_t(2, size=40)
    x_full = np.linalg.lstsq(A, b, rcond=None)[0]
    # Exactly, by enumeration over all 3-subsets of 12 rows, for k = d = 3 ...
    small, bs = A[:12], b[:12]
    total, mean = 0.0, np.zeros(3)
    for S in itertools.combinations(range(12), 3):
        w = np.linalg.det(small[list(S)]) ** 2
        if w > 0:
            total += w
            mean += w * np.linalg.solve(small[list(S)], bs[list(S)])
    np.testing.assert_allclose(mean / total, np.linalg.lstsq(small, bs, rcond=None)[0], rtol=1e-10)
    # ... and by Monte Carlo through the sampler, k = 3 and k = 6.
    for k in (3, 6):
        estimates = np.array([randla.volume_lstsq(A, b, k, rng=rng).x for _ in range(8_000)])
        se = estimates.std(axis=0) / np.sqrt(len(estimates))
        assert np.all(np.abs(estimates.mean(axis=0) - x_full) < z_bound(3) * se)
    result = randla.volume_lstsq(A, b, 6, rng=0)
    assert result.method == "volume" and result.k == 6 and result.rank == 3
    assert result.residual_norm == pytest.approx(np.linalg.norm(b - A @ result.x))


def test_reproducible_by_seed():
    B = np.random.default_rng(9).standard_normal((300, 20))
    V = np.linalg.qr(B)[0]
    for f in (
        lambda s: dpp.sample_projection_dpp(V, rng=s),
        lambda s: dpp.sample_dpp(factor=B, rng=s),
        lambda s: dpp.sample_kdpp(7, factor=B, rng=s),
        lambda s: randla.volume_sample(B, 30, rng=s).indices,
    ):
        np.testing.assert_array_equal(f(5), f(5))
        assert not np.array_equal(f(5), f(6))


def test_large_projection_dpp_and_orthonormalize():
    rng = np.random.default_rng(10)
    G = rng.standard_normal((20_000, 60))
    S = dpp.sample_projection_dpp(G, orthonormalize=True, rng=0)
    assert len(S) == 60 and len(np.unique(S)) == 60
    # The chosen rows are linearly independent: det(V_S) != 0.
    V = np.linalg.qr(G)[0]
    assert np.linalg.cond(V[S]) < 1e8
    np.testing.assert_array_equal(S, dpp.sample_projection_dpp(V, rng=0))


def test_kdpp_ill_conditioned_ten_thousand_items_without_warnings():
    # Eigenvalues from 1e-12 to 1e8 over 10^4 items: e_k of them leaves
    # float64's range (DPPy's reported failure); the log domain does not.
    rng = np.random.default_rng(11)
    lam = np.geomspace(1e-12, 1e8, 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        J = kdpp_eigenvectors(lam, 300, rng)
        assert len(set(J.tolist())) == 300
        inclusion = kdpp_eigen_inclusion(lam, 300)
        assert inclusion.sum() == pytest.approx(300, rel=1e-9)
        assert np.all((inclusion >= 0) & (inclusion <= 1 + 1e-12))
        # End to end, from an ill-conditioned 10^4 x 400 factor (L never formed).
        B = rng.standard_normal((10_000, 400)) * np.geomspace(1e-6, 1e4, 400)
        S = dpp.sample_kdpp(150, factor=B, rng=0)
        assert len(np.unique(S)) == 150


def test_bad_inputs():
    V = np.linalg.qr(np.random.default_rng(12).standard_normal((10, 3)))[0]
    with pytest.raises(ValueError, match="V must have orthonormal columns"):
        dpp.sample_projection_dpp(2 * V)
    with pytest.raises(ValueError, match="V must have full column rank"):
        dpp.sample_projection_dpp(np.ones((10, 2)), orthonormalize=True)
    with pytest.raises(ValueError, match="V contains NaN"):
        dpp.sample_projection_dpp(np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match=r"K must have eigenvalues in \[0, 1\]"):
        dpp.sample_dpp(K=2 * V @ V.T)
    with pytest.raises(ValueError, match="L must be positive semidefinite"):
        dpp.sample_dpp(L=-V @ V.T)
    with pytest.raises(ValueError, match="L must be Hermitian"):
        dpp.sample_dpp(L=np.triu(np.ones((4, 4))))
    with pytest.raises(ValueError, match="give exactly one of L, K, eig, factor"):
        dpp.sample_dpp(L=np.eye(3), K=np.eye(3) / 2)
    with pytest.raises(ValueError, match="give exactly one of L, K, eig, factor"):
        dpp.sample_kdpp(2)
    with pytest.raises(ValueError, match=r"k must be <= the rank of L \(3\), got 4"):
        dpp.sample_kdpp(4, factor=V)
    with pytest.raises(ValueError, match="eig\\[1\\] must have orthonormal columns"):
        dpp.sample_dpp(eig=(np.ones(3), 2 * V))
    with pytest.raises(ValueError, match="volume sampling of k >= d rows needs A of full column"):
        randla.volume_sample(np.ones((10, 2)), 5)
    with pytest.raises(ValueError, match=r"k must be >= d = 3 for the unbiased"):
        randla.volume_lstsq(np.eye(10)[:, :3], np.ones(10), 2)
    with pytest.raises(ValueError, match=r"k must be <= the rank of A \(1\), got 2"):
        randla.volume_sample(np.ones((10, 3)), 2)
