r""":math:`\ell_p` regression, on the full data or on a sensitivity sample, with a certificate."""

import dataclasses
import math
import warnings

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse as sp

from ._blocks import is_dask, residual_norms
from ._validation import (
    ConvergenceWarning,
    as_matrix,
    as_rhs,
    check_option,
    check_p,
    check_positive_int,
    check_rng,
)
from .leverage import _qr
from .lewis import SENSITIVITY_METHODS, _sensitivity_bounds
from .sampling import sample_rows

__all__ = ["LpRegressionResult", "lp_regression"]


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
    objective = float(residual_norms(A, x, b, p))
    return LpRegressionResult(
        x, objective, float(gap), int(iterations), bool(converged), int(rows), p, method
    )
