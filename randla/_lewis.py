r""":math:`\ell_p` Lewis weights and :math:`\ell_p` sensitivities.

The Lewis weights of :math:`A \in \mathbb{R}^{n \times d}` are the unique
:math:`w > 0` with :math:`w_i = (a_i^\top (A^\top W^{1-2/p} A)^{-1} a_i)^{p/2}`,
equivalently :math:`w_i = \tau_i(W^{1/2-1/p}A)`; the sensitivities are
:math:`\sigma_i = \sup_x |a_i^\top x|^p / \|Ax\|_p^p`.
"""

import math
from functools import partial

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse as sp
from tqdm.auto import tqdm

from ._blocks import map_rows, nonzero_rows
from ._coarse import applies as coarse_applies
from ._coarse import coarse_leverage, coarse_lewis
from ._linalg import (
    basis,
    cholesky_factor,
    exact_leverage_scores,
    factor,
    gram,
    in_memory,
    right_solve,
    row_norms_squared,
    upper_inverse,
    warn_rank,
)
from ._newton import minimize_lp
from ._validation import (
    ConvergenceWarning,
    as_array,
    as_matrix,
    check_finite,
    check_option,
    check_p,
    check_param,
    check_rng,
    exact_rng,
    warn,
)

__all__ = ["lewis_weights", "lewis_residual", "lp_sensitivities", "total_sensitivity"]

SENSITIVITY_METHODS = ("exact", "lewis", "root-leverage")
LEWIS_METHODS = ("exact", "coarse")
# Above this p the Lewis map is no l_inf contraction, and coarse weights
# would need the damped, safeguarded iteration of the exact path.
COARSE_LEWIS_MAX_P = 4


def _damping(p):
    r"""The damping :math:`\beta` of :math:`\log w \leftarrow (1-\beta)\log w + \beta\log T(w)`.

    In log coordinates the Jacobian of the Lewis map :math:`T` is
    :math:`-(p/2 - 1) L` with :math:`L = \mathrm{diag}(P)^{-1}(P \circ P)`
    row-stochastic with eigenvalues in [0, 1] (:math:`P` the projection onto
    the column space of :math:`W^{1/2-1/p}A`). For p >= 4, where the
    undamped map (eigenvalues down to 1 - p/2 <= -1) need not converge,
    beta = 4/(p + 2) puts those of the damped Jacobian in
    [-(p-2)/(p+2), (p-2)/(p+2)]: the local rate is (p-2)/(p+2).
    """
    return 4.0 / (p + 2.0)


def _scale_rows(s, A):
    return sp.csr_array(sp.diags_array(s) @ A) if sp.issparse(A) else s[:, None] * A


def _scaled_gram(A, log_s, R):
    """The Gram matrix of diag(exp(log_s)) A R^{-1} (upper triangle), one pass over A."""
    return map_rows(partial(_scaled_gram_rows, R), A, log_s)[1]


def _scaled_gram_rows(R, i0, Y, log_s):
    right_solve(Y, R)
    Y *= np.exp(log_s)[:, None]
    return None, gram(Y)


def _damped_rows(R, p, beta, i0, Y, log_w):
    """(log T(w), Gram matrix of the next scaled rows) of one block, for map_rows.

    T(w)_i = ||a_i R^-1||^p with R^T R = A^T W^(1-2/p) A, from the unscaled
    rows, so tiny weights keep their relative accuracy; the rows are then
    scaled to those of B_{k+1} R^{-1} (weights after the damped step beta).
    """
    right_solve(Y, R)
    log_t = 0.5 * p * np.log(row_norms_squared(Y))
    Y *= np.exp((0.5 - 1.0 / p) * (log_w + beta * (log_t - log_w)))[:, None]
    return log_t, gram(Y)


def _log_det(G):
    """log det of a symmetric G given by its upper triangle; -inf unless positive definite."""
    eigenvalues = scipy.linalg.eigvalsh(G, lower=False, check_finite=False)
    return float(np.sum(np.log(eigenvalues))) if eigenvalues[0] > 0 else -math.inf


def _lewis_rows(R_inverse, p, i0, Y):
    """(log T(M), Gram matrix of the rescaled rows) of one block, for map_rows.

    T(M)_i = ||a_i R^-1||^p with R^T R = M, from the unscaled rows, so tiny
    weights keep their relative accuracy; the rows a_i R^-1 scaled by
    T(M)_i^(1/2 - 1/p) have the Gram matrix R^-T Phi(M) R^-1. The product
    with the inverse (gemm) is as accurate as a triangular solve here
    (relative error of the row norms about eps cond(R) either way) and
    faster than BLAS trsm on C-ordered blocks.
    """
    Y = Y @ R_inverse
    log_t = 0.5 * p * np.log(row_norms_squared(Y))
    Y *= np.exp((0.5 - 1.0 / p) * log_t)[:, None]
    return log_t, gram(Y)


