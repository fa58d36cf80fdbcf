import math

import numpy as np
import pytest

import randla

from ._problems import coherent, heavy_tailed
from .conftest import z_bound


def _check(sample, p, n):
    assert sample.p == p and sample.n == n
    np.testing.assert_allclose(sample.weights, sample.probabilities[sample.indices] ** (-1 / p))


def test_samplers_use_the_documented_scores():
    rng = np.random.default_rng(0)
    A = heavy_tailed(3000, 4, rng)
    n, k = len(A), 200
    q = randla.sample_rows
    tau = randla.leverage_scores(A)
    cases = [
        (randla.sensitivity_sample(A, 1.5, k, rng=1), randla.lp_sensitivities(A, 1.5), 1.5),
        (randla.root_leverage_sample(A, k, 1.5, rng=1), tau**0.75, 1.5),
        (randla.lewis_sample(A, k, 3, rng=1), randla.lewis_weights(A, 3), 3.0),
        (randla.augmented_sample(A, k, 1, rng=1), randla.lp_sensitivities(A, 1) + tau, 1.0),
    ]
    s3 = randla.lp_sensitivities(A, 3)
    cases.append((randla.hybrid_sample(A, k, 3, rng=1), tau / tau.sum() + s3 / s3.sum(), 3.0))
    for sample, scores, p in cases:
        _check(sample, p, n)
        expected = q(scores, k, p=p, rng=0).probabilities
        np.testing.assert_allclose(sample.probabilities, expected, rtol=1e-8, atol=1e-15)


def test_user_scores_and_exact_scores():
    A = heavy_tailed(60, 3, np.random.default_rng(1))
    s = randla.sensitivity_sample(A, 1.5, 10, scores=np.ones(60), rng=0)
    np.testing.assert_allclose(s.probabilities, 10 / 60)
    exact = randla.sensitivity_sample(A, 1.0, 10, scores="exact", rng=0)
    sigma = randla.lp_sensitivities(A, 1.0, method="exact", progress=False)
    np.testing.assert_allclose(exact.probabilities, randla.sample_rows(sigma, 10).probabilities)
    with pytest.raises(ValueError, match="scores must have one entry per row of A \\(60\\), got 3"):
        randla.sensitivity_sample(A, 1.5, 10, scores=np.ones(3))
    with pytest.raises(ValueError, match="scores must be one of 'lewis', 'root-leverage', 'exact'"):
        randla.sensitivity_sample(A, 1.5, 10, scores="levrage")
    with pytest.raises(ValueError, match="hybrid_sample is for p > 2"):
        randla.hybrid_sample(A, 10, 1.5)
    with pytest.raises(ValueError, match="augmented_sample is for p <= 2"):
        randla.augmented_sample(A, 10, 3)


@pytest.mark.parametrize("p", [1.0, 3.0])
def test_sensitivity_sample_is_unbiased(p, global_seed):
    # mean of ||SAx||_p^p / ||Ax||_p^p over R draws within z_bound() standard
    # errors of 1 (two-sided false-alarm rate ALPHA).
    rng = np.random.default_rng((global_seed, 2))
    A = heavy_tailed(400, 3, rng)
    x = rng.standard_normal(3)
    target = np.sum(np.abs(A @ x) ** p)
    scores = randla.lp_sensitivities(A, p)
    ratios = np.array(
        [
            np.sum(np.abs(s.apply(A) @ x) ** p) / target
            for s in (
                randla.sensitivity_sample(A, p, 40, scores=scores, rng=rng) for _ in range(3000)
            )
        ]
    )
    assert abs(ratios.mean() - 1) < z_bound() * ratios.std(ddof=1) / math.sqrt(len(ratios))


def test_lp_distortion_at_p2_is_the_exact_distortion():
    A = coherent(4000, 5, np.random.default_rng(3))
    for seed in range(3):
        s = randla.leverage_sample(A, 200, rng=seed)
        exact = randla.subspace_distortion(A, s)
        estimate = randla.lp_distortion(A, s, 2, rng=0)
        assert estimate <= exact + 1e-9  # a lower bound...
        assert estimate >= 0.99 * exact  # ...that the ascent makes tight at p = 2


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_lp_distortion_sees_what_uniform_sampling_misses(p):
    A = heavy_tailed(5000, 4, np.random.default_rng(4), df=1.2)
    lewis = randla.lp_distortion(A, randla.lewis_sample(A, 400, p, rng=0), p, rng=0)
    uniform = randla.lp_distortion(A, randla.uniform_sample(A, 400, p=p, rng=0), p, rng=0)
    assert lewis < 0.5 < uniform
    everything = randla.sample_rows(np.ones(len(A)), len(A), p=p, rng=0)
    assert randla.lp_distortion(A, everything, p, rng=0) == pytest.approx(0, abs=1e-12)
    # Given Lewis weights are used as they are, not recomputed.
    w = randla.lewis_weights(A, p, rng=0)
    s = randla.uniform_sample(A, 400, p=p, rng=0)
    assert randla.lp_distortion(A, s, p, weights=w, rng=0) == pytest.approx(uniform, rel=1e-6)


def test_lp_distortion_bad_arguments():
    A = np.ones((10, 2))
    s = randla.sample_rows(np.ones(10), 5, p=1.5, rng=0)
    with pytest.raises(ValueError, match="sample is scaled for p = 1.5, not p = 2"):
        randla.lp_distortion(A, s, 2)
    with pytest.raises(TypeError, match="sample must be a RowSample"):
        randla.lp_distortion(A, "rows", 2)
    s = randla.sample_rows(np.ones(10), 5, p=1.5, rng=0)
    with pytest.raises(ValueError, match="weights must be 1-D of length 10"):
        randla.lp_distortion(A, s, 1.5, weights=np.ones(3))
    with pytest.raises(ValueError, match="weights must be positive on the nonzero rows"):
        randla.lp_distortion(A, s, 1.5, weights=np.r_[0.0, np.ones(9)])
