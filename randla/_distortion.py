r"""How good is a sample: exact :math:`\ell_2` and estimated :math:`\ell_p` distortion."""

import numpy as np
import scipy.sparse as sp

from ._blocks import nonzero_rows
from ._lewis import lewis_weights_unchecked
from ._linalg import factor
from ._validation import as_matrix, as_weights, check_p, check_param, check_rng, exact_rng, renamed

__all__ = ["subspace_distortion", "lp_distortion"]


def _check_sample(A, sample):
    if not all(hasattr(sample, f) for f in ("indices", "scales", "n", "p", "apply")):
        raise TypeError(f"sample must be a RowSample, got {type(sample).__name__}")
    if sample.n != A.shape[0]:
        raise ValueError(f"sample is of a matrix with {sample.n} rows; A has {A.shape[0]}")


def subspace_distortion(A, sample, *, rng=None):
    r"""The exact :math:`\ell_2` distortion of a row sample of ``A``.

    .. math::

        \max_j |\lambda_j(Q^\top S^\top S Q) - 1|
        = \sup_{x \ne 0} \left| \frac{\|SAx\|_2^2}{\|Ax\|_2^2} - 1 \right|,

    with :math:`Q` an orthonormal basis of the column space of ``A`` and
    :math:`S` the sampling-and-rescaling matrix of ``sample``: the sample is
    an :math:`\varepsilon`-subspace embedding (in squared norm) exactly when
    this is at most :math:`\varepsilon`.

    Parameters
    ----------
    A : array_like or scipy.sparse matrix, shape (n, d)
        The matrix the sample was drawn from; dense or CSR/CSC.
    sample : RowSample
        A sample of the rows of ``A`` (``sample.n == n``), for ``p = 2``.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the sketch that preconditions the basis:
        a seed or a ``numpy.random.Generator``. The result does not depend on it beyond rounding;
        without it, a fixed seed makes it the same bit for bit on every call.

    Returns
    -------
    float
        The distortion :math:`\max_j |\lambda_j(Q^\top S^\top S Q) - 1|`
        (0 when ``A`` has rank 0).

    Notes
    -----
    Only the sampled rows of :math:`Q` are formed, as
    :math:`A_{I,:}R^{-1}` with :math:`R` from the exact path of
    :func:`randla.leverage_scores`: never an ``n x n`` matrix, nor an
    ``n x d`` one beyond that path's own. Cost: that factorisation plus
    :math:`O(m d^2)` for ``m`` sampled rows.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((20_000, 5))
    >>> s = randla.leverage_sample(A, 2_000, rng=0)
    >>> bool(randla.subspace_distortion(A, s) < 0.2)
    True
    """
    A = as_matrix(A, "A", accept_sparse=True)
    _check_sample(A, sample)
    if sample.p != 2:
        raise ValueError(
            f"sample must be scaled for p = 2 (the l2 distortion), got p = {sample.p:g}"
        )
    SQ = factor(A, None, exact_rng(rng)).rows(A, sample.indices) * sample.scales[:, None]
    if SQ.shape[1] == 0:
        return 0.0
    eigenvalues = np.linalg.eigvalsh(SQ.T @ SQ)
    return float(np.max(np.abs(eigenvalues - 1)))


def _power_sums(U, Y, p):
    """||U y||_p^p for every column y of Y, a few columns at a time.

    U Y has n rows: its columns are taken about d at a time, in place, so
    that the work array never exceeds the size of U.
    """
    width = max(1, U.shape[1])
    sums = np.empty(Y.shape[1])
    for j in range(0, Y.shape[1], width):
        T = U @ Y[:, j : j + width]
        np.abs(T, out=T)
        T **= p
        sums[j : j + width] = T.sum(axis=0)
    return sums


def _ratios(SU, U, Y, p):
    """||SU y||_p^p / ||U y||_p^p for every column y of Y."""
    return _power_sums(SU, Y, p) / _power_sums(U, Y, p)


def _ascend(SU, U, y, p, sign, steps):
    """Normalised gradient ascent of sign * log ratio on the unit sphere."""

    def value(v):
        return sign * np.log(_ratios(SU, U, v[:, None], p)[0])

    def grad(v):
        su, u = SU @ v, U @ v
        num, den = np.sum(np.abs(su) ** p), np.sum(np.abs(u) ** p)
        g = p * (
            SU.T @ (np.sign(su) * np.abs(su) ** (p - 1)) / num
            - U.T @ (np.sign(u) * np.abs(u) ** (p - 1)) / den
        )
        return sign * (g - (g @ v) * v)  # tangent to the sphere

    y = y / np.linalg.norm(y)
    best, step = value(y), 0.5
    for _ in range(steps):
        g = grad(y)
        norm = np.linalg.norm(g)
        if norm < 1e-12:
            break
        while step > 1e-8:
            candidate = y + step * g / norm
            candidate /= np.linalg.norm(candidate)
            v = value(candidate)
            if v > best:
                y, best, step = candidate, v, min(2 * step, 1.0)
                break
            step /= 2
        else:
            break
    return float(np.exp(sign * best))


