r"""Leverage scores: exact, sketched, ridge and root.

The leverage score of row :math:`i` of :math:`A \in \mathbb{R}^{n \times d}`
is :math:`\tau_i = \|Q_{i,:}\|_2^2 = a_i^\top (A^\top A)^+ a_i`, with
:math:`Q` an orthonormal basis of the column space of :math:`A`. The exact
path computes :math:`Q` by a sketch-preconditioned Cholesky QR; the
sketched path approximates the row norms of :math:`Q` with two sketches.
"""

import math
import warnings
from functools import partial
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.linalg import blas, lapack
from scipy.stats import chi2

from ._blocks import is_dask, map_rows
from ._sketch import SketchDistribution
from ._validation import (
    RankWarning,
    as_matrix,
    check_number,
    check_option,
    check_p,
    check_rng,
)

__all__ = [
    "leverage_scores",
    "ridge_leverage_scores",
    "root_leverage_scores",
    "orthonormal_basis",
]

METHODS = ("auto", "qr", "sketch")

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
# column-equilibrated factor (see _rank_tol).
_RANK_TOL_FACTOR = 50
# The sketch keeps every direction above this fraction of the tolerance:
# its singular values are within a small factor of A's, so nothing the exact
# factor would keep is dropped there (the exact factor decides).
_SKETCH_TOL_FRACTION = 0.1


def _rank_tol(rank_tol, d, dtype):
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


def _triangular_condition(R):
    """An estimate of the 1-norm condition number of upper triangular R (LAPACK trcon)."""
    if R.shape[0] == 0:
        return 1.0
    (trcon,) = lapack.get_lapack_funcs(("trcon",), (R,))
    rcond, _ = trcon(R, norm="1", uplo="U", diag="N")
    return math.inf if rcond == 0 else 1.0 / rcond


def _column_scales(M):
    """(e, inner): column j of a dense M is 2^e_j times a column of norm inner_j.

    e_j puts the largest entry of column j in [1/2, 1), so that squares of
    entries of 1e-170 or 1e170 neither underflow nor overflow; the norm
    itself, inner_j 2^e_j, is never formed: it may lie beyond the float
    range while every entry is finite. inner_j is 0 for a zero column.
    """
    e = np.frexp(np.max(np.abs(M), axis=0, initial=0))[1]
    return e, np.linalg.norm(np.ldexp(M, -e), axis=0)


def _unit_columns(M):
    """M with its nonzero columns scaled to norm 1 (zero columns stay zero)."""
    e, inner = _column_scales(M)
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
    scaled = _unit_columns(R)
    if R.shape[0] * 100 * _triangular_condition(scaled) * tol < 1:
        return True
    return _numerical_rank(np.linalg.svd(scaled, compute_uv=False), tol) == R.shape[1]


def _rank_revealing(M, tol, *, with_q=False):
    """(kept, r, T, Q): rank and columns of M by pivoted QR of its equilibrated columns.

    Pivoted QR of M scaled by powers of two (exact) that bring each column's
    norm into [1/2, 1) orders the columns by how much each adds, whatever
    their units (columns of norm exactly 1 would tie, and rounding, which
    differs between memory orders, would break the tie); r counts the
    singular values of M with its columns at unit norm above tol times the
    largest; ``kept`` are the first r pivots and T the triangular factor of
    M[:, kept] (M[:, kept] = Q[:, :r] T). Zero columns are never kept.
    """
    e, inner = _column_scales(M)
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


def _sketch_factor(SA, tol, Sb=None):
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
    cols, r, R0, Q = _rank_revealing(SA, tol, with_q=extra is not None)
    QtSb = None if extra is None else (Q.T @ extra).reshape((r,) + Sb.shape[1:])
    if r == d and np.array_equal(cols, np.arange(d)):
        cols = None
    return R0, cols, r, QtSb


def _preconditioner(A, tol, rng, rows=None):
    """R0, the kept columns and the rank from a sparse sign sketch of A.

    A sketch with as many rows as A would save nothing and could lose rank
    (a square random sign matrix is singular with probability about
    n^2 2^-n): then A itself is factored.
    """
    n, d = A.shape
    if rows is None:
        rows = _PRECONDITIONER_ROWS_PER_COLUMN * d + 8
    if rows >= n:
        SA = _in_memory(A.toarray() if sp.issparse(A) else A)
    else:
        SA = SketchDistribution("sparse_sign", rows).draw(n, rng=rng) @ A
    R0, cols, r, _ = _sketch_factor(SA, tol)
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


