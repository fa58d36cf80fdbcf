"""Sketch application: randla beside scipy on the same input, in the same run.

Groups (issue 2): CountSketch vs scipy.linalg.clarkson_woodruff_transform and
one pass over the data (A.sum()); SRHT vs a subsampled randomized DCT built
from scipy.fft.dct with the same output size. On a dense 2^20 x 50 float64
matrix and on a 10^6 x 1000 CSR matrix with density 0.1% (and the same
matrix as CSC). The tall, very sparse CSC matrix of issue 15 (2*10^6 x 5,
50 000 nonzeros) records its peak traced allocation beside the time.
"""

import math
import os
import tracemalloc

import numpy as np
import pytest
import scipy.fft
import scipy.sparse as sp
from scipy.linalg import clarkson_woodruff_transform

from randla import SketchDistribution

K = 2000  # sketch size: 40 d for the dense matrix, 2 d for the sparse one
# Under CI (CI=true) n shrinks 16-fold: CI only checks that the benchmarks run.
SCALE = 16 if os.environ.get("CI") == "true" else 1


@pytest.fixture(scope="module")
def dense():
    return np.random.default_rng(0).standard_normal(((1 << 20) // SCALE, 50))


@pytest.fixture(scope="module")
def csr():
    rng = np.random.default_rng(1)
    return sp.random_array(
        (1_000_000 // SCALE, 1000),
        density=1e-3,
        format="csr",
        rng=rng,
        data_sampler=rng.standard_normal,
    )


@pytest.fixture(scope="module")
def csc(csr):
    return csr.tocsc()


@pytest.fixture(scope="module")
def tall_csc():
    rng = np.random.default_rng(2)
    n, d, nnz = 2_000_000 // SCALE, 5, 50_000 // SCALE
    rows, cols = rng.choice(n, nnz, replace=False), rng.integers(0, d, nnz)
    return sp.csc_array((rng.standard_normal(nnz), (rows, cols)), shape=(n, d))


def _srft_dct(A, k, rng, width=32):
    """sqrt(n/k) P C D A with C the orthonormal DCT-II: what a scipy user writes.

    Column blocks bound the memory, as randla's SRHT does, so that the
    sparse case fits in memory (10^6 x 1000 dense would be 8 GB).
    """
    n, d = A.shape
    D = rng.choice([-1.0, 1.0], size=n)
    rows = np.sort(rng.choice(n, size=k, replace=False))
    out = np.empty((k, d))
    for c0 in range(0, d, width):
        block = A[:, c0 : c0 + width]
        block = block.toarray() if sp.issparse(block) else block
        out[:, c0 : c0 + width] = scipy.fft.dct(block * D[:, None], axis=0, norm="ortho")[rows]
    return out * math.sqrt(n / k)


def _draw(kind, n):
    return SketchDistribution(kind, K).draw(n, rng=0)


def test_countsketch_dense_randla(bench, dense):
    S = _draw("countsketch", dense.shape[0])
    assert bench("randla", "countsketch dense 2^20x50", S.__matmul__, dense).shape == (K, 50)


def test_countsketch_dense_scipy(bench, dense):
    out = bench("scipy", "countsketch dense 2^20x50", clarkson_woodruff_transform, dense, K)
    assert out.shape == (K, 50)


def test_countsketch_dense_one_pass(bench, dense):
    bench("A.sum()", "countsketch dense 2^20x50", dense.sum)


def test_countsketch_csr_randla(bench, csr):
    S = _draw("countsketch", csr.shape[0])
    assert bench("randla", "countsketch CSR 1e6x1000", S.__matmul__, csr).shape == (K, 1000)


def test_countsketch_csr_scipy(bench, csr):
    out = bench("scipy", "countsketch CSR 1e6x1000", clarkson_woodruff_transform, csr, K)
    assert out.shape == (K, 1000)


def test_countsketch_csr_one_pass(bench, csr):
    bench("A.sum()", "countsketch CSR 1e6x1000", csr.sum)


def test_countsketch_csc_randla(bench, csc):
    S = _draw("countsketch", csc.shape[0])
    assert bench("randla", "countsketch CSC 1e6x1000", S.__matmul__, csc).shape == (K, 1000)


def test_countsketch_csc_scipy(bench, csc):
    out = bench("scipy", "countsketch CSC 1e6x1000", clarkson_woodruff_transform, csc, K)
    assert out.shape == (K, 1000)


@pytest.mark.parametrize("kind", ["countsketch", "sparse_sign"])
def test_tall_csc_randla(bench, tall_csc, kind):
    # Before issue 15: the hash of all n rows, 18 MB (countsketch) and 144 MB
    # (sparse_sign, s = 8) for this matrix; then blocks of rows, 2.4 MB; since
    # issue 16 each row is hashed where its nonzeros are, no work space.
    S = SketchDistribution(kind, 100).draw(tall_csc.shape[0], rng=0)
    bench("randla", f"{kind} CSC 2e6x5 nnz 5e4", S.__matmul__, tall_csc)
    tracemalloc.start()
    S @ tall_csc
    bench.extra(peak_traced_mb=tracemalloc.get_traced_memory()[1] / 2**20)
    tracemalloc.stop()


def test_srht_dense_randla(bench, dense):
    S = _draw("srht", dense.shape[0])
    assert bench("randla", "srht dense 2^20x50", S.__matmul__, dense).shape == (K, 50)


def test_srht_dense_scipy_dct(bench, dense):
    rng = np.random.default_rng(0)
    assert bench("scipy.fft.dct", "srht dense 2^20x50", _srft_dct, dense, K, rng).shape == (K, 50)


def test_srht_csr_randla(bench, csr):
    S = _draw("srht", csr.shape[0])
    assert bench("randla", "srht CSR 1e6x1000", S.__matmul__, csr).shape == (K, 1000)


def test_srht_csr_scipy_dct(bench, csr):
    rng = np.random.default_rng(0)
    assert bench("scipy.fft.dct", "srht CSR 1e6x1000", _srft_dct, csr, K, rng).shape == (K, 1000)


def test_sparse_sign_dense_randla(bench, dense):
    S = _draw("sparse_sign", dense.shape[0])
    bench("randla", "sparse_sign dense 2^20x50", S.__matmul__, dense)


def test_gaussian_dense_randla(bench, dense):
    S = SketchDistribution("gaussian", 200).draw(dense.shape[0], rng=0)
    bench("randla", "gaussian k=200 dense 2^20x50", S.__matmul__, dense)
