r"""The tall-matrix core: one triangular factorization, its row norms and right solves.

Every exact quantity of randla on a tall :math:`A \in \mathbb{R}^{n \times d}`
(leverage scores, Lewis weights, the least-squares preconditioner, the
basis of the l_p regression and of the distortion measures) starts from
the same object: a :class:`Factor`, :math:`A_{:,C} = Q R_1 R_0` on the
columns :math:`C` that carry the numerical rank, made by :func:`factor`
with a sketch-preconditioned Cholesky QR (Householder QR for small or
wide input). Rank is decided on the column-equilibrated exact factor, so
rescaling a column never changes it. The passes over :math:`A` go
through :mod:`randla._blocks` (memory, memmap, dask).
"""

import math
from functools import partial
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.linalg import blas, lapack

from ._blocks import is_dask, map_rows
from ._sketch import SketchDistribution
from ._validation import RankWarning, warn

# The exact path sketches A with sparse sign embeddings of this many rows per
# column of A; 4d rows put the singular values of A R0^-1 within a small
# factor of 1 (Martinsson & Tropp 2020, Sec. 9), all Cholesky QR needs.
_PRECONDITIONER_ROWS_PER_COLUMN = 4
# Preconditioned Cholesky QR is used when A has at least this many rows per
# column and this many entries; smaller problems go to Householder QR.
_TALL = 8
_LARGE = 50_000
# A preconditioned Gram matrix whose Cholesky factor has a reciprocal
# condition number below this is not "safely positive definite": Cholesky QR
# would lose about log10(cond^2) digits, so Householder QR takes over.
_MIN_RCOND = 1e-3


# The default relative rank tolerance is this many times sqrt(d) eps, on the
# column-equilibrated factor (see rank_tolerance).
_RANK_TOL_FACTOR = 50
# The sketch keeps every direction above this fraction of the tolerance:
# its singular values are within a small factor of A's, so nothing the exact
# factor would keep is dropped there (the exact factor decides).
SKETCH_TOL_FRACTION = 0.1


def rank_tolerance(rank_tol, d, dtype):
    r"""The relative rank tolerance: given, or :math:`50\sqrt{d}\,\varepsilon`.

    It applies to the singular values of the column-equilibrated factor
    :math:`RD` (:math:`D` scales every column to unit norm), whose largest
    is between 1 and :math:`\sqrt d`. Rounding the entries of :math:`A`
    alone perturbs them by up to :math:`\varepsilon\|AD\|_F/2 =
    \varepsilon\sqrt d/2`; the factorisations add a backward error of the
    same order in practice (measured: exactly dependent columns come out
    between 0.6 and 8 eps at 1e4 to 1e6 rows). The tolerance keeps a margin
    of about ten above that and, unlike ``max(n, d) eps``, does not grow
    with ``n``: a direction with a relative singular value of 1e-12 is kept
    at any number of rows.
    """
    if rank_tol is None:
        return _RANK_TOL_FACTOR * math.sqrt(d) * np.finfo(dtype).eps
    return rank_tol


def triangular_condition(R):
    """An estimate of the 1-norm condition number of upper triangular R (LAPACK trcon)."""
    if R.shape[0] == 0:
        return 1.0
    (trcon,) = lapack.get_lapack_funcs(("trcon",), (R,))
    rcond, _ = trcon(R, norm="1", uplo="U", diag="N")
    return math.inf if rcond == 0 else 1.0 / rcond


def column_scales(M):
    """(e, inner): column j of a dense M is 2^e_j times a column of norm inner_j.

    e_j puts the largest entry of column j in [1/2, 1), so that squares of
    entries of 1e-170 or 1e170 neither underflow nor overflow; the norm
    itself, inner_j 2^e_j, is never formed: it may lie beyond the float
    range while every entry is finite. inner_j is 0 for a zero column.
    """
    e = np.frexp(np.max(np.abs(M), axis=0, initial=0))[1]
    return e, np.linalg.norm(np.ldexp(M, -e), axis=0)


