r"""Row sampling with rescaling: :class:`RowSample` and the samplers.

Every sampler reduces to :func:`sample_rows`: importance scores in, a
:class:`RowSample` out, whose rescaled rows :math:`SA` make
:math:`\|SAx\|_p^p` an unbiased estimate of :math:`\|Ax\|_p^p` for every
:math:`x`.
"""

import dataclasses
import math

import numpy as np
import scipy.sparse as sp

from ._blocks import is_dask, residual_norms, take_rows
from ._coarse import OVERSAMPLING
from ._coarse import applies as coarse_applies
from ._dpp import (
    eigen_of,
    kdpp_eigen_inclusion,
    kdpp_eigenvectors,
    numerical_rank,
    projection_sample,
)
from ._leverage import leverage_scores_unchecked, root_of
from ._lewis import (
    check_sensitivity_method,
    coarse_lewis_applies,
    lewis_weights_unchecked,
    sensitivity_bounds,
)
from ._linalg import basis, warn_rank
from ._lstsq import LstsqResult, lstsq_unchecked
from ._validation import (
    SCHEMES,
    as_array,
    as_matrix,
    as_rhs,
    check_finite,
    check_finite_result,
    check_number,
    check_option,
    check_p,
    check_param,
    check_rng,
    renamed,
)

__all__ = [
    "RowSample",
    "sample_rows",
    "leverage_sample",
    "uniform_sample",
    "sensitivity_sample",
    "root_leverage_sample",
    "lewis_sample",
    "hybrid_sample",
    "augmented_sample",
    "volume_sample",
    "volume_lstsq",
]


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class RowSample:
    r"""Rows sampled from an ``n``-row matrix, with their scales.

    The sampled and rescaled matrix is :math:`SA` with
    ``(S A)[j] = scales[j] * A[indices[j]]``.

    Built by :func:`sample_rows` and the samplers that call it, and by
    :func:`volume_sample`; not meant to be constructed by hand.

    Parameters
    ----------
    indices, scales, probabilities, p, scheme, k, scores
        The attributes below, in this order.

    Attributes
    ----------
    indices : ndarray of int64, shape (m,)
        The sampled rows, sorted. With ``scheme="iid"`` a row drawn twice
        appears twice.
    scales : ndarray of float64, shape (m,)
        The scale of each sampled row (a factor on the row, not a weight on
        its squared residual: for least squares on the sample, the weights are
        ``scales ** 2``): :math:`q_i^{-1/p}` (Bernoulli),
        :math:`(k\pi_i)^{-1/p}` (i.i.d.), or 1 (volume sampling, whose
        unweighted least-squares estimator is the unbiased one).
    probabilities : ndarray of float64, shape (n,)
        Per original row: the inclusion probability :math:`q_i` (Bernoulli
        and volume sampling) or the probability :math:`\pi_i` of each draw
        (i.i.d.).
    p : float
        The exponent the scales are for.
    scheme : {"bernoulli", "iid", "volume"}
        How the rows were drawn: independent Bernoulli trials, i.i.d.
        draws with replacement, or volume sampling.
    k : int
        The target size: the expected number of rows (Bernoulli), the
        number of draws (i.i.d.) or the number of rows (volume). A sampler on
        coarse scores grows the ``k`` it was given by :data:`randla.OVERSAMPLING`
        and records the grown size here.
    scores : str
        What the rows were drawn by: ``"coarse leverage"``, ``"exact
        lewis"``, ``"exact sensitivity"``, ``"uniform"``, ``"given"``
        (:func:`sample_rows`), ``"volume"``, ... (``"coarse"`` and
        ``"exact"`` as in the samplers' ``accuracy``).

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((100, 2))
    >>> s = randla.uniform_sample(A, 10, rng=0)
    >>> s.n, s.scheme, s.k, s.scores
    (100, 'bernoulli', 10, 'uniform')
    >>> bool(np.allclose(s.apply(A), s.scales[:, None] * A[s.indices]))
    True
    """

    indices: np.ndarray
    scales: np.ndarray
    probabilities: np.ndarray
    p: float
    scheme: str
    k: int
    scores: str = "given"

    @property
    def n(self):
        """Number of rows of the matrix sampled from."""
        return len(self.probabilities)

    def __len__(self):
        return len(self.indices)

    def __repr__(self):
        kind = {"bernoulli": "expected", "iid": "draws", "volume": "size"}[self.scheme]
        return (
            f"RowSample(scheme={self.scheme!r}, p={self.p:g}, rows={len(self)} of "
            f"{self.n}, {kind}={self.k}, scores={self.scores!r})"
        )

    def _check_population(self, A):
        if A.shape[0] != self.n:
            raise ValueError(
                f"A must have {self.n} rows, the size of the sample's population, got {A.shape[0]}"
            )

    def apply(self, A):
        r"""The sampled, rescaled rows :math:`SA` of ``A`` (or of a vector).

        Parameters
        ----------
        A : array_like, scipy.sparse matrix or dask array, shape (n,) or (n, d)
            Dense or sparse; sparse input gives a CSR result; of a dask array
            only the sampled rows are computed.

        Returns
        -------
        ndarray or scipy.sparse.csr_array, shape (m,) or (m, d)
        """
        if not (sp.issparse(A) or is_dask(A)):
            A = as_array(A, "A")
        if A.ndim not in (1, 2):
            raise ValueError(f"A must be 1-D or 2-D, got an array of shape {A.shape}")
        self._check_population(A)
        # Only the sampled rows are read and checked: a memory-mapped A is
        # not paged in, a dask A is not gathered.
        source = sp.csr_array(A) if sp.issparse(A) else A
        rows = take_rows(source, self.indices if len(self) else np.arange(1))
        vector = rows.ndim == 1
        rows = as_matrix(rows[:, None] if vector else rows, "A", accept_sparse=True)
        rows = rows[: len(self)]
        with np.errstate(over="ignore"):  # reported below, by name
            if sp.issparse(rows):
                scaled = sp.csr_array(sp.diags_array(self.scales.astype(rows.dtype)) @ rows)
            else:
                scaled = rows * self.scales.astype(rows.dtype)[:, None]
        check_finite_result(scaled.data if sp.issparse(scaled) else scaled, rows, "A", "S @ A")
        return scaled[:, 0] if vector else scaled


