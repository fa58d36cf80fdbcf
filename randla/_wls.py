r"""Weighted least-squares approximation from optimal i.i.d., DPP and volume-rescaled samples.

For an :math:`L^2(\mu)`-orthonormal basis :math:`\varphi_1..\varphi_m` of
:math:`V_m`, the inverse Christoffel function is
:math:`k_m(x) = \sum_j \varphi_j(x)^2` and the optimal sampling density
:math:`\rho_m = k_m/m` (w.r.t. :math:`\mu`), with weight
:math:`w = m/k_m`. From points :math:`x_1..x_n` the weighted least-squares
approximation is

.. math::

    \hat f = \arg\min_{v \in V_m} \frac1n \sum_i w(x_i)(f(x_i) - v(x_i))^2,
    \qquad G = \frac1n \sum_i w(x_i)\varphi(x_i)\varphi(x_i)^\top,

and :math:`\|G - I\|_2` measures its stability (Cohen & Migliorati, 2017;
Nouy & Michel, 2023).
"""

import dataclasses
import math

import numpy as np
import scipy.linalg

from . import _kernels
from ._dpp import projection_sample
from ._validation import (
    RandlaWarning,
    as_array,
    as_returned,
    check_finite,
    check_option,
    check_param,
    check_rng,
    renamed,
    warn,
)
from .bases import FunctionBasis, TensorBasis

__all__ = [
    "PointSample",
    "optimal_sample",
    "projection_dpp_sample",
    "volume_rescaled_sample",
    "repeated_dpp_sample",
    "WLSResult",
    "fit_wls",
    "dpp_wls",
]

METHODS = ("iid", "iid-conditioned", "dpp", "volume", "repeated-dpp")


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class PointSample:
    r"""Points for weighted least squares, with the optimal weights.

    Built by :func:`optimal_sample`, :func:`projection_dpp_sample`,
    :func:`volume_rescaled_sample` and :func:`repeated_dpp_sample`; not
    meant to be constructed by hand.

    Parameters
    ----------
    points, weights, method, indices
        The attributes below, in this order.

    Attributes
    ----------
    points : ndarray, shape (n, D)
        The sampled points.
    weights : ndarray, shape (n,)
        :math:`w(x_i) = m/k_m(x_i)`.
    method : str
        The sampler: ``"iid"``, ``"dpp"``, ``"volume"`` or ``"repeated-dpp"``.
    indices : ndarray of int64, shape (n,), or None
        With a finite candidate set: the rows of ``candidates`` drawn.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> basis = randla.bases.legendre(4)
    >>> s = randla.optimal_sample(basis, 20, rng=0)
    >>> s.method, s.points.shape, s.indices is None
    ('iid', (20, 1), True)
    >>> bool(np.allclose(s.weights, basis.m / basis.christoffel(s.points)))
    True
    """

    points: np.ndarray
    weights: np.ndarray
    method: str
    indices: np.ndarray | None = None

    def __len__(self):
        return len(self.points)

    def __repr__(self):
        return f"PointSample(method={self.method!r}, n={len(self)}, dim={self.points.shape[1]})"


def _check_basis(basis):
    if not isinstance(basis, TensorBasis | FunctionBasis):
        raise TypeError(
            f"basis must be a randla.bases.TensorBasis or FunctionBasis, got {type(basis).__name__}"
        )
    return basis


class _Continuous:
    """The basis' own measure: exact samplers of rho_m and of the projection DPP."""

    def __init__(self, basis):
        self.basis, self.m = basis, basis.m

    def iid(self, n, rng):
        """n points i.i.d. from rho_m = (1/m) sum_j phi_j^2.

        A tensor basis: a uniform mixture of the phi_j^2 dmu, so j first. A
        user's basis with a bound B on k_m: rejection from mu, acceptance
        k_m(x) / B.
        """
        if isinstance(self.basis, TensorBasis):
            return self.basis.sample_squared(rng.integers(self.m, size=n), rng=rng), None
        bound, kept = self.basis.christoffel_bound, [np.empty((0, self.basis.dim))]
        while sum(map(len, kept)) < n:
            x = self.basis.sample_measure(max(64, 2 * int(n * bound / self.m)), rng=rng)
            k = self.basis.christoffel(x)
            if k.max() > bound:
                raise ValueError(
                    f"christoffel_bound={bound:g} is wrong: k_m = {k.max():.6g} at {x[k.argmax()]}"
                )
            kept.append(x[rng.random(len(x)) * bound < k])
        return np.vstack(kept)[:n], None

    def dpp(self, rng):
        return _dpp_points(self.basis, lambda count: self.iid(count, rng)[0], rng), None

    def features(self, points, indices):
        """The orthonormal features phi(x), and the map from their coefficients to the basis'."""
        return self.basis(points), np.eye(self.m)


