"""Shared test problems: matrices with known structure and answers."""

import numpy as np


def orthonormal(n, d, rng):
    """An n x d matrix with orthonormal columns (Haar-distributed)."""
    Q, R = np.linalg.qr(rng.standard_normal((n, d)))
    return Q * np.sign(np.diag(R))


def ill_conditioned(n, d, cond, rng):
    """An n x d matrix with singular values spaced geometrically from 1 to 1/cond."""
    U = orthonormal(n, d, rng)
    V = orthonormal(d, d, rng)
    return (U * np.geomspace(1, 1 / cond, d)) @ V.T


def sparse_random(n, d, density, rng, fmt="csr"):
    """A random sparse n x d matrix with Gaussian nonzeros."""
    import scipy.sparse as sp

    return sp.random_array(
        (n, d), density=density, format=fmt, rng=rng, data_sampler=rng.standard_normal
    )


def coherent(n, d, rng, scale=1e-2):
    """[I_d; scale * G]: the first d rows carry almost all of the column space."""
    return np.vstack([np.eye(d), scale * rng.standard_normal((n - d, d))])


def _qr_longdouble(A):
    """Q, R of A in extended precision (x87 long double where the platform has it).

    Modified Gram-Schmidt run twice ("twice is enough", Giraud et al. 2005):
    orthogonal to the working precision, here about 1e-19, a thousand times
    more accurate than any float64 method at cond(A) up to about 1e12.
    """
    A = np.asarray(A, dtype=np.longdouble)
    n, d = A.shape
    Q = A.copy()
    R = np.zeros((d, d), dtype=np.longdouble)
    for j in range(d):
        for _ in range(2):
            coef = Q[:, :j].T @ Q[:, j]
            Q[:, j] -= Q[:, :j] @ coef
            R[:j, j] += coef
        R[j, j] = np.sqrt(Q[:, j] @ Q[:, j])
        Q[:, j] /= R[j, j]
    return Q, R


def leverage_reference(A):
    """Leverage scores of a full-column-rank float64 A, in extended precision."""
    Q, _ = _qr_longdouble(A)
    return np.sum(Q * Q, axis=1)


def lstsq_reference(A, b):
    """The least-squares solution of a full-column-rank float64 problem, in extended precision."""
    Q, R = _qr_longdouble(A)
    c = Q.T @ np.asarray(b, dtype=np.longdouble)
    d = R.shape[0]
    x = np.zeros_like(c)
    for i in range(d - 1, -1, -1):
        x[i] = (c[i] - R[i, i + 1 :] @ x[i + 1 :]) / R[i, i]
    return x


def heavy_tailed(n, d, rng, df=1.5):
    """Rows with Student-t entries (df 1.5): a few rows dominate."""
    return rng.standard_t(df, size=(n, d))


def lewis_reference(A, p, iterations=3000):
    """Lewis weights by the plain (damped for p > 2) fixed point, dense numpy."""
    n, d = A.shape
    w = np.full(n, d / n)
    beta = 1.0 if p <= 2 else 4.0 / (p + 2.0)
    for _ in range(iterations):
        M = A.T @ (w[:, None] ** (1 - 2 / p) * A)
        T = np.einsum("ij,ij->i", A @ np.linalg.inv(M), A) ** (p / 2)
        w = np.exp((1 - beta) * np.log(w) + beta * np.log(T))
    return w


def lewis_reference_convex(A, p, iterations=100):
    """Lewis weights for p > 2 from the convex program, by Newton's method on M (d x d).

    Maximise log det M - (2/p) sum_i (a_i^T M a_i)^(p/2) over symmetric
    M > 0 (concave for p >= 2); at the optimum w_i = (a_i^T M a_i)^(p/2).
    Independent of the fixed-point iteration that randla runs.
    """
    d = A.shape[1]
    outer = np.einsum("ij,ik->ijk", A, A).reshape(len(A), d * d)  # vec(a_i a_i^T)

    def value(M):
        sign, logdet = np.linalg.slogdet(M)
        q = outer @ M.ravel()
        return logdet - (2 / p) * np.sum(q ** (p / 2)) if sign > 0 and q.min() > 0 else -np.inf

    M = np.linalg.inv(A.T @ A) * (len(A) / d) ** (1 - 2 / p)
    for _ in range(iterations):
        Minv = np.linalg.inv(M)
        q = outer @ M.ravel()
        grad = Minv.ravel() - outer.T @ q ** (p / 2 - 1)
        hess = -np.kron(Minv, Minv) - (p / 2 - 1) * (outer.T * q ** (p / 2 - 2)) @ outer
        step = -np.linalg.solve(hess, grad)
        if grad @ step < 1e-24:
            break
        t, f = 1.0, value(M)
        while value(M + t * step.reshape(d, d)) < f + 0.25 * t * (grad @ step) and t > 1e-12:
            t /= 2
        M = M + t * step.reshape(d, d)
        M = (M + M.T) / 2
    return (outer @ M.ravel()) ** (p / 2)


class DaskReads:
    """A dask view of ``A`` that counts its chunk reads (synchronous scheduler, this process).

    ``passes`` is the number of reads over the number of chunks: how many
    times a function read all of ``A``.
    """

    def __init__(self, A, chunk):
        import dask.array as da

        self.count = 0
        self.array = da.from_array(A, chunks=(chunk, A.shape[1])).map_blocks(
            self._read, meta=np.empty((0, 0), dtype=A.dtype)
        )
        self.chunks = -(-len(A) // chunk)

    def _read(self, block):
        self.count += 1
        return block

    @property
    def passes(self):
        return self.count / self.chunks
