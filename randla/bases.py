r"""Orthonormal polynomial bases on product measures, and samplers of their densities.

A :class:`TensorBasis` is :math:`\varphi_\alpha(x) = \prod_k
p_{\alpha_k}(x_k)` over a downward-closed set of multi-indices
:math:`\alpha`, with :math:`p_j` the orthonormal polynomials of one family
for a probability measure :math:`\mu` on the line:

========== ============================================ ==============
family     measure :math:`\mu`                          support
========== ============================================ ==============
legendre   uniform, :math:`dx/2`                        :math:`[-1, 1]`
hermite    standard Gaussian                            :math:`\mathbb{R}`
chebyshev  arcsine, :math:`dx/(\pi\sqrt{1-x^2})`        :math:`[-1, 1]`
========== ============================================ ==============

so the :math:`\varphi_\alpha` are orthonormal in :math:`L^2(\mu^{\otimes D})`.
"""

import functools
import math

import numpy as np

from . import _kernels
from ._validation import (
    as_array,
    as_returned,
    check_finite,
    check_int,
    check_number,
    check_option,
    check_param,
    check_rng,
)

__all__ = ["TensorBasis", "FunctionBasis", "legendre", "hermite", "chebyshev", "tensor", "custom"]

FAMILIES = {
    "legendre": _kernels.LEGENDRE,
    "hermite": _kernels.HERMITE,
    "chebyshev": _kernels.CHEBYSHEV,
}
INDEX_SETS = ("total_degree", "hyperbolic_cross", "full_tensor")
MAX_INDICES = 10**7  # a basis that large could not be evaluated, let alone sampled

