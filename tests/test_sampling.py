import copy
import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import chisquare

import randla
from randla._sampling import _bernoulli_probabilities

from ._problems import coherent
from .conftest import ALPHA, z_bound


def test_bernoulli_probabilities_solve_the_budget_exactly():
    rng = np.random.default_rng(0)
    s = rng.random(1000) ** 3
    s[::7] = 0
    for k in (1, 10, 300, 856, 857):
        q = _bernoulli_probabilities(s, k)
        assert q.sum() == pytest.approx(k, rel=1e-12)
        assert np.all(q[s == 0] == 0) and np.all((0 <= q) & (q <= 1))
        # q = min(1, alpha s): one alpha for every row below 1, and alpha s >= 1 above.
        below = (q < 1) & (s > 0)
        if below.any():
            alpha = q[below] / s[below]
            np.testing.assert_allclose(alpha, alpha[0], rtol=1e-12)
            assert np.all(alpha[0] * s[q == 1] >= 1 - 1e-12)


def _scores():
    return np.array([5.0, 3.0, 2.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.0, 4.0, 0.1, 1.5])


def test_bernoulli_inclusion_probabilities_are_exact(global_seed):
    # Per-row inclusion counts over R draws: a two-sided binomial z-test on
    # every row with q in (0, 1), Bonferroni at a false-alarm rate of ALPHA;
    # rows with q = 1 (or 0) must be in every (no) draw.
    s, k, R = _scores(), 4, 20_000
    q = _bernoulli_probabilities(s, k)
    counts = np.zeros(len(s))
    g = np.random.default_rng((global_seed, 1))
    for _ in range(R):
        counts[randla.sample_rows(s, k, rng=g).indices] += 1
    sure = (q == 0) | (q == 1)
    np.testing.assert_array_equal(counts[sure], R * q[sure])
    z = np.abs(counts[~sure] - R * q[~sure]) / np.sqrt(R * q[~sure] * (1 - q[~sure]))
    assert np.all(z < z_bound((~sure).sum()))


def _iid_chi_square_pvalue(s, k, R, rng, sampler):
    counts = np.zeros(len(s))
    for _ in range(R):
        np.add.at(counts, sampler(s, k, rng), 1)
    pi = s / s.sum()
    keep = pi > 0
    assert counts[~keep].sum() == 0
    return chisquare(counts[keep], R * k * pi[keep]).pvalue


def test_iid_draws_follow_the_normalised_scores(global_seed):
    # Chi-square on the pooled counts of R x k draws (every expected count
    # >= 100, so no cell needs pooling), at a false-alarm rate of ALPHA; the
    # same test rejects a sampler with the probabilities squared.
    s, k, R = _scores(), 5, 4000

    def ours(s, k, rng):
        return randla.sample_rows(s, k, scheme="iid", rng=rng).indices

    def wrong(s, k, rng):
        return rng.choice(len(s), size=k, p=s**2 / np.sum(s**2))

    assert _iid_chi_square_pvalue(s, k, R, np.random.default_rng((global_seed, 2)), ours) > ALPHA
    assert _iid_chi_square_pvalue(s, k, R, np.random.default_rng((global_seed, 2)), wrong) < ALPHA


@pytest.mark.parametrize("scheme", ["bernoulli", "iid"])
@pytest.mark.parametrize("p", [1.0, 2.0, 3.0])
def test_sampled_norm_is_unbiased(scheme, p, global_seed):
    # mean over R samples of ||SAx||_p^p / ||Ax||_p^p within z_bound()
    # standard errors of 1 (two-sided false-alarm rate ALPHA).
    rng = np.random.default_rng((global_seed, 3))
    A = coherent(400, 4, rng)
    x = rng.standard_normal(4)
    Ax = np.abs(A @ x) ** p
    scores = randla.leverage_scores(A) + 0.01
    ratios = np.empty(3000)
    for r in range(len(ratios)):
        s = randla.sample_rows(scores, 40, p=p, scheme=scheme, rng=rng)
        ratios[r] = np.sum(np.abs(s.apply(A) @ x) ** p) / Ax.sum()
    se = ratios.std(ddof=1) / math.sqrt(len(ratios))
    assert abs(ratios.mean() - 1) < z_bound() * se


def test_expected_bernoulli_size_is_k(global_seed):
    s, k = _scores(), 4
    q = _bernoulli_probabilities(s, k)
    g = np.random.default_rng((global_seed, 4))
    sizes = np.array([len(randla.sample_rows(s, k, rng=g)) for _ in range(20_000)])
    se = math.sqrt(np.sum(q * (1 - q)) / len(sizes))
    assert abs(sizes.mean() - k) < z_bound() * se


