"""The Numba kernels of the projection DPP samplers against plain NumPy references."""

import numpy as np
import pytest

import randla
from randla import _kernels, _wls, bases

from .test_dpp import _orthonormal


def _complement(W, rows):
    """An orthonormal basis (as rows) of span(W rows) minus span(rows), by NumPy."""
    P = W.T @ W.conj() - rows.T @ np.linalg.pinv(rows.T)
    values, vectors = np.linalg.eigh((P + P.conj().T) / 2)
    return vectors[:, values > 0.5].T


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
@pytest.mark.parametrize("size", [1, 2, 5, 8, 9])
def test_project_and_remove_direction(size, complex_):
    rng = np.random.default_rng(size)
    r = 9
    W = _orthonormal(r, size, rng, complex_).T.copy()  # rows: an orthonormal set in C^r
    W = np.ascontiguousarray(np.vstack([W, np.zeros((r - size, r), dtype=W.dtype)]))
    v = rng.standard_normal(r) + (1j * rng.standard_normal(r) if complex_ else 0)
    coef = np.zeros(r, dtype=W.dtype)
    residual = _kernels._project(W, v, coef, size)
    np.testing.assert_allclose(coef[:size], W[:size].conj() @ v, rtol=1e-13, atol=1e-14)
    assert residual == pytest.approx(np.linalg.norm(W[:size].conj() @ v) ** 2, rel=1e-13)
    before = W[:size].copy()
    _kernels._remove_direction(W, coef, size, residual)
    kept = W[: size - 1]
    np.testing.assert_allclose(kept @ kept.conj().T, np.eye(size - 1), atol=1e-14)
    np.testing.assert_allclose(kept.conj() @ v, 0, atol=1e-14)
    # The new rows span what the old ones span, less the direction of P v.
    direction = (before.conj() @ v) @ before
    expected = _complement(before, direction[None, :])
    np.testing.assert_allclose(kept.T @ kept.conj(), expected.T @ expected.conj(), atol=1e-13)


def test_remove_direction_with_a_zero_last_coefficient():
    W = np.eye(4)
    v = np.array([1.0, 2.0, 0.0, 0.0])  # <w_3, v> = 0: no sign to take
    coef = np.zeros(4)
    residual = _kernels._project(W, v, coef, 4)
    _kernels._remove_direction(W, coef, 4, residual)
    np.testing.assert_allclose(W[:3] @ W[:3].T, np.eye(3), atol=1e-15)
    np.testing.assert_allclose(W[:3] @ v, 0, atol=1e-15)


def test_residual_near_the_span_is_computed_not_cancelled():
    # v = e_0 + 1e-9 e_3 after choosing e_0, e_1, e_2 in R^5: ||P^perp v||^2 is
    # 1e-18, below the rounding of ||v||^2 - |<e_0, v>|^2 (1e-16): the
    # complement basis gives it to full relative precision.
    rng = np.random.default_rng(1)
    Q = _orthonormal(5, 5, rng)
    basis, coef = np.eye(5), np.zeros(5)
    for k in range(3):
        residual = _kernels._project(basis, Q[:, k], coef, 5 - k)
        _kernels._remove_direction(basis, coef, 5 - k, residual)
    v = Q[:, 0] + 1e-9 * Q[:, 3]
    residual = _kernels._project(basis, v, coef, 2)
    assert residual == pytest.approx(1e-18, rel=1e-6)


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_try_accept_decides_by_the_residual_fraction(complex_):
    rng = np.random.default_rng(2)
    r = 6
    W = _orthonormal(r, r, rng, complex_).T.copy()
    v = rng.standard_normal(r) + (1j * rng.standard_normal(r) if complex_ else 0)
    fraction = np.linalg.norm(W[:3].conj() @ v) ** 2 / np.linalg.norm(v) ** 2
    coef = np.zeros(r, dtype=W.dtype)
    for accept, expected in [(fraction * (1 + 1e-9), False), (fraction * (1 - 1e-9), True)]:
        basis = W.copy()
        assert _kernels._try_accept(v, accept, basis, coef, 3) is expected
        np.testing.assert_array_equal(basis[3:], W[3:])  # rows past size are not touched
        if not expected:
            np.testing.assert_array_equal(basis, W)
    assert not _kernels._try_accept(np.zeros(r, dtype=W.dtype), 0.0, W.copy(), coef, 3)


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_gram_probe(complex_):
    rng = np.random.default_rng(3)
    V = rng.standard_normal((50, 7)) + (1j * rng.standard_normal((50, 7)) if complex_ else 0)
    x0, x1 = rng.standard_normal(7), rng.standard_normal(7)
    norms, z0, z1 = _kernels.gram_probe(V, x0, x1)
    np.testing.assert_allclose(norms, np.sum(np.abs(V) ** 2, axis=1), rtol=1e-13)
    np.testing.assert_allclose(z0, V.conj().T @ (V @ x0), rtol=1e-12)
    np.testing.assert_allclose(z1, V.conj().T @ (V @ x1), rtol=1e-12)
    for bad in (np.nan, np.inf):
        W = V.copy()
        W[17, 3] = bad
        assert not np.isfinite(_kernels.gram_probe(W, x0, x1)[0][17])


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_matrix_probe(complex_):
    rng = np.random.default_rng(4)
    M = rng.standard_normal((42, 40)) + (1j * rng.standard_normal((42, 40)) if complex_ else 0)
    x0, x1 = rng.standard_normal(40), rng.standard_normal(40)
    y0, y1 = _kernels.matrix_probe(M, x0, x1)
    np.testing.assert_allclose(y0, M @ x0, rtol=1e-12)
    np.testing.assert_allclose(y1, M @ x1, rtol=1e-12)
    for bad in (np.nan, np.inf, -np.inf):
        W = M.copy()
        W[5, 30] = bad
        assert not np.isfinite(_kernels.matrix_probe(W, x0, x1)[0][5])


