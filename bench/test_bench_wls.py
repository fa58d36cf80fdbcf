"""Continuous projection DPPs and dpp_wls beside DPPy's multivariate Jacobi sampler (issue 6).

DPPy's MultivariateJacobiOPE samples the projection DPP of the first N
tensor Jacobi polynomials in its own order (by maximum degree); with
Jacobi parameters (0, 0) that is the Legendre DPP on [-1, 1]^2, and randla
samples the very same law on DPPy's index set. DPPy has no sampler for a
total-degree space in dimension 5, nor weighted least squares; those run
alone, against the issue's goals. Under CI (CI=true) the sizes shrink.
"""

import os

import numpy as np
import pytest
from dppy.multivariate_jacobi_ope import MultivariateJacobiOPE, compute_ordering

import randla
from randla import bases

SMALL = os.environ.get("CI") == "true"
SIZES = [20, 50] if SMALL else [50, 200]


def _seeds():
    counter = iter(range(10**9))
    return lambda: next(counter)


@pytest.mark.parametrize("N", SIZES)
def test_legendre_2d_randla(bench, N):
    basis = bases.tensor("legendre", 2, index_set=np.array(compute_ordering(N, 2)))
    seed = _seeds()
    randla.projection_dpp_sample(basis, rng=0)  # compile outside the timing
    bench(
        "randla",
        f"2-D Legendre projection DPP N={N}",
        lambda: randla.projection_dpp_sample(basis, rng=seed()),
    )


@pytest.mark.parametrize("N", SIZES)
def test_legendre_2d_dppy(bench, N):
    dpp = MultivariateJacobiOPE(N, np.zeros((2, 2)))
    seed = _seeds()
    bench("DPPy", f"2-D Legendre projection DPP N={N}", lambda: dpp.sample(random_state=seed()))


def test_total_degree_5d(bench):
    basis = bases.tensor("legendre", 5, degree=2 if SMALL else 3)  # m = 21 or 56
    seed = _seeds()
    randla.projection_dpp_sample(basis, rng=0)
    bench(
        "randla",
        f"5-D total degree projection DPP m={basis.m}",
        lambda: randla.projection_dpp_sample(basis, rng=seed()),
    )


def test_dpp_wls_5d(bench):
    m = 30 if SMALL else 100
    basis = bases.tensor("legendre", 5, index_set=bases.tensor("legendre", 5, degree=4).indices[:m])
    n = int(m * np.log(m))

    def f(x):
        return 1 / (1 + x @ (np.arange(1, 6) / 20))  # pole outside [-1, 1]^5

    seed = _seeds()
    randla.dpp_wls(f, basis, n, rng=0)
    bench(
        "randla", f"dpp_wls volume 5-D m={m} n={n}", lambda: randla.dpp_wls(f, basis, n, rng=seed())
    )