def _spectral(X, fn):
    """fn applied to the eigenvalues of the symmetric X."""
    e, V = scipy.linalg.eigh(X, check_finite=False)
    return (V * fn(e)) @ V.T


def _congruence(U, X):
    """U^-T X U^-1 for upper triangular U: X in the frame of the next iterate."""
    Z = scipy.linalg.solve_triangular(U, X, trans="T", check_finite=False)
    Z = scipy.linalg.solve_triangular(U, Z.T, trans="T", check_finite=False)
    return (Z + Z.T) / 2


def _residual_bound(G, p):
    r"""A bound on the residual of the weights :math:`T(M)` of a pass, from its G alone.

    With :math:`y_i = a_i R^{-1}` and :math:`G = R^{-\top}\Phi(M)R^{-1}`,
    :math:`\log T(T(M))_i - \log T(M)_i = (p/2)\log(y_i^\top G^{-1} y_i /
    y_i^\top y_i)`, a Rayleigh quotient of :math:`G^{-1}`: at most
    :math:`(p/2)\max_j|\log\lambda_j(G)|` in absolute value, attained by a
    row along an extreme eigenvector.
    """
    if not np.all(np.isfinite(G)):
        return math.inf
    e = scipy.linalg.eigvalsh(G, check_finite=False)
    return 0.5 * p * max(abs(math.log(e[-1])), abs(math.log(e[0]))) if e[0] > 0 else math.inf


def _anderson(history):
    r"""log of the next iterate by Anderson acceleration in log coordinates (Walker & Ni 2011).

    ``history`` holds pairs :math:`(X_j, F_j = \Phi(X_j))` in the current
    frame; with :math:`x_j = \log X_j`, :math:`f_j = \log F_j` and the
    residuals :math:`\rho_j = f_j - x_j`, the coefficients :math:`\alpha_j`
    (summing to 1) minimise :math:`\|\sum_j \alpha_j \rho_j\|_F`, and the
    next iterate is :math:`\sum_j \alpha_j f_j` (type II, mixing 1).
    """
    f = np.stack([_spectral(F, np.log) for _, F in history])
    rho = f - np.stack([_spectral(X, np.log) for X, _ in history])
    differences = np.diff(rho, axis=0).reshape(len(rho) - 1, -1).T
    gamma = scipy.linalg.lstsq(differences, rho[-1].ravel(), cond=1e-12, check_finite=False)[0]
    return f[-1] - np.tensordot(gamma, np.diff(f, axis=0), axes=1)


def _next_factor(history, G):
    """(U, anderson): U^T U the next iterate in the current frame.

    The Anderson point when there is history and it is safely positive
    definite, else the plain step G; U is None when neither is safe.
    """
    if len(history) > 1:
        U = cholesky_factor(_spectral(_anderson(history), np.exp))
        if U is not None:
            return U, True
    return cholesky_factor(G.copy()), False


# Iterations without a new minimum of the residual after which the Lewis
# iteration counts as stalled: the residual then sits at its rounding floor,
# and every further iteration would be a wasted pass over A.
_STALL = 20
# Earlier iterates Anderson acceleration combines with the current one;
# more saved no passes on the test problems.
_MEMORY = 5


def _lewis(A, p, tol, max_iter, rng):
    """(w, residual, iterations, rank) for a float64 A without zero rows.

    The weights start uniform, r/n; each iteration is one pass over A, with
    the exact triangular factor R_A of A to start. p < 4: _accelerated;
    p >= 4, where the Lewis map is no contraction: _damped.
    """
    n, d = A.shape
    f = factor(A, None, rng)
    R_A, cols, r = f.R, f.cols, f.rank
    if r == 0:
        return np.zeros(n), 0.0, 0, 0
    A_r = A if cols is None else A[:, cols]
    iterate = _accelerated if p < COARSE_LEWIS_MAX_P else _damped
    w, residual, it = iterate(A_r, R_A, p, tol, max_iter, rng)
    return w, residual, it, r


