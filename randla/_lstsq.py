r"""Least squares: direct, sketch-and-solve and sketch-and-precondition."""

import dataclasses
import math
from functools import partial

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, lsqr

from ._blocks import is_dask, map_rows, residual_norms
from ._linalg import (
    SKETCH_TOL_FRACTION,
    cholesky_factor,
    column_scales,
    dense_columns,
    gram,
    in_memory,
    rank_revealing,
    rank_tolerance,
    right_solve,
    sketch_factor,
    triangular_condition,
    unit_columns,
)
from ._sketch import KINDS as SKETCH_KINDS
from ._sketch import SketchDistribution
from ._validation import (
    ConvergenceWarning,
    as_matrix,
    as_rhs,
    as_weights,
    check_option,
    check_param,
    check_rng,
    exact_rng,
    renamed,
    warn,
)

__all__ = ["LstsqResult", "lstsq"]

METHODS = ("auto", "precondition", "lsqr", "sketch", "direct")

# One LSQR solve from the sketch-and-solve start, then this many refinement
# solves on the residual recomputed with A (Epperly, Meier & Nakatsukasa
# 2024: refinement is what makes sketch-and-precondition accurate).
_LSQR_REFINEMENTS = 1


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class LstsqResult:
    r"""The result of :func:`lstsq`.

    Built by :func:`lstsq` and :func:`volume_lstsq`; not meant to be
    constructed by hand.

    Parameters
    ----------
    x, residual_norm, iterations, converged, method, k, condition_estimate, rank
        The attributes below, in this order.

    Attributes
    ----------
    x : ndarray, shape (d,) or (d, m)
        The solution, shaped like ``b`` (one column per right-hand side).
    residual_norm : float or ndarray, shape (m,)
        :math:`\|b - Ax\|_2` (weighted: :math:`\|W^{1/2}(b - Ax)\|_2`), per
        right-hand side, computed from the returned ``x``.
    iterations : int
        LSQR iterations of the last solve (``"lsqr"``; the most over the
        right-hand sides), else 0.
    converged : bool
        False only when LSQR stopped at ``max_iter`` before ``tol``.
    method : str
        The method that ran: ``"precondition"``, ``"lsqr"``, ``"sketch"`` or
        ``"direct"``; ``"volume"`` from :func:`volume_lstsq`.
    k : int
        Rows of the sketch (0 for ``"direct"``; the ``k`` sampled rows for
        ``"volume"``).
    condition_estimate : float
        An estimate of :math:`\kappa_2(W^{1/2}AD)` on its numerical rank,
        :math:`D` the scaling of the columns to unit norm: exact from the
        singular values (``"direct"``, ``"sketch"``: of the sketch), or the
        1-norm condition estimate of the triangular factor (the others).
    rank : int
        The numerical rank used: less than ``d`` when columns were judged
        dependent (they get zero coefficients, or the minimum-norm solution
        for ``"direct"``).

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((100, 3))
    >>> res = randla.lstsq(A, A @ np.ones(3))
    >>> res.method, res.rank, res.converged
    ('direct', 3, True)
    >>> bool(np.allclose(res.x, 1) and res.residual_norm < 1e-10)
    True
    """

    x: np.ndarray
    residual_norm: float | np.ndarray
    iterations: int
    converged: bool
    method: str
    k: int
    condition_estimate: float
    rank: int

    def __repr__(self):
        res = self.residual_norm
        res = f"{res:.6g}" if np.ndim(res) == 0 else np.array2string(np.asarray(res), precision=6)
        return (
            f"LstsqResult(method={self.method!r}, residual_norm={res}, rank={self.rank}, "
            f"iterations={self.iterations}, converged={self.converged}, "
            f"k={self.k}, condition_estimate={self.condition_estimate:.3g})"
        )


def _embed(x_r, cols, d):
    """x with the solution for the kept columns and zeros elsewhere."""
    if cols is None:
        return x_r
    x = np.zeros((d,) + x_r.shape[1:], dtype=x_r.dtype)
    x[cols] = x_r
    return x


