"""Scale-out: randla on a dask.distributed LocalCluster beside numpy in memory (issue 8).

A is 10^7 x 50 float64 (4 GB), Gaussian with column scales from 1 to 1e3,
generated on the workers and persisted there (two worker processes, one
thread each: the machine has two cores). The references hold A in this
process: numpy's QR route to the leverage scores and its least-squares
solver, and randla's in-memory path. Each randla case records its largest
difference from the in-memory result.
"""

import os
from functools import partial

import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster, wait

import randla

# Under CI (CI=true) n shrinks a hundredfold: CI only checks that the benchmarks run.
SCALE = 100 if os.environ.get("CI") == "true" else 1
N, D = 10_000_000 // SCALE, 50
CHUNK = 250_000 // SCALE
NAME = f"{N:.0e}x{D}".replace("+0", "")


@pytest.fixture(scope="module")
def problem():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        scales = da.from_array(np.geomspace(1, 1e3, D), chunks=D)
        A = da.random.default_rng(0).standard_normal((N, D), chunks=(CHUNK, D)) * scales
        b = A @ da.from_array(np.ones(D), chunks=D) + da.random.default_rng(1).standard_normal(
            N, chunks=CHUNK
        )
        A, b = A.persist(), b.persist()
        wait([A, b])
        yield A, b, A.compute(), b.compute()


def _numpy_leverage(A):
    Q = np.linalg.qr(A)[0]
    return np.einsum("ij,ij->i", Q, Q)


def test_leverage_dask(bench, problem):
    A, _, dense, _ = problem
    tau = bench("randla", f"leverage {NAME}", partial(randla.leverage_scores, rng=0), A, heavy=True)
    bench.extra(
        max_abs_diff_from_in_memory=float(
            np.max(np.abs(tau - randla.leverage_scores(dense, rng=0)))
        )
    )


def test_leverage_in_memory(bench, problem):
    dense = problem[2]
    leverage = partial(randla.leverage_scores, rng=0)
    bench("randla in memory", f"leverage {NAME}", leverage, dense, heavy=True)


def test_leverage_numpy(bench, problem):
    dense = problem[2]
    bench("numpy qr", f"leverage {NAME}", _numpy_leverage, dense, heavy="once")


def _sample_and_gather(A):
    sample = randla.leverage_sample(A, 5000, rng=0)
    return sample.apply(A)


def test_sample_dask(bench, problem):
    A, _, dense, _ = problem
    rows = bench("randla", f"leverage sample k=5000 {NAME}", _sample_and_gather, A, heavy=True)
    bench.extra(rows_equal_in_memory=bool(np.allclose(rows, _sample_and_gather(dense), rtol=1e-10)))


def test_sample_in_memory(bench, problem):
    dense = problem[2]
    bench(
        "randla in memory", f"leverage sample k=5000 {NAME}", _sample_and_gather, dense, heavy=True
    )


def test_lstsq_dask(bench, problem):
    A, b, dense, b_dense = problem
    res = bench("randla", f"lstsq {NAME}", partial(randla.lstsq, rng=0), A, b, heavy=True)
    x_ref = randla.lstsq(dense, b_dense, rng=0).x
    bench.extra(max_rel_diff_x=float(np.max(np.abs(res.x - x_ref) / np.abs(x_ref))))


def test_lstsq_in_memory(bench, problem):
    _, _, dense, b_dense = problem
    solve = partial(randla.lstsq, rng=0)
    bench("randla in memory", f"lstsq {NAME}", solve, dense, b_dense, heavy=True)


def test_lstsq_numpy(bench, problem):
    _, _, dense, b_dense = problem
    bench("numpy lstsq", f"lstsq {NAME}", np.linalg.lstsq, dense, b_dense, None, heavy="once")