def _right_solve(Y, R):
    """Y <- Y R^{-1} in place for upper triangular R."""
    return _right_triangular("trsm", Y, R)


def _add_gram(G, Y):
    """G += Y^T Y in the upper triangle (BLAS syrk, in place, no copy of Y)."""
    (syrk,) = blas.get_blas_funcs(("syrk",), (Y,))
    if Y.flags.f_contiguous:
        return syrk(1.0, Y, trans=1, lower=0, beta=1.0, c=G, overwrite_c=1)
    return syrk(1.0, Y.T, trans=0, lower=0, beta=1.0, c=G, overwrite_c=1)


def _gram(Y):
    """The upper triangle of Y^T Y."""
    return _add_gram(np.zeros((Y.shape[1], Y.shape[1]), dtype=Y.dtype, order="F"), Y)


def _gram_rows(R0, i0, Y):
    return None, _gram(_right_solve(Y, R0))


def _preconditioned_gram(A, cols, R0):
    """The upper triangle of Y^T Y for Y = A[:, cols] R0^{-1}, one pass over A."""
    return map_rows(partial(_gram_rows, R0), A, cols=cols)[1]


def _cholesky_factor(G):
    """Upper R1 with G = R1^T R1, or None when G is not safely PD."""
    (potrf, trcon) = lapack.get_lapack_funcs(("potrf", "trcon"), (G,))
    R1, info = potrf(G, lower=0, overwrite_a=1, clean=1)
    if info != 0:
        return None
    rcond, info = trcon(R1, norm="1", uplo="U", diag="N")
    if info != 0 or rcond < _MIN_RCOND:
        return None
    return R1


class _Factor(NamedTuple):
    """A[:, cols] = Q R1 R0 with Q orthonormal: the triangular factor in two parts.

    R0 preconditions (A[:, cols] R0^{-1} is well conditioned) and R1 is the
    Cholesky factor of that product's Gram matrix; solving with R0 and then
    R1 keeps rows that carry whole directions accurate (one solve with the
    product R1 R0 lost up to 1e-9 on rows of leverage 1 at cond 1e12). Q is
    set when it was formed anyway (small A, Householder fallback); R1 is
    then the identity. ``cols`` is None for all columns in order; ``rank``
    is their number.
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


def _householder(A, tol):
    """The _Factor of an in-memory A by Householder QR.

    Unpivoted when A has full numerical rank: Q is then the same for any
    positive scaling of A's columns (pivoting would order the columns by
    their scaled norms); otherwise pivoted on its equilibrated columns.
    """
    dense = _dense_columns(A, None)
    n, d = dense.shape
    e, inner = _column_scales(dense)
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
            return _Factor(R, np.eye(d, dtype=R.dtype), None, Q)
    cols, r, R, Q = _rank_revealing(dense, tol, with_q=True)
    if r == A.shape[1] and np.array_equal(cols, np.arange(r)):
        cols = None
    return _Factor(R, np.eye(r, dtype=R.dtype), cols, Q)


def _factor(A, rank_tol, rng, *, keep_q=False):
    """The triangular factor of A on its numerical rank, as a _Factor.

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
    tol = _rank_tol(rank_tol, d, A.dtype)
    if n < _TALL * d or n * d < _LARGE:
        return _householder(_in_memory(A), tol)
    R0, cols, r = _preconditioner(A, _SKETCH_TOL_FRACTION * tol, rng)
    for _ in range(2):  # the second time on the columns the exact factor keeps
        if r == 0:
            empty = np.zeros((0, 0), A.dtype)
            Q = np.zeros((n, 0), A.dtype) if keep_q else None
            return _Factor(empty, empty, np.arange(0), Q)
        if keep_q:
            Y = _right_solve(_dense_columns(A, cols), R0)
            G = _add_gram(np.zeros((r, r), dtype=A.dtype, order="F"), Y)
        else:
            Y, G = None, _preconditioned_gram(A, cols, R0)
        R1 = _cholesky_factor(G)
        if R1 is None and is_dask(A):
            R1 = _tsqr_factor(A, cols, R0)
        elif R1 is None:
            break
        kept, r_exact, T, _ = _rank_revealing(np.triu(R1 @ R0), tol)
        if r_exact == r:
            Q = None if Y is None else _right_solve(Y, R1)
            return _Factor(R0, R1, cols, Q)
        cols, R0, r = (np.arange(d) if cols is None else cols)[kept], T, r_exact
    # A failed sketch, or a rank that moved twice (rounding decides at the
    # threshold): Householder QR of A in memory.
    return _householder(_in_memory(A), tol)


