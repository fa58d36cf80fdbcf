"""Continuous projection DPPs and dpp_wls beside DPPy's multivariate Jacobi sampler (issue 6).

DPPy's MultivariateJacobiOPE samples the projection DPP of the first N
tensor Jacobi polynomials in its own order (by maximum degree); with
Jacobi parameters (0, 0) that is the Legendre DPP on [-1, 1]^2, and randla
samples the very same law on DPPy's index set. DPPy has no sampler for a
total-degree space in dimension 5, nor weighted least squares; those run
alone, against the issue's goals. Under CI (CI=true) the sizes shrink. One
BLAS thread for both (threadpoolctl).

The 2-D sampler also runs both ways (issue 16): "back to back", and
"alternated" with other work (a matrix-vector product over 288 MB,
untimed) before each round, which evicts the caches as a pipeline would.
"""

import os

import numpy as np
import pytest
from dppy.multivariate_jacobi_ope import MultivariateJacobiOPE, compute_ordering
from threadpoolctl import threadpool_limits

import randla
from randla import bases

SMALL = os.environ.get("CI") == "true"
SIZES = [20, 50] if SMALL else [50, 200]
ORDERS = ["back to back", "alternated"]


@pytest.fixture(autouse=True)
def one_blas_thread():
    with threadpool_limits(1):
        yield


def _seeds():
    counter = iter(range(10**9))
    return lambda: next(counter)


@pytest.fixture(scope="module")
def other_work():
    """A product of a 6000 x 6000 matrix (288 MB; 600 x 600 under CI) with 4 vectors."""
    n = 600 if SMALL else 6000
    A = np.random.default_rng(3).standard_normal((n, n))
    x = np.ones((n, 4))

    def work():
        A @ x

    return work


def _timed(benchmark, tool, group, f, order, other_work):
    """The bench fixture's conventions (tool, group, rounds), other work between rounds if asked."""
    benchmark.group = f"{group}, {order}"
    benchmark.extra_info["tool"] = tool
    rounds = int(os.environ.get("RANDLA_BENCH_ROUNDS", "7"))
    setup = other_work if order == "alternated" else None
    return benchmark.pedantic(f, setup=setup, rounds=rounds, warmup_rounds=1)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("N", SIZES)
def test_legendre_2d_both_ways_randla(benchmark, other_work, N, order):
    basis = bases.tensor("legendre", 2, index_set=np.array(compute_ordering(N, 2)))
    seed = _seeds()
    randla.projection_dpp_sample(basis, rng=0)  # compile outside the timing

    def sample():
        return randla.projection_dpp_sample(basis, rng=seed())

    _timed(benchmark, "randla", f"2-D Legendre projection DPP N={N}", sample, order, other_work)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("N", SIZES)
def test_legendre_2d_both_ways_dppy(benchmark, other_work, N, order):
    dpp = MultivariateJacobiOPE(N, np.zeros((2, 2)))
    seed = _seeds()

    def sample():
        return dpp.sample(random_state=seed())

    _timed(benchmark, "DPPy", f"2-D Legendre projection DPP N={N}", sample, order, other_work)


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
