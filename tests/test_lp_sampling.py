import math

import numpy as np
import pytest

import randla

from ._problems import coherent, heavy_tailed
from .conftest import z_bound


def assert_same_sample(a, b):
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.scales, b.scales)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)
    assert (a.p, a.scheme, a.k) == (b.p, b.scheme, b.k)


def _check(sample, p, n):
    assert sample.p == p and sample.n == n
    np.testing.assert_allclose(sample.scales, sample.probabilities[sample.indices] ** (-1 / p))


def test_samplers_use_the_documented_scores():
    rng = np.random.default_rng(0)
    A = heavy_tailed(3000, 4, rng)
    n, k = len(A), 200
    q = randla.sample_rows
    tau = randla.leverage_scores(A)
    cases = [
        (
            randla.sensitivity_sample(A, k, p=1.5, rng=1),
            randla.lp_sensitivities(A, 1.5, method="lewis"),
            1.5,
        ),
        (randla.root_leverage_sample(A, k, p=1.5, rng=1), tau**0.75, 1.5),
        (randla.lewis_sample(A, k, p=3, rng=1), randla.lewis_weights(A, 3), 3.0),
        (
            randla.augmented_sample(A, k, p=1, rng=1),
            randla.lp_sensitivities(A, 1, method="lewis") + tau,
            1.0,
        ),
    ]
    s3 = randla.lp_sensitivities(A, 3, method="lewis")
    cases.append((randla.hybrid_sample(A, k, p=3, rng=1), tau / tau.sum() + s3 / s3.sum(), 3.0))
    for sample, scores, p in cases:
        _check(sample, p, n)
        expected = q(scores, k, p=p, rng=0).probabilities
        np.testing.assert_allclose(sample.probabilities, expected, rtol=1e-8, atol=1e-15)


def test_exact_scores_and_the_range_of_p():
    A = heavy_tailed(60, 3, np.random.default_rng(1))
    exact = randla.sensitivity_sample(A, 10, p=1.0, method="exact", rng=0)
    sigma = randla.lp_sensitivities(A, 1.0, method="exact", progress=False)
    np.testing.assert_allclose(exact.probabilities, randla.sample_rows(sigma, 10).probabilities)
    with pytest.raises(ValueError, match="hybrid_sample is for p > 2"):
        randla.hybrid_sample(A, 10, p=1.5)
    with pytest.raises(ValueError, match="augmented_sample is for p <= 2"):
        randla.augmented_sample(A, 10, p=3)


@pytest.mark.parametrize("p", [1.0, 3.0])
def test_sensitivity_sample_is_unbiased(p, global_seed):
    # mean of ||SAx||_p^p / ||Ax||_p^p over R draws within z_bound() standard
    # errors of 1 (two-sided false-alarm rate ALPHA).
    rng = np.random.default_rng((global_seed, 2))
    A = heavy_tailed(400, 3, rng)
    x = rng.standard_normal(3)
    target = np.sum(np.abs(A @ x) ** p)
    # The bounds are computed once: sensitivity sampling with them is sample_rows.
    scores = randla.lp_sensitivities(A, p, method="lewis")
    assert_same_sample(
        randla.sensitivity_sample(A, 40, p=p, rng=5), randla.sample_rows(scores, 40, p=p, rng=5)
    )
    ratios = np.array(
        [
            np.sum(np.abs(s.apply(A) @ x) ** p) / target
            for s in (randla.sample_rows(scores, 40, p=p, rng=rng) for _ in range(3000))
        ]
    )
    assert abs(ratios.mean() - 1) < z_bound() * ratios.std(ddof=1) / math.sqrt(len(ratios))


def test_lp_distortion_at_p2_is_the_exact_distortion():
    A = coherent(4000, 5, np.random.default_rng(3))
    for seed in range(3):
        s = randla.leverage_sample(A, 200, rng=seed)
        exact = randla.subspace_distortion(A, s)
        estimate = randla.lp_distortion(A, s, rng=0)
        assert estimate <= exact + 1e-9  # a lower bound...
        assert estimate >= 0.99 * exact  # ...that the ascent makes tight at p = 2


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_lp_distortion_sees_what_uniform_sampling_misses(p):
    A = heavy_tailed(5000, 4, np.random.default_rng(4), df=1.2)
    lewis = randla.lp_distortion(A, randla.lewis_sample(A, 400, p=p, rng=0), rng=0)
    uniform = randla.lp_distortion(A, randla.uniform_sample(A, 400, p=p, rng=0), rng=0)
    assert lewis < 0.5 < uniform
    everything = randla.sample_rows(np.ones(len(A)), len(A), p=p, rng=0)
    assert randla.lp_distortion(A, everything, rng=0) == pytest.approx(0, abs=1e-12)
    # Given Lewis weights are used as they are, not recomputed.
    w = randla.lewis_weights(A, p, rng=0)
    s = randla.uniform_sample(A, 400, p=p, rng=0)
    assert randla.lp_distortion(A, s, lewis_weights=w, rng=0) == pytest.approx(uniform, rel=1e-6)