def _tsqr_factor(A, cols, R0):
    """R1 with A[:, cols] R0^{-1} R1^{-1} orthonormal, for a dask A: TSQR, R only."""
    import dask.array as da

    Y = (A if cols is None else A[:, cols]).map_blocks(
        lambda block: _right_solve(np.array(block, order="C"), R0), dtype=A.dtype
    )
    R1 = da.linalg.tsqr(Y)[1].compute()
    return np.triu(R1 * np.where(np.diag(R1) < 0, -1, 1)[:, None])


def _in_memory(A):
    """A as numpy, for the small problems that skip the streaming passes."""
    return A.compute() if is_dask(A) else A


def _dense_columns(A, cols):
    """A dense copy of A[:, cols] (all columns when cols is None)."""
    block = A if cols is None else A[:, cols]
    if sp.issparse(block):
        return block.toarray()
    return np.array(block, order="K")


def _qr(A, rank_tol, rng):
    """(Q, R, cols): Q = A[:, cols] R^{-1} orthonormal, R upper triangular.

    See _factor; ``cols`` is None for all columns in order.
    """
    f = _factor(A, rank_tol, rng, keep_q=True)
    return f.Q, f.R, f.cols


def _basis(A, rank_tol, rng):
    """An orthonormal basis of the column space of A (see _factor)."""
    return _factor(A, rank_tol, rng, keep_q=True).Q


def _upper_inverse(R):
    return scipy.linalg.solve_triangular(R, np.eye(len(R), dtype=R.dtype), check_finite=False)


def _solve_rows(f, Y, R1_inverse=None):
    """Y <- Y R0^{-1} R1^{-1} in place: rows of the basis Q of a _Factor.

    R1 is well conditioned (its reciprocal condition number is at least
    _MIN_RCOND), so multiplying by its inverse (BLAS trmm, three times
    faster than a second solve) costs no accuracy; R0, as ill conditioned
    as A, is solved with.
    """
    R1_inverse = _upper_inverse(f.R1) if R1_inverse is None else R1_inverse
    return _right_triangular("trmm", _right_solve(Y, f.R0), R1_inverse)


def _basis_rows(A, rows, rank_tol, rng):
    """Rows `rows` of an orthonormal basis Q, without forming the others."""
    f = _factor(A, rank_tol, rng)
    if f.Q is not None:
        return f.Q[rows]
    A = sp.csr_array(A)[rows] if sp.issparse(A) else A[rows]
    return _solve_rows(f, _dense_columns(A, f.cols))


def _exact_scores(A, rank_tol, rng):
    """(squared row norms of Q, rank), block by block: Q is never stored."""
    f = _factor(A, rank_tol, rng)
    if f.Q is not None:
        return _row_norms_squared(f.Q), f.rank
    return map_rows(partial(_solved_norms, f, _upper_inverse(f.R1)), A, cols=f.cols)[0], f.rank


def _warn_rank(r, shape, rank_tol, what, dtype=np.float64):
    """A RankWarning when the rank kept is below min(n, d)."""
    d = shape[1]
    if r < min(shape):
        warnings.warn(
            f"A has numerical rank {r} < {d} columns (relative tolerance "
            f"{_rank_tol(rank_tol, d, dtype):.2g} on its column-equilibrated factor): "
            f"{what} are those of the column space of the {r} columns kept",
            RankWarning,
            stacklevel=3,
        )


def _row_norms_squared(Y):
    return np.einsum("ij,ij->i", Y, Y)


def _solved_norms(f, R1_inverse, i0, Y):
    """(squared row norms of Y R0^{-1} R1^{-1}, None) for map_rows; overwrites Y."""
    return _row_norms_squared(_solve_rows(f, Y, R1_inverse)), None


