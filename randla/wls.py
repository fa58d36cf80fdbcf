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
from ._validation import check_option, check_positive_int, check_rng
from .bases import TensorBasis

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

    Attributes
    ----------
    points : ndarray, shape (n, D)
    weights : ndarray, shape (n,)
        :math:`w(x_i) = m/k_m(x_i)`.
    method : str
        The sampler: ``"iid"``, ``"dpp"``, ``"volume"`` or ``"repeated-dpp"``.
    """

    points: np.ndarray
    weights: np.ndarray
    method: str

    def __len__(self):
        return len(self.points)

    def __repr__(self):
        return f"PointSample(method={self.method!r}, n={len(self)}, dim={self.points.shape[1]})"


def _check_basis(basis):
    if not isinstance(basis, TensorBasis):
        raise TypeError(f"basis must be a randla.bases.TensorBasis, got {type(basis).__name__}")
    return basis


def _sample(basis, points, method):
    return PointSample(points, basis.m / basis.christoffel(points), method)


def _optimal_points(basis, n, rng):
    """n points i.i.d. from rho_m = (1/m) sum_j phi_j^2: a uniform mixture, so j first."""
    return basis.sample_squared(rng.integers(basis.m, size=n), rng)


def optimal_sample(basis, n, *, rng=None):
    r"""``n`` points i.i.d. from the optimal density :math:`\rho_m = k_m/m`.

    :math:`\rho_m = \frac1m\sum_j \varphi_j^2` is a uniform mixture, so each
    point picks :math:`j` uniformly and is drawn from
    :math:`\varphi_j^2 d\mu` (exactly, coordinate by coordinate for a
    tensor basis; :meth:`~randla.bases.TensorBasis.sample_squared`). Then
    :math:`E[G] = I` (Cohen & Migliorati, 2017).

    Examples
    --------
    >>> import randla
    >>> s = randla.optimal_sample(randla.bases.legendre(9), 30, rng=0)
    >>> s.points.shape, s.weights.shape
    ((30, 1), (30,))
    """
    basis = _check_basis(basis)
    n = check_positive_int(n, "n")
    rng = check_rng(rng)
    return _sample(basis, _optimal_points(basis, n, rng), "iid")


def _dpp_points(basis, rng):
    """The m points of the projection DPP of V_m, by rejection from rho_m (chain rule)."""
    m = basis.m
    basis_rows = np.zeros((m, m))
    chosen = np.empty(m, dtype=np.int64)
    # m H_m proposals are expected. They are i.i.d. and independent of the
    # decisions, so a batch drawn ahead serves the steps in turn.
    batch = int(m * (math.log(m) + 1.6)) + 16
    points, count = [], 0
    while count < m:
        proposals = _optimal_points(basis, batch, rng)
        before = count
        count, _ = _kernels.continuous_dpp_chain(
            basis(proposals), rng.random(batch), basis_rows, chosen, count, 0
        )
        points.append(proposals[chosen[before:count]])
    return np.vstack(points)


def projection_dpp_sample(basis, *, rng=None):
    r"""The ``m`` points of the projection DPP of :math:`V_m`.

    Kernel :math:`K_m(x, y) = \varphi(x)^\top\varphi(y)`; joint density
    :math:`\frac{1}{m!}\det[K_m(x_i, x_j)]` w.r.t. :math:`\mu^{\otimes m}`:
    exactly ``m`` points, each with marginal :math:`\rho_m`, repelling each
    other (Hough et al., 2006).

    Notes
    -----
    The chain rule: given :math:`k-1` points, the next has density
    :math:`\|P^\perp\varphi(x)\|^2/(m-k+1)` w.r.t. :math:`\mu`, sampled by
    rejection from :math:`\rho_m` with acceptance
    :math:`\|P^\perp\varphi(x)\|^2/\|\varphi(x)\|^2` (at most 1):
    :math:`mH_m \approx m\ln m` proposals in all, each :math:`O(km)` (the
    Numba kernel shared with :func:`randla.dpp.sample_projection_dpp`).

    Examples
    --------
    >>> import randla
    >>> s = randla.projection_dpp_sample(randla.bases.legendre(9), rng=0)
    >>> len(s)
    10
    """
    basis = _check_basis(basis)
    rng = check_rng(rng)
    return _sample(basis, _dpp_points(basis, rng), "dpp")


def volume_rescaled_sample(basis, n, *, rng=None):
    r"""Generalised volume-rescaled sampling from :math:`\rho_m`: ``n >= m`` points.

    Joint density :math:`\frac{(n-m)!}{n!}\det\bigl(\sum_i w(x_i)
    \varphi(x_i)\varphi(x_i)^\top\bigr)\prod_i \rho_m(x_i)` (Nouy & Michel,
    2023; Dereziński, Warmuth & Hsu for :math:`\rho \equiv 1`): by
    Cauchy-Binet, ``m`` projection-DPP points and ``n - m`` i.i.d. points
    from :math:`\rho_m`, in a uniformly random order. Each point has
    marginal :math:`\rho_m`, :math:`E[G] = I`, and the weighted
    least-squares coefficients are unbiased.
    """
    basis = _check_basis(basis)
    n = check_positive_int(n, "n")
    if n < basis.m:
        raise ValueError(f"n must be >= m = {basis.m} for volume-rescaled sampling, got {n}")
    rng = check_rng(rng)
    points = np.vstack([_dpp_points(basis, rng), _optimal_points(basis, n - basis.m, rng)])
    return _sample(basis, points[rng.permutation(n)], "volume")


def repeated_dpp_sample(basis, n, *, rng=None):
    """``n / m`` independent projection DPP samples, pooled (``n`` a multiple of ``m``).

    Every point has marginal :math:`\\rho_m`, so :math:`E[G] = I`; the pooled
    law is negatively dependent, which concentrates :math:`G` faster than
    i.i.d. points do (Nouy & Michel, 2023, section 5).
    """
    basis = _check_basis(basis)
    n = check_positive_int(n, "n")
    if n % basis.m:
        raise ValueError(f"n must be a multiple of m = {basis.m} for repeated DPPs, got {n}")
    rng = check_rng(rng)
    points = np.vstack([_dpp_points(basis, rng) for _ in range(n // basis.m)])
    return _sample(basis, points, "repeated-dpp")


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class WLSResult:
    r"""A weighted least-squares approximation :math:`\hat f = \sum_j c_j \varphi_j`.

    Attributes
    ----------
    coef : ndarray, shape (m,)
    points : ndarray, shape (n, D)
    weights : ndarray, shape (n,)
    values : ndarray, shape (n,)
        :math:`f` at the points.
    gram_error : float
        :math:`\|G - I\|_2`, from the singular values of
        :math:`\operatorname{diag}(\sqrt{w/n})\Phi` (G is never formed).
    method : str
    basis : TensorBasis
    redraws : int
        Samples drawn and rejected (``"iid-conditioned"``), else 0.
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