# The rule of each named set, one coordinate at a time: alpha_k = a fits the
# budget b left by the coordinates before it, and leaves next(a, b). The
# budget starts at degree (degree + 1 for the hyperbolic cross).
_RULES = {
    # sum_k alpha_k <= degree
    "total_degree": (lambda a, b: a <= b, lambda a, b: b - a),
    # prod_k (alpha_k + 1) <= degree + 1; a product of integers is <= b
    # exactly when the rest of it is <= floor(b / (a + 1)).
    "hyperbolic_cross": (lambda a, b: a + 1 <= b, lambda a, b: b // (a + 1)),
    # max_k alpha_k <= degree
    "full_tensor": (lambda a, b: a <= b, lambda a, b: b),
}


def _index_set(kind, dim, degree):
    """The multi-indices of a named set, graded (by total degree, then lexicographically).

    Built coordinate by coordinate from the prefixes that fit, each with the
    budget it leaves: the set is downward closed, so every prefix that fits
    extends (by zeros) to a member, each stage has at most as many rows as
    the set, and the cost is O(dim^2 (degree + 1) |set|) without ever
    visiting the (degree + 1)^dim tuples of the full grid.
    """
    fits, left_by = _RULES[kind]
    prefixes = np.zeros((1, 0), dtype=np.int64)
    budgets = np.array([degree + 1 if kind == "hyperbolic_cross" else degree])
    for k in range(dim):
        choices = [(a, fits(a, budgets)) for a in range(degree + 1)]
        size = sum(int(keep.sum()) for _, keep in choices)
        if size > MAX_INDICES:
            raise ValueError(
                f"index_set={kind!r} with dim={dim}, degree={degree} has more than "
                f"{MAX_INDICES} multi-indices ({size} already in the first {k + 1} "
                f"variables); lower dim or degree, or take a sparser index set"
            )
        prefixes = np.vstack(
            [np.column_stack([prefixes[keep], np.full(keep.sum(), a)]) for a, keep in choices]
        )
        budgets = np.concatenate([left_by(a, budgets[keep]) for a, keep in choices])
    # np.lexsort sorts by its last key first: total degree, then alpha_1, alpha_2, ...
    order = np.lexsort([prefixes[:, k] for k in reversed(range(dim))] + [prefixes.sum(axis=1)])
    return prefixes[order]


def _check_downward_closed(indices):
    present = {tuple(a) for a in indices.tolist()}
    if len(present) != len(indices):
        raise ValueError("index_set has repeated multi-indices")
    for a in present:
        for k, value in enumerate(a):
            if value > 0 and a[:k] + (value - 1,) + a[k + 1 :] not in present:
                raise ValueError(
                    f"index_set must be downward closed: {a} is in it but "
                    f"{a[:k] + (value - 1,) + a[k + 1 :]} is not"
                )


@functools.lru_cache(maxsize=512)
def _legendre_cdf_coefficients(degree):
    """Chebyshev coefficients of F(x) = int_{-1}^x p_j(t)^2 dt / 2, a polynomial of degree 2j + 1.

    The density is interpolated exactly at 2j + 1 Chebyshev points, then
    integrated term by term.
    """
    density = np.polynomial.chebyshev.chebinterpolate(
        lambda t: (
            0.5 * _kernels.orthonormal_polynomials(t, degree, _kernels.LEGENDRE)[:, degree] ** 2
        ),
        2 * degree,
    )
    return np.polynomial.chebyshev.chebint(density, lbnd=-1.0)


class TensorBasis:
    r"""An orthonormal tensor-product polynomial basis on a downward-closed index set.

    Build it with :func:`legendre`, :func:`hermite`, :func:`chebyshev` (one
    variable) or :func:`tensor`, which check the index set; the constructor
    does not.

    Parameters
    ----------
    family, indices
        The attributes below.

    Attributes
    ----------
    family : str
        ``"legendre"``, ``"hermite"`` or ``"chebyshev"``: the polynomials
        and their measure (see :mod:`randla.bases`).
    dim : int
        Number of variables ``D``.
    indices : ndarray of int64, shape (m, D)
        The multi-indices :math:`\alpha`, one row per basis function.
    m : int
        Number of functions.

    Examples
    --------
    >>> import randla
    >>> basis = randla.bases.tensor("legendre", dim=2, degree=2)
    >>> basis
    TensorBasis('legendre', dim=2, m=6)
    >>> basis.indices.tolist()
    [[0, 0], [0, 1], [1, 0], [0, 2], [1, 1], [2, 0]]
    >>> basis([[0.0, 0.5]]).shape                     # Phi[i, j] = phi_j(x_i)
    (1, 6)
    """

    def __init__(self, family, indices):
        self.family = family
        self.indices = np.asarray(indices, dtype=np.int64)
        self.m, self.dim = self.indices.shape
        self._code = FAMILIES[family]

    def __repr__(self):
        return f"TensorBasis({self.family!r}, dim={self.dim}, m={self.m})"

    def __len__(self):
        return self.m

    def _points(self, x, name="x"):
        """Points of shape (N, D) as a new float64 array (callers may keep it), checked."""
        x = as_array(x, name)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be real numbers, got dtype {x.dtype}")
        x = x.astype(np.float64)
        if x.ndim == 1 and self.dim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"{name} must have shape (N, {self.dim}), got {x.shape}")
        check_finite(x, name)
        return x

    def __call__(self, x):
        r"""The matrix :math:`\Phi_{ij} = \varphi_j(x_i)`, shape (N, m), for points x (N, D)."""
        return self._evaluate(x, "x")

    def _evaluate(self, x, name):
        x = self._points(x, name)
        out = np.ones((x.shape[0], self.m))
        # Far outside the support the polynomials overflow: inf, and inf * 0 = NaN.
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(self.dim):
                top = int(self.indices[:, k].max())
                values = _kernels.orthonormal_polynomials(
                    np.ascontiguousarray(x[:, k]), top, self._code
                )
                out *= values[:, self.indices[:, k]]
        _check_overflow(out, x, name)
        return out

    def christoffel(self, x):
        r"""The inverse Christoffel function :math:`k_m(x) = \sum_j \varphi_j(x)^2`."""
        return np.sum(self(x) ** 2, axis=1)

    def sample_measure(self, n, *, rng=None):
        """n points i.i.d. from the product measure, shape (n, D)."""
        n = check_param(n, "n")
        rng = check_rng(rng)
        if self.family == "legendre":
            return rng.uniform(-1.0, 1.0, size=(n, self.dim))
        if self.family == "hermite":
            return rng.standard_normal((n, self.dim))
        return np.cos(np.pi * rng.random((n, self.dim)))

    def sample_squared(self, j, *, rng=None):
        r"""One point from the density :math:`\varphi_{j_i}^2 d\mu` for each index in ``j``.

        Exactly, coordinate by coordinate (the density is a product): the
        inverse of each univariate CDF by bracketed Newton to 1e-14.

        Parameters
        ----------
        j : array_like of int, shape (n,)
            Basis function numbers in ``0..m-1``.
        rng : None, int or numpy.random.Generator, optional
            Source of randomness: a seed or a ``numpy.random.Generator``.

        Returns
        -------
        ndarray, shape (n, D)
        """
        j = as_array(j, "j")
        if j.ndim != 1 or j.dtype.kind not in "iu":
            raise TypeError(
                f"j must be a 1-D array of integers, got dtype {j.dtype}, shape {j.shape}"
            )
        if len(j) and not 0 <= j.min() <= j.max() < self.m:
            raise ValueError(
                f"j must be in 0..{self.m - 1}, got values from {j.min()} to {j.max()}"
            )
        rng = check_rng(rng)
        out = np.empty((len(j), self.dim))
        u = rng.random((len(j), self.dim))
        for k in range(self.dim):
            degrees = self.indices[j, k]
            for degree in np.unique(degrees):
                rows = np.flatnonzero(degrees == degree)
                out[rows, k] = _univariate_inverse_cdf(self._code, int(degree), u[rows, k])
        return out