def _accelerated(A_r, R_A, p, tol, max_iter, rng):
    """(w, residual, iterations) for p < 4: Anderson acceleration of the Lewis map on log M.

    The state is the d x d matrix M = A^T W^(1-2/p) A, kept as a triangular
    factor R (R^T R = M). Each iteration is one pass over A: a block of
    A R^{-1} gives the weights T(M) row by row, and the Gram matrix G of
    those rows rescaled by T(M)^(1/2-1/p) is Phi(M) in R's frame. So the
    pass certifies its own weights (_residual_bound), and the next iterate
    comes from d x d matrices alone: the Anderson point (_anderson) or the
    plain step Phi(M), the Cohen-Peng iteration; then R <- chol(X) R. The
    history is kept in the current frame, where the iterates are near the
    identity, and moves with it.

    An Anderson point is kept only if its residual bound is below that of
    the last kept point; otherwise the iteration goes back there and takes
    the plain step, an l_inf contraction of log w for p < 4 (one pass
    lost). When the plain step's factor is not safe (the weights moved too
    much), R is recomputed from the rescaled rows (a copy of A and a
    sketch).

    It stops when the residual bound is below tol, after max_iter passes,
    or when the bound has not reached a new minimum for _STALL passes: it
    then sits at its rounding floor, about eps cond(A), which tol may lie
    below. Unconverged, it returns the weights with the smallest bound.
    """
    r = len(R_A)
    # Uniform weights r/n to start: M = (r/n)^(1-2/p) A^T A.
    R = math.exp((0.5 - 1.0 / p) * math.log(r / A_r.shape[0])) * R_A
    eye, history, kept, anderson = np.eye(r), [], None, False
    best, progress, best_it = (math.inf, None), math.inf, 0
    for it in range(1, max_iter + 1):
        log_t, G = map_rows(partial(_lewis_rows, upper_inverse(R), p), A_r)
        G = np.triu(G) + np.triu(G, 1).T
        residual = _residual_bound(G, p)
        if residual < tol:
            return np.exp(log_t), residual, it
        if best[1] is None or residual < best[0]:
            best = (residual, log_t)
        if residual < 0.99 * progress:
            progress, best_it = residual, it
        if it == max_iter or it - best_it >= _STALL:
            break
        if anderson and not residual < kept[0]:
            # Back to the last kept point, and its plain step.
            _, R, G, log_t = kept
            history, (U, anderson) = [(eye, G)], (cholesky_factor(G.copy()), False)
        else:
            history = [*history, (eye, G)][-(_MEMORY + 1) :] if math.isfinite(residual) else []
            kept = (residual, R, G, log_t)
            U, anderson = _next_factor(history, G)
        if U is None:
            # The plain step M = A^T T(M)^(1-2/p) A factored afresh. A_r has
            # full numerical rank, but the factor may pivot (or drop a column
            # the new row scales make negligible): the iteration goes on in
            # the factor's columns, which span the same space.
            f = factor(_scale_rows(np.exp((0.5 - 1.0 / p) * log_t), A_r), None, rng)
            R, A_r = f.R, (A_r if f.cols is None else A_r[:, f.cols])
            eye, history = np.eye(len(R)), []
        else:
            R = np.triu(U @ R)
            history = [(_congruence(U, X), _congruence(U, F)) for X, F in history]
    residual, log_t = best
    return np.exp(log_t), residual, it


def _damped(A_r, R_A, p, tol, max_iter, rng):
    """(w, residual, iterations) for p >= 4: the damped iteration on log w, safeguarded.

    Each iteration is one pass over A. With R the exact triangular factor of
    B_k = diag(s_k) A_r (s = w^(1/2 - 1/p)), a block of A_r R^{-1} gives
    T(w_k) and w_{k+1}, row by row; scaling the block to B_{k+1} R^{-1}
    and accumulating its Gram matrix
    G gives the factor of B_{k+1} as chol(G) R. When the weights moved too
    much for that Cholesky factor to be safe, R is recomputed from
    B_{k+1} itself (a copy of A and a sketch).

    A step must also decrease the convex objective
    F(w) = -log det(A^T W^(1-2/p) A) + (1 - 2/p) sum(w) by the Armijo
    fraction of its slope; F(w_{k+1}) - F(w_k) = -log det G + (1-2/p)
    (sum w_{k+1} - sum w_k) costs nothing more, and a rejected step is
    halved at the price of one more pass (for the new G).

    The iteration stops early when the residual has not reached a new
    minimum for _STALL iterations (p + 2 for large p): it then sits at its
    rounding floor, about eps cond(A), which tol may lie below.
    """
    beta = full_step = _damping(p)
    expo, c = 0.5 - 1.0 / p, 1.0 - 2.0 / p
    n, r = A_r.shape[0], len(R_A)
    log_w = np.full(n, math.log(r / n))
    R = math.exp(expo * log_w[0]) * R_A
    best, best_it = math.inf, 0
    for it in range(max_iter + 1):
        log_t, G = map_rows(partial(_damped_rows, R, p, beta), A_r, log_w)
        step = log_t - log_w
        residual = float(np.max(np.abs(step)))
        if residual < 0.99 * best:
            best, best_it = residual, it
        stalled = it - best_it >= max(_STALL, math.ceil(p + 2))
        if residual < tol or it == max_iter or stalled:
            return np.exp(log_w), residual, it
        w = np.exp(log_w)
        slope = c * float(np.sum(w * -np.expm1(step / (0.5 * p)) * step))
        # log det of the Gram matrix of the current rows in R's coordinates:
        # 0 while R is exact; R accumulates rounding (R <- chol(G) R), so
        # after a rejection it is computed (one pass) and differenced out.
        base, measured = 0.0, False
        while True:
            # F(w_next) - F(w_k), and the rounding it is computed with.
            change = -(_log_det(G) - base) + c * float(np.sum(np.exp(log_w + beta * step) - w))
            if change <= 1e-4 * beta * slope + 1e-13 * (r + w.sum()):
                break
            if not measured:
                base, measured = _log_det(_scaled_gram(A_r, expo * log_w, R)), True
                continue
            beta /= 2
            if beta < 1e-10:
                return w, residual, it
            G = _scaled_gram(A_r, expo * (log_w + beta * step), R)
        log_w = log_w + beta * step
        beta = min(full_step, 2 * beta)
        R1 = cholesky_factor(G)
        if R1 is None:
            # Refactor the rescaled rows. A_r has full numerical rank, but the
            # factor may pivot (or drop a column the new row scales make
            # negligible): the iteration goes on in the factor's columns,
            # which span the same space.
            f = factor(_scale_rows(np.exp(expo * log_w), A_r), None, rng)
            R, A_r = f.R, (A_r if f.cols is None else A_r[:, f.cols])
        else:
            R = np.triu(R1 @ R)
    return np.exp(log_w), residual, max_iter