@renamed(weights="lewis_weights")
def lp_distortion(A, sample, *, lewis_weights=None, directions=256, ascent_steps=50, rng=None):
    r"""An estimate (a lower bound) of the :math:`\ell_p` distortion of a row sample.

    .. math::

        \sup_{x:\,Ax \ne 0} \left| \frac{\|SAx\|_p^p}{\|Ax\|_p^p} - 1 \right|

    is a non-convex supremum; this returns its largest value found over
    (i) ``directions`` random Gaussian directions and (ii) the coordinate
    directions, both in the Lewis basis :math:`x = R^{-1}y` (``R`` the
    triangular factor of :math:`W^{1/2-1/p}A`, :math:`W` the Lewis weights,
    which makes the directions well spread for :math:`\ell_p`), then
    (iii) normalised gradient ascent of the ratio and of its inverse from
    the three most extreme directions found. **It is a lower bound on the
    true distortion**; for :math:`p = 2` the ascent finds the exact value,
    :func:`subspace_distortion`, up to its tolerance.

    Parameters
    ----------
    A : array_like or scipy.sparse matrix, shape (n, d)
        The matrix the sample was drawn from; dense or CSR/CSC (densified
        for the basis :math:`U`).
    sample : RowSample
        A sample of the rows of ``A``; the distortion is measured in the
        :math:`\ell_p` norm it was scaled for, ``p = sample.p``.
    lewis_weights : array_like, shape (n,), optional
        The Lewis weights of ``A`` for that ``p``
        (:func:`randla.lewis_weights`), to reuse them over many samples of
        the same matrix; computed when omitted.
    directions : int, optional
        Random directions tried.
    ascent_steps : int, optional
        Steps of each ascent run.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the directions: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    float
        The largest :math:`\bigl|\|SAx\|_p^p/\|Ax\|_p^p - 1\bigr|` found: a lower bound
        on the distortion (0 when ``A`` is zero). On a rank-deficient ``A``
        the directions span its column space.

    Notes
    -----
    Cost: the Lewis weights of ``A`` (unless given), an ``n x r`` basis
    :math:`U = AR^{-1}` (one copy of A), and O(nnz(A)) per direction and
    per ascent step.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_t(2.5, size=(5000, 4))
    >>> s = randla.lewis_sample(A, 1000, p=1.5, rng=0)
    >>> bool(0 < randla.lp_distortion(A, s, rng=0) < 0.5)
    True
    """
    A = as_matrix(A, "A", accept_sparse=True).astype(np.float64, copy=False)
    _check_sample(A, sample)
    p = check_p(sample.p, "sample.p")
    if lewis_weights is not None:
        lewis_weights = as_weights(lewis_weights, A.shape[0], "lewis_weights")
    directions = check_param(directions, "directions")
    ascent_steps = check_param(ascent_steps, "ascent_steps")
    rng = check_rng(rng)
    keep = nonzero_rows(A)
    if not keep.any():
        return 0.0  # A = 0: no x with Ax != 0
    if lewis_weights is None:
        w = lewis_weights_unchecked(A, p, rng=exact_rng(None))
    else:
        w = lewis_weights
        if np.any(w[keep] <= 0):
            raise ValueError("lewis_weights must be positive on the nonzero rows of A")
    scales = np.zeros(A.shape[0])
    scales[keep] = w[keep] ** (0.5 - 1.0 / p)
    B = sp.csr_array(sp.diags_array(scales) @ A) if sp.issparse(A) else scales[:, None] * A
    # The factor on the numerical rank of A (columns judged dependent are
    # left out: they add no direction to the column space).
    f = factor(B if keep.all() else B[np.flatnonzero(keep)], None, rng)
    del B  # the size of A: not needed beside U
    r = f.rank
    U = f.solve_rows(f.columns(A))
    SU = sample.apply(U)
    Y = np.hstack([np.eye(r), rng.standard_normal((r, directions))])
    ratios = _ratios(SU, U, Y, p)
    order = np.argsort(ratios)
    high = max(_ascend(SU, U, Y[:, j], p, +1, ascent_steps) for j in order[-3:])
    low = min(_ascend(SU, U, Y[:, j], p, -1, ascent_steps) for j in order[:3])
    return float(max(high - 1, 1 - low, np.max(np.abs(ratios - 1))))