def _product_norms(M, i0, block):
    """(squared row norms of block @ M, None) for map_rows."""
    return _row_norms_squared(np.asarray(block @ M)), None


def orthonormal_basis(A, *, rank_tol=None, rng=None):
    r"""An orthonormal basis of the column space of ``A``.

    .. math::

        Q^\top Q = I_r, \qquad \operatorname{range}(Q) = \operatorname{range}(A),

    by the exact path of :func:`leverage_scores`, which keeps :math:`Q`
    instead of only its row norms.

    Parameters
    ----------
    A : array_like or scipy.sparse matrix, shape (n, d)
        Dense (C or Fortran order; float32 stays float32) or CSR/CSC.
    rank_tol : float, optional
        Relative rank tolerance; see :func:`leverage_scores`.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the sketch of the preconditioner (SPEC 7).

    Returns
    -------
    Q : ndarray, shape (n, r)
        :math:`Q^\top Q = I_r` to working precision, :math:`r` the numerical
        rank, in ``A``'s float dtype.

    Warns
    -----
    RankWarning
        When :math:`r` is less than the number of columns.

    Notes
    -----
    Cost: for tall ``A`` (``n >= 8 d`` and ``n d >= 50000``) a sparse sign
    sketch, then about :math:`3nd^2` flops (two triangular solves and a Gram
    matrix) on one dense ``n x r`` array, which becomes :math:`Q`; otherwise
    pivoted Householder QR.

    References
    ----------
    Garrison, J. & Ipsen, I. (2024). A randomized preconditioned Cholesky-QR
    algorithm. arXiv:2406.11751.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((1000, 5))
    >>> Q = randla.orthonormal_basis(A, rng=0)
    >>> bool(np.allclose(Q.T @ Q, np.eye(5)))
    True
    """
    A = as_matrix(A, "A", accept_sparse=True)
    rank_tol = _check_rank_tol(rank_tol)
    Q = _basis(A, rank_tol, check_rng(rng))
    _warn_rank(Q.shape[1], A.shape, rank_tol, "the columns of Q", A.dtype)
    return Q


def _check_rank_tol(rank_tol):
    return None if rank_tol is None else check_number(rank_tol, "rank_tol", "[0, 1)")


def _jl_size(n, low, high, delta):
    """Smallest k with P(chi2_k / k outside [1 - low, 1 + high]) <= delta / n."""

    def failure(k):
        return chi2.cdf((1 - low) * k, k) + chi2.sf((1 + high) * k, k)

    lo, hi = 1, 2
    while failure(hi) > delta / n:
        lo, hi = hi, 2 * hi
    while lo < hi:
        mid = (lo + hi) // 2
        if failure(mid) > delta / n:
            lo = mid + 1
        else:
            hi = mid
    return hi


# Failure probability of the Gaussian projection of the sketched scores.
_SKETCH_DELTA = 0.01


def _sketch_plan(n, d, nnz, eps):
    """(k1, k2): the sizes of the two stages of the sketched scores.

    An eps1-embedding followed by a projection that keeps squared norms in
    [1 - low, 1 + high] gives estimates within
    [(1 - low)/(1 + eps1)^2, (1 + high)/(1 - eps1)^2] of the scores; for each
    eps1 on a grid, low and high are the largest that keep this inside
    [1 - eps, 1 + eps], and the plan with the fewest flops (the QR of the
    k1 x d sketch, then the n x d by d x min(k2, d) product) wins.
    """
    best = None
    for eps1 in np.linspace(0.01, 0.3, 59):
        high = (1 + eps) * (1 - eps1) ** 2 - 1
        low = 1 - (1 - eps) * (1 + eps1) ** 2
        if high <= 0 or low <= 0:
            break
        k1 = math.ceil(d / eps1**2) + 8
        if k1 > n:
            continue
        k2 = _jl_size(n, min(low, 0.999), high, _SKETCH_DELTA)
        cost = 2 * k1 * d * d + 2 * nnz * min(k2, d)
        if best is None or cost < best[0]:
            best = (cost, k1, k2)
    if best is None:  # too few rows for any plan: sketch with all of them
        return n, d
    return best[1], best[2]


