"""Scale-out and out-of-core inputs: dask arrays on a LocalCluster, numpy.memmap.

Every function that accepts a dask array or a memmap must give the in-memory
answer for the same seed: equal to rounding (blocks are summed in another
order), and the same sampled rows.
"""

import importlib
import pathlib

import dask
import dask.array as da
import numpy as np
import pytest
import scipy.sparse as sp
from distributed import Client, LocalCluster

import randla
from randla import _blocks
from randla._sketch import KINDS, SketchDistribution

from ._problems import DaskReads

# Chunks that are not multiples of anything: the sketches' random streams
# come in blocks of 2**16 rows, and a chunk must be able to straddle them.
CHUNK = 70_001


pytestmark = pytest.mark.filterwarnings("ignore:Sending large graph:UserWarning")


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(7)
    A = rng.standard_normal((300_000, 8)) * np.logspace(0, 4, 8)
    A[::997] *= 30  # rows of high leverage
    b = A @ np.linspace(1, 2, 8) + rng.standard_t(2, size=len(A))
    return A, b


def _dask(A):
    # from_array embeds the data in the graph (and distributed warns of its
    # size); random arrays generated on the workers are tested at scale below.
    return da.from_array(A, chunks=(CHUNK, A.shape[1]))


@pytest.mark.parametrize("kind", KINDS)
def test_sketch_of_dask_array_equals_in_memory(client, problem, kind):
    A = problem[0]
    S = SketchDistribution(kind, 64).draw(len(A), rng=3)
    np.testing.assert_allclose(S @ _dask(A), S @ A, rtol=1e-12, atol=1e-12 * np.abs(A).max())


@pytest.mark.slow
def test_leverage_scores_and_samples_equal_in_memory(client, problem):
    A = problem[0]
    Ad = _dask(A)
    for method in ("qr", "sketch"):
        np.testing.assert_allclose(
            randla.leverage_scores(Ad, method=method, rng=1),
            randla.leverage_scores(A, method=method, rng=1),
            rtol=1e-10,
        )
    samplers = [
        lambda X: randla.leverage_sample(X, 500, rng=5),
        lambda X: randla.root_leverage_sample(X, 500, p=1.5, rng=5),
        lambda X: randla.sensitivity_sample(X, 500, p=1.5, rng=5),
        lambda X: randla.lewis_sample(X, 500, p=3, scheme="iid", rng=5),
        lambda X: randla.uniform_sample(X, 500, rng=5),
    ]
    for sampler in samplers:
        in_memory, distributed = sampler(A), sampler(Ad)
        np.testing.assert_array_equal(distributed.indices, in_memory.indices)
        np.testing.assert_allclose(distributed.scales, in_memory.scales, rtol=1e-10)
        np.testing.assert_allclose(distributed.apply(Ad), in_memory.apply(A), rtol=1e-10)


@pytest.mark.slow
def test_lewis_weights_of_dask_array(client, problem):
    A = problem[0][:60_000]
    for p in (1, 3):
        w = randla.lewis_weights(_dask(A), p, rng=0)
        np.testing.assert_allclose(w, randla.lewis_weights(A, p, rng=0), rtol=1e-9)
        assert randla.lewis_residual(A, w, p=p) < 1e-9


@pytest.mark.slow
def test_lstsq_and_lp_regression_of_dask_array(client, problem):
    A, b = problem
    Ad, bd = _dask(A), da.from_array(b, chunks=50_000)
    x_ref = np.linalg.lstsq(A, b, rcond=None)[0]
    res = randla.lstsq(Ad, bd, rng=0)
    assert res.method == "precondition"
    np.testing.assert_allclose(res.x, x_ref, rtol=1e-10)
    np.testing.assert_allclose(res.residual_norm, np.linalg.norm(A @ x_ref - b), rtol=1e-12)
    sketched = randla.lstsq(Ad, b, method="sketch", rng=0)
    np.testing.assert_allclose(sketched.x, randla.lstsq(A, b, method="sketch", rng=0).x, rtol=1e-8)
    lp = randla.lp_regression(Ad, b, 1.5, k=3000, rng=0)
    lp_ref = randla.lp_regression(A, b, 1.5, k=3000, rng=0)
    np.testing.assert_allclose(lp.x, lp_ref.x, rtol=1e-8)
    np.testing.assert_allclose(lp.objective, lp_ref.objective, rtol=1e-12)


