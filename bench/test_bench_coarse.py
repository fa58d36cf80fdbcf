"""Sampling that pays: coarse scores beside one pass and the exact scores (issue 16).

* coarse leverage scores (``method="coarse"``) of a 10^6 x 50 and a
  2*10^5 x 500 dense Gaussian (singular values 1 to 1e-6, as in
  ``test_bench_leverage.py``) and of a 10^6 x 1000 CSR matrix with 0.1%
  nonzeros, beside the exact scores and, at 10^6 x 50, one pass over A
  (``A.sum()``). Each coarse case records in extra_info how far the
  estimates fall below the exact scores: the smallest ratio, and the
  fraction of rows below 1/OVERSAMPLING of their exact score;
* ``sensitivity_sample(A, 20000, p=1.5)`` of a Student-t(1.5) 10^6 x 50
  (``test_bench_lp.py``'s ``lewis_matrix``), coarse (the default) and exact,
  beside one exact ``leverage_scores``;
* the sampled l_p pipeline ``lp_regression(A, b, p, k=20000)`` on
  ``test_bench_lp.py``'s ``tall`` problem (10^6 x 20, Student-t(1.5) A and
  noise), p = 1, 1.5, 3, coarse and exact, beside the full solve. Outside
  the timing, each sampled case records the full-data objective of the
  sampled solution over the optimum, median and 90th percentile over
  SEEDS seeds. For p <= 2, root-leverage scores (coarse) are a third
  sampled variant.

The README's table ran with OPENBLAS_NUM_THREADS=1: on a shared machine,
OpenBLAS's threads wait for each other on the narrow block products
(bench/README.md says by how much). Under CI (CI=true) the matrices shrink
tenfold in n (the CSR one in d too: the QR of its 8d x d sketch would
dominate) and the accuracy uses 2 seeds: CI only checks that the
benchmarks run.
"""

import os

import numpy as np
import pytest
import scipy.sparse as sp

import randla