def _check_overflow(values, x, name):
    if np.isfinite(values).all():
        return
    i = int(np.flatnonzero(~np.isfinite(values).all(axis=1))[0])
    raise ValueError(
        f"the basis functions overflow at {name}[{i}] = {x[i].tolist()}: their values there "
        f"exceed the float64 range (a point far outside the support of the measure)"
    )


def _univariate_inverse_cdf(code, degree, u):
    if code == _kernels.LEGENDRE:
        coef = _legendre_cdf_coefficients(degree)
        return _kernels.invert_cdf(u, degree, code, -1.0, 1.0, coef)
    unused = np.zeros(1)
    if code == _kernels.HERMITE:
        # The mass of h_j^2 phi beyond 2 sqrt(j) + 10 is below 1e-20.
        edge = 2.0 * math.sqrt(degree + 1) + 10.0
        return _kernels.invert_cdf(u, degree, code, -edge, edge, unused)
    theta = _kernels.invert_cdf(u, degree, code, 0.0, math.pi, unused)
    return np.cos(theta)


def _univariate(family, degree):
    degree = check_int(degree, "degree", minimum=0)
    return TensorBasis(family, np.arange(degree + 1)[:, None])


def legendre(degree):
    r"""Orthonormal Legendre polynomials of degree 0..degree, for the uniform measure on [-1, 1].

    :math:`p_j = \sqrt{2j+1}\,P_j`, so that :math:`\int_{-1}^1 p_j p_k \,dx/2 = \delta_{jk}`.

    Parameters
    ----------
    degree : int
        The highest degree, ``degree >= 0``.

    Returns
    -------
    TensorBasis
        One variable, ``m = degree + 1`` functions.

    Examples
    --------
    >>> import randla
    >>> basis = randla.bases.legendre(degree=19)
    >>> basis.m, basis([[0.5]]).shape
    (20, (1, 20))
    """
    return _univariate("legendre", degree)


def hermite(degree):
    r"""Orthonormal (probabilists') Hermite polynomials of degree 0..degree, for N(0, 1).

    :math:`p_j = He_j/\sqrt{j!}`, so that
    :math:`\int p_j p_k \, e^{-x^2/2}dx/\sqrt{2\pi} = \delta_{jk}`.

    Parameters
    ----------
    degree : int
        The highest degree, ``degree >= 0``.

    Returns
    -------
    TensorBasis
        One variable, ``m = degree + 1`` functions.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> basis = randla.bases.hermite(degree=3)
    >>> x, w = np.polynomial.hermite_e.hermegauss(8)    # Gauss rule for exp(-x^2/2)
    >>> Phi = basis(x)
    >>> bool(np.allclose(Phi.T @ (w[:, None] / np.sqrt(2 * np.pi) * Phi), np.eye(4)))
    True
    """
    return _univariate("hermite", degree)