def lewis_weights(A, p, *, method="exact", tol=1e-10, max_iter=None, rng=None):
    r"""The :math:`\ell_p` Lewis weights of the rows of ``A``.

    The unique :math:`w \ge 0` with

    .. math::

        w_i = \bigl(a_i^\top (A^\top W^{1-2/p} A)^{+} a_i\bigr)^{p/2}
            = \tau_i\bigl(W^{1/2-1/p} A\bigr),
        \qquad \sum_i w_i = \operatorname{rank}(A),

    (Lewis, 1978; Cohen & Peng, 2015). :math:`p = 2` gives the leverage
    scores. Zero rows get weight 0.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    p : float
        ``p >= 1``.
    method : {"exact", "coarse"}, optional
        ``"coarse"``: weights to a factor, for sampling, ``1 <= p < 4``:
        the Cohen-Peng iteration from uniform weights with coarse leverage
        scores (:func:`leverage_scores` ``method="coarse"``), each
        iteration one pass over ``A`` that also sketches the rescaled rows
        for the next; :math:`\lceil\log(4\ln n)/\log(1/|1-p/2|)\rceil`
        iterations, at most 5 (3 at p = 1.5, 5 at p = 1 or 3), so at most
        six passes. Scaled to sum to the rank. ``tol`` and ``max_iter``
        belong to the exact path. Small input gets the exact weights.
    tol : float, optional
        Stop when the fixed-point residual
        :math:`\max_i |\log T(w)_i - \log w_i|` is below ``tol``
        (:func:`lewis_residual` computes it for any ``w``).
    max_iter : int, optional
        Iteration limit; default ``max(500, 8 (p + 2))``, at most 5000.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the sketch of the preconditioner:
        a seed or a ``numpy.random.Generator``.
        Without it, a fixed seed: the result is the same bit for bit on every call.

    Returns
    -------
    ndarray, shape (n,)
        In ``A``'s float dtype (computed in float64).

    Warns
    -----
    ConvergenceWarning
        When the residual is still above ``tol`` after ``max_iter``
        iterations; the message gives the residual.

    Notes
    -----
    The Lewis map :math:`T(w)_i = (a_i^\top(A^\top W^{1-2/p}A)^{-1}a_i)^{p/2}`
    depends on :math:`w` only through :math:`M = A^\top W^{1-2/p}A`. The
    iteration starts from :math:`w = r/n` with the exact triangular factor
    of ``A`` (a sparse sign sketch and one pass), and each iteration is one
    pass over ``A`` with a matrix product and a Gram matrix on blocks of
    rows (about :math:`3nd^2` flops; the exact leverage scores cost a sketch
    and two such passes): with :math:`R^\top R = M`, the rows of
    :math:`AR^{-1}` give the weights row by row, and the Gram matrix
    :math:`G` of those rows rescaled by the new weights to the power
    :math:`1/2 - 1/p` is the next :math:`M` in the frame of :math:`R`.

    * :math:`p < 4`: the state is :math:`M` (:math:`d \times d`). The pass
      certifies the weights :math:`T(w)` it computed: their residual is at
      most :math:`(p/2)\max_j|\log\lambda_j(G)|` (per row it is
      :math:`p/2` times the log of a Rayleigh quotient of :math:`G^{-1}`),
      and the iteration stops when that bound is below ``tol``. The next
      :math:`M` is extrapolated from the last six by Anderson acceleration
      (Walker & Ni, 2011) on :math:`\log M` in the current frame, work on
      :math:`d \times d` matrices only. An extrapolated point whose bound
      does not decrease is replaced by the plain step
      :math:`M \leftarrow A^\top T(w)^{1-2/p} A` from the last point kept
      (one pass lost): the Cohen-Peng iteration, an :math:`\ell_\infty`
      contraction of :math:`\log w` with rate :math:`|1 - p/2|` for
      :math:`p < 4`. On Gaussian, heavy-tailed and coherent matrices this
      takes 5 to 12 passes to ``tol = 1e-10`` at p = 1, 1.5 and 3 (the
      plain iteration took 16 to 36): at p = 1.5 on a Student-t
      :math:`10^6 \times 50` matrix, 9 passes, about 3.5 to 4 times the
      cost of the exact leverage scores (10 to 11 times before).
    * :math:`p \ge 4`, where the map is no contraction: the damped
      iteration :math:`\log w \leftarrow (1-\beta)\log w + \beta\log T(w)`,
      :math:`\beta = 4/(p+2)` (local rate :math:`(p-2)/(p+2)`),
      safeguarded. For :math:`p > 2`,
      :math:`F(w) = -\log\det(A^\top W^{1-2/p}A) + (1-2/p)\sum_i w_i` is
      convex (log det is concave and increasing, :math:`w^{1-2/p}` concave)
      and stationary exactly at the Lewis weights; the step
      :math:`\delta = \log T(w) - \log w` is a descent direction (its
      product with the gradient in :math:`\log w` is
      :math:`(1-2/p)\sum_i w_i(1 - e^{2\delta_i/p})\delta_i \le 0`).
      A step is taken only if it decreases :math:`F` by the Armijo fraction
      of that slope, and halved otherwise (one more pass), so the default
      ``max_iter`` grows like ``8 (p + 2)``. The pass computes
      :math:`T(w_k)` and the factor for :math:`w_{k+1}`, and the residual
      is that of :math:`w_k`.

    The iteration also stops when the residual has made no progress for 20
    passes: it then sits at its rounding floor, about
    :math:`\epsilon\,\mathrm{cond}(A)`. Unconverged weights (the best seen,
    for p < 4) come with a :class:`~randla.ConvergenceWarning` that gives
    their residual (the bound, for p < 4). When the weights moved too much
    for the update of the factor to be safe, the factor is recomputed from
    a copy of the rescaled ``A`` and a sparse sign sketch.

    References
    ----------
    Lewis, D. (1978). Finite dimensional subspaces of L_p. Studia Math. 63.
    Cohen, M. & Peng, R. (2015). l_p row sampling by Lewis weights. STOC.
    Walker, H. & Ni, P. (2011). Anderson acceleration for fixed-point
    iterations. SIAM J. Numer. Anal. 49(4).

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((1000, 4))
    >>> w = randla.lewis_weights(A, 1.5, rng=0)
    >>> round(float(w.sum()), 8)
    4.0
    >>> bool(randla.lewis_residual(A, w, p=1.5) < 1e-9)
    True
    """
    A = as_matrix(A, "A", accept_sparse=True, accept_dask=True)
    p = check_p(p)
    check_option(method, "method", LEWIS_METHODS)
    tol = check_param(tol, "tol")
    max_iter = check_param(max_iter, "max_iter", optional=True)
    if method == "coarse":
        if p >= COARSE_LEWIS_MAX_P:
            raise ValueError(
                f"method='coarse' needs p < {COARSE_LEWIS_MAX_P} (where the Lewis map "
                f"contracts), got p={p}; use method='exact'"
            )
        if max_iter is not None:
            raise ValueError("max_iter belongs to method='exact'; the coarse path has no limit")
        rng = check_rng(rng)
    else:
        rng = exact_rng(rng)
    return lewis_weights_unchecked(A, p, rng, tol, max_iter, method).astype(A.dtype)