def _check_scores(scores):
    scores = as_array(scores, "scores")
    if scores.ndim != 1 or scores.size == 0:
        raise ValueError(f"scores must be a non-empty 1-D array, got shape {scores.shape}")
    if scores.dtype.kind not in "biuf":
        raise TypeError(f"scores must be real numbers, got dtype {scores.dtype}")
    scores = scores.astype(np.float64)
    if not np.isfinite(scores).all():
        bad = np.flatnonzero(~np.isfinite(scores))[0]
        raise ValueError(f"scores contains {scores[bad]} (first at index {bad})")
    if (scores < 0).any():
        bad = np.flatnonzero(scores < 0)[0]
        raise ValueError(f"scores must be >= 0, got {scores[bad]} at index {bad}")
    if not (scores > 0).any():
        raise ValueError("scores must have a positive entry, got all zeros")
    return scores


def _check_rows_to_sample(scores, what):
    """Scores computed from A, as float64: none positive means A is zero, which is A's fault."""
    if not np.any(scores > 0):
        raise ValueError(f"A has no row with a positive {what} (A is zero): nothing to sample")
    return np.asarray(scores, dtype=np.float64)


def _bernoulli_probabilities(scores, k):
    r"""q_i = min(1, alpha s_i) with sum_i q_i = k, solved exactly.

    With the scores sorted decreasingly, if the top m rows are kept surely,
    alpha = (k - m) / (sum of the rest); m is the smallest count for which
    the next score then has alpha s <= 1. Only the top k scores can be kept
    surely, so only they are sorted.
    """
    # q does not depend on the scale of the scores. Rescaled only when the
    # sums below (at most n times the largest score) would overflow: dividing
    # by the largest score sets subnormal scores to 0, and when the budget
    # spills over to them, their q is far from 0 (scores [1, 1, 1, 2, 5e-324,
    # 5e-324] and k = 5 give q = 1/2 to each of the last two).
    if scores.max() > np.finfo(np.float64).max / len(scores):
        scores = scores / scores.max()  # scores below 2^-1074 of the largest become 0
    positive = scores > 0
    if k >= positive.sum():
        return positive.astype(np.float64)
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    s = scores[top]
    rest = np.sum(np.delete(scores, top))  # summed, not a difference that may cancel
    tail = rest + np.cumsum(s[::-1])[::-1]  # tail[m] = sum of all but the top m
    # alpha = (k - m) / tail[m]; m qualifies when alpha s[m] <= 1, compared
    # without the division, which overflows on subnormal tails. m = k - 1
    # always qualifies: s[k-1] <= tail[k-1].
    m0 = np.flatnonzero((k - np.arange(k)) * s <= tail)[0]
    with np.errstate(over="ignore"):  # rows kept surely may overflow: q saturates at 1
        q = np.minimum(1.0, (k - m0) * (scores / tail[m0]))
    q[top[:m0]] = 1.0
    return q


