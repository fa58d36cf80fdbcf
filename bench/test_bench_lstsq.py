"""Least squares: randla.lstsq beside numpy.linalg.lstsq (issue 3).

Shapes 10^6 x 50 and 2*10^5 x 500, singular values from 1 to 1e-6 (cond
1e6), b = A x + noise. Each randla case records its relative difference
from numpy's solution and its peak traced memory over the size of A.
"""

import os
import tracemalloc

import numpy as np
import pytest

import randla

# Under CI (CI=true) n shrinks tenfold: CI only checks that the benchmarks run.
SCALE = 10 if os.environ.get("CI") == "true" else 1
SHAPES = {"1e6x50": (1_000_000 // SCALE, 50), "2e5x500": (200_000 // SCALE, 500)}


@pytest.fixture(scope="module", params=list(SHAPES))
def problem(request):
    n, d = SHAPES[request.param]
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, d)) * np.geomspace(1, 1e-6, d)
    b = A @ rng.standard_normal(d) + 1e-3 * rng.standard_normal(n)
    return request.param, A, b, np.linalg.lstsq(A, b, rcond=None)[0]


def test_lstsq_randla(bench, problem):
    name, A, b, ref = problem
    x = randla.lstsq(A, b, rng=0).x
    tracemalloc.start()
    randla.lstsq(A, b, rng=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    bench(
        "randla",
        f"lstsq cond 1e6 {name}",
        randla.lstsq,
        A,
        b,
        heavy=True,
        rel_diff_from_numpy=float(np.linalg.norm(x - ref) / np.linalg.norm(ref)),
        peak_memory_over_A=round(peak / A.nbytes, 3),
    )


def test_lstsq_numpy(bench, problem):
    name, A, b, _ = problem
    bench("numpy", f"lstsq cond 1e6 {name}", np.linalg.lstsq, A, b, None, heavy=True)