def _weighted_solve(basis, points, values, weights):
    """(coef, ||G - I||) by a QR-based solve of diag(sqrt(w/n)) Phi c = sqrt(w/n) f."""
    scale = np.sqrt(weights / len(points))
    M = basis(points) * scale[:, None]
    coef, _, _, sv = scipy.linalg.lstsq(
        M, values * scale, lapack_driver="gelsd", check_finite=False
    )
    sv = np.concatenate([sv, np.zeros(max(0, basis.m - len(sv)))])
    return coef, float(np.max(np.abs(sv**2 - 1)))


def fit_wls(basis, x, y, w):
    r"""The weighted least-squares approximation from given points, values and weights.

    Parameters
    ----------
    basis : TensorBasis
    x : array_like, shape (n, D)
    y : array_like, shape (n,)
    w : array_like, shape (n,)
        Positive weights (the optimal ones are :math:`m/k_m(x)`).

    Returns
    -------
    WLSResult
    """
    basis = _check_basis(basis)
    x = basis._points(x)
    y = np.asarray(y, dtype=np.float64)
    w = np.asarray(w, dtype=np.float64)
    if y.shape != (len(x),) or w.shape != (len(x),):
        raise ValueError(f"y and w must have shape ({len(x)},), got {y.shape} and {w.shape}")
    if not (np.isfinite(y).all() and np.isfinite(w).all()) or (w <= 0).any():
        raise ValueError("y must be finite and w finite and positive")
    coef, gram_error = _weighted_solve(basis, x, y, w)
    return WLSResult(coef, x, w, y, gram_error, "given", basis)


