"""method="iid-conditioned": hopeless calls refused up front, feasible ones left to redraw.

Acceptance probabilities quoted below were measured with 1000 to 40000
draws each (m = 20: 5e-5 at n = 4m, 7.5e-4 at 5m, 2.7e-3 at 6m, 0.5 at 16m).
"""

import re

import numpy as np
import pytest
import scipy.stats

import randla
from randla import bases

from .conftest import ALPHA


def _f(x):
    return np.cos(x).sum(axis=1)


def _gram_error(basis, points, weights):
    """||G - I||_2, from numpy's eigenvalues of G = (1/n) sum_i w_i phi(x_i) phi(x_i)^T."""
    M = basis(points) * np.sqrt(weights / len(points))[:, None]
    return np.abs(np.linalg.eigvalsh(M.T @ M) - 1).max()


# The cases: n <= 4m, where the old loop ran its 10000 redraws (9 to
# 95 s) and raised RuntimeError. Acceptance there is 5e-5 (m = 20) or less.
HOPELESS = [
    (bases.legendre(19), 80),  # m = 20
    (bases.legendre(39), 160),  # m = 40
    (bases.tensor("legendre", 2, degree=6), 112),  # m = 28
    (bases.tensor("legendre", 2, degree=8), 180),  # m = 45
    (bases.tensor("legendre", 5, degree=3), 224),  # m = 56
    (bases.legendre(19), 20),  # n = m
]


@pytest.mark.parametrize("basis, n", HOPELESS, ids=lambda v: str(v))
def test_hopeless_calls_are_refused_with_the_n_that_would_do(basis, n):
    with pytest.raises(ValueError) as caught:
        randla.dpp_wls(_f, basis, n, method="iid-conditioned", rng=0)
    message = str(caught.value)
    assert message.startswith(
        f"n = {n} is too small for method='iid-conditioned' with max_gram_error=0.5"
    )
    half = int(re.search(r"pass from about n = (\d+)", message).group(1))
    chernoff = int(re.search(r"guarantees half from n = (\d+)", message).group(1))
    m = basis.m
    # (m / c') ln(4m), c' = 1.5 ln 1.5 - 0.5.
    assert chernoff == int(np.ceil(m / (1.5 * np.log(1.5) - 0.5) * np.log(4 * m)))
    # Measured: half the draws pass from about 16m (m = 20) to 19m (m = 56).
    assert 12 * m <= half <= 30 * m and half < chernoff


def test_the_refusal_names_a_max_gram_error_that_is_not_the_default():
    with pytest.raises(ValueError, match=r"^n = 30 is too small .* with max_gram_error=0.2: "):
        randla.dpp_wls(
            _f, bases.legendre(9), 30, method="iid-conditioned", max_gram_error=0.2, rng=0
        )


def test_the_n_given_in_the_refusal_does_pass_about_half_the_time(global_seed):
    basis = bases.legendre(19)
    with pytest.raises(ValueError) as caught:
        randla.dpp_wls(_f, basis, 80, method="iid-conditioned", rng=0)
    half = int(re.search(r"pass from about n = (\d+)", str(caught.value)).group(1))
    rng = np.random.default_rng((global_seed, 20))
    samples = [randla.optimal_sample(basis, half, rng=rng) for _ in range(300)]
    passed = sum(_gram_error(basis, s.points, s.weights) <= 0.5 for s in samples)
    # "Half or more" (measured: 0.5 at n = 16m = 320): for any acceptance
    # p >= 0.45, fewer than 90 passes of 300 has probability below ALPHA.
    assert scipy.stats.binom.cdf(89, 300, 0.45) < ALPHA
    assert passed >= 90


# Feasible cases, each needing hundreds of redraws on average (acceptance
# 2.7e-3 to 3.7e-3): the redraws pass several checkpoints and must go on.
FEASIBLE = [
    (bases.legendre(19), 120),  # m = 20, n = 6m
    (bases.legendre(9), 30),  # m = 10, n = 3m
    (bases.tensor("hermite", 2, degree=3), 40),  # m = 10, n = 4m (test_wls.py's case)
]


@pytest.mark.parametrize("basis, n", FEASIBLE, ids=lambda v: str(v))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_feasible_calls_redraw_until_they_pass(basis, n, seed):
    res = randla.dpp_wls(_f, basis, n, method="iid-conditioned", rng=seed)
    assert res.gram_error <= 0.5
    assert res.gram_error == pytest.approx(_gram_error(basis, res.points, res.weights), rel=1e-10)


def test_feasible_calls_do_pass_the_checkpoints():
    # The same seeds as above: at least one run needed more than 20 redraws,
    # so the refusal test ran on it and let it through.
    redraws = [
        randla.dpp_wls(_f, basis, n, method="iid-conditioned", rng=seed).redraws
        for basis, n in FEASIBLE
        for seed in (0, 1, 2)
    ]
    assert max(redraws) > 80