class _Discrete:
    """mu uniform on N candidate points; the basis orthonormalised for it (thin QR).

    With Phi / sqrt(N) = Q R, the orthonormal features are sqrt(N) Q, the
    optimal density puts probability tau_i / m on candidate i (tau the
    leverage scores of Q), and the weights are m / (N tau_i): leverage-score
    sampling and finite DPPs.
    """

    def __init__(self, basis, candidates):
        X = basis._points(candidates, "candidates")
        N = len(X)
        if N < basis.m:
            raise ValueError(f"candidates must have at least m = {basis.m} points, got {N}")
        Phi = basis._evaluate(X, "candidates")
        Q, R = scipy.linalg.qr(Phi / math.sqrt(N), mode="economic", check_finite=False)
        diagonal = np.abs(np.diag(R))
        if diagonal.min() <= N * np.finfo(float).eps * diagonal.max():
            raise ValueError("the basis functions are linearly dependent on the candidates")
        self.basis, self.m, self.X, self.Q, self.R = basis, basis.m, X, Q, R
        self.tau = np.einsum("ij,ij->i", Q, Q)

    def iid(self, n, rng):
        indices = rng.choice(len(self.X), size=n, p=self.tau / self.tau.sum())
        return self.X[indices], indices

    def dpp(self, rng):
        indices = rng.permutation(projection_sample(self.Q, rng))
        return self.X[indices], indices

    def features(self, points, indices):
        return math.sqrt(len(self.X)) * self.Q[indices], self.R


def _domain(basis, candidates, rng):
    """The sampling domain of a checked basis; rng a Generator."""
    if candidates is not None:
        return _Discrete(basis, candidates)
    if isinstance(basis, FunctionBasis) and basis.christoffel_bound is None:
        size = max(2000, int(20 * basis.m * math.log(basis.m + 1)))
        warn(
            f"no christoffel_bound for this basis, so no exact sampler of rho_m: sampling "
            f"from {size} candidates drawn from its measure instead (a discrete approximation)",
            RandlaWarning,
        )
        return _Discrete(basis, basis.sample_measure(size, rng=rng))
    return _Continuous(basis)


def _check_size(m, method, n):
    """n points for the method and a basis of m functions."""
    n = check_param(n, "n")
    if method == "dpp" and n != m:
        raise ValueError(f"method='dpp' takes n = m = {m} points, got n = {n}")
    if method == "volume" and n < m:
        raise ValueError(f"n must be >= m = {m} for volume-rescaled sampling, got {n}")
    if method == "repeated-dpp" and n % m:
        raise ValueError(f"n must be a multiple of m = {m} for repeated DPPs, got {n}")
    return n