def _sketched_scores(A, eps, rank_tol, rng):
    n, d = A.shape
    nnz = A.nnz if sp.issparse(A) else n * d
    k1, k2 = _sketch_plan(n, d, nnz, eps)
    R0, cols, r = _preconditioner(A, _rank_tol(rank_tol, d, A.dtype), rng, rows=k1)
    if r == 0:
        return np.zeros(n, dtype=A.dtype), 0
    if k2 >= r:
        # The projection would not save work: exact row norms of A R0^-1.
        omega = np.eye(r, dtype=A.dtype)
    else:
        omega = rng.standard_normal((r, k2)).astype(A.dtype) / math.sqrt(k2)
    M = scipy.linalg.solve_triangular(R0, omega, check_finite=False)
    return map_rows(partial(_product_norms, M), A, cols=cols, densify=False)[0], r


def leverage_scores(A, *, method="auto", rank_tol=None, eps=0.5, rng=None):
    r"""Statistical leverage scores of the rows of ``A``.

    .. math::

        \tau_i = \|Q_{i,:}\|_2^2 = a_i^\top (A^\top A)^{+} a_i,
        \qquad 0 \le \tau_i \le 1, \quad \sum_i \tau_i = \operatorname{rank}(A),

    with :math:`Q` an orthonormal basis of the column space of :math:`A`.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        Dense (C or Fortran order; float32 stays float32) or CSR/CSC.
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    method : {"auto", "qr", "sketch"}, optional
        ``"qr"``: exact, to the accuracy of Householder QR. For tall A
        (``n >= 8 d`` and ``n d >= 50000``) by sketch-preconditioned Cholesky
        QR: a sparse sign sketch :math:`SA` (``4d + 8`` rows), its pivoted
        QR :math:`SAP = QR`, :math:`Y = AP_r R_0^{-1}`, the Cholesky factor
        :math:`R_1` of :math:`Y^\top Y`, and :math:`\tau_i = \|(Y R_1^{-1})_{i,:}\|^2`,
        in two passes over blocks of rows of A (Y is never stored; sparse A
        is densified one block at a time). When :math:`Y^\top Y` is not
        safely positive definite (the reciprocal condition number of
        :math:`R_1` below 1e-3, which a failed sketch would cause)
        Householder QR of :math:`Y` takes over. Smaller or wide A go to
        pivoted Householder QR directly. When the exact factor
        :math:`R_1R_0` is numerically rank deficient, the columns it keeps
        are factored again in one more pass. The scores are row norms of
        :math:`A P_r R_0^{-1} R_1^{-1}`, by two triangular solves: one
        solve with the product :math:`R_1 R_0` loses accuracy on rows of
        leverage near 1 of ill-conditioned matrices.
        ``"sketch"``: relative-error approximation (Drineas, Magdon-Ismail,
        Mahoney & Woodruff, 2012); see Notes. ``"auto"``: ``"qr"``; it is
        exact whatever the shape, so results never change silently with it.
    rank_tol : float, optional
        Relative rank tolerance, ``0 <= rank_tol < 1``, applied to the
        column-equilibrated triangular factor :math:`RD` (:math:`D` scales
        each column to unit norm, so rescaling a column, which leaves the
        scores unchanged, never changes the rank): singular values at most
        ``rank_tol`` times the largest count as zero. Default
        :math:`50\sqrt{d}` eps of the dtype (1.1e-14 for ``d = 5``), which
        does not grow with ``n``. The exact path decides it on the exact
        factor of :math:`A`, not on a sketch, so the rank and the scores do
        not depend on ``rng``; ``"sketch"`` decides it on its sketch.
    eps : float, optional
        Accuracy of ``method="sketch"``, ``0 < eps < 1``: every estimate
        within a factor :math:`[1 - \varepsilon, 1 + \varepsilon]` of the
        exact score (see Notes). Ignored by the exact path.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the sketches (SPEC 7). The exact scores do
        not depend on it beyond rounding.

    Returns
    -------
    ndarray, shape (n,)
        The scores, in ``A``'s float dtype; they sum to the numerical rank
        (exact path).

    Warns
    -----
    RankWarning
        When the numerical rank is less than the number of columns: the
        scores are those of the column space of the columns kept.

    Notes
    -----
    **Sketched scores.** With :math:`\varepsilon_2 = \varepsilon/2` and
    :math:`\varepsilon_1` the largest value with
    :math:`(1+\varepsilon_2)/(1-\varepsilon_1)^2 \le 1+\varepsilon` and
    :math:`(1-\varepsilon_2)/(1+\varepsilon_1)^2 \ge 1-\varepsilon`:

    1. :math:`R_0` from the pivoted QR of :math:`S_1 A`, :math:`S_1` a sparse
       sign sketch with :math:`k_1 = \lceil d/\varepsilon_1^2\rceil + 8` rows;
    2. :math:`\Omega \in \mathbb{R}^{r \times k_2}` Gaussian with variance
       :math:`1/k_2`, :math:`k_2` the smallest size with
       :math:`P(\chi^2_{k_2}/k_2 \notin [1 \pm \varepsilon_2]) \le 0.01/n`
       (exact chi-square tails);
    3. :math:`\tilde\tau_i = \|(A P_r R_0^{-1} \Omega)_{i,:}\|^2`, computed as
       :math:`A\,(P_r R_0^{-1}\Omega)`: O(nnz(A) k_2), no densification of
       sparse A. When :math:`k_2 \ge r` the projection saves nothing and
       :math:`\Omega = I` (exact row norms of :math:`AP_rR_0^{-1}`).

    **Guarantee.** If :math:`S_1` is an :math:`\varepsilon_1`-subspace
    embedding of the column space of :math:`A`, the singular values of
    :math:`AP_rR_0^{-1}` lie in :math:`[1/(1+\varepsilon_1), 1/(1-\varepsilon_1)]`,
    so every row norm is within that factor of :math:`\tau_i`; then
    :math:`\Omega` keeps every one of the ``n`` squared norms within
    :math:`1 \pm \varepsilon_2` except with probability 0.01 (union bound), and
    :math:`\tilde\tau_i / \tau_i \in [1-\varepsilon, 1+\varepsilon]` for all
    :math:`i`. The embedding size is the one part not proven here: sparse
    sign embeddings with :math:`O(d \log d/\varepsilon^2)` rows are
    :math:`\varepsilon`-embeddings (Cohen, 2016) with unspecified constants,
    and :math:`d/\varepsilon_1^2` is the size at which Gaussian embeddings
    reach :math:`\varepsilon_1`; the tests check the factor empirically over
    many seeds. For a proven bound, draw the first sketch at
    :func:`randla.sketch_size`.

    **Cost.** Exact: the sketch (O(nnz(A)) times the 8 nonzeros per column
    of :math:`S`), three triangular solves and one Gram matrix on blocks of
    rows, about :math:`4nd^2` flops in level-3 BLAS (a third pass when the
    rank is truncated), and memory for one
    block of rows (about 4 MB) besides A. Sketched: the sketch, a QR of
    :math:`k_1 \times d`, and :math:`2\,\mathrm{nnz}(A)\min(k_2, r)` flops.

    References
    ----------
    Drineas, P., Magdon-Ismail, M., Mahoney, M. & Woodruff, D. (2012). Fast
    approximation of matrix coherence and statistical leverage. JMLR 13.
    Cohen, M. (2016). Nearly tight oblivious subspace embeddings by trace
    inequalities. SODA.
    Fan, Y., Guo, Y. & Lin, T. (2021). A novel randomized XR-based
    preconditioned CholeskyQR algorithm. arXiv:2111.11148.
    Balabanov, O. (2022). Randomized Cholesky QR factorizations.
    arXiv:2210.09953.
    Garrison, J. & Ipsen, I. (2024). A randomized preconditioned Cholesky-QR
    algorithm. arXiv:2406.11751.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((2000, 10))
    >>> A[0] *= 1000                      # one dominant row
    >>> tau = randla.leverage_scores(A)
    >>> round(float(tau.sum()), 10), round(float(tau[0]), 4)
    (10.0, 1.0)
    >>> tau_hat = randla.leverage_scores(A, method="sketch", eps=0.5, rng=0)
    >>> bool(np.all(np.abs(tau_hat / tau - 1) <= 0.5))
    True
    """
    A = as_matrix(A, "A", accept_sparse=True, accept_dask=True)
    check_option(method, "method", METHODS)
    rank_tol = _check_rank_tol(rank_tol)
    eps = check_number(eps, "eps", "(0, 1)")
    rng = check_rng(rng)
    if method == "sketch":
        tau, r = _sketched_scores(A, eps, rank_tol, rng)
    else:
        tau, r = _exact_scores(A, rank_tol, rng)
    _warn_rank(r, A.shape, rank_tol, "the scores", A.dtype)
    return tau


