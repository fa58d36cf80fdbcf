r""":math:`\ell_p` Lewis weights and :math:`\ell_p` sensitivities.

The Lewis weights of :math:`A \in \mathbb{R}^{n \times d}` are the unique
:math:`w > 0` with :math:`w_i = (a_i^\top (A^\top W^{1-2/p} A)^{-1} a_i)^{p/2}`,
equivalently :math:`w_i = \tau_i(W^{1/2-1/p}A)`; the sensitivities are
:math:`\sigma_i = \sup_x |a_i^\top x|^p / \|Ax\|_p^p`.
"""

import math
import warnings

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse as sp

from ._validation import (
    ConvergenceWarning,
    as_matrix,
    check_p,
    check_positive_int,
    check_rng,
)
from .leverage import (
    _add_gram,
    _cholesky_factor,
    _exact_scores,
    _factor,
    _preconditioner,
    _right_solve,
    _row_blocks,
    _row_norms_squared,
)

__all__ = ["lewis_weights", "lewis_residual"]


def _damping(p):
    r"""The step :math:`\beta` of :math:`\log w \leftarrow (1-\beta)\log w + \beta \log T(w)`.

    In log coordinates the Jacobian of the Lewis map :math:`T` is
    :math:`-(p/2 - 1) L` with :math:`L = \mathrm{diag}(P)^{-1}(P \circ P)`
    row-stochastic with eigenvalues in [0, 1] (:math:`P` the projection onto
    the column space of :math:`W^{1/2-1/p}A`). For p <= 2, beta = 1 is the
    Cohen-Peng iteration, an l_inf contraction with rate 1 - p/2. For p > 2,
    beta = 4/(p + 2) puts the eigenvalues of the damped Jacobian in
    [-(p-2)/(p+2), (p-2)/(p+2)]: the local rate is (p-2)/(p+2), and for
    p < 4 the damped map is still an l_inf contraction (rate
    1 - beta(2 - p/2)), so it converges from any start.
    """
    return 1.0 if p <= 2 else 4.0 / (p + 2.0)


def _nonzero_rows(A):
    if sp.issparse(A):
        return np.asarray(abs(A).sum(axis=1)).ravel() > 0
    return np.any(A != 0, axis=1)


def _r_factor(B, rng):
    """Upper triangular R with B R^{-1} orthonormal, for a full-column-rank B."""
    R0, R1, _ = _factor(B, 0.0, rng)
    if R0 is None:  # small B, or a failed sketch: Householder QR
        dense = B.toarray() if sp.issparse(B) else B
        return scipy.linalg.qr(dense, mode="r", check_finite=False)[0][: B.shape[1]]
    return np.triu(R1 @ R0)


def _scale_rows(s, A):
    return sp.csr_array(sp.diags_array(s) @ A) if sp.issparse(A) else s[:, None] * A


def _lewis(A, p, tol, max_iter, rng):
    """(w, residual, iterations) for a float64 A without zero rows.

    Each iteration is one pass over A. With R the exact triangular factor of
    B_k = diag(s_k) A_r (s = w^(1/2 - 1/p)), a block of B_k R^{-1} gives the
    exact leverage scores of B_k, hence T(w_k) and w_{k+1}, row by row;
    rescaling the block to B_{k+1} R^{-1} and accumulating its Gram matrix
    G gives the factor of B_{k+1} as chol(G) R. When the weights moved too
    much for that Cholesky factor to be safe, R is recomputed from
    B_{k+1} itself (a copy of A and a sketch).
    """
    n, d = A.shape
    R0, cols, r = _preconditioner(A, None, rng)
    if r == 0:
        return np.zeros(n), 0.0, 0
    A_r = A if cols is None else A[:, cols]
    beta = _damping(p)
    expo = 0.5 - 1.0 / p
    log_w = np.full(n, math.log(r / n))
    R = math.exp(expo * log_w[0]) * _r_factor(A_r, rng)
    for it in range(max_iter + 1):
        G = np.zeros((r, r), order="F")
        log_next = np.empty(n)
        residual = 0.0
        for i0, Y in _row_blocks(A_r, None):
            i1 = i0 + len(Y)
            Y *= np.exp(expo * log_w[i0:i1])[:, None]
            _right_solve(Y, R)
            # T(w)_i = (tau_i(B) w_i^(2/p - 1))^(p/2), tau_i(B) = ||(B R^-1)_i||^2.
            log_t = 0.5 * p * (np.log(_row_norms_squared(Y)) + (2.0 / p - 1.0) * log_w[i0:i1])
            residual = max(residual, float(np.max(np.abs(log_t - log_w[i0:i1]))))
            log_next[i0:i1] = (1 - beta) * log_w[i0:i1] + beta * log_t
            Y *= np.exp(expo * (log_next[i0:i1] - log_w[i0:i1]))[:, None]
            G = _add_gram(G, Y)
        if residual < tol or it == max_iter:
            return np.exp(log_w), residual, it
        log_w = log_next
        R1 = _cholesky_factor(G)
        if R1 is None:
            R = _r_factor(_scale_rows(np.exp(expo * log_w), A_r), rng)
        else:
            R = np.triu(R1 @ R)
    return np.exp(log_w), residual, max_iter