def test_dask_inputs_are_validated(client, problem):
    A = problem[0][:20_000].copy()
    A[12_345, 3] = np.nan
    with pytest.raises(ValueError, match=r"A contains NaN \(first at row 12345, column 3\)"):
        randla.leverage_scores(_dask(A))
    with pytest.raises(TypeError, match="A is a dask array"):
        randla.orthonormal_basis(_dask(problem[0]))
    with pytest.raises(ValueError, match="method must be 'precondition' or 'sketch'"):
        randla.lstsq(_dask(problem[0]), problem[1], method="lsqr")
    with pytest.raises(ValueError, match="k is required"):
        randla.lp_regression(_dask(problem[0]), problem[1], 1.5)
    chunks_of_sparse = da.from_array(
        sp.csr_array(problem[0][:1000]), chunks=(500, 8), asarray=False
    )
    with pytest.raises(TypeError, match="A must be a dask array of numpy chunks"):
        randla.leverage_scores(chunks_of_sparse)
    unknown = _dask(problem[0])[da.from_array(problem[1]) > 0]
    with pytest.raises(ValueError, match="known chunk sizes"):
        randla.leverage_scores(unknown)


def test_float32_and_column_chunks(client, problem):
    A = problem[0][:50_000].astype(np.float32)
    Ad = da.from_array(A, chunks=(9_999, 3))  # columns split: rechunked to whole rows
    tau = randla.leverage_scores(Ad, rng=0)
    assert tau.dtype == np.float32
    np.testing.assert_allclose(tau, randla.leverage_scores(A, rng=0), rtol=1e-4)


@pytest.mark.slow
def test_one_million_rows_on_the_cluster(client):
    # Generated on the workers: the client never holds A during the passes.
    A = da.random.default_rng(0).standard_normal((10**6, 10), chunks=(125_000, 10))
    A = A * da.from_array(np.logspace(0, 3, 10), chunks=10)
    A = A.persist()
    tau = randla.leverage_scores(A, rng=0)
    assert tau.shape == (10**6,)
    np.testing.assert_allclose(tau.sum(), 10, rtol=1e-10)
    dense = A.compute()
    np.testing.assert_allclose(tau, randla.leverage_scores(dense, rng=0), rtol=1e-9)
    sample = randla.leverage_sample(A, 2000, rng=1)
    np.testing.assert_array_equal(
        sample.indices, randla.leverage_sample(dense, 2000, rng=1).indices
    )


def test_passes_over_a_dask_array_are_bounded(problem):
    A = problem[0][:100_000]
    with dask.config.set(scheduler="synchronous"):
        reads = DaskReads(A, 10_000)
        randla.leverage_scores(reads.array, rng=0)
        # validation, the sketch, the Gram matrix, the scores
        assert reads.passes == 4
        reads = DaskReads(A, 10_000)
        randla.leverage_sample(reads.array, 100, accuracy="exact", rng=0).apply(reads.array)
        # the gather of the sampled rows reads each chunk that holds one
        assert 4 < reads.passes <= 5
        reads = DaskReads(A, 10_000)
        randla.lstsq(reads.array, problem[1][:100_000], rng=0)
        # validation, the sketch, the refinement pass, the residual
        assert reads.passes == 4
        reads = DaskReads(A, 10_000)
        randla.lstsq(reads.array, problem[1][:100_000], method="sketch", rng=0)
        assert reads.passes == 3  # validation, the sketch, the residual


@pytest.mark.parametrize(
    "draw, budget",
    [
        # the sketch (which also refuses NaN and inf: no validation pass),
        # the narrow product; then the gather
        (lambda A: randla.leverage_sample(A, 2000, rng=0), 3),
        (lambda A: randla.root_leverage_sample(A, 2000, p=1, rng=0), 3),
        # the first sketch, one pass per Lewis iteration (3 at p = 1.5, 5 at
        # p = 1 and 3); then the gather
        (lambda A: randla.lewis_sample(A, 2000, p=1.5, rng=0), 5),
        (lambda A: randla.lewis_sample(A, 2000, p=1, rng=0), 7),
        (lambda A: randla.sensitivity_sample(A, 2000, p=3, rng=0), 7),
        (lambda A: randla.sensitivity_sample(A, 2000, p=1.5, method="root-leverage", rng=0), 3),
        # the leverage scores (2), the Lewis weights (4), the gather
        (lambda A: randla.augmented_sample(A, 2000, p=1.5, rng=0), 7),
    ],
)
def test_a_sample_on_coarse_scores_reads_a_within_its_budget(problem, draw, budget):
    # Issue 16: at most 4 passes over A for l_2 (and root leverage), 8 for l_p
    # at p < 4, validation and the gather of the sampled rows included.
    # And NaN is still refused by name, by the sketch.
    A = problem[0][:100_000]
    with dask.config.set(scheduler="synchronous"):
        reads = DaskReads(A, 10_000)
        sample = draw(reads.array)
        assert sample.scores.startswith("coarse")
        sample.apply(reads.array)
        assert budget - 1 < reads.passes <= budget
        bad = A.copy()
        bad[12_345, 3] = np.nan
        with pytest.raises(ValueError, match=r"A contains NaN \(first at row 12345, column 3\)"):
            draw(da.from_array(bad, chunks=(10_000, A.shape[1])))