def unit_columns(M):
    """M with its nonzero columns scaled to norm 1 (zero columns stay zero)."""
    e, inner = column_scales(M)
    return np.ldexp(M, -e) / np.where(inner > 0, inner, 1)


def _numerical_rank(s, tol):
    """The count of singular values above tol times the largest."""
    return int(np.sum(s > tol * s[0])) if s.size and s[0] > 0 else 0


def _full_rank(R, tol):
    """Whether square upper triangular R, equilibrated, has full numerical rank.

    First in O(d^2): kappa_2 <= d kappa_1, and trcon's estimate of kappa_1
    is rarely off by more than a factor 10, so d * 100 * estimate < 1/tol
    leaves a wide margin; otherwise the singular values decide.
    """
    scaled = unit_columns(R)
    if R.shape[0] * 100 * triangular_condition(scaled) * tol < 1:
        return True
    return _numerical_rank(np.linalg.svd(scaled, compute_uv=False), tol) == R.shape[1]


def rank_revealing(M, tol, *, with_q=False):
    """(kept, r, T, Q): rank and columns of M by pivoted QR of its equilibrated columns.

    Pivoted QR of M scaled by powers of two (exact) that bring each column's
    norm into [1/2, 1) orders the columns by how much each adds, whatever
    their units (columns of norm exactly 1 would tie, and rounding, which
    differs between memory orders, would break the tie); r counts the
    singular values of M with its columns at unit norm above tol times the
    largest; ``kept`` are the first r pivots and T the triangular factor of
    M[:, kept] (M[:, kept] = Q[:, :r] T). Zero columns are never kept.
    """
    e, inner = column_scales(M)
    f = np.frexp(inner)[1]
    scaled = np.ldexp(M, -(e + f))
    if with_q:
        Q, R2, perm = scipy.linalg.qr(scaled, mode="economic", pivoting=True, check_finite=False)
    else:
        R2, perm = scipy.linalg.qr(scaled, mode="r", pivoting=True, check_finite=False)
        Q = None
    d = min(M.shape)
    # R2 * unit is the factor of the pivoted columns at unit norm.
    unit = (np.ldexp(np.ones_like(inner), f) / np.where(inner > 0, inner, 1))[perm]
    s = np.linalg.svd(R2[:d, :d] * unit[:d], compute_uv=False)
    r = min(_numerical_rank(s, tol), int(np.count_nonzero(inner)))
    kept = perm[:r]
    T = np.ldexp(np.triu(R2[:r, :r]), (e + f)[kept])
    return kept, r, T, (None if Q is None else Q[:, :r])


def sketch_factor(SA, tol, Sb=None):
    """(R0, cols, r, Q^T Sb) from a sketch SA of A.

    When the equilibrated SA has full numerical rank r = d: S A = Q R0
    (unpivoted) and ``cols`` is None (all columns, in order); otherwise
    pivoted QR picks ``cols``, r columns that span the column space, and
    S A[:, cols] = Q R0. Either way ``A[:, cols] @ inv(R0)`` is well
    conditioned when S embeds the column space of A. Q^T Sb (None without
    Sb) comes from factoring [SA, Sb] together, so Q is never formed in the
    full-rank case.
    """
    k, d = SA.shape
    extra = None if Sb is None else Sb.reshape(k, -1)
    M = SA if extra is None else np.hstack([SA, extra])
    R = scipy.linalg.qr(M, mode="r", check_finite=False)[0][: min(k, M.shape[1])]
    if k >= d and _full_rank(R[:d, :d], tol):
        QtSb = None if extra is None else R[:d, d:].reshape((d,) + Sb.shape[1:])
        return np.triu(R[:d, :d]), None, d, QtSb
    cols, r, R0, Q = rank_revealing(SA, tol, with_q=extra is not None)
    QtSb = None if extra is None else (Q.T @ extra).reshape((r,) + Sb.shape[1:])
    if r == d and np.array_equal(cols, np.arange(d)):
        cols = None
    return R0, cols, r, QtSb