def _pivoted_cholesky_reference(K, r):
    """Rows R (r x N) with K ~ R^T conj(R) and the residual diagonal, plainly."""
    E = K.astype(complex if np.iscomplexobj(K) else float).copy()
    R = []
    for _ in range(r):
        p = int(np.argmax(np.diag(E).real))
        column = E[:, p] / np.sqrt(E[p, p].real)
        R.append(column)
        E = E - np.outer(column, column.conj())
    return np.array(R), np.diag(E).real


@pytest.mark.parametrize("complex_", [False, True], ids=["real", "complex"])
def test_pivoted_cholesky_of_a_projection(complex_):
    V = _orthonormal(30, 6, np.random.default_rng(5), complex_)
    K = V @ V.conj().T
    R, residual, steps = _kernels.pivoted_cholesky(K, 6, 1e-10)
    reference, reference_residual = _pivoted_cholesky_reference(K, 6)
    assert steps == 6
    np.testing.assert_allclose(R, reference, atol=1e-13)
    np.testing.assert_allclose(residual, reference_residual, atol=1e-13)
    np.testing.assert_allclose(R.T @ R.conj(), K, atol=1e-13)
    np.testing.assert_allclose(R.conj() @ R.T, np.eye(6), atol=1e-13)


def test_pivoted_cholesky_stops_where_k_is_not_a_projection():
    V = _orthonormal(30, 4, np.random.default_rng(6))
    # Eigenvalues 1, 1, 0.5 and 0.5: a column of norm^2 below 1 stops it.
    K = (V * [1.0, 1.0, 0.5, 0.5]) @ V.T
    R, residual, steps = _kernels.pivoted_cholesky(K, 3, 1e-10)
    assert steps < 3
    # A zero pivot (rank 2 < 3) stops it too, before dividing by zero.
    R, residual, steps = _kernels.pivoted_cholesky(np.diag([1.0, 0.0, 1.0, 0.0]), 3, 1e-10)
    assert steps == 2
    np.testing.assert_array_equal(R[:2], [[1, 0, 0, 0], [0, 0, 1, 0]])


def test_continuous_dpp_points_do_not_depend_on_the_chunk(monkeypatch):
    # The proposals' features are evaluated chunk by chunk; the chain sees
    # the same proposals, uniforms and decisions whatever the chunk size.
    basis = bases.tensor("legendre", 2, degree=6)
    reference = randla.projection_dpp_sample(basis, rng=7).points
    for rows in (1, 3, 10_000):
        monkeypatch.setattr(_wls, "_CHUNK_BYTES", 8 * basis.m * rows)
        np.testing.assert_array_equal(randla.projection_dpp_sample(basis, rng=7).points, reference)