def _resident_file_kb():
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1])
    raise AssertionError("no RssFile in /proc/self/status")


@pytest.fixture(scope="module")
def memmapped(tmp_path_factory, problem):
    path = tmp_path_factory.mktemp("memmap") / "A.npy"
    np.save(path, problem[0])
    return np.load(path, mmap_mode="r")


def test_memmap_inputs_equal_in_memory(memmapped, problem):
    A = problem[0]
    np.testing.assert_allclose(
        randla.leverage_scores(memmapped, rng=0), randla.leverage_scores(A, rng=0), rtol=1e-12
    )
    for kind in KINDS:
        S = SketchDistribution(kind, 64).draw(len(A), rng=3)
        np.testing.assert_allclose(S @ memmapped, S @ A, rtol=1e-12, atol=1e-12 * np.abs(A).max())
    sample = randla.sensitivity_sample(memmapped, 400, p=1.5, rng=2)
    reference = randla.sensitivity_sample(A, 400, p=1.5, rng=2)
    np.testing.assert_array_equal(sample.indices, reference.indices)
    np.testing.assert_allclose(sample.apply(memmapped), reference.apply(A), rtol=1e-12)


@pytest.mark.skipif(
    not pathlib.Path("/proc/self/status").exists() or _blocks._MADVISE is None,
    reason="resident-set accounting of /proc and madvise are Linux features",
)
@pytest.mark.slow
def test_memmap_pages_leave_the_resident_set(tmp_path):
    path = tmp_path / "big.npy"
    np.save(path, np.random.default_rng(0).standard_normal((1_500_000, 16)))  # 192 MB
    A = np.load(path, mmap_mode="r")
    before = _resident_file_kb()
    randla.leverage_scores(A, rng=0)
    randla.leverage_sample(A, 5000, rng=0).apply(A)
    # Without the release the whole file (196,000 kB) would be resident.
    assert _resident_file_kb() - before < 40_000
    # The check is real: reading the rows without the release keeps them.
    np.asarray(A).sum()
    assert _resident_file_kb() - before > 150_000


def test_failed_preconditioner_falls_back_to_tsqr_on_dask(problem, monkeypatch):
    # A sketch that does not embed the column space leaves Y^T Y not safely
    # positive definite; on dask the triangular factor then comes from TSQR.
    linalg_module = importlib.import_module("randla._linalg")

    A = problem[0][:50_000]
    expected = randla.leverage_scores(A, rng=0)
    monkeypatch.setattr(linalg_module, "cholesky_factor", lambda G: None)
    with dask.config.set(scheduler="synchronous"):
        tau = randla.leverage_scores(da.from_array(A, chunks=(7_000, A.shape[1])), rng=0)
    np.testing.assert_allclose(tau, expected, rtol=1e-10)


def test_failed_preconditioner_in_lstsq_on_dask_says_what_to_do(problem, monkeypatch):
    lstsq_module = importlib.import_module("randla._lstsq")

    A, b = problem[0][:50_000], problem[1][:50_000]
    monkeypatch.setattr(lstsq_module, "cholesky_factor", lambda G: None)
    with dask.config.set(scheduler="synchronous"):
        with pytest.raises(np.linalg.LinAlgError, match="larger k or another rng"):
            randla.lstsq(da.from_array(A, chunks=(7_000, A.shape[1])), b, rng=0)
    # In memory the same failure falls back to the direct solver.
    assert randla.lstsq(A, b, rng=0).method == "direct"


def test_an_overflow_on_a_dask_array_is_reported_with_its_largest_entry():
    # The report formatted a lazy dask maximum: "unsupported format string
    # passed to Array.__format__" instead of the message.
    A = np.full((4000, 3), 1e308)
    A[::2] *= -1
    with dask.config.set(scheduler="synchronous"):
        with pytest.raises(ValueError, match=r"S @ A overflowed although A is finite.*1e\+308"):
            randla.sketch(da.from_array(A, chunks=(1000, 3)), 4, kind="gaussian", rng=0)
