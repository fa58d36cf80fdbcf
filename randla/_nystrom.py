r"""Nyström landmarks by ridge leverage scores, without forming the kernel matrix.

:func:`nystrom_landmarks` chooses ``k`` of ``n`` points for the Nyström
approximation :math:`\hat K = K_{:,S} K_{S,S}^+ K_{S,:}` of a kernel matrix
:math:`K` that is only ever evaluated in blocks ``kernel(rows, cols)`` with
at most a few hundred thousand entries: never ``n x n``.
"""

import dataclasses
import math

import numpy as np
import scipy.linalg

from ._dpp import numerical_rank, sample_kdpp
from ._validation import as_returned, check_int, check_option, check_rng

__all__ = ["LandmarkSample", "nystrom_landmarks"]

# Kernel entries evaluated at once: a row block of the n x s block K_{:,S}.
_BLOCK_ENTRIES = 1 << 20


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class LandmarkSample:
    r"""Landmarks for a Nyström approximation and the law they were drawn from.

    Parameters
    ----------
    indices : ndarray of int64, shape (k,)
        The landmarks, distinct, in the order they were drawn.
    probabilities : ndarray of float64, shape (n,)
        :math:`p_i = \tilde\ell_i / \sum_j \tilde\ell_j`: the law of each
        draw (see :func:`nystrom_landmarks`, Notes).
    scores : ndarray of float64, shape (n,)
        The ridge leverage score estimates :math:`\tilde\ell_i`, in [0, 1].
    lam : float
        The ridge :math:`\lambda` the scores are taken at.
    """

    indices: np.ndarray
    probabilities: np.ndarray
    scores: np.ndarray
    lam: float

    def __repr__(self):
        return (
            f"LandmarkSample(k={len(self.indices)}, n={len(self.scores)}, lam={self.lam:.3g}, "
            f"sum of scores={self.scores.sum():.3g})"
        )