def sample_rows(scores, k, *, p=2, scheme="bernoulli", rng=None):
    r"""Sample rows by importance scores and rescale them for :math:`\ell_p`.

    .. math::

        q_i = \min(1, \alpha s_i), \quad \sum_i q_i = k, \qquad
        (SA)_j = q_{i_j}^{-1/p}\, a_{i_j} \quad \text{(Bernoulli)}.

    Parameters
    ----------
    scores : array_like, shape (n,)
        Nonnegative importance scores (leverage scores, Lewis weights,
        sensitivity bounds...), at least one positive; their scale does not
        matter. Rows with score 0 are never sampled.
    k : int
        Bernoulli: the expected number of rows, ``1 <= k <= n``. i.i.d.: the
        number of draws, ``k >= 1``.
    p : float, optional
        The norm the sample is for, ``p >= 1``; it sets the scales.
    scheme : {"bernoulli", "iid"}, optional
        ``"bernoulli"``: keep row :math:`i` independently with probability
        :math:`q_i = \min(1, \alpha s_i)`, :math:`\alpha` solved exactly so
        that :math:`\sum_i q_i = k`, scale :math:`q_i^{-1/p}`.
        ``"iid"``: ``k`` draws with replacement from
        :math:`\pi = s / \sum s`, each scaled by :math:`(k\pi_i)^{-1/p}`.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    RowSample
        The sampled rows (sorted), their scales and the probabilities, with
        this ``p``, ``scheme`` and ``k``.

    Notes
    -----
    Both schemes are unbiased in the :math:`p`-th power:
    :math:`\mathbb{E}\|SAx\|_p^p = \sum_i q_i \cdot q_i^{-1}|a_i^\top x|^p =
    \|Ax\|_p^p` (Bernoulli) and
    :math:`k \sum_i \pi_i (k\pi_i)^{-1} |a_i^\top x|^p = \|Ax\|_p^p`
    (i.i.d.); the Bernoulli size has mean :math:`k` and variance
    :math:`\sum_i q_i(1-q_i)`. Cost: O(n log n) for the exact
    :math:`\alpha`, O(n) for the draw.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> s = randla.sample_rows([4.0, 1.0, 1.0, 1.0, 1.0], 2, rng=0)
    >>> s.probabilities            # the top row's alpha*s = 1: kept surely
    array([1.  , 0.25, 0.25, 0.25, 0.25])
    """
    scores = _check_scores(scores)
    k = _check_size(k, len(scores), scheme)
    return sample_rows_unchecked(scores, k, check_p(p), scheme, check_rng(rng))


def _check_size(k, n, scheme):
    """k checked for the scheme: at most the n rows for Bernoulli, any number of draws for iid."""
    check_option(scheme, "scheme", SCHEMES)
    return check_param(k, "k", maximum=n if scheme == "bernoulli" else None)


def sample_rows_unchecked(scores, k, p, scheme, rng, label="given"):
    """sample_rows on checked arguments: float64 scores, k, p and scheme checked."""
    n = len(scores)
    if scheme == "bernoulli":
        q = _bernoulli_probabilities(scores, k)
        indices = np.flatnonzero(rng.random(n) < q)
        scales = q[indices] ** (-1 / p)
        return RowSample(indices, scales, q, p, scheme, k, label)
    scaled = scores / scores.max()  # a sum of scores near 1e308 overflows
    pi = scaled / scaled.sum()
    indices = np.sort(rng.choice(n, size=k, p=pi))
    scales = (k * pi[indices]) ** (-1 / p)
    return RowSample(indices, scales, pi, p, scheme, k, label)


ACCURACIES = ("coarse", "exact")


def grown_size(k, n, scheme, coarse):
    """The sample size on coarse scores: k times OVERSAMPLING (at most n for Bernoulli)."""
    if not coarse:
        return k
    grown = math.ceil(OVERSAMPLING * k)
    return min(grown, n) if scheme == "bernoulli" else grown


def _draw(scores, k, p, scheme, rng, kind, coarse):
    """The sample of a sampler: scores of ``kind``, coarse or exact, the size grown if coarse."""
    label = f"{'coarse' if coarse else 'exact'} {kind}"
    k = grown_size(k, len(scores), scheme, coarse)
    return sample_rows_unchecked(scores, k, p, scheme, rng, label)


# method= chose the algorithm of the scores (exact "qr"/"auto", or "sketch").
_LEVERAGE_METHOD_NOTE = (
    "the samplers draw by coarse scores (accuracy='coarse') or exact ones (accuracy='exact')"
)


@renamed(_LEVERAGE_METHOD_NOTE, method="accuracy")
def leverage_sample(A, k, *, scheme="bernoulli", accuracy="coarse", rng=None):
    r"""Sample rows of ``A`` by their leverage scores, scaled for :math:`\ell_2`.

    With :math:`k = O(d \log(d/\delta)/\varepsilon^2)` rows the sample is an
    :math:`\varepsilon`-subspace embedding of the column space of ``A``
    with probability :math:`1-\delta` (matrix Chernoff bound; Drineas,
    Mahoney & Muthukrishnan 2006, Tropp 2012); the exact distortion of a
    sample is :func:`randla.subspace_distortion`.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    k : int
        Expected number of rows (Bernoulli) or draws (i.i.d.).
    scheme : {"bernoulli", "iid"}, optional
        See :func:`sample_rows`.
    accuracy : {"coarse", "exact"}, optional
        ``"coarse"`` (default): leverage scores to a factor (:func:`leverage_scores`
        ``method="coarse"``), and the expected size grows to ``ceil(3.5 k)``
        (:data:`randla.OVERSAMPLING`), which keeps the guarantee of exact scores at size
        ``k``; ``"exact"``: the exact scores and size ``k``. Input too small for a sketch to
        pay gets exact scores and size ``k`` either way; ``RowSample.scores`` says which it
        got.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    RowSample
        With ``p = 2``.

    Notes
    -----
    Cost: coarse, three passes over ``A`` (validation, a sparse sketch, an
    ``n x d`` by ``d x m`` product, m = O(log n)); exact, that of :func:`leverage_scores`
    (four passes and about :math:`4nd^2` flops); then O(n log n) for the
    sample.

    References
    ----------
    Drineas, P., Mahoney, M. & Muthukrishnan, S. (2006). Sampling algorithms
    for l_2 regression and applications. SODA.
    Tropp, J. (2012). User-friendly tail bounds for sums of random matrices.
    Found. Comput. Math. 12(4).

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((10_000, 5))
    >>> s = randla.leverage_sample(A, 500, rng=0)
    >>> s.k, s.scores                        # 3.5 x 500 rows expected
    (1750, 'coarse leverage')
    >>> t = randla.leverage_sample(A, 500, accuracy="exact", rng=0)
    >>> t.k, t.scores, t.apply(A).shape[1]
    (500, 'exact leverage', 5)
    """
    A = _matrix(A)
    k = _check_size(k, A.shape[0], scheme)
    coarse = _coarse(A, accuracy)
    _check_finite_unless(coarse, A)
    rng = check_rng(rng)
    tau = _check_rows_to_sample(_leverage(A, coarse, rng), "leverage score")
    return _draw(tau, k, 2.0, scheme, rng, "leverage", coarse)