def chebyshev(degree):
    r"""Orthonormal Chebyshev polynomials of degree 0..degree, for the arcsine law on [-1, 1].

    :math:`p_0 = 1` and :math:`p_j = \sqrt2\,T_j`, so that
    :math:`\int_{-1}^1 p_j p_k \, dx/(\pi\sqrt{1-x^2}) = \delta_{jk}`.

    Parameters
    ----------
    degree : int
        The highest degree, ``degree >= 0``.

    Returns
    -------
    TensorBasis
        One variable, ``m = degree + 1`` functions.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> basis = randla.bases.chebyshev(degree=3)
    >>> x, w = np.polynomial.chebyshev.chebgauss(8)     # Gauss rule for 1/sqrt(1-x^2)
    >>> Phi = basis(x)
    >>> bool(np.allclose(Phi.T @ (w[:, None] / np.pi * Phi), np.eye(4)))
    True
    """
    return _univariate("chebyshev", degree)


def tensor(family, dim, *, degree=None, index_set="total_degree"):
    r"""A tensor-product basis in ``dim`` variables on a downward-closed index set.

    .. math::

        \varphi_\alpha(x) = \prod_{k=1}^{D} p_{\alpha_k}(x_k), \qquad
        \alpha \in \Lambda \subset \mathbb{N}^D \text{ downward closed}.

    Parameters
    ----------
    family : {"legendre", "hermite", "chebyshev"}
        The univariate polynomials and their measure (the same in every
        variable).
    dim : int
        Number of variables ``D``.
    degree : int, optional
        Required for the named index sets, refused with an array:
        ``"total_degree"`` :math:`|\alpha|_1 \le` degree,
        ``"hyperbolic_cross"`` :math:`\prod_k(\alpha_k + 1) \le` degree + 1,
        ``"full_tensor"`` :math:`\max_k \alpha_k \le` degree.
    index_set : str or array_like of int, shape (m, dim), optional
        A named set (default ``"total_degree"``), or your own
        downward-closed multi-indices (checked).

    Returns
    -------
    TensorBasis
        The ``m`` functions :math:`\varphi_\alpha`, orthonormal in
        :math:`L^2(\mu^{\otimes D})`; named sets are ordered by total degree,
        then lexicographically.

    Examples
    --------
    >>> import randla
    >>> randla.bases.tensor("legendre", dim=5, degree=3, index_set="total_degree").m
    56
    """
    check_option(family, "family", tuple(FAMILIES))
    dim = check_int(dim, "dim")
    if isinstance(index_set, str):
        check_option(index_set, "index_set", INDEX_SETS)
        if degree is None:
            raise ValueError(f"degree is needed for index_set={index_set!r}")
        degree = check_int(degree, "degree", minimum=0)
        return TensorBasis(family, _index_set(index_set, dim, degree))
    if degree is not None:
        raise ValueError(
            "degree applies to a named index_set only; an array of indices has its own"
        )
    indices = as_array(index_set, "index_set")
    if indices.ndim != 2 or indices.shape[1] != dim or indices.dtype.kind not in "iu":
        raise ValueError(f"index_set must be an integer array of shape (m, {dim})")
    if (indices < 0).any():
        raise ValueError("index_set must have nonnegative entries")
    _check_downward_closed(indices)
    return TensorBasis(family, indices)