# The default iteration limit grows with p but stops here: each iteration is
# a pass over A, and at p = 1e6 the growth alone meant eight million passes
# before the ConvergenceWarning.
_MAX_ITER_CAP = 5000


def _max_iter(p):
    """The default iteration limit: the local rate (p-2)/(p+2) slows as p grows."""
    return min(max(500, math.ceil(8 * (p + 2))), _MAX_ITER_CAP)


def coarse_lewis_applies(shape, p):
    """True when method='coarse' computes coarse weights (not the exact ones)."""
    return p < COARSE_LEWIS_MAX_P and coarse_applies(shape)


def lewis_weights_unchecked(A, p, rng, tol=1e-10, max_iter=None, method="exact"):
    """lewis_weights on checked arguments, in float64 (warns when not converged).

    ``method="coarse"`` gives the exact weights where coarse_lewis_applies is
    False (small input, p >= 4).
    """
    max_iter = _max_iter(p) if max_iter is None else max_iter
    A = A.astype(np.float64, copy=False)
    if method == "coarse" and coarse_lewis_applies(A.shape, p):
        w, r = coarse_lewis(A, p, rng)
        warn_rank(r, A.shape, None, "the weights")
        return w
    keep = nonzero_rows(A)
    w = np.zeros(A.shape[0])
    if keep.any():
        sub = A if keep.all() else A[np.flatnonzero(keep)]
        if p == 2:
            (w[keep], r), residual, it = exact_leverage_scores(sub, None, rng), 0.0, 0
        else:
            w[keep], residual, it, r = _lewis(sub, p, tol, max_iter, rng)
        warn_rank(r, sub.shape, None, "the weights")
        if residual >= tol:
            advice = (
                "raise max_iter"
                if it == max_iter
                else "the residual stopped decreasing: it is at its rounding floor "
                "(A is ill-conditioned); raise tol"
            )
            warn(
                f"Lewis weights not converged after {it} iterations: fixed-point residual "
                f"{residual:.3g} > tol={tol:g}; {advice}",
                ConvergenceWarning,
            )
    return w