def ridge_leverage_scores(A, lam, *, rng=None):
    r"""Ridge leverage scores :math:`\tau_i(\lambda) = a_i^\top (A^\top A + \lambda I)^{-1} a_i`.

    They are the leverage scores of the first ``n`` rows of the stacked
    matrix :math:`[A; \sqrt\lambda I_d]`, computed by the exact path of
    :func:`leverage_scores`; :math:`\sum_i \tau_i(\lambda) =
    \sum_j \sigma_j^2/(\sigma_j^2 + \lambda)`, the effective dimension.

    Parameters
    ----------
    A : array_like or scipy.sparse matrix, shape (n, d)
        Dense (C or Fortran order; float32 stays float32) or CSR/CSC.
    lam : float
        Regularisation, ``lam > 0`` (``lam = 0`` is :func:`leverage_scores`).
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the preconditioner's sketch (SPEC 7).

    Returns
    -------
    ndarray, shape (n,)
        The scores, in ``A``'s float dtype, each in :math:`[0, 1]`.

    Notes
    -----
    Cost: a copy of ``A`` stacked over :math:`\sqrt\lambda I_d`, then the
    exact path of :func:`leverage_scores` on that ``(n + d) x d`` matrix.

    References
    ----------
    Alaoui, A. & Mahoney, M. (2015). Fast randomized kernel ridge regression
    with statistical guarantees. NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.diag([3.0, 1.0])
    >>> randla.ridge_leverage_scores(A, 1.0)          # sigma^2 / (sigma^2 + lam)
    array([0.9, 0.5])
    """
    A = as_matrix(A, "A", accept_sparse=True)
    if not (
        isinstance(lam, (int, float, np.floating, np.integer)) and np.isfinite(lam) and lam > 0
    ):
        raise ValueError(f"lam must be a finite number > 0, got {lam!r}")
    n, d = A.shape
    root = math.sqrt(lam) * (
        sp.identity(d, dtype=A.dtype, format="csr") if sp.issparse(A) else np.eye(d, dtype=A.dtype)
    )
    stacked = sp.vstack([A, root], format="csr") if sp.issparse(A) else np.vstack([A, root])
    return _exact_scores(stacked, 0.0, check_rng(rng))[0][:n]