def is_tall(shape):
    """True when a sketch of A pays: at least 8 rows per column and 50000 entries."""
    n, d = shape
    return n >= _TALL * d and n * d >= _LARGE


def preconditioner(A, tol, rng, rows=None, nnz=None):
    """R0, the kept columns and the rank from a sparse sign sketch of A.

    A sketch with as many rows as A would save nothing and could lose rank
    (a square random sign matrix is singular with probability about
    n^2 2^-n): then A itself is factored.
    """
    n, d = A.shape
    if rows is None:
        rows = _PRECONDITIONER_ROWS_PER_COLUMN * d + 8
    if rows >= n:
        SA = in_memory(A.toarray() if sp.issparse(A) else A)
    else:
        SA = SketchDistribution("sparse_sign", rows, nnz=nnz).draw(n, rng=rng) @ A
    R0, cols, r, _ = sketch_factor(SA, tol)
    return R0, cols, r


def _right_triangular(routine, Y, R):
    """Y <- Y R^{-1} (BLAS trsm) or Y <- Y R (trmm) in place, R upper triangular.

    Y is C- or Fortran-contiguous; the routine then runs on Y or on its
    transpose, both Fortran-ordered, so nothing is copied.
    """
    (apply,) = blas.get_blas_funcs((routine,), (Y,))
    if Y.flags.f_contiguous:
        apply(1.0, R, Y, side=1, lower=0, trans_a=0, overwrite_b=1)
    else:
        apply(1.0, R, Y.T, side=0, lower=0, trans_a=1, overwrite_b=1)
    return Y


def right_solve(Y, R):
    """Y <- Y R^{-1} in place for upper triangular R."""
    return _right_triangular("trsm", Y, R)


def add_gram(G, Y):
    """G += Y^T Y in the upper triangle (BLAS syrk, in place, no copy of Y)."""
    (syrk,) = blas.get_blas_funcs(("syrk",), (Y,))
    if Y.flags.f_contiguous:
        return syrk(1.0, Y, trans=1, lower=0, beta=1.0, c=G, overwrite_c=1)
    return syrk(1.0, Y.T, trans=0, lower=0, beta=1.0, c=G, overwrite_c=1)


def gram(Y):
    """The upper triangle of Y^T Y."""
    return add_gram(np.zeros((Y.shape[1], Y.shape[1]), dtype=Y.dtype, order="F"), Y)


def _gram_rows(R0, i0, Y):
    return None, gram(right_solve(Y, R0))


def _preconditioned_gram(A, cols, R0):
    """The upper triangle of Y^T Y for Y = A[:, cols] R0^{-1}, one pass over A."""
    return map_rows(partial(_gram_rows, R0), A, cols=cols)[1]


def cholesky_factor(G):
    """Upper R1 with G = R1^T R1, or None when G is not safely PD."""
    (potrf, trcon) = lapack.get_lapack_funcs(("potrf", "trcon"), (G,))
    R1, info = potrf(G, lower=0, overwrite_a=1, clean=1)
    if info != 0:
        return None
    rcond, info = trcon(R1, norm="1", uplo="U", diag="N")
    if info != 0 or rcond < _MIN_RCOND:
        return None
    return R1