# log of the smallest positive double: weights below it are 0 in float64.
_LOG_TINY = math.log(np.finfo(np.float64).smallest_subnormal)


def lewis_residual(A, w, *, p):
    r"""The fixed-point residual :math:`\max_i |\log T(w)_i - \log w_i|` of weights ``w``.

    :math:`T(w)_i = (a_i^\top (A^\top W^{1-2/p} A)^{+} a_i)^{p/2}`, over the
    nonzero rows of ``A`` (whose weights must be positive, or for
    :math:`p > 2` zero where the weight lies below the float range, as
    :func:`lewis_weights` returns it at large ``p``); zero rows must have
    zero weight. Computed exactly, in float64. It is 0 exactly at the
    Lewis weights, and :func:`lewis_weights` stops when it falls below
    ``tol``.

    Parameters
    ----------
    A : array_like or scipy.sparse matrix, shape (n, d)
        Dense or CSR/CSC.
    w : array_like, shape (n,)
        Candidate weights: positive on the nonzero rows of ``A``, zero on
        its zero rows.
    p : float
        ``p >= 1``.

    Returns
    -------
    float
        :math:`\max_i |\log T(w)_i - \log w_i|` over the nonzero rows.

    Notes
    -----
    Cost: a copy of ``A`` with rows scaled by :math:`w_i^{1/2-1/p}`, its
    triangular factor (a sparse sign sketch and a Gram matrix), and one pass
    of triangular solves for the :math:`T(w)_i`.

    References
    ----------
    Cohen, M. & Peng, R. (2015). l_p row sampling by Lewis weights. STOC.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((200, 3))
    >>> w = randla.lewis_weights(A, 1, rng=0)
    >>> bool(randla.lewis_residual(A, w, p=1) < 1e-10)
    True
    >>> bool(randla.lewis_residual(A, np.full(200, 3 / 200), p=1) > 0.1)   # uniform: far off
    True
    """
    A = as_matrix(A, "A", accept_sparse=True).astype(np.float64, copy=False)
    p = check_p(p)
    w = as_array(w, "w")
    if w.dtype.kind not in "biuf":
        raise TypeError(f"w must be real numbers, got dtype {w.dtype}")
    if w.shape != (A.shape[0],):
        raise ValueError(f"w must have shape ({A.shape[0]},), got {w.shape}")
    w = w.astype(np.float64)
    check_finite(w, "w")
    keep = nonzero_rows(A)
    # For p > 2 a weight below the smallest double is 0 in float64, as
    # lewis_weights returns it at large p; such a row enters W^(1-2/p) as 0
    # and is at its fixed point when T(w)_i underflows too.
    if np.any(w[keep] < 0) or np.any(w[keep] == 0) and p <= 2 or np.any(w[~keep] != 0):
        raise ValueError(
            "w must be positive on the nonzero rows of A (zero is allowed there for p > 2, "
            "as a weight below the float range) and zero on its zero rows"
        )
    sub = A if keep.all() else A[np.flatnonzero(keep)]
    with np.errstate(divide="ignore"):
        log_t = 0.5 * p * np.log(_lewis_forms(sub, w[keep], p, check_rng(0)))
        log_w = np.log(w[keep])
    underflowed = (log_w == -np.inf) & (log_t < _LOG_TINY)
    # A subnormal weight has few significant bits: only what lies beyond its
    # spacing counts (for normal weights the allowance is about 2e-16).
    allowance = np.log1p(np.spacing(w[keep]) / np.where(w[keep] > 0, w[keep], 1.0))
    misfit = np.maximum(np.abs(log_t - log_w) - allowance, 0.0)
    return float(np.max(np.where(underflowed, 0.0, misfit)))


def _lewis_forms(A, w, p, rng):
    """a_i^T (A^T W^(1-2/p) A)^+ a_i for every row of A (no zero rows).

    As ||a_i R^{-1}||^2 with R the triangular factor of W^(1/2-1/p) A (on the
    columns that carry its rank): relatively accurate even for rows whose
    weights are tiny, unlike leverage scores of the scaled matrix.
    """
    return factor(_scale_rows(w ** (0.5 - 1.0 / p), A), None, rng).row_norms(A)


