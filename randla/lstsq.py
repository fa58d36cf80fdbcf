r"""Least squares: direct, sketch-and-solve and sketch-and-precondition."""

import dataclasses
import math
import warnings
from functools import partial

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, lsqr

from ._blocks import is_dask, is_memmap, map_rows
from ._validation import (
    ConvergenceWarning,
    as_matrix,
    as_rhs,
    as_weights,
    check_option,
    check_p,
    check_positive_int,
    check_rng,
)
from .leverage import (
    _cholesky_factor,
    _gram,
    _qr,
    _right_solve,
    _sketch_factor,
    _triangular_condition,
)
from .lewis import SENSITIVITY_METHODS, _sensitivity_bounds
from .sampling import sample_rows, volume_sample
from .sketch import KINDS as SKETCH_KINDS
from .sketch import SketchDistribution

__all__ = ["LstsqResult", "lstsq", "volume_lstsq", "LpRegressionResult", "lp_regression"]

METHODS = ("auto", "precondition", "lsqr", "sketch", "direct")

# One LSQR solve from the sketch-and-solve start, then this many refinement
# solves on the residual recomputed with A (Epperly, Meier & Nakatsukasa
# 2024: refinement is what makes sketch-and-precondition accurate).
_LSQR_REFINEMENTS = 1