def test_weights_and_fields():
    s = _scores()
    b = randla.sample_rows(s, 4, p=1.5, rng=0)
    np.testing.assert_allclose(b.scales, b.probabilities[b.indices] ** (-1 / 1.5))
    assert b.n == len(s) and b.p == 1.5 and b.scheme == "bernoulli" and b.k == 4
    assert np.all(np.diff(b.indices) > 0)
    i = randla.sample_rows(s, 7, p=2, scheme="iid", rng=0)
    pi = s / s.sum()
    np.testing.assert_allclose(i.probabilities, pi)
    np.testing.assert_allclose(i.scales, (7 * pi[i.indices]) ** -0.5)
    assert len(i) == 7 and np.all(np.diff(i.indices) >= 0)


def test_apply_dense_sparse_and_vector():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((50, 3))
    s = randla.sample_rows(rng.random(50), 10, rng=0)
    SA = s.apply(A)
    np.testing.assert_allclose(SA, s.scales[:, None] * A[s.indices])
    np.testing.assert_allclose(s.apply(sp.csc_array(A)).toarray(), SA)
    assert sp.issparse(s.apply(sp.csr_array(A)))
    np.testing.assert_allclose(s.apply(A[:, 0]), SA[:, 0])
    assert s.apply(A.astype(np.float32)).dtype == np.float32
    with pytest.raises(
        ValueError, match="A must have 50 rows, the size of the sample's population, got 49"
    ):
        s.apply(A[:49])


def test_repr():
    s = randla.sample_rows(np.ones(100), 10, rng=0)
    assert repr(s) == (
        f"RowSample(scheme='bernoulli', p=2, rows={len(s)} of 100, expected=10, scores='given')"
    )
    s = randla.sample_rows(np.ones(100), 10, p=1.5, scheme="iid", rng=0)
    assert repr(s) == "RowSample(scheme='iid', p=1.5, rows=10 of 100, draws=10, scores='given')"


def test_leverage_sample_distortion_below_the_matrix_chernoff_bound():
    # Bernoulli leverage sampling with k = 3 d ln(2d/delta) / eps^2 rows is an
    # eps-embedding (eigenvalues of Q^T S^T S Q in [1 - eps, 1 + eps]) with
    # probability >= 1 - delta (matrix Chernoff: every term is at most d/k).
    # eps = 0.5, delta = 1e-3, five draws: false-alarm rate <= 0.5%.
    n, d, eps, delta = 20_000, 5, 0.5, 1e-3
    k = math.ceil(3 * d * math.log(2 * d / delta) / eps**2)
    rng = np.random.default_rng(6)
    A = coherent(n, d, rng)
    for seed in range(5):
        s = randla.leverage_sample(A, k, rng=seed)
        assert randla.subspace_distortion(A, s) <= eps
    # Uniform sampling of the same size misses the identity rows.
    u = randla.uniform_sample(A, k, rng=0)
    assert randla.subspace_distortion(A, u) > 0.9


def test_uniform_sample():
    s = randla.uniform_sample(np.ones((100, 2)), 10, p=1, rng=0)
    np.testing.assert_allclose(s.probabilities, 0.1)
    np.testing.assert_allclose(s.scales, 10.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match="k must be <= 5, got 6"):
        randla.sample_rows(np.ones(5), 6)
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        randla.sample_rows(np.ones(5), 0)
    with pytest.raises(ValueError, match="scores must be >= 0, got -1.0 at index 2"):
        randla.sample_rows([1, 1, -1, 1], 2)
    with pytest.raises(ValueError, match="scores contains nan \\(first at index 1\\)"):
        randla.sample_rows([1, np.nan], 1)
    with pytest.raises(ValueError, match="scores must have a positive entry"):
        randla.sample_rows(np.zeros(3), 1)
    with pytest.raises(ValueError, match="scores must be a non-empty 1-D array"):
        randla.sample_rows(np.ones((3, 2)), 1)
    with pytest.raises(ValueError, match="scheme must be one of 'bernoulli', 'iid'; got 'poisson'"):
        randla.sample_rows(np.ones(3), 1, scheme="poisson")
    with pytest.raises(ValueError, match="p must be >= 1"):
        randla.sample_rows(np.ones(3), 1, p=0.5)
    assert (
        len(randla.sample_rows(np.ones(3), 10, scheme="iid", rng=0)) == 10
    )  # k > n is fine for i.i.d.


def test_subnormal_scores_beside_large_ones():
    # Found by hypothesis: the tail sums of subnormal scores made
    # alpha = (k - m) / tail overflow to inf, and no m qualified (IndexError).
    scores = [1.0, 1.0, 1.0, 1.0, 2.2250738585e-313, 2.2250738585e-313]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no overflow warning on the way
        q = randla.sample_rows(scores, 5).probabilities
    assert q.sum() == pytest.approx(5) and np.all(q <= 1)
    np.testing.assert_array_equal(q[:4], 1.0)