def lewis_weights(A, p, *, tol=1e-10, max_iter=None, rng=None):
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
    A : array_like or scipy.sparse matrix, shape (n, d)
    p : float
        ``p >= 1``.
    tol : float, optional
        Stop when the fixed-point residual
        :math:`\max_i |\log T(w)_i - \log w_i|` is below ``tol``
        (:func:`lewis_residual` computes it for any ``w``).
    max_iter : int, optional
        Iteration limit; default 500.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the sketch of the preconditioner (SPEC 7).

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
    The iteration :math:`\log w \leftarrow (1-\beta)\log w + \beta\log T(w)`,
    :math:`T(w)_i = (a_i^\top(A^\top W^{1-2/p}A)^{-1}a_i)^{p/2}`, from
    :math:`w = r/n`:

    * :math:`p \le 2`, :math:`\beta = 1`: the Cohen-Peng fixed point, an
      :math:`\ell_\infty` contraction of :math:`\log w` with rate
      :math:`1 - p/2` (about 35 iterations for ``tol = 1e-10`` at p = 1);
    * :math:`2 < p < 4`, :math:`\beta = 4/(p+2)`: still an
      :math:`\ell_\infty` contraction (rate :math:`1 - \beta(2 - p/2)`),
      with local rate :math:`(p-2)/(p+2)`, better than the undamped
      :math:`p/2 - 1`;
    * :math:`p \ge 4`, the same damping: the local rate
      :math:`(p-2)/(p+2) < 1` makes it converge near the fixed point, but
      no global contraction is proven here; the residual is checked, and a
      :class:`~randla.ConvergenceWarning` reports a failure.

    Each iteration is one pass over A with a triangular solve and a Gram
    matrix on blocks of rows (about :math:`2nd^2` flops): the exact
    triangular factor of :math:`W_k^{1/2-1/p}A` gives the leverage scores,
    hence :math:`T(w_k)` and :math:`w_{k+1}`, row by row, and the Gram
    matrix of the rescaled rows gives the factor for :math:`w_{k+1}`. When
    the weights moved too much for that update to be safe, the factor is
    recomputed from a copy of :math:`W_{k+1}^{1/2-1/p}A` and a sparse sign
    sketch.

    References
    ----------
    Lewis, D. (1978). Finite dimensional subspaces of L_p. Studia Math. 63.
    Cohen, M. & Peng, R. (2015). l_p row sampling by Lewis weights. STOC.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((1000, 4))
    >>> w = randla.lewis_weights(A, 1.5, rng=0)
    >>> round(float(w.sum()), 8)
    4.0
    >>> bool(randla.lewis_residual(A, w, 1.5) < 1e-9)
    True
    """
    A = as_matrix(A, "A", accept_sparse=True)
    p = check_p(p)
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    max_iter = 500 if max_iter is None else check_positive_int(max_iter, "max_iter")
    rng = check_rng(rng)
    dtype = A.dtype
    A = A.astype(np.float64)
    keep = _nonzero_rows(A)
    w = np.zeros(A.shape[0])
    if keep.any():
        sub = A[np.flatnonzero(keep)] if sp.issparse(A) else A[keep]
        if p == 2:
            w[keep], residual, it = _exact_scores(sub, None, rng), 0.0, 0
        else:
            w[keep], residual, it = _lewis(sub, p, tol, max_iter, rng)
        if residual >= tol:
            warnings.warn(
                f"Lewis weights not converged after {it} iterations: fixed-point residual "
                f"{residual:.3g} > tol={tol:g}; raise max_iter",
                ConvergenceWarning,
                stacklevel=2,
            )
    return w.astype(dtype)


def lewis_residual(A, w, p):
    r"""The fixed-point residual :math:`\max_i |\log T(w)_i - \log w_i|` of weights ``w``.

    :math:`T(w)_i = (a_i^\top (A^\top W^{1-2/p} A)^{+} a_i)^{p/2}`, over the
    nonzero rows of ``A`` (whose weights must be positive); zero rows must
    have zero weight. Computed exactly, in float64.

    Parameters
    ----------
    A : array_like or scipy.sparse matrix, shape (n, d)
    w : array_like, shape (n,)
    p : float

    Returns
    -------
    float
    """
    A = as_matrix(A, "A", accept_sparse=True).astype(np.float64)
    p = check_p(p)
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (A.shape[0],):
        raise ValueError(f"w must have shape ({A.shape[0]},), got {w.shape}")
    keep = _nonzero_rows(A)
    if np.any(w[keep] <= 0) or np.any(w[~keep] != 0):
        raise ValueError("w must be positive on the nonzero rows of A and zero on its zero rows")
    if not keep.any():
        return 0.0
    sub = A[np.flatnonzero(keep)] if sp.issparse(A) else A[keep]
    tau = _exact_scores(_scale_rows(w[keep] ** (0.5 - 1.0 / p), sub), None, check_rng(0))
    log_t = 0.5 * p * (np.log(tau) + (2.0 / p - 1.0) * np.log(w[keep]))
    return float(np.max(np.abs(log_t - np.log(w[keep]))))