def _equilibrated_lstsq(M, B, tol):
    """(x, rank, cond) of min ||M x - B|| by LAPACK gelsd on M's columns scaled to unit norm.

    Rank and the minimum-norm choice are those of the column-equilibrated
    problem, so a column in other units is neither dropped nor favoured;
    ``cond`` is the condition number of the equilibrated M on its rank. B
    is scaled by a power of two too (exact): the residuals scipy sums in
    squares would overflow for B of 1e300.
    """
    e, inner = column_scales(M)  # M[:, j] / (inner_j 2^e_j) has norm 1
    inner = np.where(inner > 0, inner, 1)
    b_scale = math.ldexp(1.0, int(np.frexp(np.max(np.abs(B), initial=0))[1]) - 1)
    y, _, rank, sv = scipy.linalg.lstsq(
        np.ldexp(M, -e) / inner, B / b_scale, cond=tol, lapack_driver="gelsd", check_finite=False
    )
    if y.ndim == 2:
        e, inner = e[:, None], inner[:, None]
    x = np.ldexp(y / inner, -e) * b_scale
    cond = sv[0] / sv[rank - 1] if rank > 0 else math.inf
    return x, rank, float(cond)


def _nonzero(A):
    """True when A has a nonzero entry (one pass)."""
    if sp.issparse(A):
        return A.count_nonzero() > 0
    found = A.any()
    return bool(found.compute() if is_dask(A) else found)


def _direct(A, b, tol):
    return _equilibrated_lstsq(A.toarray() if sp.issparse(A) else A, b, tol)


def _sketch_and_solve(A, b, k, kind, tol, rng):
    S = SketchDistribution(kind, k).draw(A.shape[0], rng=rng)
    return _equilibrated_lstsq(S @ A, S @ b, tol)


def _equilibrated_condition(R):
    """The 1-norm condition estimate of R with its columns scaled to unit norm."""
    return triangular_condition(unit_columns(R))


def _cholesky_solve(A, b, R0, cols, z0):
    r"""The least-squares solution from one pass over A, or None.

    In the preconditioned basis Y = A[:, cols] R0^{-1} (well conditioned)
    the normal equations are harmless: one pass over blocks of rows
    accumulates Y^T Y and Y^T (b - Y z0), with z0 the sketch-and-solve
    solution in that basis, and z = z0 + (Y^T Y)^{-1} Y^T (b - Y z0) by
    Cholesky; x = R0^{-1} z. Starting from z0 makes the pass a step of
    iterative refinement: the right-hand side it rounds is a residual, not
    b, which brings nearly consistent problems to the accuracy of
    Householder QR. Returns None when Y^T Y is not safely positive definite.
    """
    r = R0.shape[0]
    Z0 = z0.reshape(r, -1)
    total = map_rows(partial(_refinement_rows, R0, Z0), A, b.reshape(len(b), -1), cols=cols)[1]
    G, c = np.asfortranarray(total[:, :r]), total[:, r:]
    R1 = cholesky_factor(G)
    if R1 is None:
        return None
    z = Z0 + scipy.linalg.cho_solve((R1, False), c, check_finite=False)
    x = scipy.linalg.solve_triangular(R0, z, check_finite=False)
    return (x if b.ndim == 2 else x[:, 0]), np.triu(R1 @ R0)


def _refinement_rows(R0, Z0, i0, Y, B):
    """(None, [Y^T Y, Y^T (B - Y Z0)]) for a block of Y = A[:, cols] R0^{-1}."""
    G = gram(right_solve(Y, R0))
    # einsum, not BLAS: interleaving these matrix-vector products with
    # the level-3 calls through OpenBLAS made all of them 2.5x slower.
    residual = B - np.einsum("ij,jk->ik", Y, Z0)
    return None, np.hstack([G, np.einsum("ij,ik->jk", Y, residual)])


def lsqr_solve(A, b, R0, cols, z0, tol, max_iter):
    """LSQR on A[:, cols] R0^{-1} from z0, then refinement."""
    A_r = A if cols is None else A[:, cols]
    n, r = A_r.shape
    op = LinearOperator(
        (n, r),
        matvec=lambda v: A_r @ scipy.linalg.solve_triangular(R0, v, check_finite=False),
        rmatvec=lambda u: scipy.linalg.solve_triangular(
            R0, A_r.T @ u, trans="T", check_finite=False
        ),
        dtype=A.dtype,
    )
    B = b.reshape(n, -1)
    Z0 = z0.reshape(r, -1)
    X = np.empty((r, B.shape[1]), dtype=A.dtype)
    iterations, converged = 0, True
    for j in range(B.shape[1]):
        x = np.zeros(r, dtype=A.dtype)
        start = Z0[:, j]
        for _ in range(1 + _LSQR_REFINEMENTS):
            residual = B[:, j] - A_r @ x
            dz, istop, itn = lsqr(op, residual, x0=start, atol=tol, btol=tol, iter_lim=max_iter)[:3]
            x = x + scipy.linalg.solve_triangular(R0, dz, check_finite=False)
            start = None
            iterations = max(iterations, itn)
            converged &= istop not in (3, 7)
        X[:, j] = x
    return (X if b.ndim == 2 else X[:, 0]), iterations, converged


