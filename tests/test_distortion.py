import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import randla

from ._problems import coherent


@pytest.mark.parametrize("n", [300, 5000])  # Householder and preconditioned paths
def test_distortion_matches_a_dense_computation(n):
    rng = np.random.default_rng(0)
    A = coherent(n, 8, rng) @ rng.standard_normal((8, 8))
    s = randla.leverage_sample(A, 60, rng=1)
    Q = np.linalg.qr(A)[0]
    S = np.zeros((len(s), n))
    S[np.arange(len(s)), s.indices] = s.scales
    ref = np.max(np.abs(np.linalg.eigvalsh(Q.T @ S.T @ S @ Q) - 1))
    assert randla.subspace_distortion(A, s, rng=0) == pytest.approx(ref, rel=1e-9)
    assert randla.subspace_distortion(sp.csr_array(A), s, rng=0) == pytest.approx(ref, rel=1e-9)


def test_the_whole_matrix_has_no_distortion():
    A = np.random.default_rng(1).standard_normal((1000, 4))
    s = randla.sample_rows(np.ones(1000), 1000, rng=0)  # every q = 1
    assert randla.subspace_distortion(A, s) == pytest.approx(0, abs=1e-12)


def test_iid_duplicates_count_twice():
    A = np.eye(3)
    s = randla.sample_rows(np.ones(3), 3, scheme="iid", rng=0)
    counts = np.bincount(s.indices, minlength=3)
    # S^T S = diag(counts / (3 * 1/3)) = diag(counts), Q = I.
    assert randla.subspace_distortion(A, s) == pytest.approx(np.max(np.abs(counts - 1)))


def test_bad_arguments():
    A = np.ones((10, 2))
    with pytest.raises(ValueError, match="sample is of a matrix with 5 rows; A has 10"):
        randla.subspace_distortion(A, randla.sample_rows(np.ones(5), 2, rng=0))
    with pytest.raises(ValueError, match="sample must be scaled for p = 2"):
        randla.subspace_distortion(A, randla.sample_rows(np.ones(10), 2, p=1, rng=0))
    with pytest.raises(TypeError, match="sample must be a RowSample, got ndarray"):
        randla.subspace_distortion(A, np.arange(3))


@pytest.mark.parametrize(
    "A",
    [
        np.zeros((300, 4)),
        np.random.default_rng(1).standard_normal((3, 8)),  # wide
        np.column_stack([np.random.default_rng(2).standard_normal((300, 3)), np.zeros(300)]),
        np.column_stack([np.random.default_rng(3).standard_normal((20_000, 3)), np.zeros(20_000)]),
    ],
    ids=["zero", "wide", "zero column", "zero column, tall"],
)
def test_lp_distortion_of_degenerate_matrices(A):
    # Crashed: LinAlgError (zero column at 300 rows), a scipy shape error (at
    # 20000 rows), a reduction of an empty array (all zeros).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", randla.RankWarning)
        s = randla.uniform_sample(A, min(60, len(A)), p=1.5, rng=0)
        value = randla.lp_distortion(A, s, directions=16, ascent_steps=5, rng=0)
        if A.any():  # the distortion of the nonzero columns alone (an estimate
            # from random directions in another basis: close, not equal)
            cols = A.any(axis=0)
            expected = randla.lp_distortion(A[:, cols], s, directions=16, ascent_steps=5, rng=0)
            assert value == pytest.approx(expected, rel=0.05, abs=1e-12)
        else:
            assert value == 0.0
