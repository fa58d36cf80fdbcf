r"""One Newton method for :math:`\min_y \sum_i |c_i + (By)_i|^p`, :math:`p > 1`.

Both the exact :math:`\ell_p` sensitivities (:math:`\min \|Ux\|_p^p` on an
affine set) and :math:`\ell_p` regression (:math:`\min \|Qz - b\|_p^p`) are
this problem; they differ only in where they start and when they stop.
"""

import numpy as np
import scipy.linalg

# For p < 2 the curvature weight |r|^(p-2) is infinite at a zero residual:
# it is capped at residuals below this fraction of the largest, which keeps
# every step a descent step.
_CURVATURE_FLOOR = 1e-12


def psd_solve(H, g):
    """H^+ g for symmetric positive semidefinite H, eigenvalues below eps * largest dropped.

    Newton's curvature weights |r|^(p-2) span hundreds of orders of
    magnitude: H can be singular in floating point, where a Cholesky solve
    fails. The pseudo-inverse keeps the step in the directions the
    curvature resolves, a descent direction.
    """
    lam, V = scipy.linalg.eigh(H, check_finite=False)
    keep = lam > np.finfo(H.dtype).eps * max(lam[-1], 0.0) * len(lam)
    return V[:, keep] @ ((V[:, keep].T @ g) / lam[keep])


def minimize_lp(c, B, p, y, *, max_iter, done=None):
    r"""Newton with Armijo backtracking on :math:`g(y) = \sum_i |c_i + (By)_i|^p`.

    Residuals are divided by their largest magnitude before they are raised
    to a power, so values, gradients and curvatures neither overflow nor
    underflow for large p; the Newton step does not depend on those units,
    and the Armijo test compares values in them. The Hessian
    :math:`(p-1)B^\top \mathrm{diag}(|r|^{p-2}) B` is solved by
    pseudo-inverse (:func:`psd_solve`).

    Parameters
    ----------
    c : ndarray, shape (n,)
    B : ndarray, shape (n, m)
    p : float
        ``p > 1``.
    y : ndarray, shape (m,)
        The start.
    max_iter : int
        Newton steps at most.
    done : callable, optional
        ``done(r, y)`` with the residual ``r = c + By``: True stops the
        iteration there (a certificate, such as a duality gap, is met).

    Returns
    -------
    y, r : ndarray
        The last iterate and its residual, recomputed from ``y``.
    iterations : int
    stopped : bool
        True when ``done`` stopped it; False when ``max_iter`` was reached or
        no step decreases ``g`` any more (rounding).
    """
    r = c + B @ y
    for it in range(max_iter + 1):
        if done is not None and done(r, y):
            return y, r, it, True
        m = np.max(np.abs(r), initial=0.0)
        if it == max_iter or m == 0 or B.shape[1] == 0:
            break
        a = np.abs(r) / m
        with np.errstate(under="ignore", over="ignore"):
            grad = B.T @ (np.sign(r) * a ** (p - 1))
            weights = (p - 1) * (np.maximum(a, _CURVATURE_FLOOR) if p < 2 else a) ** (p - 2)
            step = -m * psd_solve((B.T * weights) @ B, grad)
            decrement = -(grad @ step) / m  # in units of m^p, as the values below
            value = np.sum(a**p) / p
            if not decrement > 0:
                break  # no descent direction left (rounding)
            # Trial residuals as r + t B step: c + B (y + t step) would add
            # the rounding of |c| + |B||y|, far above |r| near the optimum,
            # and large p magnifies it past the decrease the test looks for.
            direction = B @ step
            t = 1.0
            while t > 1e-14:
                trial = np.sum(np.abs((r + t * direction) / m) ** p) / p
                if trial <= value - 0.25 * t * decrement:
                    break
                t /= 2
            else:
                break  # no descent left: rounding decides
        y = y + t * step
        r = c + B @ y
    return y, r, it, False