def _matrix(A):
    """A checked at a sampler's door, but for NaN and inf (see _check_finite_unless)."""
    return as_matrix(A, "A", accept_sparse=True, accept_dask=True, finite=False)


def _check_finite_unless(coarse, A):
    """Refuse NaN and inf in A here, unless the coarse path's first sketch will.

    The coarse scores start with a sparse sign sketch of A, which every
    entry reaches through nonzero factors, so it shows a NaN or inf (and
    randla.sketch reports it, with its row and column): a separate check
    would be one more pass over A.
    """
    if not coarse:
        check_finite(A, "A")


def _coarse(A, accuracy):
    """Whether a sampler with this accuracy draws by coarse scores (A tall enough)."""
    check_option(accuracy, "accuracy", ACCURACIES)
    return accuracy == "coarse" and coarse_applies(A.shape)


def _leverage(A, coarse, rng):
    """The leverage scores samplers draw by, with the RankWarning of leverage_scores."""
    tau, r = leverage_scores_unchecked(A, "coarse" if coarse else "qr", None, 0.5, rng)
    warn_rank(r, A.shape, None, "the scores", A.dtype)
    return tau


def uniform_sample(A, k, *, p=2, scheme="bernoulli", rng=None):
    r"""Sample rows of ``A`` uniformly, scaled for :math:`\ell_p`.

    The baseline: fine for incoherent matrices, it misses the few important
    rows of a coherent one (compare :func:`leverage_sample`). Every row has
    :math:`q_i = k/n` (Bernoulli) or :math:`\pi_i = 1/n` (i.i.d.), and scale
    :math:`(n/k)^{1/p}`.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        Only its number of rows is used (and checked).
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    k : int
        Expected number of rows (Bernoulli) or draws (i.i.d.).
    p : float, optional
        The norm the scales are for.
    scheme : {"bernoulli", "iid"}, optional
        See :func:`sample_rows`.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    RowSample
        With this ``p``.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> s = randla.uniform_sample(np.ones((100, 2)), 10, rng=0)
    >>> float(s.probabilities[0]), float(s.scales[0])
    (0.1, 3.162277660168379)
    """
    A = as_matrix(A, "A", accept_sparse=True, accept_dask=True)
    k = _check_size(k, A.shape[0], scheme)
    return sample_rows_unchecked(
        np.ones(A.shape[0]), k, check_p(p), scheme, check_rng(rng), "uniform"
    )


# scores= named the bounds (a name, or an array of them) before method=.
_SCORES_NOTE = (
    "scores= was a name or an array of bounds: a name is now method=, and bounds of "
    "your own go to randla.sample_rows (see method in the docstring)"
)


def coarse_bounds(shape, p, method, accuracy):
    """Whether the sensitivity bounds of ``method`` come out coarse for this accuracy."""
    check_option(accuracy, "accuracy", ACCURACIES)
    if accuracy == "exact" or method == "exact":
        return False
    return coarse_lewis_applies(shape, p) if method == "lewis" else coarse_applies(shape)


def _sensitivity_scores(A, p, method, coarse, rng):
    """Upper bounds on the l_p sensitivities of A's rows, by lp_sensitivities' method."""
    A = A.astype(np.float64, copy=False)
    bounds = sensitivity_bounds(A, p, method, rng, accuracy="coarse" if coarse else "exact")
    return _check_rows_to_sample(bounds, "sensitivity")


def _leverage_for_mixing(A, coarse, rng):
    """The leverage scores that hybrid and augmented sampling mix with the bounds."""
    return _check_rows_to_sample(_leverage(A, coarse, rng), "leverage score")