@renamed(sketch="kind", sketch_size="k")
def lstsq(
    A,
    b,
    *,
    weights=None,
    method="auto",
    kind="sparse_sign",
    k=None,
    rank_tol=None,
    tol=None,
    max_iter=None,
    rng=None,
):
    r"""Solve :math:`\min_x \|W^{1/2}(Ax - b)\|_2` by sketching, or directly.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        Dense (C or Fortran order; float32 stays float32) or CSR/CSC.
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    b : array_like, shape (n,) or (n, m)
        One right-hand side or ``m`` of them.
    weights : array_like, shape (n,), optional
        Nonnegative row weights :math:`w_i`: weighted least squares
        :math:`\min_x \sum_i w_i (a_i^\top x - b_i)^2`.
    method : {"auto", "precondition", "lsqr", "sketch", "direct"}, optional
        ``"precondition"``: sketch-preconditioned Cholesky. A sketch
        :math:`SA` gives :math:`R_0` (pivoted QR, numerical rank :math:`r`)
        with :math:`Y = AP_rR_0^{-1}` well conditioned; one pass over blocks
        of rows accumulates :math:`Y^\top Y` and :math:`Y^\top b`, and
        :math:`Y^\top (b - Yz_0)` with :math:`z_0` the sketch-and-solve
        solution, and :math:`x = R_0^{-1}(z_0 + (Y^\top Y)^{-1}Y^\top (b - Yz_0))`
        by Cholesky: one pass that is also a step of iterative refinement.
        The normal equations are harmless in the well-conditioned basis:
        the accuracy is that of Householder QR (measured against extended
        precision up to cond(A) = 1e12). Falls back to ``"direct"`` when :math:`Y^\top Y`
        is not safely positive definite. Sparse A is densified one block of
        rows at a time. ``"lsqr"``: LSQR on :math:`AP_rR_0^{-1}`
        (Blendenpik; Avron, Maymounkov & Toledo 2010; Meng, Saunders &
        Mahoney 2014), from the sketch-and-solve solution, then one LSQR
        refinement on the residual recomputed with :math:`A`; O(nnz(A)) per
        iteration, for very sparse A. Its forward error can exceed the
        direct methods' on ill-conditioned problems (Meier, Nakatsukasa,
        Townsend & Webb 2024); measured: 1e-10 against 3e-12 for
        ``"direct"`` at cond(A) = 1e6, 2e-6 against 4e-7 at 1e10.
        ``"sketch"``: sketch-and-solve, :math:`x = \arg\min\|S(Ax - b)\|`.
        If :math:`S` is an :math:`\varepsilon`-subspace embedding of the
        span of :math:`[A, b]`, then :math:`\|Ax - b\| \le
        \frac{1+\varepsilon}{1-\varepsilon}\min_y\|Ay - b\|` (Sarlós 2006).
        ``"direct"``: LAPACK ``gelsd`` (SVD), the reference; rank-deficient
        safe, minimum-norm solution; sparse A is densified.
        ``"auto"``: for tall A (``n >= 8 d`` and ``n d >= 50000``),
        ``"lsqr"`` when A is sparse with ``nnz(A) < n d^2 / 60`` (about
        where 30 LSQR iterations cost less than the :math:`2nd^2` flops of
        ``"precondition"``), ``"precondition"`` otherwise; ``"direct"``
        for the rest.
    kind : {"sparse_sign", "countsketch", "srht", "gaussian"}, optional
        The sketch kind, as in :func:`randla.sketch`. Sparse sign (8
        nonzeros per column) embeds at a few times ``d`` rows; CountSketch
        needs about :math:`d^2`.
    k : int, optional
        Rows of the sketch, at least ``d``. Default ``4d + 8`` for ``"precondition"`` and
        ``20 (d + 1)`` for ``"sketch"`` (capped at ``n``).
    rank_tol : float, optional
        Relative rank tolerance on the column-equilibrated problem, as in
        :func:`randla.leverage_scores` (default :math:`50\sqrt{d}` eps,
        independent of ``n``; the units of a column never decide its fate).
        ``"precondition"`` decides it on the exact triangular factor, so the
        rank does not depend on ``rng``; ``"lsqr"`` and ``"sketch"`` on the
        sketch. Columns judged dependent get zero coefficients (a basic
        solution) for the sketching methods; ``"direct"`` returns the
        minimum-norm solution of the column-equilibrated problem. The
        residual is the same. The result's ``rank`` says what was kept.
    tol : float, optional
        LSQR's ``atol`` and ``btol`` (``"lsqr"``). Default ``10 eps`` of the
        dtype.
    max_iter : int, optional
        LSQR's iteration limit (``"lsqr"``), default 100; with
        :math:`\kappa(AR^{-1})` near 1 LSQR needs about 30 iterations for
        ``tol = 1e-15``.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the sketches: a seed or a
        ``numpy.random.Generator``. The solution of ``"precondition"``,
        ``"lsqr"`` and ``"direct"`` does not depend on it beyond rounding,
        and without it is the same bit for bit on every call (a fixed seed);
        ``"sketch"``'s solution is random.

    Returns
    -------
    LstsqResult
        The solution ``x``, its residual norm, the method that ran, the
        sketch size, the rank and a condition estimate.

    Warns
    -----
    ConvergenceWarning
        When LSQR stops at ``max_iter`` before ``tol``.

    Notes
    -----
    Cost of ``"precondition"``: the sketch, one pass with a triangular solve
    and a Gram matrix on blocks of rows (about :math:`2nd^2` flops in
    level-3 BLAS), small factorisations, and one pass for the residual;
    memory :math:`O(d^2)` plus one block of rows, never a copy of A
    (weights aside: :math:`W^{1/2}A` is formed once). ``"lsqr"``:
    O(nnz(A) + d^2) per iteration.

    References
    ----------
    Avron, H., Maymounkov, P. & Toledo, S. (2010). Blendenpik: supercharging
    LAPACK's least-squares solver. SIAM J. Sci. Comput. 32(3).
    Meng, X., Saunders, M. & Mahoney, M. (2014). LSRN: a parallel iterative
    solver for strongly over- or underdetermined systems. SIAM J. Sci.
    Comput. 36(2).
    Sarlós, T. (2006). Improved approximation algorithms for large matrices
    via random projections. FOCS.
    Meier, M., Nakatsukasa, Y., Townsend, A. & Webb, M. (2024). Are
    sketch-and-precondition least squares solvers numerically stable? SIAM
    J. Matrix Anal. Appl. 45(2).
    Epperly, E., Meier, M. & Nakatsukasa, Y. (2024). Fast randomized
    least-squares solvers can be just as accurate and stable as classical
    direct solvers. arXiv:2406.03468.
    Garrison, J. & Ipsen, I. (2024). A randomized preconditioned Cholesky-QR
    algorithm. arXiv:2406.11751.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((20_000, 10))
    >>> b = A @ np.arange(10.0) + 0.01 * rng.standard_normal(20_000)
    >>> res = randla.lstsq(A, b, rng=0)
    >>> res.method, bool(np.allclose(res.x, np.linalg.lstsq(A, b)[0]))
    ('precondition', True)
    """
    A = as_matrix(A, "A", accept_sparse=True, accept_dask=True)
    n, d = A.shape
    b = as_rhs(b, n, A.dtype)
    check_option(method, "method", METHODS)
    if is_dask(A) and method not in ("auto", "precondition", "sketch"):
        raise ValueError(
            f"method must be 'precondition' or 'sketch' for a dask array A, got {method!r}"
        )
    check_option(kind, "kind", SKETCH_KINDS)
    k = check_param(k, "k", optional=True)
    if k is not None and method == "direct":
        raise ValueError("k is the sketch's size: method='direct' uses no sketch")
    if k is not None and k < d:
        # Fewer sketch rows than columns cannot embed the column space: the
        # sketch would decide a rank of at most k and zero the other
        # coefficients (a wrong answer with converged=True).
        raise ValueError(f"k must be >= d = {d} (a sketch needs a row per column), got {k}")
    rank_tol = check_param(rank_tol, "rank_tol", optional=True)
    tol = check_param(tol, "tol", optional=True)
    max_iter = check_param(max_iter, "max_iter", optional=True)
    rng = check_rng(rng) if method == "sketch" else exact_rng(rng)
    if weights is not None:
        root = np.sqrt(as_weights(weights, n)).astype(A.dtype)
        A = sp.csr_array(sp.diags_array(root) @ A) if sp.issparse(A) else A * root[:, None]
        b = b * (root if b.ndim == 1 else root[:, None])
    return lstsq_unchecked(A, b, method, kind, k, rank_tol, tol, max_iter, rng)