def _min_lp_norm_l1(U, i):
    """min ||U x||_1 subject to u_i^T x = 1, by HiGHS (scipy.optimize.linprog).

    Variables (x, t), x free, t >= 0: minimise sum(t) subject to
    U x - t <= 0, -U x - t <= 0, u_i^T x = 1.
    """
    n, r = U.shape
    eye = sp.identity(n, format="csr")
    A_ub = sp.vstack(
        [sp.hstack([sp.csr_array(U), -eye]), sp.hstack([sp.csr_array(-U), -eye])]
    ).tocsr()
    c = np.concatenate([np.zeros(r), np.ones(n)])
    A_eq = np.concatenate([U[i], np.zeros(n)])[None, :]
    bounds = [(None, None)] * r + [(0, None)] * n
    res = scipy.optimize.linprog(
        c, A_ub=A_ub, b_ub=np.zeros(2 * n), A_eq=A_eq, b_eq=[1.0], bounds=bounds, method="highs"
    )
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed on row {i}: {res.message}")
    return res.fun


def _min_lp_norm_smooth(U, i, p):
    """min ||U x||_p^p subject to u_i^T x = 1, for p > 1, by the shared Newton method.

    x = x0 + N y with x0 = u_i / ||u_i||^2 and N an orthonormal basis of the
    complement of u_i: min over y of sum |c + B y|^p (c = U x0, B = U N),
    from the least-squares point, until no step decreases it.
    """
    u = U[i]
    x0 = u / (u @ u)
    # The last r - 1 columns of the Q of the QR of u span its complement.
    N = scipy.linalg.qr(u[:, None], mode="full")[0][:, 1:]
    c, B = U @ x0, U @ N
    y0 = -np.linalg.lstsq(B, c, rcond=None)[0] if N.shape[1] else np.zeros(0)
    res = minimize_lp(c, B, p, y0, max_iter=100)[1]
    # In units of m = max |res| (>= 1: entry i is 1): no power overflows.
    m = np.max(np.abs(res))
    with np.errstate(over="ignore", under="ignore"):
        return float(m**p * np.sum((np.abs(res) / m) ** p))


def _exact_sensitivities(A, p, rng, progress):
    # One convex program per row: only for a few thousand rows, which a
    # dask array holding them may as well bring into memory.
    A = in_memory(A)
    n = A.shape[0]
    keep = nonzero_rows(A)
    sigma = np.zeros(n)
    if p == 2:
        sigma[keep] = exact_leverage_scores(A, None, rng)[0][keep]
        return sigma
    # A well-conditioned basis of the same column space: same sensitivities,
    # better conditioned subproblems.
    U = basis(A, None, rng)
    rows = np.flatnonzero(keep)
    disable = None if progress is None else not progress
    for i in tqdm(rows, desc=f"l_{p:g} sensitivities", disable=disable, leave=False):
        best = _min_lp_norm_l1(U, i) if p == 1 else _min_lp_norm_smooth(U, i, p)
        sigma[i] = min(1.0, 1.0 / best)
    return sigma


def lp_sensitivities(A, p, *, method="exact", rng=None, progress=None):
    r"""The :math:`\ell_p` sensitivities of the rows of ``A``, or upper bounds on them.

    .. math::

        \sigma_i = \sup_{x:\,Ax \ne 0} \frac{|a_i^\top x|^p}{\|Ax\|_p^p}
                 = \frac{1}{\min\{\|Ax\|_p^p : a_i^\top x = 1\}} \in [0, 1].

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    p : float
        ``p >= 1``.
    method : {"exact", "lewis", "root-leverage"}, optional
        ``"exact"`` (the default, as in :func:`total_sensitivity`): the
        sensitivities themselves, one convex problem per row (below). The
        samplers use the bounds. ``"lewis"``: the upper bound from the Lewis weights :math:`w`,
        :math:`\sigma_i \le w_i` for :math:`p \le 2` and
        :math:`\sigma_i \le r^{p/2-1} w_i` for :math:`p > 2` (r the rank),
        capped at 1. ``"root-leverage"``: :math:`\tau_i^{p/2}`, an upper
        bound for :math:`p \le 2` only. ``"exact"``: one convex problem per
        row, :math:`\min\{\|Ux\|_p^p : u_i^\top x = 1\}` on an orthonormal
        basis :math:`U` of the column space: a linear program (HiGHS) for
        :math:`p = 1`, Newton's method for :math:`p > 1`, the leverage scores
        for :math:`p = 2`. Meant for ``n`` up to a few thousand.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the sketches inside: a seed or a ``numpy.random.Generator``.
        Without it, a fixed seed: the result is the same bit for bit on every call.
    progress : bool, optional
        Show a tqdm progress bar over the rows for ``"exact"``; default: when
        standard error is a terminal.

    Returns
    -------
    ndarray, shape (n,)
        Float64; zero rows get 0.

    Notes
    -----
    The bounds (Woodruff & Yasuda, 2023, and ``shared/spec`` section 1.2,
    proved there): for :math:`p \le 2`, :math:`\sigma_i \le w_i` and
    :math:`\sigma_i \le \tau_i^{p/2}`; for :math:`p \ge 2`,
    :math:`w_i \le \sigma_i \le r^{p/2-1} w_i`. Hence the total sensitivity
    is at most ``r`` for :math:`p \le 2` and between ``r`` and
    :math:`r^{p/2}` for :math:`p \ge 2`. The exact values are computed to
    the solvers' tolerance (about 1e-9 relative); a slightly smaller
    minimum than the true one would make them slightly too large, never by
    more than that tolerance.

    References
    ----------
    Woodruff, D. & Yasuda, T. (2023). Sharper bounds for l_p sensitivity
    sampling. ICML.
    Chen, X. & Derezinski, M. (2021). Query complexity of least absolute
    deviation regression via robust uniform convergence. COLT.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.vstack([np.eye(2), 0.1 * np.ones((3, 2))])
    >>> sigma = randla.lp_sensitivities(A, 1, method="exact", progress=False)
    >>> bool(np.all(sigma <= randla.lewis_weights(A, 1) + 1e-9))
    True
    """
    A, p, method, rng, progress = _check_sensitivity_arguments(A, p, method, rng, progress)
    return sensitivity_bounds(A, p, method, rng, progress)