@renamed(_SCORES_NOTE, scores="method")
def sensitivity_sample(A, k, *, p, method="lewis", accuracy="coarse", scheme="bernoulli", rng=None):
    r"""Sample rows of ``A`` by (upper bounds on) their :math:`\ell_p` sensitivities.

    Row :math:`i` is kept with probability :math:`q_i = \min(1, \alpha\tilde\sigma_i)`
    (:func:`sample_rows`), :math:`\tilde\sigma_i \ge \sigma_i^{(p)}`, and
    scaled by :math:`q_i^{-1/p}`, so that :math:`\mathbb{E}\|SAx\|_p^p =
    \|Ax\|_p^p`. Woodruff & Yasuda (2023) show that about
    :math:`\mathfrak{S}^{2/p}` rows (:math:`1 \le p < 2`) or
    :math:`\mathfrak{S}^{2-2/p}` rows (:math:`p > 2`), times
    :math:`\varepsilon^{-2}` and polylogarithmic factors, give an
    :math:`\varepsilon` :math:`\ell_p` subspace embedding, with
    :math:`\mathfrak{S} = \sum_i \tilde\sigma_i`; their constants are not
    explicit, so ``k`` is the caller's.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    k : int
        Expected number of rows (Bernoulli) or draws (i.i.d.).
    p : float
        ``p >= 1``.
    method : {"lewis", "exact", "root-leverage"}, optional
        How the upper bounds are computed: the ``method`` of
        :func:`randla.lp_sensitivities` (``"root-leverage"`` only for
        :math:`p \le 2`). Sensitivity sampling with bounds of your own is
        ``randla.sample_rows(bounds, k, p=p)``.
    accuracy : {"coarse", "exact"}, optional
        ``"coarse"`` (default): the Lewis weights or leverage scores behind the bounds to a
        factor (``method="coarse"`` of :func:`lewis_weights`, :func:`leverage_scores`), and
        the expected size grows to ``ceil(3.5 k)`` (:data:`randla.OVERSAMPLING`);
        ``"exact"``: the exact ones and size ``k``. Input too small for a sketch to pay gets
        exact scores and size ``k`` either way; ``method="exact"`` is exact whatever the
        accuracy, and so are Lewis weights for p >= 4; ``RowSample.scores`` says which it
        got.
    scheme : {"bernoulli", "iid"}, optional
        See :func:`sample_rows`.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    RowSample
        With this ``p``.

    Notes
    -----
    Cost: coarse Lewis bounds, at most eight passes over ``A`` for
    :math:`p < 4` (:func:`lewis_weights`); exact, that of the bounds
    (:func:`randla.lp_sensitivities`); then O(n log n) for the sample.

    References
    ----------
    Woodruff, D. & Yasuda, T. (2023). Sharper bounds for l_p sensitivity
    sampling. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_t(1.5, size=(20_000, 4))
    >>> s = randla.sensitivity_sample(A, 500, p=1.5, rng=0)
    >>> s.p, s.k, s.scores
    (1.5, 1750, 'coarse lewis')
    """
    A = _matrix(A)
    k = _check_size(k, A.shape[0], scheme)
    p = check_p(p)
    method = check_sensitivity_method(method, p)
    coarse = coarse_bounds(A.shape, p, method, accuracy)
    _check_finite_unless(coarse, A)
    rng = check_rng(rng)
    kind = "sensitivity" if method == "exact" else method
    bounds = _sensitivity_scores(A, p, method, coarse, rng)
    return _draw(bounds, k, p, scheme, rng, kind, coarse)


@renamed(_LEVERAGE_METHOD_NOTE, method="accuracy")
def root_leverage_sample(A, k, *, p, scheme="bernoulli", accuracy="coarse", rng=None):
    r"""Sample rows by root leverage scores :math:`\tau_i^{p/2}`, :math:`1 \le p \le 2`.

    .. math::

        q_i = \min(1, \alpha\,\tau_i^{p/2}), \quad \sum_i q_i = k, \qquad
        \text{scale } q_i^{-1/p}.

    :math:`\tau_i^{p/2} \ge \sigma_i^{(p)}` for :math:`p \le 2`; Woodruff &
    Yasuda (2023) show that root-leverage sampling needs roughly ``d`` rows
    for an :math:`\ell_p` subspace embedding. Arguments as in
    :func:`sensitivity_sample` and :func:`randla.leverage_scores`.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    k : int
        Expected number of rows (Bernoulli) or draws (i.i.d.).
    p : float
        ``1 <= p <= 2``.
    scheme : {"bernoulli", "iid"}, optional
        See :func:`sample_rows`.
    accuracy : {"coarse", "exact"}, optional
        ``"coarse"`` (default): leverage scores to a factor (:func:`leverage_scores`
        ``method="coarse"``), and the expected size grows to ``ceil(3.5 k)``
        (:data:`randla.OVERSAMPLING`); ``"exact"``: the exact scores and size ``k``. Input
        too small for a sketch to pay gets exact scores and size ``k`` either way;
        ``RowSample.scores`` says which it got.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    RowSample
        With this ``p``.

    Notes
    -----
    Cost: that of :func:`leverage_sample`.

    References
    ----------
    Woodruff, D. & Yasuda, T. (2023). Sharper bounds for l_p sensitivity
    sampling. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_t(1.5, size=(2000, 4))
    >>> s = randla.root_leverage_sample(A, 200, p=1, accuracy="exact", rng=0)
    >>> s.p, s.k
    (1.0, 200)
    >>> bool(np.isclose(s.probabilities.sum(), 200))      # expected size k
    True
    """
    A = _matrix(A)
    k = _check_size(k, A.shape[0], scheme)
    p = check_number(p, "p", "[1, 2]")
    coarse = _coarse(A, accuracy)
    _check_finite_unless(coarse, A)
    rng = check_rng(rng)
    scores = _check_rows_to_sample(root_of(_leverage(A, coarse, rng), p), "leverage score")
    return _draw(scores, k, p, scheme, rng, "root-leverage", coarse)