def nystrom_landmarks(kernel, n, k, *, method="rls", diag=None, level_size=None, rng=None):
    r"""Choose ``k`` of ``n`` points as Nyström landmarks by ridge leverage scores.

    The :math:`\lambda`-ridge leverage score of point :math:`i` of a kernel
    matrix :math:`K` is

    .. math::

        \tau_i(\lambda) = \big(K (K + \lambda I)^{-1}\big)_{ii}, \qquad
        \sum_i \tau_i(\lambda) = d_\mathrm{eff}(\lambda),

    and landmarks drawn with probabilities proportional to (estimates at
    least a constant fraction of) these scores give a Nyström approximation
    whose error is within a constant of the best rank-``r`` one, for
    :math:`\lambda = \frac1r \sum_{j > r} \sigma_j(K)` (Musco & Musco, 2017).
    The scores are estimated recursively, so that :math:`K` is evaluated in
    ``n x s`` blocks only (``s = level_size``).

    Parameters
    ----------
    kernel : callable
        ``kernel(rows, cols)`` returns the block ``K[rows][:, cols]`` for two
        int arrays of indices (at most about 10^6 entries per call).
    n : int
        Number of points.
    k : int
        Number of landmarks, ``1 <= k <= n``.
    method : {"rls", "kdpp"}, optional
        ``"rls"``: ``k`` distinct points, each draw with probability
        proportional to the estimated scores. ``"kdpp"``: ``2k`` candidates
        drawn so, then a k-DPP with :math:`L = K` restricted to them
        (repulsion between landmarks); it costs an eigendecomposition of the
        ``2k x 2k`` candidate kernel, :math:`8k^3` flops beside the ``nks``
        of the scores, so it is affordable while ``k`` is at most about
        :math:`(n s)^{1/2}`, a few hundred for ``n = 10^5``.
    diag : array_like of shape (n,), optional
        The diagonal :math:`K_{ii}`, if known (ones for the rbf kernel);
        otherwise it is evaluated in diagonal blocks of ``kernel``.
    level_size : int, optional
        ``s``, the expected sample size at the levels of the recursion.
        Default ``k``, as in the paper's algorithm; smaller is faster
        (the paper's accelerated variant takes
        :math:`s = \sqrt{(nk + k^3)/(4n)}`) and estimates the scores at a
        larger :math:`\lambda`, so more coarsely.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    LandmarkSample
        ``indices``, the ``probabilities`` each draw followed, the
        ``scores`` and their ``lam``.

    Notes
    -----
    The recursion (Musco & Musco, 2017, Algorithm 3): a random permutation
    is halved until ``s`` points or fewer remain; they are the first sample
    :math:`S`, weight 1. Going back up, on each prefix :math:`H` of the
    permutation (twice the previous one) with the sample :math:`S` of the
    previous prefix and its weights :math:`W = \operatorname{diag}(w)`:

    1. :math:`\lambda = \frac1r \big(\operatorname{tr}(W K_{SS} W) -
       \sum_{j \le r} \sigma_j(W K_{SS} W)\big)`, the tail of the spectrum of
       the sampled kernel past the rank target
       :math:`r = \lceil s / (4 \log s) \rceil`;
    2. for every :math:`i \in H`, the estimate

       .. math::

           \tilde\ell_i = \frac1\lambda \Big(K_{ii} - K_{iS} W
           (W K_{SS} W + \lambda I)^{-1} W K_{Si}\Big)
           = b_i^T (B_S^T W^2 B_S + \lambda I)^{-1} b_i

       (Woodbury, with :math:`K = B B^T`), clipped to [0, 1];
    3. below the top, each :math:`i \in H` joins the new sample
       independently with probability :math:`q_i = \min(1, \tilde\ell_i \log s)`
       and weight :math:`q_i^{-1/2}`, so :math:`E|S| \approx s` and
       :math:`E[B_S^T W^2 B_S] = B_H^T B_H`; if :math:`\sum_i q_i > 2s`,
       all :math:`q_i` are scaled down to sum to :math:`2s`.

    If :math:`B_S^T W^2 B_S + \lambda I` is within a factor 1/2 to 3/2 of
    :math:`B_H^T B_H + \lambda I` (what the paper's sampling lemma gives
    with high probability), then, because :math:`H` holds only part of the
    points,

    .. math::

        \tfrac23\,\tau_i(\lambda) \le \tilde\ell_i
        \quad\text{for every } i,

    and, :math:`H` being a uniform half, the overestimate is a constant on
    average: the sum of the scores is :math:`O(d_\mathrm{eff}(\lambda))`
    (Cohen et al., 2015, on uniform sampling; Musco & Musco, 2017); the
    tests find it within :math:`4 d_\mathrm{eff}(\lambda)`.

    The final draw at the top level is ``k`` *distinct* points: draws with
    replacement from :math:`p_i = \tilde\ell_i/\sum_j\tilde\ell_j`, a
    repeat being skipped (successive sampling; computed at once as the
    ``k`` smallest of :math:`E_i / p_i` with :math:`E_i` i.i.d.
    exponential). Each draw follows :math:`p`; a repeated landmark would
    add nothing to :math:`\hat K`, which only depends on the span of the
    landmarks' columns. Points with :math:`p_i = 0` come last, in random
    order.

    Cost: :math:`O(n s)` kernel entries and :math:`O(n s^2)` flops, about
    twice the top level's; memory :math:`O(n + s^2)` beside one block.

    Differences from the paper: (1) the final draw is of ``k`` distinct
    points (the paper's code draws without replacement too, MATLAB's
    ``datasample``); (2) ``lam`` is floored at :math:`10^{-12}` times the
    sampled trace, so that a kernel of rank below ``r`` still gets scores;
    (3) the cap :math:`E|S| \le 2s`: a sample of ``r`` points or fewer
    (possible when ``s`` is small) has no tail past rank ``r``, so
    :math:`\lambda` collapses, every score is 1 and, uncapped, the next
    sample would be the whole level, with an :math:`O(n^2)` kernel block.

    References
    ----------
    Musco, C. & Musco, C. (2017). Recursive sampling for the Nyström
    method. NeurIPS 30, 3833-3845.

    Cohen, M. B., Lee, Y. T., Musco, C., Musco, C., Peng, R. & Sidford, A.
    (2015). Uniform sampling for matrix approximation. ITCS, 181-190.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((2000, 3))
    >>> def rbf(rows, cols):
    ...     d2 = ((X[rows, None, :] - X[None, cols, :]) ** 2).sum(-1)
    ...     return np.exp(-d2)
    >>> sample = nystrom_landmarks(rbf, 2000, 50, diag=np.ones(2000), rng=0)
    >>> sample.indices.shape, len(np.unique(sample.indices))
    ((50,), 50)
    """
    n = check_int(n, "n")
    k = check_int(k, "k", maximum=n)
    check_option(method, "method", ("rls", "kdpp"))
    s = k if level_size is None else check_int(level_size, "level_size")
    rng = check_rng(rng)
    if not callable(kernel):
        raise TypeError(
            f"kernel must be a callable kernel(rows, cols), got {type(kernel).__name__}"
        )
    if diag is None:
        diag = _diagonal(kernel, n)
    else:
        diag = as_returned(diag, "diag", (n,))
    scores, lam = _recursive_scores(kernel, n, s, diag, rng)
    total = scores.sum()
    p = scores / total if total > 0 else np.full(n, 1.0 / n)
    if method == "rls":
        indices = _successive_draw(p, k, rng)
    else:
        indices = _kdpp_draw(kernel, p, k, rng)
    return LandmarkSample(indices, p, scores, lam)