def _draw(domain, method, n, rng):
    """A PointSample of n points by one of the samplers, weights w = m / k_m."""
    if method == "dpp":
        points, indices = domain.dpp(rng)
    elif method == "volume":
        points, indices = _pooled([domain.dpp(rng), domain.iid(n - domain.m, rng)], rng)
    elif method == "repeated-dpp":
        points, indices = _pooled([domain.dpp(rng) for _ in range(n // domain.m)], None)
    else:
        points, indices = domain.iid(n, rng)
    features, _ = domain.features(points, indices)
    return PointSample(points, domain.m / np.sum(features**2, axis=1), method, indices)


def optimal_sample(basis, n, *, candidates=None, rng=None):
    r"""``n`` points i.i.d. from the optimal density :math:`\rho_m = k_m/m`.

    :math:`\rho_m = \frac1m\sum_j \varphi_j^2` is a uniform mixture, so each
    point picks :math:`j` uniformly and is drawn from
    :math:`\varphi_j^2 d\mu` (exactly, coordinate by coordinate for a
    tensor basis; :meth:`~randla.bases.TensorBasis.sample_squared`). Then
    :math:`E[G] = I` (Cohen & Migliorati, 2017).

    Parameters
    ----------
    basis : TensorBasis or FunctionBasis
        Orthonormal for its measure :math:`\mu` (:mod:`randla.bases`). A
        :class:`~randla.bases.FunctionBasis` without ``christoffel_bound``
        is sampled through candidates drawn from :math:`\mu`, with a
        :class:`~randla.RandlaWarning`.
    n : int
        Number of points.
    candidates : array_like, shape (N, D), optional
        A finite candidate set: :math:`\mu` becomes the uniform measure on
        it and the basis is orthonormalised for it, as in :func:`dpp_wls`;
        the draws are then leverage-score sampling of the candidates.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    PointSample
        ``n`` points with their weights :math:`m/k_m(x_i)`, ``method="iid"``.

    References
    ----------
    Cohen, A. & Migliorati, G. (2017). Optimal weighted least-squares
    methods. SMAI J. Comput. Math. 3.

    Examples
    --------
    >>> import randla
    >>> s = randla.optimal_sample(randla.bases.legendre(9), 30, rng=0)
    >>> s.points.shape, s.weights.shape
    ((30, 1), (30,))
    """
    basis = _check_basis(basis)
    n = _check_size(basis.m, "iid", n)
    rng = check_rng(rng)
    return _draw(_domain(basis, candidates, rng), "iid", n, rng)


def _pooled(parts, rng):
    """(points, indices) of several parts stacked, in a random order when rng is given."""
    points = np.vstack([p for p, _ in parts])
    indices = None if parts[0][1] is None else np.concatenate([i for _, i in parts])
    if rng is not None:
        order = rng.permutation(len(points))
        points, indices = points[order], None if indices is None else indices[order]
    return points, indices


# Proposals are evaluated in chunks of this many bytes of features: a chunk
# stays in the L2 cache for the chain, and its arrays are recycled by the
# allocator. One array for a whole batch (m(ln m + 1.6) rows, 2.2 MB at
# m = 200) was mapped afresh at every call and its pages faulted in one by
# one (1137 faults, 4 of 11 ms at m = 200); chunks of 64 kB to 512 kB took
# none, and the larger ones fewer calls of the basis (about 0.1 ms each).
_CHUNK_BYTES = 1 << 18


def _dpp_points(basis, propose, rng):
    """The m points of the projection DPP of V_m, by rejection from rho_m (chain rule).

    ``propose(count)`` draws ``count`` points i.i.d. from rho_m.
    """
    m = basis.m
    basis_rows = np.eye(m)  # the complement of the points chosen so far
    chosen = np.empty(m, dtype=np.int64)
    # m H_m proposals are expected. They are i.i.d. and independent of the
    # decisions, so a batch drawn ahead serves the steps in turn.
    batch = int(m * (math.log(m) + 1.6)) + 16
    chunk = max(1, _CHUNK_BYTES // (8 * m))
    points, count = [], 0
    while count < m:
        proposals, u = propose(batch), rng.random(batch)
        for start in range(0, batch, chunk):
            if count == m:
                break
            rows, before = proposals[start : start + chunk], count
            count, _ = _kernels.continuous_dpp_chain(
                basis(rows), u[start : start + chunk], basis_rows, chosen, count, 0
            )
            points.append(rows[chosen[before:count]])
    return np.vstack(points)


def projection_dpp_sample(basis, *, candidates=None, rng=None):
    r"""The ``m`` points of the projection DPP of :math:`V_m`.

    Kernel :math:`K_m(x, y) = \varphi(x)^\top\varphi(y)`; joint density
    :math:`\frac{1}{m!}\det[K_m(x_i, x_j)]` w.r.t. :math:`\mu^{\otimes m}`:
    exactly ``m`` points, each with marginal :math:`\rho_m`, repelling each
    other (Hough et al., 2006).

    Parameters
    ----------
    basis : TensorBasis or FunctionBasis
        Orthonormal for its measure :math:`\mu`, as in :func:`optimal_sample`.
    candidates : array_like, shape (N, D), optional
        A finite candidate set, as in :func:`optimal_sample`: the draw is
        then the finite projection DPP of the orthonormalised basis on the
        candidates (:func:`randla.dpp.sample_projection_dpp`).
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    PointSample
        ``m`` points with their weights :math:`m/k_m(x_i)`, ``method="dpp"``.

    Notes
    -----
    The chain rule: given :math:`k-1` points, the next has density
    :math:`\|P^\perp\varphi(x)\|^2/(m-k+1)` w.r.t. :math:`\mu`, sampled by
    rejection from :math:`\rho_m` with acceptance
    :math:`\|P^\perp\varphi(x)\|^2/\|\varphi(x)\|^2` (at most 1):
    :math:`mH_m \approx m\ln m` proposals in all, :math:`m/(m-k+1)` of
    them for point :math:`k`, each :math:`O(m(m-k+1))`: :math:`O(m^3)`
    besides evaluating the basis at the proposals (the Numba kernel shared
    with :func:`randla.dpp.sample_projection_dpp`).

    References
    ----------
    Hough, J. B., Krishnapur, M., Peres, Y. & Virag, B. (2006).
    Determinantal processes and independence. Probability Surveys 3.
    Nouy, A. & Michel, B. (2023). Weighted least-squares approximation with
    determinantal point processes and generalized volume sampling.
    arXiv:2312.14057.

    Examples
    --------
    >>> import randla
    >>> s = randla.projection_dpp_sample(randla.bases.legendre(9), rng=0)
    >>> len(s)
    10
    """
    basis = _check_basis(basis)
    rng = check_rng(rng)
    return _draw(_domain(basis, candidates, rng), "dpp", basis.m, rng)


def volume_rescaled_sample(basis, n, *, candidates=None, rng=None):
    r"""Generalised volume-rescaled sampling from :math:`\rho_m`: ``n >= m`` points.

    Joint density :math:`\frac{(n-m)!}{n!}\det\bigl(\sum_i w(x_i)
    \varphi(x_i)\varphi(x_i)^\top\bigr)\prod_i \rho_m(x_i)` (Nouy & Michel,
    2023; Dereziński, Warmuth & Hsu for :math:`\rho \equiv 1`): by
    Cauchy-Binet, ``m`` projection-DPP points and ``n - m`` i.i.d. points
    from :math:`\rho_m`, in a uniformly random order. Each point has
    marginal :math:`\rho_m`, :math:`E[G] = I`, and the weighted
    least-squares coefficients are unbiased.

    Parameters
    ----------
    basis : TensorBasis or FunctionBasis
        Orthonormal for its measure :math:`\mu`, as in :func:`optimal_sample`.
    n : int
        Number of points, ``n >= m``.
    candidates : array_like, shape (N, D), optional
        A finite candidate set, as in :func:`optimal_sample`.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    PointSample
        ``n`` points with their weights :math:`m/k_m(x_i)`,
        ``method="volume"``.

    References
    ----------
    Nouy, A. & Michel, B. (2023). Weighted least-squares approximation with
    determinantal point processes and generalized volume sampling.
    arXiv:2312.14057.

    Examples
    --------
    >>> import randla
    >>> s = randla.volume_rescaled_sample(randla.bases.legendre(9), 30, rng=0)
    >>> s.method, len(s)
    ('volume', 30)
    """
    basis = _check_basis(basis)
    n = _check_size(basis.m, "volume", n)
    rng = check_rng(rng)
    return _draw(_domain(basis, candidates, rng), "volume", n, rng)


def repeated_dpp_sample(basis, n, *, candidates=None, rng=None):
    """``n / m`` independent projection DPP samples, pooled (``n`` a multiple of ``m``).

    Every point has marginal :math:`\\rho_m`, so :math:`E[G] = I`; the pooled
    law is negatively dependent, which concentrates :math:`G` faster than
    i.i.d. points do (Nouy & Michel, 2023, section 5).

    Parameters
    ----------
    basis : TensorBasis or FunctionBasis
        Orthonormal for its measure :math:`\\mu`, as in :func:`optimal_sample`.
    n : int
        Number of points, a multiple of ``m``.
    candidates : array_like, shape (N, D), optional
        A finite candidate set, as in :func:`optimal_sample`.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    PointSample
        ``n`` points with their weights :math:`m/k_m(x_i)`,
        ``method="repeated-dpp"``.

    References
    ----------
    Nouy, A. & Michel, B. (2023). Weighted least-squares approximation with
    determinantal point processes and generalized volume sampling.
    arXiv:2312.14057.

    Examples
    --------
    >>> import randla
    >>> s = randla.repeated_dpp_sample(randla.bases.legendre(9), 30, rng=0)
    >>> s.method, len(s)
    ('repeated-dpp', 30)
    """
    basis = _check_basis(basis)
    n = _check_size(basis.m, "repeated-dpp", n)
    rng = check_rng(rng)
    return _draw(_domain(basis, candidates, rng), "repeated-dpp", n, rng)


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class WLSResult:
    r"""A weighted least-squares approximation :math:`\hat f = \sum_j c_j \varphi_j`.

    Built by :func:`dpp_wls` and :func:`fit_wls`; not meant to be
    constructed by hand. Calling it evaluates :math:`\hat f`: points of
    shape (N, D) to values of shape (N,).

    Parameters
    ----------
    coef, points, weights, values, gram_error, method, basis, redraws
        The attributes below, in this order.

    Attributes
    ----------
    coef : ndarray, shape (m,)
        The coefficients :math:`c_j` in the basis' own functions.
    points : ndarray, shape (n, D)
        The points :math:`x_i`.
    weights : ndarray, shape (n,)
        The weights :math:`w(x_i)`.
    values : ndarray, shape (n,)
        :math:`f` at the points.
    gram_error : float
        :math:`\|G - I\|_2`, from the singular values of
        :math:`\operatorname{diag}(\sqrt{w/n})\Phi` (G is never formed).
    method : str
        The sampler of :func:`dpp_wls` (its ``method``), or ``"given"``
        from :func:`fit_wls`.
    basis : TensorBasis or FunctionBasis
        The basis of the approximation.
    redraws : int
        Samples drawn and rejected (``"iid-conditioned"``), else 0.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> basis = randla.bases.legendre(degree=5)
    >>> res = randla.dpp_wls(lambda x: x[:, 0] ** 2, basis, n=12, rng=0)
    >>> res.method, len(res.points), res.redraws
    ('volume', 12, 0)
    >>> round(float(res(np.array([[0.3]]))[0]), 8)      # x^2 is in the span: exact
    0.09
    """

    coef: np.ndarray
    points: np.ndarray
    weights: np.ndarray
    values: np.ndarray
    gram_error: float
    method: str
    basis: TensorBasis
    redraws: int = 0

    def __call__(self, x):
        """The approximation at points x, shape (N, D) -> (N,)."""
        return self.basis(x) @ self.coef

    def __repr__(self):
        return (
            f"WLSResult(method={self.method!r}, m={self.basis.m}, n={len(self.points)}, "
            f"gram_error={self.gram_error:.3g})"
        )


def _weighted_solve(domain, sample, values):
    """(coef in the basis, ||G - I||): a least-squares solve with diag(sqrt(w/n)) phi(x).

    In the orthonormal features, whose singular values give ||G - I||; the
    coefficients are then mapped to the basis' own functions.
    """
    features, to_basis = domain.features(sample.points, sample.indices)
    scale = np.sqrt(sample.weights / len(sample.points))
    # LAPACK reports an inf in its input by printing to the terminal: keep it out.
    with np.errstate(over="ignore"):
        design, rhs = features * scale[:, None], values * scale
    for array, what, scaled in ((design, "phi(x)", "w"), (rhs, "y", "y or w")):
        if not np.isfinite(array).all():
            raise ValueError(f"sqrt(w/n) * {what} overflows float64: rescale {scaled}")
    coef, _, _, sv = scipy.linalg.lstsq(design, rhs, lapack_driver="gelsd", check_finite=False)
    coef = scipy.linalg.solve_triangular(to_basis, coef, check_finite=False)
    with np.errstate(over="ignore"):  # sv**2 beyond 1.8e308: ||G - I|| is inf in float64
        return coef, float(np.max(np.abs(sv**2 - 1)))


@renamed(w="weights")
def fit_wls(basis, x, y, *, weights):
    r"""The weighted least-squares approximation from given points, values and weights.

    .. math::

        \hat f = \arg\min_{v \in V_m} \frac1n \sum_i w_i (y_i - v(x_i))^2,

    for points drawn by any means (for instance by :func:`optimal_sample`,
    whose ``weights`` are the ones to pass).

    Parameters
    ----------
    basis : TensorBasis or FunctionBasis
        Orthonormal for its measure (:mod:`randla.bases`); ``gram_error`` is
        measured against that orthonormality.
    x : array_like, shape (n, D)
        The points, ``n >= m`` of them (shape (n,) accepted when ``D = 1``).
    y : array_like, shape (n,)
        The values :math:`f(x_i)`, real and finite. Complex values are
        refused rather than supported: fit the real and imaginary parts
        separately (the fit is linear in ``y``).
    weights : array_like, shape (n,)
        The positive weights :math:`w_i` of the points: the rescaling that
        makes :math:`G` an unbiased estimate of the identity for points
        drawn from a density :math:`\rho` w.r.t. :math:`\mu` (:math:`w =
        1/\rho`; the optimal :math:`m/k_m(x)` for :math:`\rho_m`, as in
        :attr:`PointSample.weights`). Required: unit weights are right only
        for points drawn from :math:`\mu` itself.

    Returns
    -------
    WLSResult
        ``method="given"``, ``redraws=0``; its arrays are copies, not views
        of ``x``, ``y`` and ``weights``.

    Raises
    ------
    ValueError
        Fewer than ``m`` points, NaN or inf in the inputs, nonpositive
        weights, or points so far out that the basis overflows there.
    TypeError
        Complex, string or masked ``x``, ``y`` or ``weights``.

    Notes
    -----
    Cost: one SVD-based least-squares solve (LAPACK ``gelsd``) with the
    ``n x m`` matrix :math:`\operatorname{diag}(\sqrt{w/n})\Phi`, :math:`O(nm^2)`.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> basis = randla.bases.legendre(degree=4)
    >>> s = randla.optimal_sample(basis, 50, rng=0)
    >>> res = randla.fit_wls(basis, s.points, s.points[:, 0] ** 3, weights=s.weights)
    >>> res.method, round(float(res(np.array([[0.5]]))[0]), 10)   # x^3 is in the span
    ('given', 0.125)
    """
    basis = _check_basis(basis)
    x = basis._points(x, "x")  # a new array, like y and w below: the result keeps them
    if len(x) < basis.m:
        raise ValueError(
            f"x must have at least m = {basis.m} points to determine the {basis.m} "
            f"coefficients, got {len(x)}"
        )
    y, w = _real_vector(y, "y", len(x)), _real_vector(weights, "weights", len(x))
    if (w <= 0).any():
        i = int(np.flatnonzero(w <= 0)[0])
        raise ValueError(f"weights must be positive, got {w[i]} at index {i}")
    coef, gram_error = _weighted_solve(_Continuous(basis), PointSample(x, w, "given"), y)
    return WLSResult(coef, x, w, y, gram_error, "given", basis)


def _real_vector(v, name, n):
    """n real finite numbers as a new float64 array; a row or column (np.matrix) is flattened."""
    v = as_array(v, name)
    if v.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers, got dtype {v.dtype}")
    if v.shape not in ((n,), (n, 1), (1, n)):
        raise ValueError(f"{name} must have shape ({n},), got {v.shape}")
    v = v.astype(np.float64).reshape(n)
    check_finite(v, name)
    return v


# Checks of the redraws of "iid-conditioned": after these numbers of rejected
# samples, a refusal if acceptance is hopeless; never more than _MAX_REDRAWS.
_CHECKPOINTS = (20, 40, 80, 160, 320, 640, 1280)
_MAX_REDRAWS = 10_000
# Refuse when z - 3 se > 2.9: the estimated acceptance is below Phi(-2.9) = 1.9e-3
# even at the optimistic end of the estimate's uncertainty.
_HOPELESS_Z = 2.9


def _conditioned_sample(domain, n, delta, rng):
    """An i.i.d. sample with ||G - I|| <= delta, redrawn until one is; and the rejections."""
    log_errors = []
    while True:
        sample = _draw(domain, "iid", n, rng)
        error = _weighted_solve(domain, sample, np.zeros(n))[1]
        if error <= delta:
            return sample, len(log_errors)
        log_errors.append(math.log(error))
        if len(log_errors) in _CHECKPOINTS:
            _refuse_if_hopeless(np.array(log_errors), n, delta, domain.m)
        if len(log_errors) == _MAX_REDRAWS:
            raise RuntimeError(
                f"no i.i.d. sample of {n} points had ||G - I|| <= {delta} in {_MAX_REDRAWS} "
                f"draws; raise n"
            )


def _refuse_if_hopeless(log_errors, n, delta, m):
    r"""Raise ValueError when the rejected draws show that acceptance is hopeless.

    ``log_errors`` are :math:`\log\|G - I\|` of the rejected samples, all
    above :math:`\log\delta`. They are fitted by a normal law, whose lower
    tail gives the acceptance probability :math:`\Phi(-z)`,
    :math:`z = (\text{mean} - \log\delta)/\text{sd}`, with standard error
    :math:`\sqrt{1/k + z^2/2k}` after :math:`k` draws. The lower tail of
    :math:`\log\|G - I\|` is lighter than normal for :math:`m \ge 10`
    (the normal fit overstates the acceptance 1 to 10 times), so the test
    errs on the side of redrawing.
    """
    k, spread = len(log_errors), log_errors.std(ddof=1)
    if spread == 0:  # identical draws (a tiny candidate set): no law to fit
        return
    z = (log_errors.mean() - math.log(delta)) / spread
    if not z - 3 * math.sqrt(1 / k + z * z / (2 * k)) > _HOPELESS_Z:
        return
    # ||G - I|| shrinks like n^(-1/2): its median reaches delta near n * (median / delta)^2.
    half = math.ceil(n * (math.exp(np.median(log_errors)) / delta) ** 2)
    raise ValueError(
        f"n = {n} is too small for method='iid-conditioned' with max_gram_error={delta}: none of "
        f"{k} i.i.d. samples had ||G - I|| <= {delta}, and their spread puts the acceptance "
        f"near {0.5 * math.erfc(z / math.sqrt(2)):.1g}. Half or more should pass from about "
        f"n = {half} (where their median ||G - I||, shrinking like n^(-1/2), reaches "
        f"{delta}); the matrix Chernoff bound guarantees half from n = "
        f"{_chernoff_size(m, delta)}. Raise n or max_gram_error, or take method='volume'."
    )


def _chernoff_size(m, delta):
    r"""The n from which :math:`P(\|G - I\| \le \delta) \ge 1/2` for i.i.d. optimal samples.

    Matrix Chernoff (Tropp, 2012; Cohen & Migliorati, 2017), with
    :math:`\|w\varphi\varphi^\top\| = m`: :math:`P(\lambda_{\max}(G) \ge
    1 + \delta) \le m e^{-c'n/m}`, :math:`c' = (1+\delta)\ln(1+\delta) - \delta`,
    and the smaller of the two tails' constants is :math:`c'`; so
    :math:`P(\|G - I\| > \delta) \le 2m e^{-c'n/m} \le 1/2` from
    :math:`n = (m/c')\ln(4m)`.
    """
    c = (1 + delta) * math.log1p(delta) - delta
    return math.ceil(m / c * math.log(4 * m))


@renamed(condition="max_gram_error")
def dpp_wls(f, basis, n, *, method="volume", candidates=None, rng=None, max_gram_error=None):
    r"""Approximate ``f`` in the span of ``basis`` by weighted least squares on ``n`` points.

    Parameters
    ----------
    f : callable
        Vectorised: points of shape (N, D) to real values of shape (N,).
    basis : TensorBasis or FunctionBasis
        Orthonormal for its measure (:mod:`randla.bases`).
    n : int
        Number of evaluations of ``f``, ``n >= m``.
    method : {"iid", "iid-conditioned", "dpp", "volume", "repeated-dpp"}, optional
        ``"iid"``: :func:`optimal_sample`; ``"iid-conditioned"``: i.i.d.
        samples redrawn until :math:`\|G - I\| \le` ``max_gram_error`` (the
        boosted estimator of Haberstich, Nouy & Perrin); ``"dpp"``: one
        projection DPP (``n = m``: interpolation); ``"volume"``:
        :func:`volume_rescaled_sample` (``n >= m``); ``"repeated-dpp"``:
        :func:`repeated_dpp_sample` (``n`` a multiple of ``m``).
    candidates : array_like, shape (N, D), optional
        A finite candidate set: :math:`\mu` becomes the uniform measure on
        it, the basis is orthonormalised for it (a thin QR), and the
        samplers become leverage-score and finite DPP sampling
        (:func:`randla.dpp.sample_projection_dpp`).
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.
    max_gram_error : float, optional
        The bound :math:`\delta` on :math:`\|G - I\|_2` of
        ``"iid-conditioned"``, in (0, 1), default 0.5; refused with the
        other methods, which report :math:`\|G - I\|_2` in ``gram_error``
        rather than bound it. Acceptance needs ``n`` well above ``m``. With
        the default, half of the i.i.d. samples pass from about n = 16m
        (m = 20) to 19m (m = 56), one in a thousand near 5m (m = 20) to
        11m (m = 56), practically none below 4m; the matrix Chernoff
        bound guarantees half from :math:`n = (m/c)\ln(4m)`,
        :math:`c = 1.5\ln 1.5 - 0.5 \approx 0.108` (811 for m = 20).
        Calls whose acceptance is hopeless are refused (see Notes).

    Returns
    -------
    WLSResult
        The coefficients, the points, weights and values, and
        :math:`\|G - I\|_2`.

    Raises
    ------
    ValueError
        With ``"iid-conditioned"``, when the redraws show acceptance to be
        hopeless (see Notes), with the ``n`` that would do; also for bad
        arguments, and when ``f`` returns NaN, inf or the wrong shape.
    TypeError
        When ``f`` returns anything but real numbers.
    RuntimeError
        With ``"iid-conditioned"``, when 10000 redraws were all rejected.

    Notes
    -----
    The coefficients come from a least-squares solve with the matrix
    :math:`\operatorname{diag}(\sqrt{w/n})\Phi` (LAPACK's SVD-based
    ``gelsd``), never from the normal equations :math:`Gc = b`. With
    ``"dpp"`` and ``"volume"`` the coefficients are unbiased,
    :math:`E[\hat c] = (\langle f, \varphi_j\rangle)_j`, and DPP
    interpolation has :math:`E\|f - \hat f\|^2 = (m+1)e_m(f)^2` (Nouy &
    Michel, 2023).

    ``"iid-conditioned"`` watches its rejected samples: after 20, 40, 80,
    ..., 1280 of them it fits a normal law to :math:`\log\|G - I\|` and
    refuses the call when even the optimistic end (three standard errors)
    of the fitted acceptance probability :math:`\Phi(-z)` is below
    :math:`\Phi(-2.9) \approx 2 \cdot 10^{-3}`: hundreds to thousands of
    redraws would be needed, where the loop would give up only after
    10000. The lower tail of :math:`\log\|G - I\|` is lighter than normal
    for :math:`m \ge 10`, so the estimate overstates acceptance and the
    refusal errs towards redrawing. The message gives the ``n`` from
    which half or more of the samples pass (where the median of
    :math:`\|G - I\|`, scaled as :math:`n^{-1/2}`, reaches
    :math:`\delta`: right for m = 20, 35% high for m = 56) and the ``n``
    of the matrix Chernoff bound.

    References
    ----------
    Nouy, A. & Michel, B. (2023). Weighted least-squares approximation with
    determinantal point processes and generalized volume sampling.
    arXiv:2312.14057.
    Cohen, A. & Migliorati, G. (2017). Optimal weighted least-squares
    methods. SMAI J. Comput. Math. 3.
    Haberstich, C., Nouy, A. & Perrin, G. (2022). Boosted optimal weighted
    least-squares. Math. Comp. 91.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> basis = randla.bases.legendre(degree=19)
    >>> res = randla.dpp_wls(lambda x: 1 / (1 + 25 * x[:, 0] ** 2), basis, n=40, rng=0)
    >>> res.coef.shape, res.points.shape
    ((20,), (40, 1))
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    basis = _check_basis(basis)
    check_option(method, "method", METHODS)
    n = _check_size(basis.m, method, n)
    if n < basis.m:
        raise ValueError(f"n must be >= m = {basis.m} to determine {basis.m} coefficients, got {n}")
    delta = check_param(max_gram_error, "max_gram_error", optional=True)
    if delta is not None and method != "iid-conditioned":
        raise ValueError(
            f"max_gram_error bounds ||G - I|| for method='iid-conditioned' only; "
            f"method={method!r} reports it in the result's gram_error"
        )
    delta = 0.5 if delta is None else delta
    rng = check_rng(rng)
    domain = _domain(basis, candidates, rng)
    if method == "iid-conditioned":
        sample, redraws = _conditioned_sample(domain, n, delta, rng)
    else:
        sample, redraws = _draw(domain, method, n, rng), 0
    values = as_returned(f(sample.points), "f", (len(sample.points),), sample.points)
    coef, gram_error = _weighted_solve(domain, sample, values)
    return WLSResult(
        coef, sample.points, sample.weights, values, gram_error, method, basis, redraws
    )