def dpp_wls(f, basis, n, *, method="volume", rng=None, condition=None):
    r"""Approximate ``f`` in the span of ``basis`` by weighted least squares on ``n`` points.

    Parameters
    ----------
    f : callable
        Vectorised: points of shape (N, D) to values of shape (N,).
    basis : TensorBasis
        Orthonormal for its measure (:mod:`randla.bases`).
    n : int
        Number of evaluations of ``f``.
    method : {"iid", "iid-conditioned", "dpp", "volume", "repeated-dpp"}, optional
        ``"iid"``: :func:`optimal_sample`; ``"iid-conditioned"``: i.i.d.
        samples redrawn until :math:`\|G - I\| \le` ``condition`` (the
        boosted estimator of Haberstich, Nouy & Perrin); ``"dpp"``: one
        projection DPP (``n = m``: interpolation); ``"volume"``:
        :func:`volume_rescaled_sample` (``n >= m``); ``"repeated-dpp"``:
        :func:`repeated_dpp_sample` (``n`` a multiple of ``m``).
    rng : None, int or numpy.random.Generator, optional
    condition : float, optional
        The threshold of ``"iid-conditioned"``, default 0.5.

    Returns
    -------
    WLSResult

    Notes
    -----
    The coefficients come from a least-squares solve with the matrix
    :math:`\operatorname{diag}(\sqrt{w/n})\Phi` (LAPACK's SVD-based
    ``gelsd``), never from the normal equations :math:`Gc = b`. With
    ``"dpp"`` and ``"volume"`` the coefficients are unbiased,
    :math:`E[\hat c] = (\langle f, \varphi_j\rangle)_j`, and DPP
    interpolation has :math:`E\|f - \hat f\|^2 = (m+1)e_m(f)^2` (Nouy &
    Michel, 2023).

    References
    ----------
    Nouy, A. & Michel, B. (2023). Weighted least-squares approximation with
    determinantal point processes and generalized volume sampling.
    arXiv:2312.14057.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> basis = randla.bases.legendre(degree=19)
    >>> res = randla.dpp_wls(lambda x: 1 / (1 + 25 * x[:, 0] ** 2), basis, n=40, rng=0)
    >>> res.coef.shape, res.points.shape
    ((20,), (40, 1))
    """
    basis = _check_basis(basis)
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    check_option(method, "method", METHODS)
    n = check_positive_int(n, "n")
    rng = check_rng(rng)
    delta = 0.5 if condition is None else float(condition)
    if not 0 < delta < 1:
        raise ValueError(f"condition must be in (0, 1), got {condition}")
    redraws = 0
    if method == "dpp":
        if n != basis.m:
            raise ValueError(f"method='dpp' takes n = m = {basis.m} points, got n = {n}")
        sample = projection_dpp_sample(basis, rng=rng)
    elif method == "volume":
        sample = volume_rescaled_sample(basis, n, rng=rng)
    elif method == "repeated-dpp":
        sample = repeated_dpp_sample(basis, n, rng=rng)
    else:
        sample = optimal_sample(basis, n, rng=rng)
        if method == "iid-conditioned":
            while _weighted_solve(basis, sample.points, np.zeros(n), sample.weights)[1] > delta:
                redraws += 1
                if redraws >= 10_000:
                    raise RuntimeError(
                        f"no i.i.d. sample of {n} points had ||G - I|| <= {delta} in 10000 draws; "
                        "raise n"
                    )
                sample = optimal_sample(basis, n, rng=rng)
    values = np.asarray(f(sample.points), dtype=np.float64).reshape(-1)
    if values.shape != (n,):
        raise ValueError(f"f must return one value per point, shape ({n},), got {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError("f returned NaN or inf")
    coef, gram_error = _weighted_solve(basis, sample.points, values, sample.weights)
    return WLSResult(
        coef, sample.points, sample.weights, values, gram_error, method, basis, redraws
    )