def _check_sensitivity_arguments(A, p, method, rng, progress):
    A = as_matrix(A, "A", accept_sparse=True, accept_dask=True).astype(np.float64, copy=False)
    p = check_p(p)
    method = check_sensitivity_method(method, p)
    if progress is not None and not isinstance(progress, bool | np.bool_):
        raise TypeError(f"progress must be None, True or False, got {progress!r}")
    return A, p, method, exact_rng(rng), progress


def check_sensitivity_method(method, p):
    """The name of the sensitivities or bounds, checked against p."""
    check_option(method, "method", SENSITIVITY_METHODS)
    if method == "root-leverage" and p > 2:
        raise ValueError(
            f"method='root-leverage' bounds the sensitivities only for p <= 2, got p={p}"
        )
    return method


def sensitivity_bounds(A, p, method, rng, progress=None, lewis_tol=1e-10, accuracy="exact"):
    """lp_sensitivities on checked arguments; lewis_tol is the Lewis weights' tolerance.

    ``accuracy="coarse"`` computes the Lewis weights or leverage scores the
    bounds come from to a factor (the exact sensitivities stay exact).
    """
    if method == "exact":
        return _exact_sensitivities(A, p, rng, progress)
    if method == "root-leverage":
        tau = (coarse_leverage if accuracy == "coarse" else exact_leverage_scores)(A, None, rng)[0]
        return np.maximum(tau, 0) ** (p / 2)
    w = lewis_weights_unchecked(A, p, rng, lewis_tol, method=accuracy)
    if p > 2:
        # Both paths sum to the rank (the coarse weights are scaled to it).
        w = w * round(w.sum()) ** (p / 2 - 1)
    return np.minimum(w, 1.0)


def total_sensitivity(A, p, *, method="exact", rng=None, progress=None):
    r"""The total sensitivity :math:`\mathfrak{S} = \sum_i \sigma_i` (or its bound).

    .. math::

        \mathfrak{S} = \sum_i \sigma_i^{(p)}, \qquad
        \mathfrak{S} \le r \ (p \le 2), \qquad r \le \mathfrak{S} \le r^{p/2} \ (p \ge 2),

    with :math:`r` the rank of ``A`` (the bounds are for the exact
    sensitivities; see :func:`lp_sensitivities`). It sets the sample sizes
    of sensitivity sampling (Woodruff & Yasuda, 2023). A convenience for
    ``lp_sensitivities(A, p, method=method).sum()``, at its cost.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        As in :func:`lp_sensitivities`.
    p : float
        ``p >= 1``.
    method : {"exact", "lewis", "root-leverage"}, optional
        As in :func:`lp_sensitivities`, with the same default ``"exact"``
        (one convex problem per row, for ``n`` up to a few thousand).
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the sketches inside: a seed or a ``numpy.random.Generator``.
        Without it, a fixed seed: the result is the same bit for bit on every call.
    progress : bool, optional
        Show a progress bar for ``"exact"``; default: when standard error is
        a terminal.

    Returns
    -------
    float
        The sum of the sensitivities, or of their upper bounds.

    References
    ----------
    Woodruff, D. & Yasuda, T. (2023). Sharper bounds for l_p sensitivity
    sampling. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> float(randla.total_sensitivity(np.eye(3), 1.5, progress=False))
    3.0
    """
    A, p, method, rng, progress = _check_sensitivity_arguments(A, p, method, rng, progress)
    return float(sensitivity_bounds(A, p, method, rng, progress).sum())