def lewis_sample(A, k, *, p, scheme="bernoulli", accuracy="coarse", rng=None):
    r"""Sample rows by their :math:`\ell_p` Lewis weights (Cohen & Peng, 2015).

    .. math::

        q_i = \min(1, \alpha w_i), \quad \sum_i q_i = k, \qquad
        \text{scale } q_i^{-1/p},

    with :math:`w` the Lewis weights (:func:`lewis_weights`). With
    :math:`O(\varepsilon^{-2} d \log(d/\varepsilon))` rows for
    :math:`p < 2` (:math:`O(\varepsilon^{-2} d^{p/2}\log d)` for :math:`p > 2`,
    constants unspecified) the sample is an :math:`\ell_p` subspace
    embedding. Arguments as in :func:`sensitivity_sample`.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    k : int
        Expected number of rows (Bernoulli) or draws (i.i.d.).
    p : float
        ``p >= 1``.
    scheme : {"bernoulli", "iid"}, optional
        See :func:`sample_rows`.
    accuracy : {"coarse", "exact"}, optional
        ``"coarse"`` (default): Lewis weights to a factor (:func:`lewis_weights`
        ``method="coarse"``, for :math:`p < 4`), and the expected size grows to ``ceil(3.5
        k)`` (:data:`randla.OVERSAMPLING`); ``"exact"``: the exact weights and size ``k``.
        Input too small for a sketch to pay gets exact scores and size ``k`` either way;
        Lewis weights for p >= 4 are exact; ``RowSample.scores`` says which it got.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    RowSample
        With this ``p``.

    Notes
    -----
    Cost: coarse, at most eight passes over ``A`` for :math:`p < 4`;
    exact, that of :func:`lewis_weights`; then O(n log n) for the sample.

    References
    ----------
    Cohen, M. & Peng, R. (2015). l_p row sampling by Lewis weights. STOC.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_t(2.5, size=(2000, 4))
    >>> s = randla.lewis_sample(A, 400, p=1.5, rng=0)
    >>> x = np.ones(4)                       # ||SAx||_p^p / ||Ax||_p^p has mean 1
    >>> ratio = np.sum(np.abs(s.apply(A) @ x) ** 1.5) / np.sum(np.abs(A @ x) ** 1.5)
    >>> bool(abs(ratio - 1) < 0.1)
    True
    """
    A = _matrix(A)
    k = _check_size(k, A.shape[0], scheme)
    p = check_p(p)
    coarse = coarse_bounds(A.shape, p, "lewis", accuracy)
    _check_finite_unless(coarse, A)
    rng = check_rng(rng)
    method = "coarse" if coarse else "exact"
    w = _check_rows_to_sample(lewis_weights_unchecked(A, p, rng, method=method), "Lewis weight")
    return _draw(w, k, p, scheme, rng, "lewis", coarse)


