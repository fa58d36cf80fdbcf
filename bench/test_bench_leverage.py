"""Leverage scores: randla beside the QR routes of numpy and scipy (issue 3).

Shapes 10^6 x 50 and 2*10^5 x 500, float64, Gaussian with singular values
from 1 to 1e-6. Each randla case records in extra_info its largest relative
difference from the scipy QR route's scores and the peak traced memory
(tracemalloc) as a multiple of the size of A.
"""

import os
import tracemalloc

import numpy as np
import pytest
import scipy.linalg

import randla

# Under CI (CI=true) n shrinks tenfold: CI only checks that the benchmarks run.
SCALE = 10 if os.environ.get("CI") == "true" else 1
SHAPES = {"1e6x50": (1_000_000 // SCALE, 50), "2e5x500": (200_000 // SCALE, 500)}


@pytest.fixture(scope="module", params=list(SHAPES))
def problem(request):
    n, d = SHAPES[request.param]
    A = np.random.default_rng(0).standard_normal((n, d)) * np.geomspace(1, 1e-6, d)
    Q = scipy.linalg.qr(A, mode="economic")[0]
    return request.param, A, np.einsum("ij,ij->i", Q, Q)


def _qr_scipy(A):
    Q = scipy.linalg.qr(A, mode="economic", check_finite=False)[0]
    return np.einsum("ij,ij->i", Q, Q)


def _qr_numpy(A):
    Q = np.linalg.qr(A)[0]
    return np.einsum("ij,ij->i", Q, Q)


def _peak_over_size(f, A):
    tracemalloc.start()
    f()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return round(peak / A.nbytes, 3)


def _max_rel(a, ref):
    return float(np.max(np.abs(a - ref) / ref))


def test_exact_randla(bench, problem):
    name, A, ref = problem
    f = lambda: randla.leverage_scores(A, rng=0)  # noqa: E731
    tau = f()
    bench(
        "randla",
        f"leverage exact {name}",
        f,
        heavy=True,
        max_rel_err=_max_rel(tau, ref),
        peak_memory_over_A=_peak_over_size(f, A),
    )


def test_exact_scipy_qr(bench, problem):
    name, A, ref = problem
    bench(
        "scipy QR",
        f"leverage exact {name}",
        _qr_scipy,
        A,
        heavy=True,
        max_rel_err=_max_rel(_qr_scipy(A), ref),
    )


def test_exact_numpy_qr(bench, problem):
    name, A, _ = problem
    bench("numpy QR", f"leverage exact {name}", _qr_numpy, A, heavy=True)


def test_sketched_randla(bench, problem):
    name, A, ref = problem
    f = lambda: randla.leverage_scores(A, method="sketch", eps=0.5, rng=0)  # noqa: E731
    bench(
        "randla", f"leverage sketched eps=0.5 {name}", f, heavy=True, max_rel_err=_max_rel(f(), ref)
    )


def test_sketched_vs_one_pass(bench, problem):
    name, A, _ = problem
    bench("A.sum()", f"leverage sketched eps=0.5 {name}", A.sum)


def test_sketched_vs_exact(bench, problem):
    name, A, _ = problem
    bench(
        "randla exact",
        f"leverage sketched eps=0.5 {name}",
        lambda: randla.leverage_scores(A, rng=0),
        heavy=True,
    )