def root_leverage_scores(A, p, *, method="auto", rank_tol=None, eps=0.5, rng=None):
    r"""Root leverage scores :math:`\tau_i^{p/2}` for :math:`1 \le p \le 2`.

    For :math:`p \le 2` they bound the :math:`\ell_p` sensitivities from
    above, :math:`\sigma_i^{(p)} \le \tau_i^{p/2}`, because
    :math:`\|Ax\|_2 \le \|Ax\|_p`; root-leverage sampling by them needs
    roughly ``d`` rows for an :math:`\ell_p` subspace embedding (Woodruff &
    Yasuda, 2023). The other arguments are those of :func:`leverage_scores`,
    and so is the cost.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    p : float
        The exponent, ``1 <= p <= 2``.
    method, rank_tol, eps, rng
        As in :func:`leverage_scores`.

    Returns
    -------
    ndarray, shape (n,)
        :math:`\tau_i^{p/2}`, in ``A``'s float dtype.

    References
    ----------
    Woodruff, D. & Yasuda, T. (2023). Sharper bounds for l_p sensitivity
    sampling. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.vstack([np.eye(2), np.eye(2)])          # every tau_i = 1/2
    >>> randla.root_leverage_scores(A, 1)
    array([0.70710678, 0.70710678, 0.70710678, 0.70710678])
    """
    p = check_p(p)
    if p > 2:
        raise ValueError(
            f"p must be <= 2 for root leverage scores (tau^(p/2) bounds the l_p "
            f"sensitivities only for p <= 2), got {p}"
        )
    tau = leverage_scores(A, method=method, rank_tol=rank_tol, eps=eps, rng=rng)
    return np.maximum(tau, 0) ** (p / 2)