@renamed(_SCORES_NOTE, scores="method")
def hybrid_sample(A, k, *, p, method="lewis", accuracy="coarse", scheme="bernoulli", rng=None):
    r"""Leverage plus sensitivity sampling for :math:`p > 2`.

    Scores :math:`\tau_i / \sum_j\tau_j + \tilde\sigma_i / \sum_j\tilde\sigma_j`:
    half of the budget by leverage, half by sensitivity. Woodruff & Yasuda
    (2023) show that such a mixture needs about
    :math:`d^{2/p}\mathfrak{S}^{2-4/p}` rows; the equal split is ours (the
    paper's mixing weights were not available to us). Arguments as in
    :func:`sensitivity_sample`.

    .. math::

        q_i = \min\Bigl(1, \alpha\Bigl(\frac{\tau_i}{\sum_j \tau_j}
        + \frac{\tilde\sigma_i}{\sum_j \tilde\sigma_j}\Bigr)\Bigr),
        \quad \sum_i q_i = k, \qquad \text{scale } q_i^{-1/p}.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    k : int
        Expected number of rows (Bernoulli) or draws (i.i.d.).
    p : float
        ``p > 2``.
    method : {"lewis", "exact"}, optional
        How the sensitivity bounds :math:`\tilde\sigma` are computed, as in
        :func:`sensitivity_sample` (``"root-leverage"`` bounds them only for
        :math:`p \le 2`, so it is refused here). With bounds of your own,
        the same sample is ``randla.sample_rows(tau / tau.sum() + sigma /
        sigma.sum(), k, p=p)``, ``tau`` the leverage scores.
    accuracy : {"coarse", "exact"}, optional
        ``"coarse"`` (default): leverage scores and Lewis weights to a factor (their
        ``method="coarse"``), and the expected size grows to ``ceil(3.5 k)``
        (:data:`randla.OVERSAMPLING`); ``"exact"``: the exact ones and size ``k``. Input too
        small for a sketch to pay gets exact scores and size ``k`` either way; Lewis weights
        for p >= 4 are exact (the leverage scores are still coarse); ``RowSample.scores``
        says which it got.
    scheme : {"bernoulli", "iid"}, optional
        See :func:`sample_rows`.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    RowSample
        With this ``p``.

    Notes
    -----
    Cost: that of :func:`leverage_scores` and of the bounds, then
    O(n log n) for the sample.

    References
    ----------
    Woodruff, D. & Yasuda, T. (2023). Sharper bounds for l_p sensitivity
    sampling. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_t(2.5, size=(2000, 4))
    >>> s = randla.hybrid_sample(A, 400, p=3, rng=0)
    >>> x = np.ones(4)                       # ||SAx||_p^p / ||Ax||_p^p has mean 1
    >>> ratio = np.sum(np.abs(s.apply(A) @ x) ** 3) / np.sum(np.abs(A @ x) ** 3)
    >>> bool(abs(ratio - 1) < 0.1)
    True
    """
    A = _matrix(A)
    k = _check_size(k, A.shape[0], scheme)
    p = check_p(p)
    if p <= 2:
        raise ValueError(f"hybrid_sample is for p > 2, got p={p}; use sensitivity_sample")
    method = check_sensitivity_method(method, p)
    coarse_tau, coarse_sigma = _coarse(A, accuracy), coarse_bounds(A.shape, p, method, accuracy)
    _check_finite_unless(coarse_tau, A)  # the leverage scores come first
    rng = check_rng(rng)
    tau = _leverage_for_mixing(A, coarse_tau, rng)
    sigma = _sensitivity_scores(A, p, method, coarse_sigma, rng)
    scores = tau / tau.sum() + sigma / sigma.sum()
    return _draw(scores, k, p, scheme, rng, "hybrid", coarse_tau or coarse_sigma)


@renamed(_SCORES_NOTE, scores="method")
def augmented_sample(A, k, *, p, method="lewis", accuracy="coarse", scheme="bernoulli", rng=None):
    r"""l_2-augmented sensitivity sampling for :math:`1 \le p \le 2` (Munteanu & Omlor, 2024).

    Scores :math:`\tilde\sigma_i^{(p)} + \tau_i`: about
    :math:`\varepsilon^{-2}(\mathfrak{S} + d)` rows (polylogarithmic factors
    aside) suffice. Arguments as in :func:`sensitivity_sample`.

    .. math::

        q_i = \min\bigl(1, \alpha(\tilde\sigma_i + \tau_i)\bigr),
        \quad \sum_i q_i = k, \qquad \text{scale } q_i^{-1/p}.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    k : int
        Expected number of rows (Bernoulli) or draws (i.i.d.).
    p : float
        ``1 <= p <= 2``.
    method : {"lewis", "exact", "root-leverage"}, optional
        How the sensitivity bounds :math:`\tilde\sigma` are computed, as in
        :func:`sensitivity_sample`. With bounds of your own, the same
        sample is ``randla.sample_rows(sigma + tau, k, p=p)``, ``tau`` the
        leverage scores.
    accuracy : {"coarse", "exact"}, optional
        ``"coarse"`` (default): leverage scores and Lewis weights to a factor (their
        ``method="coarse"``), and the expected size grows to ``ceil(3.5 k)``
        (:data:`randla.OVERSAMPLING`); ``"exact"``: the exact ones and size ``k``. Input too
        small for a sketch to pay gets exact scores and size ``k`` either way;
        ``RowSample.scores`` says which it got.
    scheme : {"bernoulli", "iid"}, optional
        See :func:`sample_rows`.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    RowSample
        With this ``p``.

    Notes
    -----
    Cost: that of :func:`leverage_scores` and of the bounds, then
    O(n log n) for the sample.

    References
    ----------
    Munteanu, A. & Omlor, S. (2024). Optimal bounds for l_p sensitivity
    sampling via l_2 augmentation. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_t(2.5, size=(2000, 4))
    >>> s = randla.augmented_sample(A, 400, p=1, rng=0)
    >>> x = np.ones(4)                       # ||SAx||_p^p / ||Ax||_p^p has mean 1
    >>> ratio = np.sum(np.abs(s.apply(A) @ x)) / np.sum(np.abs(A @ x))
    >>> bool(abs(ratio - 1) < 0.1)
    True
    """
    A = _matrix(A)
    k = _check_size(k, A.shape[0], scheme)
    p = check_p(p)
    if p > 2:
        raise ValueError(f"augmented_sample is for p <= 2, got p={p}; use hybrid_sample")
    method = check_sensitivity_method(method, p)
    coarse_tau, coarse_sigma = _coarse(A, accuracy), coarse_bounds(A.shape, p, method, accuracy)
    _check_finite_unless(coarse_tau, A)  # the leverage scores come first
    rng = check_rng(rng)
    tau = _leverage_for_mixing(A, coarse_tau, rng)
    scores = _sensitivity_scores(A, p, method, coarse_sigma, rng) + tau
    return _draw(scores, k, p, scheme, rng, "augmented", coarse_tau or coarse_sigma)