class FunctionBasis:
    r"""A user's basis: a vectorised callable, a sampler of its measure, optionally a bound.

    Build it with :func:`custom`. Without an exact sampler of
    :math:`\varphi_j^2 d\mu`, the weighted least-squares samplers draw from
    :math:`\rho_m` by rejection from :math:`\mu` when ``christoffel_bound``
    (:math:`B \ge \sup_x k_m(x)`) is known, and otherwise from a finite
    candidate set drawn from :math:`\mu`, with a warning.

    Parameters
    ----------
    function, m, dim, sample_measure, christoffel_bound
        As in :func:`custom`, which checks them; the constructor does not.

    Attributes
    ----------
    function : callable
        Points (N, dim) to values (N, m).
    m : int
        Number of functions.
    dim : int
        Number of variables.
    christoffel_bound : float or None
        :math:`B \ge \sup_x k_m(x)`, when known.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> trig = randla.bases.custom(
    ...     lambda x: np.hstack([np.ones((len(x), 1)), np.sqrt(2) * np.cos(np.pi * x)]),
    ...     2, sample_measure=lambda n, rng: rng.uniform(-1, 1, n), christoffel_bound=3.0)
    >>> trig
    FunctionBasis(m=2, dim=1)
    >>> trig.sample_measure(5, rng=0).shape, trig([[0.0]]).shape
    ((5, 1), (1, 2))
    """

    def __init__(self, function, m, dim, sample_measure, christoffel_bound):
        self.function, self.m, self.dim = function, m, dim
        self._sampler, self.christoffel_bound = sample_measure, christoffel_bound

    def __repr__(self):
        return f"FunctionBasis(m={self.m}, dim={self.dim})"

    def __len__(self):
        return self.m

    _points = TensorBasis._points

    def __call__(self, x):
        r"""The matrix :math:`\Phi_{ij} = \varphi_j(x_i)`, shape (N, m), for points x (N, D)."""
        return self._evaluate(x, "x")

    def _evaluate(self, x, name):
        x = self._points(x, name)
        return as_returned(self.function(x), "function", (len(x), self.m), x)

    def christoffel(self, x):
        r"""The inverse Christoffel function :math:`k_m(x) = \sum_j \varphi_j(x)^2`."""
        return np.sum(self(x) ** 2, axis=1)

    def sample_measure(self, n, *, rng=None):
        """n points i.i.d. from the measure, shape (n, D), by the user's sampler (shape checked)."""
        return self._sample_measure(check_param(n, "n"), check_rng(rng))

    def _sample_measure(self, n, rng):
        x = self._sampler(n, rng)
        if self.dim == 1 and np.shape(x) == (n,):
            x = np.reshape(x, (n, 1))
        return as_returned(x, "sample_measure", (n, self.dim))


def custom(function, m, *, dim=1, sample_measure, christoffel_bound=None, rng=None):
    r"""A basis given by a function, checked to be orthonormal for its measure.

    Parameters
    ----------
    function : callable
        Points (N, dim) to values (N, m) of :math:`\varphi_1..\varphi_m`,
        orthonormal in :math:`L^2(\mu)`.
    m : int
        Number of functions.
    dim : int, optional
        Number of variables (default 1).
    sample_measure : callable
        ``sample_measure(n, rng)`` returns ``n`` points (n, dim) i.i.d. from
        :math:`\mu` (``rng`` a numpy Generator).
    christoffel_bound : float, optional
        :math:`B \ge \sup_x \sum_j \varphi_j(x)^2`: enables exact
        sampling of :math:`\rho_m` by rejection from :math:`\mu`
        (acceptance :math:`k_m(x)/B`, rate :math:`m/B`).
    rng : None, int or numpy.random.Generator, optional
        For the orthonormality check.

    Returns
    -------
    FunctionBasis
        The basis, for :func:`randla.dpp_wls` and the point samplers.

    Raises
    ------
    ValueError
        When the Gram matrix on 20000 points from :math:`\mu` is off the
        identity by more than 0.2 (a Monte Carlo check: it catches a wrong
        normalisation or measure, not a tiny error).

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> trig = randla.bases.custom(
    ...     lambda x: np.hstack([np.ones((len(x), 1)), np.sqrt(2) * np.cos(np.pi * x)]),
    ...     2, sample_measure=lambda n, rng: rng.uniform(-1, 1, n), christoffel_bound=3.0)
    >>> trig.m
    2
    """
    if not callable(function) or not callable(sample_measure):
        raise TypeError("function and sample_measure must be callable")
    m = check_int(m, "m")
    dim = check_int(dim, "dim")
    if christoffel_bound is not None:
        christoffel_bound = check_number(christoffel_bound, "christoffel_bound", "(0, inf)")
        if christoffel_bound < m:
            raise ValueError(
                f"christoffel_bound must be >= m = {m} (the mean of k_m), got {christoffel_bound}"
            )
    rng = check_rng(rng)
    basis = FunctionBasis(function, m, dim, sample_measure, christoffel_bound)
    x = basis._sample_measure(20_000, rng)
    Phi = basis._evaluate(x, "x")
    error = np.linalg.norm(Phi.T @ Phi / len(x) - np.eye(m), 2)
    if error > 0.2:
        raise ValueError(
            f"the basis is not orthonormal for its measure: the Gram matrix on 20000 points "
            f"from it is {error:.3g} from the identity"
        )
    return basis