def test_iid_scores_whose_sum_overflows():
    # Each score is finite but their sum is not: numpy's choice refused the
    # probabilities ("do not sum to 1"); the Bernoulli path coped already.
    s = randla.sample_rows(np.full(10, 1e308), 4, scheme="iid", rng=0)
    np.testing.assert_allclose(s.probabilities, 0.1)
    np.testing.assert_allclose(s.scales, (4 * 0.1) ** -0.5)


@pytest.mark.parametrize(
    "sampler",
    [
        lambda A: randla.leverage_sample(A, 10, rng=0),
        lambda A: randla.sensitivity_sample(A, 10, p=1.5, rng=0),
        lambda A: randla.root_leverage_sample(A, 10, p=1.5, rng=0),
        lambda A: randla.lewis_sample(A, 10, p=3, rng=0),
        lambda A: randla.hybrid_sample(A, 10, p=3, rng=0),
        lambda A: randla.augmented_sample(A, 10, p=1.5, rng=0),
    ],
)
def test_an_all_zero_matrix_is_named_as_the_cause(sampler):
    # These blamed `scores`, an argument the user never passed (hybrid_sample:
    # "scores contains nan").
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", randla.RankWarning)
        with pytest.raises(ValueError, match="A has no row with a positive"):
            sampler(np.zeros((200, 3)))


def test_apply_reports_an_overflow_of_the_rescaled_rows():
    # Rows of 1e308 scaled by (n/k)^(1/2) overflowed to inf with only numpy's
    # RuntimeWarning; sketch() already said "overflowed ... rescale A".
    s = randla.uniform_sample(np.ones((1000, 3)), 10, rng=0)
    for A in (np.full(1000, 1e308), sp.csr_array(np.full((1000, 2), 1e308))):
        with pytest.raises(ValueError, match="S @ A overflowed although A is finite; rescale A"):
            s.apply(A)


def test_every_row_sample_has_a_float_p():
    # volume_sample's p was the int 2 where every other sampler's is a float.
    A = np.random.default_rng(3).standard_normal((50, 3))
    samples = [
        randla.volume_sample(A, 5, rng=0),
        randla.volume_sample(A, 2, rng=0),
        randla.leverage_sample(A, 5, rng=0),
        randla.uniform_sample(A, 5, rng=0),
        randla.uniform_sample(A, 5, p=1, rng=0),
        randla.sample_rows(np.ones(50), 5, rng=0),
    ]
    assert [type(s.p) for s in samples] == [float] * len(samples)
    assert [type(s.k) for s in samples] == [int] * len(samples)


def test_row_samples_compare_by_identity():
    s = randla.uniform_sample(np.ones((20, 2)), 5, rng=0)
    twin = copy.copy(s)
    assert s == s and s != twin and not (s == twin)
    assert hash(s) == hash(s) and len({s, twin}) == 2


@pytest.mark.parametrize(
    "sampler",
    [
        lambda A, **kw: randla.leverage_sample(A, **({"k": 10} | kw)),
        lambda A, **kw: randla.uniform_sample(A, **({"k": 10} | kw)),
    ],
)
def test_leverage_and_uniform_check_k_and_scheme_at_the_door(sampler):
    # leverage_sample computed the scores before it looked at k or scheme.
    A = np.zeros((30, 2))
    with pytest.raises(ValueError, match="^k must be <= 30, got 31"):
        sampler(A, k=31)
    with pytest.raises(ValueError, match="^scheme must be one of 'bernoulli', 'iid'"):
        sampler(A, scheme="poisson")


def test_subnormal_scores_that_the_budget_spills_over_to():
    # Found by hypothesis: the scores were divided by their largest, which
    # set the subnormal ones to 0 and then 0 / 0: q = NaN for them. The
    # budget left by the four rows kept surely is 1, shared by the last two.
    q = _bernoulli_probabilities(np.array([1.0, 1.0, 1.0, 2.0, 5e-324, 5e-324]), 5)
    np.testing.assert_array_equal(q, [1.0, 1.0, 1.0, 1.0, 0.5, 0.5])
    # Scores whose sums overflow are still brought to scale 1.
    q = _bernoulli_probabilities(np.array([1e308, 1e308, 5e307, 5e307]), 3)
    np.testing.assert_allclose(q, [1.0, 1.0, 0.5, 0.5])


def test_scales_of_a_sample_are_factors_and_their_squares_are_least_squares_weights():
    # "weights" means one thing: the weight on a squared residual (lstsq,
    # fit_wls, PointSample). A RowSample's factors on the rows are its scales.
    rng = np.random.default_rng(4)
    A, b = rng.standard_normal((2000, 3)), rng.standard_normal(2000)
    s = randla.leverage_sample(A, 200, rng=0)
    assert not hasattr(s, "weights")
    scaled = randla.lstsq(s.apply(A), s.apply(b)).x
    weighted = randla.lstsq(A[s.indices], b[s.indices], weights=s.scales**2).x
    np.testing.assert_allclose(weighted, scaled, rtol=1e-10)