def lstsq_unchecked(
    A,
    b,
    method="auto",
    kind="sparse_sign",
    k=None,
    rank_tol=None,
    tol=None,
    max_iter=None,
    rng=None,
):
    """lstsq on a checked (and weighted) A and b: the body callers inside randla use."""
    n, d = A.shape
    tol = 10 * np.finfo(A.dtype).eps if tol is None else tol
    max_iter = 100 if max_iter is None else max_iter
    if method == "auto":
        if is_dask(A):
            method = "precondition"
        elif not (n >= 8 * d and n * d >= 50_000):
            method = "direct"
        elif sp.issparse(A) and A.nnz < n * d * d / 60:
            method = "lsqr"
        else:
            method = "precondition"
    # b in units of a power of two near its largest entry (exact): the
    # solvers' own norms of b and of residuals then neither overflow nor
    # underflow, and x scales back exactly.
    b_scale = math.ldexp(1.0, int(np.frexp(np.max(np.abs(b)))[1]) - 1)
    x, iterations, converged, method, k, cond, rank = _solve(
        A, b / b_scale, method, kind, k, rank_tolerance(rank_tol, d, A.dtype), tol, max_iter, rng
    )
    return _result(A, b, x * b_scale, iterations, converged, method, k, cond, rank)


def _solve(A, b, method, kind, k, tol_rank, tol, max_iter, rng):
    """lstsq on checked arguments: (x, iterations, converged, method, k, cond, rank)."""
    n, d = A.shape
    if method == "direct":
        x, rank, cond = _direct(A, b, tol_rank)
        return x, 0, True, "direct", 0, cond, rank
    if method == "sketch":
        k = min(n, k or 20 * (d + 1))
        x, rank, cond = _sketch_and_solve(A, b, k, kind, tol_rank, rng)
        return x, 0, True, "sketch", k, cond, rank

    k = min(n, k or 4 * d + 8)
    if k == n:
        # A sketch as large as A saves nothing and can lose rank (two equal
        # rows of A in one bucket with opposite signs cancel): A itself.
        SA, Sb = dense_columns(in_memory(A), None), b
    else:
        S = SketchDistribution(kind, k).draw(n, rng=rng)
        SA, Sb = S @ A, S @ b
    zero = np.zeros((d,) + b.shape[1:], dtype=A.dtype), 0, True, method, k, math.inf, 0
    if not np.any(SA) and _nonzero(A):
        # The sketch cancelled every row of a nonzero A (two equal rows in one
        # bucket with opposite signs, likely when A has few nonzero rows): it
        # preconditions nothing, and the exact solve decides.
        x, rank, cond = _direct(in_memory(A), b, tol_rank)
        return x, 0, True, "direct", 0, cond, rank
    if method == "lsqr":
        # No exact factor is formed: the sketch decides the rank.
        R0, cols, r, z0 = sketch_factor(SA, tol_rank, Sb)
        if r == 0:
            return zero
        x_r, iterations, converged = lsqr_solve(A, b, R0, cols, z0, tol, max_iter)
        if not converged:
            warn(
                f"LSQR stopped after {iterations} iterations before reaching tol={tol:g}; "
                f"raise max_iter or k",
                ConvergenceWarning,
            )
        cond = _equilibrated_condition(R0)
        return _embed(x_r, cols, d), iterations, converged, "lsqr", k, cond, r
    # Sketch-and-solve, in the preconditioned coordinates z = R0 x: the start.
    # The sketch keeps every direction the exact factor might keep; the exact
    # factor R = R1 R0 then decides the rank.
    R0, cols, r, z0 = sketch_factor(SA, SKETCH_TOL_FRACTION * tol_rank, Sb)
    for _ in range(2):
        if r == 0:
            return zero
        solved = _cholesky_solve(A, b, R0, cols, z0)
        if solved is None:
            break
        x_r, R = solved
        kept, r_exact, T, _ = rank_revealing(R, tol_rank)
        if r_exact == r:
            cond = _equilibrated_condition(R)
            return _embed(x_r, cols, d), 0, True, "precondition", k, cond, r
        # Columns the exact factor drops: solve again on those it keeps, from
        # their sketch-and-solve solution.
        cols, R0, r = (np.arange(d) if cols is None else cols)[kept], T, r_exact
        z0 = R0 @ _equilibrated_lstsq(SA[:, cols], Sb, 0.0)[0]
    if is_dask(A):
        raise np.linalg.LinAlgError(
            "the sketch did not precondition A (Y^T Y not safely positive definite); "
            "retry with a larger k or another rng"
        )
    x, rank, cond = _direct(A, b, tol_rank)
    return x, 0, True, "direct", 0, cond, rank


def _result(A, b, x, iterations, converged, method, k, cond, rank):
    res = residual_norms(A, x, b)
    res = float(res) if b.ndim == 1 else res
    return LstsqResult(
        x, res, int(iterations), bool(converged), method, int(k), float(cond), int(rank)
    )