def test_lp_distortion_bad_arguments():
    A = np.ones((10, 2))
    s = randla.sample_rows(np.ones(10), 5, p=1.5, rng=0)
    with pytest.raises(TypeError, match="sample must be a RowSample"):
        randla.lp_distortion(A, "rows")
    with pytest.raises(ValueError, match="lewis_weights must be 1-D of length 10"):
        randla.lp_distortion(A, s, lewis_weights=np.ones(3))
    with pytest.raises(ValueError, match="lewis_weights must be positive on the nonzero rows"):
        randla.lp_distortion(A, s, lewis_weights=np.r_[0.0, np.ones(9)])


# The five l_p samplers share one shape, (A, k, *, p, method=..., scheme=..., rng=...).
SAMPLERS = {
    "sensitivity_sample": (randla.sensitivity_sample, 1.5),
    "root_leverage_sample": (randla.root_leverage_sample, 1.5),
    "lewis_sample": (randla.lewis_sample, 3),
    "hybrid_sample": (randla.hybrid_sample, 3),
    "augmented_sample": (randla.augmented_sample, 1.5),
}
# The samplers whose method names the sensitivity bounds (formerly scores=).
BOUNDED = ["sensitivity_sample", "hybrid_sample", "augmented_sample"]
_A = heavy_tailed(300, 3, np.random.default_rng(7))


@pytest.mark.parametrize("name", SAMPLERS)
def test_p_is_keyword_only_after_k(name):
    sampler, p = SAMPLERS[name]
    with pytest.raises(TypeError, match="positional argument"):
        sampler(_A, 40, p)
    s = sampler(_A, p=p, k=20, rng=0)
    assert (s.k, s.p, type(s.p)) == (20, p, float)
    assert_same_sample(s, sampler(_A, 20, p=p, rng=0))


def test_sensitivity_sample_p_is_not_k():
    # Before, sensitivity_sample(A, p, k) took this as p = 40, k = 3.
    with pytest.raises(TypeError, match="takes 2 positional arguments but 3 were given"):
        randla.sensitivity_sample(_A, 40, 3)
    s = randla.sensitivity_sample(_A, p=1.5, k=20, rng=0)
    assert (s.k, s.p) == (20, 1.5)


@pytest.mark.parametrize("name", BOUNDED)
def test_scores_is_renamed_method(name):
    sampler, p = SAMPLERS[name]
    with pytest.raises(TypeError, match=rf"^{name}\(\) takes method=, not scores= \(renamed\)"):
        sampler(_A, 20, p=p, scores="lewis")
    # An array of bounds was scores= too: the message says where it goes now.
    with pytest.raises(TypeError, match=r"takes method=, not scores=.*randla.sample_rows"):
        sampler(_A, 20, p=p, scores=np.ones(len(_A)))


@pytest.mark.parametrize("name", SAMPLERS)
def test_a_bad_method_is_named_method(name):
    sampler, p = SAMPLERS[name]
    if name == "lewis_sample":  # no method to choose
        with pytest.raises(TypeError, match="unexpected keyword argument 'method'"):
            sampler(_A, 20, p=p, method="lewis")
        return
    if name == "root_leverage_sample":  # its method= chose the algorithm of exact scores
        with pytest.raises(TypeError, match=r"takes accuracy=, not method= \(renamed\)"):
            sampler(_A, 20, p=p, method="qr")
        return
    with pytest.raises(ValueError, match="^method must be one of ") as caught:
        sampler(_A, 20, p=p, method="levrage")
    assert "scores" not in str(caught.value)


def test_root_leverage_bounds_are_refused_for_p_above_2():
    with pytest.raises(ValueError, match=r"^method='root-leverage' bounds .* only for p <= 2"):
        randla.hybrid_sample(_A, 20, p=3, method="root-leverage")
    with pytest.raises(ValueError, match=r"^method='root-leverage' bounds .* only for p <= 2"):
        randla.sensitivity_sample(_A, 20, p=3, method="root-leverage")
    with pytest.raises(ValueError, match=r"^p must be in \[1, 2\], got 3.0"):
        randla.root_leverage_sample(_A, 20, p=3)


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"k": 0}, ValueError, r"^k must be >= 1, got 0"),
        ({"k": 301}, ValueError, r"^k must be <= 300, got 301"),
        ({"k": 2.5}, TypeError, r"^k must be an integer"),
        ({"scheme": "poisson"}, ValueError, r"^scheme must be one of 'bernoulli', 'iid'"),
        ({"rng": "seed"}, TypeError, r"^rng must be None, an int seed"),
        ({"p": 0.5}, ValueError, r"^p must be"),
    ],
)
def test_arguments_are_checked_before_the_scores_are_computed(name, kwargs, error, message):
    # An all-zero A fails only once its scores are computed ("A has no row with
    # a positive ..."): the samplers checked k, scheme and rng after that work.
    sampler, p = SAMPLERS[name]
    arguments = {"k": 20, "p": p} | kwargs
    with pytest.raises(error, match=message):
        sampler(np.zeros((300, 3)), **arguments)


def test_the_root_leverage_refusal_comes_before_the_leverage_scores():
    # hybrid_sample computed the leverage scores before it found out.
    with pytest.raises(ValueError, match=r"^method='root-leverage' bounds"):
        randla.hybrid_sample(np.zeros((300, 3)), 20, p=3, method="root-leverage")