class Factor(NamedTuple):
    """A[:, cols] = Q R1 R0 with Q orthonormal: the triangular factor in two parts.

    R0 preconditions (A[:, cols] R0^{-1} is well conditioned) and R1 is the
    Cholesky factor of that product's Gram matrix; solving with R0 and then
    R1 keeps rows that carry whole directions accurate (one solve with the
    product R1 R0 lost up to 1e-9 on rows of leverage 1 at cond 1e12). Q is
    set when it was formed anyway (small A, Householder fallback, or asked
    for); R1 is then the identity. ``cols`` is None for all columns in
    order; ``rank`` is their number. Made by :func:`factor` only.
    """

    R0: np.ndarray
    R1: np.ndarray
    cols: np.ndarray | None
    Q: np.ndarray | None

    @property
    def rank(self):
        return self.R0.shape[0]

    @property
    def R(self):
        """The triangular factor of A[:, cols]."""
        return np.triu(self.R1 @ self.R0)

    def columns(self, A):
        """A[:, cols] as a dense array (a copy: the solves below overwrite it)."""
        return dense_columns(A, self.cols)

    def solve_rows(self, Y, R1_inverse=None):
        """Y <- Y R0^{-1} R1^{-1} in place: for Y = A[rows, cols], those rows of Q.

        R1 is well conditioned (its reciprocal condition number is at least
        _MIN_RCOND), so multiplying by its inverse (BLAS trmm, three times
        faster than a second solve) costs no accuracy; R0, as ill conditioned
        as A, is solved with.
        """
        R1_inverse = upper_inverse(self.R1) if R1_inverse is None else R1_inverse
        return _right_triangular("trmm", right_solve(Y, self.R0), R1_inverse)

    def row_norms(self, A):
        """Squared row norms of A[:, cols] R^{-1}, block by block (never stored).

        For the factored matrix these are the squared row norms of Q; ``A``
        may be another matrix with the same columns (the Lewis forms factor
        the rescaled rows and solve with the original ones).
        """
        solve = partial(_solved_norms, self, upper_inverse(self.R1))
        return map_rows(solve, A, cols=self.cols)[0]

    def rows(self, A, rows):
        """Rows ``rows`` of Q, without forming the others."""
        if self.Q is not None:
            return self.Q[rows]
        A = sp.csr_array(A)[rows] if sp.issparse(A) else A[rows]
        return self.solve_rows(self.columns(A))


def _householder(A, tol):
    """The Factor of an in-memory A by Householder QR.

    Unpivoted when A has full numerical rank: Q is then the same for any
    positive scaling of A's columns (pivoting would order the columns by
    their scaled norms); otherwise pivoted on its equilibrated columns.
    """
    dense = dense_columns(A, None)
    n, d = dense.shape
    e, inner = column_scales(dense)
    if np.any(e + np.frexp(inner)[1] > np.finfo(dense.dtype).maxexp):
        # Entries finite but a column norm beyond the float range: no
        # triangular factor of A is representable (the tall path's sketch
        # reports the same as an overflow).
        raise ValueError(
            f"A has a column whose norm overflows although A is finite; rescale A "
            f"(its largest magnitude is {np.max(np.abs(dense)):.3g})"
        )
    if n >= d:
        Q, R = scipy.linalg.qr(dense, mode="economic", check_finite=False)
        if _full_rank(R, tol):
            return Factor(R, np.eye(d, dtype=R.dtype), None, Q)
    cols, r, R, Q = rank_revealing(dense, tol, with_q=True)
    if r == A.shape[1] and np.array_equal(cols, np.arange(r)):
        cols = None
    return Factor(R, np.eye(r, dtype=R.dtype), cols, Q)