@dataclasses.dataclass(frozen=True, repr=False)
class LstsqResult:
    r"""The result of :func:`lstsq`.

    Built by :func:`lstsq` and :func:`volume_lstsq`; not meant to be
    constructed by hand.

    Parameters
    ----------
    x, residual_norm, iterations, converged, method, sketch_size, condition_estimate, rank
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
    sketch_size : int
        Rows of the sketch (0 for ``"direct"``; the ``k`` sampled rows for
        ``"volume"``).
    condition_estimate : float
        An estimate of :math:`\kappa_2(W^{1/2}A)` on its numerical rank:
        exact from the singular values (``"direct"``), or the 1-norm
        condition estimate of the triangular factor (the others).
    rank : int
        The numerical rank used.

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
    sketch_size: int
    condition_estimate: float
    rank: int

    def __repr__(self):
        res = self.residual_norm
        res = f"{res:.6g}" if np.ndim(res) == 0 else np.array2string(np.asarray(res), precision=6)
        return (
            f"LstsqResult(method={self.method!r}, residual_norm={res}, rank={self.rank}, "
            f"iterations={self.iterations}, converged={self.converged}, "
            f"sketch_size={self.sketch_size}, condition_estimate={self.condition_estimate:.3g})"
        )


def _residual_norms(A, x, b):
    if is_dask(A) or is_memmap(A):
        return np.sqrt(map_rows(partial(_residual_powers, x, 2), A, b)[1])
    r = b - A @ x
    return np.linalg.norm(r, axis=0)


def _residual_powers(x, p, i0, block, b):
    """(None, sum |b - block x|^p per column): one block of a pass for map_rows."""
    return None, np.sum(np.abs(b - block @ x) ** p, axis=0)


def _embed(x_r, cols, d):
    """x with the solution for the kept columns and zeros elsewhere."""
    if cols is None:
        return x_r
    x = np.zeros((d,) + x_r.shape[1:], dtype=x_r.dtype)
    x[cols] = x_r
    return x


def _direct(A, b, rank_tol):
    dense = A.toarray() if sp.issparse(A) else A
    x, _, rank, sv = scipy.linalg.lstsq(
        dense, b, cond=rank_tol, lapack_driver="gelsd", check_finite=False
    )
    cond = sv[0] / sv[rank - 1] if rank > 0 else math.inf
    return x, rank, float(cond)


def _sketch_and_solve(A, b, k, kind, rank_tol, rng):
    S = SketchDistribution(kind, k).draw(A.shape[0], rng=rng)
    SA, Sb = S @ A, S @ b
    x, _, rank, sv = scipy.linalg.lstsq(
        SA, Sb, cond=rank_tol, lapack_driver="gelsd", check_finite=False
    )
    cond = sv[0] / sv[rank - 1] if rank > 0 else math.inf
    return x, rank, float(cond)


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
    R1 = _cholesky_factor(G)
    if R1 is None:
        return None
    z = Z0 + scipy.linalg.cho_solve((R1, False), c, check_finite=False)
    x = scipy.linalg.solve_triangular(R0, z, check_finite=False)
    return (x if b.ndim == 2 else x[:, 0]), np.triu(R1 @ R0)


def _refinement_rows(R0, Z0, i0, Y, B):
    """(None, [Y^T Y, Y^T (B - Y Z0)]) for a block of Y = A[:, cols] R0^{-1}."""
    G = _gram(_right_solve(Y, R0))
    # einsum, not BLAS: interleaving these matrix-vector products with
    # the level-3 calls through OpenBLAS made all of them 2.5x slower.
    residual = B - np.einsum("ij,jk->ik", Y, Z0)
    return None, np.hstack([G, np.einsum("ij,ik->jk", Y, residual)])


def _lsqr_solve(A, b, R0, cols, z0, tol, max_iter):
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


def lstsq(
    A,
    b,
    *,
    weights=None,
    method="auto",
    sketch="sparse_sign",
    sketch_size=None,
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
    sketch : {"sparse_sign", "countsketch", "srht", "gaussian"}, optional
        The sketch kind. Sparse sign (8 nonzeros per column) embeds at a
        few times ``d`` rows; CountSketch needs about :math:`d^2`.
    sketch_size : int, optional
        Rows of the sketch. Default ``4d + 8`` for ``"precondition"`` and
        ``20 (d + 1)`` for ``"sketch"`` (capped at ``n``).
    rank_tol : float, optional
        Relative rank tolerance, as in :func:`randla.leverage_scores`.
        Columns judged dependent get zero coefficients (a basic solution)
        for the sketching methods; ``"direct"`` returns the minimum-norm
        solution. The residual is the same.
    tol : float, optional
        LSQR's ``atol`` and ``btol`` (``"lsqr"``). Default ``10 eps`` of the
        dtype.
    max_iter : int, optional
        LSQR's iteration limit (``"lsqr"``), default 100; with
        :math:`\kappa(AR^{-1})` near 1 LSQR needs about 30 iterations for
        ``tol = 1e-15``.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the sketches (SPEC 7).

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
    check_option(sketch, "sketch", SKETCH_KINDS)
    rng = check_rng(rng)
    eps = np.finfo(A.dtype).eps
    tol = 10 * eps if tol is None else float(tol)
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    max_iter = 100 if max_iter is None else check_positive_int(max_iter, "max_iter")
    if sketch_size is not None:
        sketch_size = check_positive_int(sketch_size, "sketch_size")
    if weights is not None:
        root = np.sqrt(as_weights(weights, n)).astype(A.dtype)
        A = sp.csr_array(sp.diags_array(root) @ A) if sp.issparse(A) else A * root[:, None]
        b = b * (root if b.ndim == 1 else root[:, None])
    if method == "auto":
        if is_dask(A):
            method = "precondition"
        elif not (n >= 8 * d and n * d >= 50_000):
            method = "direct"
        elif sp.issparse(A) and A.nnz < n * d * d / 60:
            method = "lsqr"
        else:
            method = "precondition"
    if rank_tol is None:
        rank_tol = max(n, d) * eps

    if method == "direct":
        x, rank, cond = _direct(A, b, rank_tol)
        return _result(A, b, x, 0, True, "direct", 0, cond, rank)
    if method == "sketch":
        k = min(n, sketch_size or 20 * (d + 1))
        x, rank, cond = _sketch_and_solve(A, b, k, sketch, rank_tol, rng)
        return _result(A, b, x, 0, True, "sketch", k, cond, rank)

    k = min(n, sketch_size or 4 * d + 8)
    S = SketchDistribution(sketch, k).draw(n, rng=rng)
    # Sketch-and-solve, in the preconditioned coordinates z = R0 x: the start.
    R0, cols, r, z0 = _sketch_factor(S @ A, A.shape, rank_tol, S @ b)
    if r == 0:
        x = np.zeros((d,) + b.shape[1:], dtype=A.dtype)
        return _result(A, b, x, 0, True, method, k, math.inf, 0)
    if method == "lsqr":
        x_r, iterations, converged = _lsqr_solve(A, b, R0, cols, z0, tol, max_iter)
        if not converged:
            warnings.warn(
                f"LSQR stopped after {iterations} iterations before reaching tol={tol:g}; "
                f"raise max_iter or sketch_size",
                ConvergenceWarning,
                stacklevel=2,
            )
        cond = _triangular_condition(R0)
        return _result(A, b, _embed(x_r, cols, d), iterations, converged, "lsqr", k, cond, r)
    solved = _cholesky_solve(A, b, R0, cols, z0)
    if solved is None and is_dask(A):
        raise np.linalg.LinAlgError(
            "the sketch did not precondition A (Y^T Y not safely positive definite); "
            "retry with a larger sketch_size or another rng"
        )
    if solved is None:
        x, rank, cond = _direct(A, b, rank_tol)
        return _result(A, b, x, 0, True, "direct", 0, cond, rank)
    x_r, R = solved
    cond = _triangular_condition(R)
    return _result(A, b, _embed(x_r, cols, d), 0, True, "precondition", k, cond, r)


def _result(A, b, x, iterations, converged, method, k, cond, rank):
    res = _residual_norms(A, x, b)
    res = float(res) if b.ndim == 1 else res
    return LstsqResult(
        x, res, int(iterations), bool(converged), method, int(k), float(cond), int(rank)
    )


def volume_lstsq(A, b, k, *, rng=None):
    r"""The least-squares solution on ``k`` volume-sampled rows: unbiased for :math:`A^+ b`.

    .. math::

        \hat x = A_S^+ b_S, \qquad P(S) \propto \det(A_S^\top A_S), \qquad
        E[\hat x] = A^+ b,

    for every ``b`` (Dereziński & Warmuth, 2017): the estimate uses only
    the ``k`` entries :math:`b_S`, which is the point when responses are
    costly, and averaging independent estimates converges to the full
    solution.

    Parameters
    ----------
    A : array_like or scipy.sparse matrix, shape (n, d)
        Of full column rank.
    b : array_like, shape (n,) or (n, m)
        One right-hand side or ``m`` of them. The estimate uses only
        ``b[S]``; the whole of ``b`` is checked and enters
        ``residual_norm``.
    k : int
        ``d <= k <= n`` rows.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness (SPEC 7).

    Returns
    -------
    LstsqResult
        ``method="volume"``, ``sketch_size=k``; ``residual_norm`` is
        :math:`\|b - A\hat x\|_2` on all ``n`` rows and
        ``condition_estimate`` the condition number of :math:`A_S`.

    Notes
    -----
    The expected loss is also controlled: for ``k = d``,
    :math:`E\|A\hat x - b\|^2 = (d + 1)\|AA^+b - b\|^2` (the same paper).
    Sampling by :func:`randla.volume_sample`, then a dense solve of the
    ``k x d`` problem.

    References
    ----------
    Dereziński, M. & Warmuth, M. K. (2017). Unbiased estimates for linear
    regression via volume sampling. NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((500, 3))
    >>> b = A @ np.ones(3) + 0.1 * rng.standard_normal(500)
    >>> estimates = [randla.volume_lstsq(A, b, 3, rng=s).x for s in range(2000)]
    >>> bool(np.allclose(np.mean(estimates, axis=0), np.linalg.lstsq(A, b)[0], atol=0.05))
    True
    """
    A = as_matrix(A, "A", accept_sparse=True).astype(np.float64, copy=False)
    n, d = A.shape
    b = as_rhs(b, n, np.float64)
    k = check_positive_int(k, "k", maximum=n)
    if k < d:
        raise ValueError(f"k must be >= d = {d} for the unbiased volume-sampled estimator, got {k}")
    sample = volume_sample(A, k, rng=rng)
    x, rank, cond = _direct(sample.apply(A), b[sample.indices], None)
    return _result(A, b, x, 0, True, "volume", k, cond, rank)


@dataclasses.dataclass(frozen=True, repr=False)
class LpRegressionResult:
    r"""The result of :func:`lp_regression`.

    Built by :func:`lp_regression`; not meant to be constructed by hand.

    Parameters
    ----------
    x, objective, gap, iterations, converged, rows_used, p, method
        The attributes below, in this order.

    Attributes
    ----------
    x : ndarray, shape (d,)
        The solution (zeros on columns judged dependent).
    objective : float
        :math:`\|Ax - b\|_p` on the full data, for the returned ``x``.
    gap : float
        Full-data solves: a certified bound on the relative suboptimality of
        :math:`\|Ax - b\|_p^p` from a dual feasible point (Fenchel duality);
        for a solve on a sample, the bound for the sampled problem.
    iterations : int
        Newton iterations (0 for the linear program of p = 1).
    converged : bool
        True when ``gap`` reached ``tol`` (always, for the linear program).
    rows_used : int
        Rows of the problem that was solved (``n``, or the sample's size).
    p : float
        The norm.
    method : str
        ``"newton"``, ``"highs"`` or ``"homotopy"``, with ``"sample+"`` in
        front for a solve on a sample.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((100, 3))
    >>> res = randla.lp_regression(A, A @ np.ones(3) + rng.standard_t(1.5, size=100), p=1)
    >>> res.method, res.rows_used, res.converged
    ('highs', 100, True)
    >>> bool(res.gap < 1e-10)
    True
    """

    x: np.ndarray
    objective: float
    gap: float
    iterations: int
    converged: bool
    rows_used: int
    p: float
    method: str

    def __repr__(self):
        return (
            f"LpRegressionResult(p={self.p:g}, method={self.method!r}, "
            f"objective={self.objective:.8g}, gap={self.gap:.2g}, "
            f"iterations={self.iterations}, converged={self.converged}, "
            f"rows_used={self.rows_used})"
        )


def _dual_gap(Q, b, residual, p, y=None):
    r"""Relative gap of min (1/p)||Qz - b||_p^p certified by a dual point.

    Fenchel: min_z h(Qz - b) = max_y {-h*(y) - b^T y : Q^T y = 0}, with
    h = ||.||_p^p / p and h* = ||.||_q^q / q (1/p + 1/q = 1; for p = 1, h*
    is the indicator of ||y||_inf <= 1). y is the gradient of h at the
    residual (or the given y, the LP's dual solution for p = 1), projected
    onto {Q^T y = 0} and, for p = 1, scaled into the box: feasible, so the
    gap bounds the suboptimality whatever produced it.
    """
    g = np.sign(residual) * np.abs(residual) ** (p - 1) if y is None else y
    y = g - Q @ (Q.T @ g)
    primal = np.sum(np.abs(residual) ** p) / p
    if p == 1:
        y /= max(1.0, np.max(np.abs(y)))
        dual = -b @ y
    else:
        q = p / (p - 1)
        dual = -np.sum(np.abs(y) ** q) / q - b @ y
    return max(0.0, (primal - dual) / primal) if primal > 0 else 0.0


def _lp_newton(Q, b, p, tol, max_iter):
    """min ||Q z - b||_p^p by Newton with Armijo backtracking, Q orthonormal.

    Orthonormal Q keeps the Newton systems as well conditioned as the
    weights allow. For p < 2 the curvature weight |r|^(p-2) is capped at
    residuals below 1e-12 of the largest, which keeps every step a descent
    step. Stops when the certified relative duality gap is below tol
    (converged), or when no step decreases the objective any more.
    """
    z = Q.T @ b  # the least-squares start
    r = Q @ z - b
    value = np.sum(np.abs(r) ** p)
    for it in range(max_iter + 1):
        if _dual_gap(Q, b, r, p) <= tol:
            return z, it, True
        if it == max_iter:
            break
        a = np.abs(r)
        grad = p * Q.T @ (np.sign(r) * a ** (p - 1))
        weights = p * (p - 1) * np.maximum(a, 1e-12 * max(a.max(), 1e-300)) ** (p - 2)
        H = (Q.T * weights) @ Q
        step = -scipy.linalg.solve(H, grad, assume_a="pos", check_finite=False)
        decrement = -grad @ step
        t = 1.0
        while t > 1e-14:
            r_new = r + t * (Q @ step)
            v = np.sum(np.abs(r_new) ** p)
            if v <= value - 0.25 * t * decrement:
                break
            t /= 2
        else:
            break  # no descent left: the gap says how close we are
        z, r, value = z + t * step, r_new, v
    return z, it, False


def _lp_highs(Q, b):
    """min ||Q z - b||_1 through its dual LP: max b^T y, Q^T y = 0, |y| <= 1 (HiGHS).

    The multipliers of Q^T y = 0 are the solution z (up to sign, fixed by
    checking the objective); returns z and the dual point -y.
    """
    res = scipy.optimize.linprog(
        -b, A_eq=Q.T, b_eq=np.zeros(Q.shape[1]), bounds=(-1, 1), method="highs"
    )
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed: {res.message}")
    z = res.eqlin.marginals
    if np.sum(np.abs(Q @ z - b)) > np.sum(np.abs(Q @ z + b)):
        z = -z
    return z, -res.x


def _l1_dual(Q, residual):
    """The l1 dual point that a vertex solution suggests.

    At an optimum of min ||Q z - b||_1 at least r = rank residuals vanish;
    the dual y is sign(residual) on the others and solves Q^T y = 0 on the r
    smallest. Optimal (and then the gap is zero) when those |y_i| <= 1.
    """
    r = Q.shape[1]
    small = np.argsort(np.abs(residual))[:r]
    y = np.sign(residual)
    y[small] = 0.0
    y[small] = np.linalg.lstsq(Q[small].T, -(Q.T @ y), rcond=None)[0]
    return y


def _l1_homotopy(Q, b, tol, max_iter):
    r"""min ||Q z - b||_1 by Newton on the smoothing sum_i sqrt(r_i^2 + mu^2).

    mu starts at the median absolute least-squares residual and shrinks ten
    times per stage, each stage warm-started from the last. After each
    stage the duality gap is certified twice, by y = r / sqrt(r^2 + mu^2)
    and by the vertex dual of _l1_dual (both projected onto Q^T y = 0 and
    scaled into the unit box), and the homotopy stops below tol. Returns z,
    the better dual point, the Newton iterations and whether tol was met.
    """
    z = Q.T @ b
    r = Q @ z - b
    mu = float(np.median(np.abs(r))) or 1.0
    floor = 1e-15 * (np.max(np.abs(b)) or 1.0)
    iterations = 0
    best = (math.inf, None)
    while iterations < max_iter:
        for _ in range(100):
            s = np.sqrt(r * r + mu * mu)
            value = np.sum(s)
            grad = Q.T @ (r / s)
            H = (Q.T * (mu * mu / s**3)) @ Q
            step = -scipy.linalg.solve(H, grad, assume_a="pos", check_finite=False)
            decrement = -grad @ step
            iterations += 1
            if decrement <= 1e-13 * value or iterations >= max_iter:
                break
            t = 1.0
            while t > 1e-14:
                r_new = r + t * (Q @ step)
                if np.sum(np.sqrt(r_new * r_new + mu * mu)) <= value - 0.25 * t * decrement:
                    z, r = z + t * step, r_new
                    break
                t /= 2
            else:
                break  # no descent left at this mu
        for y in (r / np.sqrt(r * r + mu * mu), _l1_dual(Q, r)):
            gap = _dual_gap(Q, b, r, 1.0, y)
            if gap < best[0]:
                best = (gap, y)
        if best[0] <= tol:
            return z, best[1], iterations, True
        if mu <= floor:
            break
        mu /= 10
    return z, best[1], iterations, False


# Up to this many rows, p = 1 goes to HiGHS (exact); beyond, the dual LP
# with a dense n x d constraint block becomes slow (70 s at 2e5 x 20) and
# the smoothed homotopy takes over.
_HIGHS_MAX_ROWS = 20_000


def _lp_solve(A, b, p, tol, max_iter, rng):
    """(x, gap, iterations, converged, method) on the given (small or full) data."""
    d = A.shape[1]
    Q, R, cols = _qr(A, None, rng)
    x = np.zeros(d)
    scale = float(np.abs(b).max())
    if Q.shape[1] == 0 or scale == 0:
        return x, 0.0, 0, True, "newton"
    # In units of b: HiGHS and Newton's tolerances are absolute (HiGHS failed
    # outright on residuals of 1e19), and x scales with b.
    b = b / scale
    y = None
    if p == 1 and len(b) <= _HIGHS_MAX_ROWS:
        (z, y), iterations, converged, method = _lp_highs(Q, b), 0, True, "highs"
    elif p == 1:
        z, y, iterations, converged = _l1_homotopy(Q, b, tol, max_iter)
        method = "homotopy"
    else:
        z, iterations, converged = _lp_newton(Q, b, p, tol, max_iter)
        method = "newton"
    gap = _dual_gap(Q, b, Q @ z - b, p, y)
    x_r = scipy.linalg.solve_triangular(R, z * scale, check_finite=False)
    if cols is None:
        x = x_r
    else:
        x[cols] = x_r
    return x, gap, iterations, converged, method


def _with_column(A, b):
    """[A b] in A's kind: sparse, dask (chunked as A) or dense."""
    if sp.issparse(A):
        return sp.hstack([A, sp.csr_array(b[:, None])], format="csr")
    if is_dask(A):
        import dask.array as da

        column = da.from_array(b[:, None], chunks=(A.chunks[0], 1))
        return da.concatenate([A, column], axis=1).rechunk({1: -1})
    return np.column_stack([A, b])


def lp_regression(A, b, p, *, sample_size=None, scores="lewis", tol=1e-10, max_iter=200, rng=None):
    r"""Solve :math:`\min_x \|Ax - b\|_p` on the full data, or on a sensitivity sample.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    b : array_like, shape (n,)
        One right-hand side.
    p : float
        ``p >= 1``.
    sample_size : int, optional
        Solve on a sample of the rows of :math:`[A\ b]` instead: about this
        many rows, kept with probabilities proportional to (upper bounds on)
        their :math:`\ell_p` sensitivities and rescaled by
        :math:`q_i^{-1/p}` (:func:`randla.sensitivity_sample`): the
        :math:`(1+\varepsilon)` coreset pipeline. Sampling :math:`[A\ b]`
        rather than :math:`A` makes the sample an :math:`\ell_p` embedding
        of every residual :math:`Ax - b`.
    scores : {"lewis", "exact", "root-leverage"}, optional
        The sensitivity bounds for ``sample_size``.
    tol : float, optional
        Target for the certified relative duality gap of
        :math:`\|Ax - b\|_p^p` (the result's ``gap``, an upper bound on the
        relative suboptimality): Newton and the :math:`\ell_1` homotopy stop
        once it is reached.
    max_iter : int, optional
        Newton iteration limit.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness (SPEC 7).

    Returns
    -------
    LpRegressionResult
        The solution ``x``, its objective on the full data, the certified
        gap, and the solver that ran.

    Warns
    -----
    ConvergenceWarning
        When Newton (or the :math:`\ell_1` homotopy) stops at ``max_iter``
        or its line search fails before the gap reaches ``tol``.

    Notes
    -----
    Both solvers work in an orthonormal basis :math:`Q = AP_rR^{-1}` of the
    column space (the exact path of :func:`randla.leverage_scores`), so their
    systems are as well conditioned as the problem allows, and map back
    with :math:`x = R^{-1}z`.

    * :math:`p > 1`: Newton's method on :math:`\sum_i |(Qz - b)_i|^p` from
      the least-squares solution, with Armijo backtracking; for
      :math:`p < 2` the curvature :math:`|r_i|^{p-2}` is capped where
      residuals vanish. Cost per iteration :math:`O(nd^2)`.
    * :math:`p = 1`, up to 20000 rows: exactly, as the dual linear program
      :math:`\max\{b^\top y : Q^\top y = 0, \|y\|_\infty \le 1\}` by HiGHS
      (``n`` variables, ``d`` equality constraints). More rows: Newton on
      the smoothing :math:`\sum_i \sqrt{r_i^2 + \mu^2}` with :math:`\mu`
      shrinking tenfold per stage, until the gap certified by the vertex
      dual (sign of the residuals, completed on the ``d`` smallest) is
      below ``tol`` (HiGHS took 70 s on a :math:`2\cdot10^5 \times 20`
      problem that the homotopy solves in 1.4 s).

    Every result carries a duality gap computed from a dual feasible point
    (the projected gradient at the residual), an upper bound on the relative
    suboptimality whatever the solver did.

    **Sampled path.** If the rescaled sample :math:`S` is an
    :math:`\varepsilon` :math:`\ell_p` subspace embedding of the span of
    :math:`[A\ b]` (in the :math:`p`-th power; sensitivity and Lewis-weight
    sampling give one with enough rows: Cohen & Peng, 2015; Woodruff &
    Yasuda, 2023), the solution :math:`\hat x` of the sampled problem, solved
    to a relative gap :math:`g < 1`, satisfies

    .. math::

        \|A\hat x - b\|_p^p \le \frac{1+\varepsilon}{(1-\varepsilon)(1-g)}\,
        \min_x \|Ax - b\|_p^p.

    Cost: the sensitivity bounds of :math:`[A\ b]` (by default Lewis weights
    to the loose tolerance 0.05, enough for sampling), the solve on the
    sample, and one pass over ``A`` for the objective.

    References
    ----------
    Cohen, M. & Peng, R. (2015). l_p row sampling by Lewis weights. STOC.
    Woodruff, D. & Yasuda, T. (2023). Sharper bounds for l_p sensitivity
    sampling. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((2000, 5))
    >>> b = A @ np.ones(5) + rng.standard_t(1.5, size=2000)
    >>> res = randla.lp_regression(A, b, p=1.5)
    >>> res.converged, bool(res.gap < 1e-10)
    (True, True)
    """
    A = as_matrix(A, "A", accept_sparse=True, accept_dask=True).astype(np.float64, copy=False)
    n, d = A.shape
    b = as_rhs(b, n, np.float64)
    if b.ndim != 1:
        raise ValueError(f"b must be 1-D for lp_regression, got shape {b.shape}")
    if is_dask(A) and sample_size is None:
        raise ValueError(
            "sample_size is required for a dask array A (the full solve needs A in memory)"
        )
    p = check_p(p)
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    max_iter = check_positive_int(max_iter, "max_iter")
    rng = check_rng(rng)
    if sample_size is None:
        x, gap, iterations, converged, method = _lp_solve(A, b, p, tol, max_iter, rng)
        rows = n
    else:
        sample_size = check_positive_int(sample_size, "sample_size", maximum=n)
        check_option(scores, "scores", SENSITIVITY_METHODS)
        Ab = _with_column(A, b)
        # Sampling needs the scores only up to a constant factor (Cohen &
        # Peng sample by approximate Lewis weights): for p <= 2 a residual
        # of 0.05 puts them within e^0.1 of the fixed point, in a third of
        # the passes.
        bounds = _sensitivity_bounds(Ab, p, scores, rng, lewis_tol=0.05)
        sample = sample_rows(bounds, sample_size, p=p, rng=rng)
        SA, Sb = sample.apply(A), sample.apply(b)
        x, gap, iterations, converged, method = _lp_solve(SA, Sb, p, tol, max_iter, rng)
        method, rows = "sample+" + method, len(sample)
    if not converged:
        warnings.warn(
            f"{method} stopped after {iterations} iterations above tol={tol:g} "
            f"(certified relative gap {gap:.2g})",
            ConvergenceWarning,
            stacklevel=2,
        )
    if is_dask(A) or is_memmap(A):
        objective = float(map_rows(partial(_residual_powers, x, p), A, b)[1] ** (1 / p))
    else:
        objective = float(np.sum(np.abs(A @ x - b) ** p) ** (1 / p))
    return LpRegressionResult(
        x, objective, float(gap), int(iterations), bool(converged), int(rows), p, method
    )