def volume_sample(A, k, *, rng=None):
    r"""Volume sampling: ``k`` distinct rows with probability proportional to their volume.

    .. math::

        P(S) \propto \det(A_S^\top A_S) \quad (k \ge d), \qquad
        P(S) \propto \det(A_S A_S^\top) \quad (k < d),

    over the subsets :math:`S` of ``k`` rows (Dereziński & Warmuth, 2017).
    For :math:`k \ge d` the least-squares solution on the sampled rows is an
    unbiased estimate of the full one, :math:`E[A_S^+ b_S] = A^+ b`
    (:func:`randla.volume_lstsq`).

    Parameters
    ----------
    A : array_like or scipy.sparse matrix, shape (n, d)
        Of full column rank when ``k >= d``; of rank at least ``k`` otherwise.
    k : int
        ``1 <= k <= n``.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    RowSample
        ``scheme="volume"``, ``p = 2``, unit scales, and the exact
        inclusion probabilities.

    Notes
    -----
    :math:`k \ge d`: by Cauchy-Binet, :math:`\det(A_S^\top A_S) =
    \sum_{T \subseteq S, |T| = d} \det(A_T)^2`, so ``S`` is ``d`` rows from
    the projection DPP of an orthonormal basis of ``A``
    (:math:`P(T) = \det(Q_T)^2`) plus ``k - d`` rows uniformly from the
    rest; row ``i`` is included with probability
    :math:`\tau_i + (1 - \tau_i)(k-d)/(n-d)`. Cost :math:`O(nd^2)`.
    :math:`k < d`: the k-DPP of :math:`L = AA^\top` from the SVD of ``A``
    (:func:`randla.dpp.sample_kdpp`), with inclusion probabilities
    :math:`\sum_j u_{ij}^2 \, \lambda_j e_{k-1}(\lambda_{-j})/e_k(\lambda)`.

    References
    ----------
    Dereziński, M. & Warmuth, M. K. (2017). Unbiased estimates for linear
    regression via volume sampling. NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((1000, 5))
    >>> s = randla.volume_sample(A, 40, rng=0)
    >>> s
    RowSample(scheme='volume', p=2, rows=40 of 1000, size=40, scores='volume')
    >>> round(float(s.probabilities.sum()), 8)
    40.0
    """
    A = as_matrix(A, "A", accept_sparse=True).astype(np.float64, copy=False)
    k = check_param(k, "k", maximum=A.shape[0])
    return _volume_sample(A, k, check_rng(rng))


def _volume_sample(A, k, rng):
    """volume_sample on checked arguments (A float64)."""
    n, d = A.shape
    if k >= d:
        Q = basis(A, None, rng)
        if Q.shape[1] < d:
            raise ValueError(
                f"volume sampling of k >= d rows needs A of full column rank; A has rank "
                f"{Q.shape[1]} < d = {d}"
            )
        core = projection_sample(Q, rng)
        rest = rng.choice(np.setdiff1d(np.arange(n), core), size=k - d, replace=False)
        indices = np.sort(np.concatenate([core, rest]))
        tau = np.einsum("ij,ij->i", Q, Q)
        probabilities = tau + (1 - tau) * ((k - d) / (n - d) if n > d else 0.0)
    else:
        values, U, name = eigen_of(factor=A.toarray() if sp.issparse(A) else A)
        rank = numerical_rank(values, name, max(n, d))
        if k > rank:
            raise ValueError(f"k must be <= the rank of A ({rank}), got {k}")
        indices = projection_sample(U[:, kdpp_eigenvectors(values, k, rng)], rng)
        probabilities = (U * U) @ kdpp_eigen_inclusion(values, k)
    return RowSample(
        indices.astype(np.int64),
        np.ones(k),
        np.minimum(probabilities, 1.0),
        2.0,
        "volume",
        k,
        "volume",
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
        Source of randomness: a seed or a ``numpy.random.Generator``.

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
    ``k x d`` problem (:func:`randla.lstsq`, ``method="direct"``).

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
    k = check_param(k, "k", maximum=n)
    if k < d:
        raise ValueError(f"k must be >= d = {d} for the unbiased volume-sampled estimator, got {k}")
    sample = _volume_sample(A, k, check_rng(rng))
    # A k x d problem: the solver's own checks of it cost nothing beside the sample.
    solved = lstsq_unchecked(sample.apply(A), b[sample.indices], "direct")
    residual = residual_norms(A, solved.x, b)
    return LstsqResult(
        solved.x,
        float(residual) if b.ndim == 1 else residual,
        0,
        True,
        "volume",
        k,
        solved.condition_estimate,
        solved.rank,
    )