def factor(A, rank_tol, rng, *, keep_q=False):
    """The triangular factor of A on its numerical rank, as a Factor.

    Tall and large A: sketch-preconditioned Cholesky QR (Fan, Guo & Lin 2021;
    Balabanov 2022; Garrison & Ipsen 2024). The sketch gives R0 and a first
    choice of columns that keeps every direction the tolerance could keep;
    Y = A[:, cols] R0^{-1} is well conditioned, so the Cholesky factor R1 of
    Y^T Y is accurate. Y^T Y is accumulated block by block (no n x d
    buffer) or, with ``keep_q``, on a stored Y, which becomes Q = Y R1^{-1},
    orthonormal to working precision whatever cond(A) (Garrison & Ipsen
    2024). The rank is then decided on the exact factor R1 R0, equilibrated,
    so it does not depend on the sketch; when that drops columns, the pass
    is repeated with R0 from the pivoted QR of R1 R0. When Y^T Y is not
    safely positive definite (a failed sketch) Householder QR takes over (a
    dask A: TSQR of Y). Small or wide A: Householder QR (_householder).
    """
    n, d = A.shape
    tol = rank_tolerance(rank_tol, d, A.dtype)
    if not is_tall(A.shape):
        return _householder(in_memory(A), tol)
    R0, cols, r = preconditioner(A, SKETCH_TOL_FRACTION * tol, rng)
    for _ in range(2):  # the second time on the columns the exact factor keeps
        if r == 0:
            empty = np.zeros((0, 0), A.dtype)
            Q = np.zeros((n, 0), A.dtype) if keep_q else None
            return Factor(empty, empty, np.arange(0), Q)
        if keep_q:
            Y = right_solve(dense_columns(A, cols), R0)
            G = add_gram(np.zeros((r, r), dtype=A.dtype, order="F"), Y)
        else:
            Y, G = None, _preconditioned_gram(A, cols, R0)
        R1 = cholesky_factor(G)
        if R1 is None and is_dask(A):
            R1 = _tsqr_factor(A, cols, R0)
        elif R1 is None:
            break
        kept, r_exact, T, _ = rank_revealing(np.triu(R1 @ R0), tol)
        if r_exact == r:
            Q = None if Y is None else right_solve(Y, R1)
            return Factor(R0, R1, cols, Q)
        cols, R0, r = (np.arange(d) if cols is None else cols)[kept], T, r_exact
    # A failed sketch, or a rank that moved twice (rounding decides at the
    # threshold): Householder QR of A in memory.
    return _householder(in_memory(A), tol)


def _tsqr_factor(A, cols, R0):
    """R1 with A[:, cols] R0^{-1} R1^{-1} orthonormal, for a dask A: TSQR, R only."""
    import dask.array as da

    Y = (A if cols is None else A[:, cols]).map_blocks(
        lambda block: right_solve(np.array(block, order="C"), R0), dtype=A.dtype
    )
    R1 = da.linalg.tsqr(Y)[1].compute()
    return np.triu(R1 * np.where(np.diag(R1) < 0, -1, 1)[:, None])


def in_memory(A):
    """A as numpy, for the small problems that skip the streaming passes."""
    return A.compute() if is_dask(A) else A


def dense_columns(A, cols):
    """A dense copy of A[:, cols] (all columns when cols is None)."""
    block = A if cols is None else A[:, cols]
    if sp.issparse(block):
        return block.toarray()
    return np.array(block, order="K")


def basis(A, rank_tol, rng):
    """An orthonormal basis of the column space of A (see factor)."""
    return factor(A, rank_tol, rng, keep_q=True).Q


def upper_inverse(R):
    return scipy.linalg.solve_triangular(R, np.eye(len(R), dtype=R.dtype), check_finite=False)


def exact_leverage_scores(A, rank_tol, rng):
    """(squared row norms of an orthonormal basis Q, rank), Q never stored."""
    f = factor(A, rank_tol, rng)
    return (row_norms_squared(f.Q) if f.Q is not None else f.row_norms(A)), f.rank


def warn_rank(r, shape, rank_tol, what, dtype=np.float64):
    """A RankWarning when the rank kept is below min(n, d)."""
    d = shape[1]
    if r < min(shape):
        warn(
            f"A has numerical rank {r} < {d} columns (relative tolerance "
            f"{rank_tolerance(rank_tol, d, dtype):.2g} on its column-equilibrated factor): "
            f"{what} are those of the column space of the {r} columns kept",
            RankWarning,
        )


def row_norms_squared(Y):
    return np.einsum("ij,ij->i", Y, Y)


def product_norms(M, i0, block):
    """(squared row norms of block @ M, None) for map_rows."""
    return row_norms_squared(np.asarray(block @ M)), None


def _solved_norms(f, R1_inverse, i0, Y):
    """(squared row norms of Y R0^{-1} R1^{-1}, None) for map_rows; overwrites Y."""
    return row_norms_squared(f.solve_rows(Y, R1_inverse)), None