CI = os.environ.get("CI") == "true"
SCALE = 10 if CI else 1
K = 20_000 // SCALE
SEEDS = 2 if CI else 20
SHAPES = {
    "1e6x50": (1_000_000 // SCALE, 50),
    "2e5x500": (200_000 // SCALE, 500),
    "CSR 1e6x1000 0.1%": (1_000_000 // SCALE, 1000 // SCALE),
}


def _matrix(name):
    n, d = SHAPES[name]
    if name.startswith("CSR"):
        rng = np.random.default_rng(1)
        return sp.random_array(
            (n, d), density=1e-3, format="csr", rng=rng, data_sampler=rng.standard_normal
        )
    return np.random.default_rng(0).standard_normal((n, d)) * np.geomspace(1, 1e-6, d)


@pytest.fixture(scope="module")
def matrices():
    """name -> the matrix, built once (the module keeps them all: about 1.3 GB)."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = _matrix(name)
        return cache[name]

    return get


@pytest.fixture(scope="module")
def exact_scores():
    """name -> exact leverage scores, as the exact benchmark returned them."""
    return {}


def _shortfall(coarse, exact):
    """How far coarse estimates fall below the exact scores (rows with a nonzero score)."""
    keep = exact > 0
    ratio = coarse[keep] / exact[keep]
    return {
        "min_coarse_over_exact": float(ratio.min()),
        "fraction_below_exact_over_oversampling": float(np.mean(ratio < 1 / randla.OVERSAMPLING)),
    }


def _coarse_leverage(A):
    return randla.leverage_scores(A, method="coarse", rng=0)


@pytest.mark.parametrize("name", list(SHAPES))
def test_leverage_coarse_vs_exact(bench, matrices, exact_scores, name):
    A = matrices(name)
    # The exact scores of the CSR matrix densify it block by block (about
    # 4 n d^2 flops): one round shows the ratio.
    exact_scores[name] = bench(
        "randla exact",
        f"leverage coarse {name}",
        lambda: randla.leverage_scores(A, rng=0),
        heavy="once" if sp.issparse(A) else True,
    )


@pytest.mark.parametrize("name", list(SHAPES))
def test_leverage_coarse(bench, matrices, exact_scores, name):
    A = matrices(name)
    # A fraction of a second at 10^6 x 50: the default rounds and a warm-up there.
    heavy = name != "1e6x50"
    tau = bench("randla", f"leverage coarse {name}", _coarse_leverage, A, heavy=heavy)
    if name not in exact_scores:  # run alone (-k)
        exact_scores[name] = randla.leverage_scores(A, rng=0)
    bench.extra(**_shortfall(tau, exact_scores[name]))


def test_leverage_coarse_vs_one_pass(bench, matrices):
    bench("A.sum()", "leverage coarse 1e6x50", matrices("1e6x50").sum)


def _rows(A):
    """10^6 rows as "1e6" (a matrix or its number of rows)."""
    return f"{A if isinstance(A, int) else len(A):.0e}".replace("e+0", "e")


@pytest.fixture(scope="module")
def lewis_matrix():
    return np.random.default_rng(2).standard_t(1.5, size=(1_000_000 // SCALE, 50))


@pytest.mark.parametrize("accuracy", ["coarse", "exact"])
def test_sensitivity_sample(bench, lewis_matrix, accuracy):
    sample = bench(
        "randla" if accuracy == "coarse" else "randla accuracy=exact",
        f"sensitivity_sample p=1.5 k={K} t(1.5) {_rows(lewis_matrix)}x50",
        lambda: randla.sensitivity_sample(lewis_matrix, K, p=1.5, accuracy=accuracy, rng=0),
        heavy=True,
    )
    bench.extra(rows=len(sample), scores=sample.scores)


def test_sensitivity_sample_vs_one_leverage(bench, lewis_matrix):
    bench(
        "randla leverage_scores",
        f"sensitivity_sample p=1.5 k={K} t(1.5) {_rows(lewis_matrix)}x50",
        lambda: randla.leverage_scores(lewis_matrix, rng=0),
        heavy=True,
    )


@pytest.fixture(scope="module")
def optimum(tall):
    """p -> the optimal objective of the full problem (certified gap below 1e-9)."""
    cache = {}

    def get(p):
        if p not in cache:
            res = randla.lp_regression(*tall, p)
            assert res.gap < 1e-9
            cache[p] = res.objective
        return cache[p]

    return get


def _sampled_accuracy(A, b, p, optimum, seeds=SEEDS, **options):
    """Median and 90th percentile over seeds of the sampled solution's objective / optimum."""
    ratios = [
        randla.lp_regression(A, b, p, k=K, rng=seed, **options).objective / optimum
        for seed in range(seeds)
    ]
    return {
        "objective_over_optimum_median": float(np.median(ratios)),
        "objective_over_optimum_p90": float(np.quantile(ratios, 0.9)),
        "seeds": seeds,
    }


def _group(p, n):
    return f"lp_regression p={p:g} k={K} {_rows(n)}x20"


# tool -> the options of the sampled lp_regression; root-leverage scores bound
# the sensitivities for p <= 2 only.
SAMPLED = {
    "randla": {},
    "randla accuracy=exact": {"accuracy": "exact"},
    "randla method=root-leverage": {"method": "root-leverage"},
}
SAMPLED_CASES = [
    (p, tool) for p in (1.0, 1.5, 3.0) for tool in SAMPLED if p <= 2 or "root" not in tool
]


@pytest.mark.parametrize(("p", "tool"), SAMPLED_CASES)
def test_lp_sampled(bench, tall, optimum, p, tool):
    A, b = tall
    options = SAMPLED[tool]
    res = bench(
        tool,
        _group(p, len(A)),
        lambda: randla.lp_regression(A, b, p, k=K, rng=0, **options),
        heavy=True,
    )
    bench.extra(rows=res.rows_used, **_sampled_accuracy(A, b, p, optimum(p), **options))
    assert res.x.shape == (20,)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_lp_full(bench, tall, p):
    A, b = tall
    bench("randla full data", _group(p, len(A)), lambda: randla.lp_regression(A, b, p), heavy=True)