def _block(kernel, rows, cols):
    return as_returned(kernel(rows, cols), "kernel", (len(rows), len(cols)))


def _diagonal(kernel, n, width=128):
    # Diagonal blocks: n * width entries, never n x n.
    out = np.empty(n)
    for i0 in range(0, n, width):
        idx = np.arange(i0, min(i0 + width, n))
        out[idx] = np.diagonal(_block(kernel, idx, idx))
    return out


def _recursive_scores(kernel, n, s, diag, rng):
    """The top level's ridge leverage estimates of all n points, and their lambda."""
    oversampling = max(math.log(s), 1.0)
    rank = math.ceil(s / (4 * oversampling))
    perm = rng.permutation(n)
    sizes = [n]
    while sizes[-1] > s:
        sizes.append(math.ceil(sizes[-1] / 2))
    sample = np.arange(sizes[-1])  # positions in perm
    weights = np.ones(sizes[-1])
    for size in sizes[-2::-1] or [n]:
        rows = perm[:size]
        scores, lam = _ridge_scores(kernel, rows, perm[sample], weights, diag[rows], rank)
        if size == n:
            break
        q = np.minimum(1.0, oversampling * scores)
        # A sample with no spectral tail (|S| <= r) gives lam ~ 0 and every
        # score ~ 1: thin to E|S| <= 2s, keeping the weights unbiased.
        if q.sum() > 2 * s:
            q *= 2 * s / q.sum()
        keep = rng.random(size) < q
        if keep.any():
            sample, weights = np.flatnonzero(keep), 1 / np.sqrt(q[keep])
        else:  # all scores ~ 0: the kernel is numerically 0 on this prefix
            sample, weights = rng.choice(size, min(s, size), replace=False), np.ones(min(s, size))
    out = np.empty(n)
    out[perm] = scores
    return out, lam


def _ridge_scores(kernel, rows, S, w, diag_rows, rank):
    r"""Estimates (K_ii - K_iS W (W K_SS W + lam I)^{-1} W K_Si) / lam over ``rows``, and lam."""
    values, vectors = scipy.linalg.eigh(w[:, None] * _block(kernel, S, S) * w, check_finite=False)
    # K is PSD; a negative eigenvalue is rounding (or a kernel that is not
    # PSD, e.g. sigmoid): treat it as 0.
    values = np.maximum(values, 0.0)
    trace = values.sum()
    tail = values[: max(len(values) - rank, 0)].sum()  # ascending order
    lam = max(tail / rank, 1e-12 * trace, np.finfo(float).tiny)
    # (W K_SS W + lam I)^{-1/2} applied from the right to the rows K_iS W
    root = vectors / np.sqrt(values + lam)
    quad = np.empty(len(rows))
    step = max(1, _BLOCK_ENTRIES // max(len(S), 1))
    for i0 in range(0, len(rows), step):
        block = _block(kernel, rows[i0 : i0 + step], S) * w
        quad[i0 : i0 + step] = np.einsum("ij,ij->i", *(2 * [block @ root]))
    return np.clip((diag_rows - quad) / lam, 0.0, 1.0), lam


def _successive_draw(p, k, rng):
    """k distinct items: i.i.d. draws from p with repeats skipped (Efraimidis & Spirakis)."""
    with np.errstate(divide="ignore"):
        keys = rng.exponential(size=len(p)) / p
    order = np.lexsort((rng.random(len(p)), keys))  # p = 0 last, in random order
    return order[:k].astype(np.int64)


def _kdpp_draw(kernel, p, k, rng):
    """A k-DPP with L = K on 2k candidates drawn by p; if the candidates' kernel has
    rank r < k, an r-DPP, then the candidates in their drawn order."""
    candidates = _successive_draw(p, min(len(p), 2 * k), rng)
    L = _block(kernel, candidates, candidates)
    values, vectors = scipy.linalg.eigh((L + L.T) / 2, check_finite=False)
    values = np.maximum(values, 0.0)
    size = min(k, numerical_rank(values, "L", len(values)))
    chosen = candidates[sample_kdpp(size, eig=(values, vectors), rng=rng)] if size else []
    rest = candidates[~np.isin(candidates, chosen)]
    return np.concatenate([chosen, rest[: k - len(chosen)]]).astype(np.int64)
