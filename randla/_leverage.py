r"""Leverage scores: exact, sketched, ridge and root.

The leverage score of row :math:`i` of :math:`A \in \mathbb{R}^{n \times d}`
is :math:`\tau_i = \|Q_{i,:}\|_2^2 = a_i^\top (A^\top A)^+ a_i`, with
:math:`Q` an orthonormal basis of the column space of :math:`A`. The exact
path computes :math:`Q` by a sketch-preconditioned Cholesky QR; the
sketched path approximates the row norms of :math:`Q` with two sketches.
"""

import math
from functools import partial

import numpy as np
import scipy.linalg
import scipy.sparse as sp
from scipy.special import chdtr, chdtrc

from ._blocks import map_rows
from ._coarse import applies as coarse_applies
from ._coarse import coarse_leverage, coarse_ridge_leverage
from ._linalg import (
    basis,
    exact_leverage_scores,
    preconditioner,
    product_norms,
    rank_tolerance,
    warn_rank,
)
from ._validation import (
    as_matrix,
    check_finite,
    check_option,
    check_p,
    check_param,
    check_rng,
    exact_rng,
)

__all__ = [
    "leverage_scores",
    "ridge_leverage_scores",
    "root_leverage_scores",
    "orthonormal_basis",
]

METHODS = ("auto", "qr", "sketch", "coarse")
RIDGE_METHODS = ("exact", "coarse")


def orthonormal_basis(A, *, rank_tol=None, rng=None):
    r"""An orthonormal basis of the column space of ``A``.

    .. math::

        Q^\top Q = I_r, \qquad \operatorname{range}(Q) = \operatorname{range}(A),

    by the exact path of :func:`leverage_scores`, which keeps :math:`Q`
    instead of only its row norms.

    Parameters
    ----------
    A : array_like or scipy.sparse matrix, shape (n, d)
        Dense (C or Fortran order; float32 stays float32) or CSR/CSC.
    rank_tol : float, optional
        Relative rank tolerance; see :func:`leverage_scores`.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the sketch of the preconditioner:
        a seed or a ``numpy.random.Generator``.
        Without it, a fixed seed: the result is the same bit for bit on every call.

    Returns
    -------
    Q : ndarray, shape (n, r)
        :math:`Q^\top Q = I_r` to working precision, :math:`r` the numerical
        rank, in ``A``'s float dtype.

    Warns
    -----
    RankWarning
        When :math:`r` is less than the number of columns.

    Notes
    -----
    Cost: for tall ``A`` (``n >= 8 d`` and ``n d >= 50000``) a sparse sign
    sketch, then about :math:`3nd^2` flops (two triangular solves and a Gram
    matrix) on one dense ``n x r`` array, which becomes :math:`Q`; otherwise
    pivoted Householder QR.

    References
    ----------
    Garrison, J. & Ipsen, I. (2024). A randomized preconditioned Cholesky-QR
    algorithm. arXiv:2406.11751.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((1000, 5))
    >>> Q = randla.orthonormal_basis(A, rng=0)
    >>> bool(np.allclose(Q.T @ Q, np.eye(5)))
    True
    """
    A = as_matrix(A, "A", accept_sparse=True)
    rank_tol = check_param(rank_tol, "rank_tol", optional=True)
    Q = basis(A, rank_tol, exact_rng(rng))
    warn_rank(Q.shape[1], A.shape, rank_tol, "the columns of Q", A.dtype)
    return Q


def _jl_size(n, low, high, delta):
    """Smallest k with P(chi2_k / k outside [1 - low, 1 + high]) <= delta / n."""

    def failure(k):
        return chdtr(k, (1 - low) * k) + chdtrc(k, (1 + high) * k)

    lo, hi = 1, 2
    while failure(hi) > delta / n:
        lo, hi = hi, 2 * hi
    while lo < hi:
        mid = (lo + hi) // 2
        if failure(mid) > delta / n:
            lo = mid + 1
        else:
            hi = mid
    return hi


# Failure probability of the Gaussian projection of the sketched scores.
_SKETCH_DELTA = 0.01


def _sketch_plan(n, d, nnz, eps):
    """(k1, k2): the sizes of the two stages of the sketched scores.

    An eps1-embedding followed by a projection that keeps squared norms in
    [1 - low, 1 + high] gives estimates within
    [(1 - low)/(1 + eps1)^2, (1 + high)/(1 - eps1)^2] of the scores; for each
    eps1 on a grid, low and high are the largest that keep this inside
    [1 - eps, 1 + eps], and the plan with the fewest flops (the QR of the
    k1 x d sketch, then the n x d by d x min(k2, d) product) wins.
    """
    best = None
    for eps1 in np.linspace(0.01, 0.3, 59):
        high = (1 + eps) * (1 - eps1) ** 2 - 1
        low = 1 - (1 - eps) * (1 + eps1) ** 2
        if high <= 0 or low <= 0:
            break
        k1 = math.ceil(d / eps1**2) + 8
        if k1 > n:
            continue
        k2 = _jl_size(n, min(low, 0.999), high, _SKETCH_DELTA)
        cost = 2 * k1 * d * d + 2 * nnz * min(k2, d)
        if best is None or cost < best[0]:
            best = (cost, k1, k2)
    if best is None:  # too few rows for any plan: sketch with all of them
        return n, d
    return best[1], best[2]


def _sketched_scores(A, eps, rank_tol, rng):
    n, d = A.shape
    nnz = A.nnz if sp.issparse(A) else n * d
    k1, k2 = _sketch_plan(n, d, nnz, eps)
    R0, cols, r = preconditioner(A, rank_tolerance(rank_tol, d, A.dtype), rng, rows=k1)
    if r == 0:
        return np.zeros(n, dtype=A.dtype), 0
    if k2 >= r:
        # The projection would not save work: exact row norms of A R0^-1.
        omega = np.eye(r, dtype=A.dtype)
    else:
        omega = rng.standard_normal((r, k2)).astype(A.dtype) / math.sqrt(k2)
    M = scipy.linalg.solve_triangular(R0, omega, check_finite=False)
    return map_rows(partial(product_norms, M), A, cols=cols, densify=False)[0], r


def leverage_scores(A, *, method="auto", rank_tol=None, eps=0.5, rng=None):
    r"""Statistical leverage scores of the rows of ``A``.

    .. math::

        \tau_i = \|Q_{i,:}\|_2^2 = a_i^\top (A^\top A)^{+} a_i,
        \qquad 0 \le \tau_i \le 1, \quad \sum_i \tau_i = \operatorname{rank}(A),

    with :math:`Q` an orthonormal basis of the column space of :math:`A`.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        Dense (C or Fortran order; float32 stays float32) or CSR/CSC.
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    method : {"auto", "qr", "sketch", "coarse"}, optional
        ``"qr"``: exact, to the accuracy of Householder QR. For tall A
        (``n >= 8 d`` and ``n d >= 50000``) by sketch-preconditioned Cholesky
        QR: a sparse sign sketch :math:`SA` (``4d + 8`` rows), its pivoted
        QR :math:`SAP = QR`, :math:`Y = AP_r R_0^{-1}`, the Cholesky factor
        :math:`R_1` of :math:`Y^\top Y`, and :math:`\tau_i = \|(Y R_1^{-1})_{i,:}\|^2`,
        in two passes over blocks of rows of A (Y is never stored; sparse A
        is densified one block at a time). When :math:`Y^\top Y` is not
        safely positive definite (the reciprocal condition number of
        :math:`R_1` below 1e-3, which a failed sketch would cause)
        Householder QR of :math:`Y` takes over. Smaller or wide A go to
        pivoted Householder QR directly. When the exact factor
        :math:`R_1R_0` is numerically rank deficient, the columns it keeps
        are factored again in one more pass. The scores are row norms of
        :math:`A P_r R_0^{-1} R_1^{-1}`, by two triangular solves: one
        solve with the product :math:`R_1 R_0` loses accuracy on rows of
        leverage near 1 of ill-conditioned matrices.
        ``"sketch"``: relative-error approximation (Drineas, Magdon-Ismail,
        Mahoney & Woodruff, 2012); see Notes. ``"coarse"``: estimates to a
        factor, for sampling, in two passes (a sparse sign sketch and an
        ``n x d`` by ``d x m`` product, :math:`m = O(\log n)`); they sum to
        the rank; see Notes.
        ``"auto"``: ``"qr"``; it is exact whatever the shape, so results
        never change silently with it.
    rank_tol : float, optional
        Relative rank tolerance, ``0 <= rank_tol < 1``, applied to the
        column-equilibrated triangular factor :math:`RD` (:math:`D` scales
        each column to unit norm, so rescaling a column, which leaves the
        scores unchanged, never changes the rank): singular values at most
        ``rank_tol`` times the largest count as zero. Default
        :math:`50\sqrt{d}` eps of the dtype (1.1e-14 for ``d = 5``), which
        does not grow with ``n``. The exact path decides it on the exact
        factor of :math:`A`, not on a sketch, so the rank and the scores do
        not depend on ``rng``; ``"sketch"`` and ``"coarse"`` decide it on
        their sketch.
    eps : float, optional
        Accuracy of ``method="sketch"``, ``0 < eps < 1``: every estimate
        within a factor :math:`[1 - \varepsilon, 1 + \varepsilon]` of the
        exact score (see Notes). Ignored by the exact path.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the sketches: a seed or a ``numpy.random.Generator``. The exact
        scores do not depend on it beyond rounding, and without it are the
        same bit for bit on every call (a fixed seed).

    Returns
    -------
    ndarray, shape (n,)
        The scores, in ``A``'s float dtype; they sum to the numerical rank
        (exact path).

    Warns
    -----
    RankWarning
        When the numerical rank is less than the number of columns: the
        scores are those of the column space of the columns kept.

    Notes
    -----
    **Coarse scores.** :math:`R_0` from the QR of a sparse sign sketch
    :math:`SA` (4 nonzeros per column, ``8d + 16`` rows), :math:`G` Gaussian
    with :math:`m = O(\log n)` columns (18 at :math:`n = 10^6`: no
    :math:`\chi^2_m/m` factor below 1/16 with probability 0.99),
    :math:`\hat\tau_i \propto \|a_i R_0^{-1} G\|^2`,
    scaled to sum to the rank. Each is the exact score times a factor
    :math:`t_i/\tau_i \in [\lambda_{\min}, \lambda_{\max}]` (the
    eigenvalues of :math:`R_0^{-\top}A^\top AR_0^{-1}`) and a
    :math:`\chi^2_m/m` variable, and a Bernoulli sample by them of expected
    size :math:`\beta k` has a second moment
    :math:`E\|Q^\top S^\top SQ - I\|_F^2` no larger than exact-score
    sampling of size ``k`` once :math:`\beta \ge \frac43
    \bar\lambda/\lambda_{\min}`; the samplers use :math:`\beta = 3.5`
    (the derivation and the measured ratios: :doc:`/scaling`). Input too small for a sketch to pay
    (``n < 8d``, ``nd < 50000`` or ``n <= 8d + 16``) gets the exact scores.

    **Sketched scores.** With :math:`\varepsilon_2 = \varepsilon/2` and
    :math:`\varepsilon_1` the largest value with
    :math:`(1+\varepsilon_2)/(1-\varepsilon_1)^2 \le 1+\varepsilon` and
    :math:`(1-\varepsilon_2)/(1+\varepsilon_1)^2 \ge 1-\varepsilon`:

    1. :math:`R_0` from the pivoted QR of :math:`S_1 A`, :math:`S_1` a sparse
       sign sketch with :math:`k_1 = \lceil d/\varepsilon_1^2\rceil + 8` rows;
    2. :math:`\Omega \in \mathbb{R}^{r \times k_2}` Gaussian with variance
       :math:`1/k_2`, :math:`k_2` the smallest size with
       :math:`P(\chi^2_{k_2}/k_2 \notin [1 \pm \varepsilon_2]) \le 0.01/n`
       (exact chi-square tails);
    3. :math:`\tilde\tau_i = \|(A P_r R_0^{-1} \Omega)_{i,:}\|^2`, computed as
       :math:`A\,(P_r R_0^{-1}\Omega)`: O(nnz(A) k_2), no densification of
       sparse A. When :math:`k_2 \ge r` the projection saves nothing and
       :math:`\Omega = I` (exact row norms of :math:`AP_rR_0^{-1}`).

    **Guarantee.** If :math:`S_1` is an :math:`\varepsilon_1`-subspace
    embedding of the column space of :math:`A`, the singular values of
    :math:`AP_rR_0^{-1}` lie in :math:`[1/(1+\varepsilon_1), 1/(1-\varepsilon_1)]`,
    so every row norm is within that factor of :math:`\tau_i`; then
    :math:`\Omega` keeps every one of the ``n`` squared norms within
    :math:`1 \pm \varepsilon_2` except with probability 0.01 (union bound), and
    :math:`\tilde\tau_i / \tau_i \in [1-\varepsilon, 1+\varepsilon]` for all
    :math:`i`. The embedding size is the one part not proven here: sparse
    sign embeddings with :math:`O(d \log d/\varepsilon^2)` rows are
    :math:`\varepsilon`-embeddings (Cohen, 2016) with unspecified constants,
    and :math:`d/\varepsilon_1^2` is the size at which Gaussian embeddings
    reach :math:`\varepsilon_1`; the tests check the factor empirically over
    many seeds. Measured on a coherent :math:`20000 \times 10` matrix at
    :math:`\varepsilon = 0.3`: 3.3% of 300 seeds put some estimate outside
    the factor (the worst at 1.36), so the "0.01" holds for the projection
    stage, not for the whole. For a proven bound, draw the first sketch at
    :func:`randla.sketch_size`.

    **Cost.** Exact: the sketch (O(nnz(A)) times the 8 nonzeros per column
    of :math:`S`), three triangular solves and one Gram matrix on blocks of
    rows, about :math:`4nd^2` flops in level-3 BLAS (a third pass when the
    rank is truncated), and memory for one
    block of rows (about 4 MB) besides A. Sketched: the sketch, a QR of
    :math:`k_1 \times d`, and :math:`2\,\mathrm{nnz}(A)\min(k_2, r)` flops.

    References
    ----------
    Drineas, P., Magdon-Ismail, M., Mahoney, M. & Woodruff, D. (2012). Fast
    approximation of matrix coherence and statistical leverage. JMLR 13.
    Cohen, M. (2016). Nearly tight oblivious subspace embeddings by trace
    inequalities. SODA.
    Fan, Y., Guo, Y. & Lin, T. (2021). A novel randomized XR-based
    preconditioned CholeskyQR algorithm. arXiv:2111.11148.
    Balabanov, O. (2022). Randomized Cholesky QR factorizations.
    arXiv:2210.09953.
    Garrison, J. & Ipsen, I. (2024). A randomized preconditioned Cholesky-QR
    algorithm. arXiv:2406.11751.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((2000, 10))
    >>> A[0] *= 1000                      # one dominant row
    >>> tau = randla.leverage_scores(A)
    >>> round(float(tau.sum()), 10), round(float(tau[0]), 4)
    (10.0, 1.0)
    >>> tau_hat = randla.leverage_scores(A, method="sketch", eps=0.5, rng=0)
    >>> bool(np.all(np.abs(tau_hat / tau - 1) <= 0.5))
    True
    """
    A = _matrix(A, method)
    method, rank_tol, eps, rng = _check_score_options(method, rank_tol, eps, rng)
    tau, r = leverage_scores_unchecked(A, method, rank_tol, eps, rng)
    warn_rank(r, A.shape, rank_tol, "the scores", A.dtype)
    return tau


def _matrix(A, method):
    """A checked at the door; NaN and inf are left to the sketch when the coarse path runs.

    The coarse scores start with a sparse sign sketch of A, which shows (and
    reports, by row and column) a NaN or inf in A: a separate check would be
    one more pass over A.
    """
    A = as_matrix(A, "A", accept_sparse=True, accept_dask=True, finite=False)
    if not (method == "coarse" and coarse_applies(A.shape)):
        check_finite(A, "A")
    return A


def _check_score_options(method, rank_tol, eps, rng):
    """The options of leverage_scores and root_leverage_scores, checked at their door."""
    check_option(method, "method", METHODS)
    rank_tol = check_param(rank_tol, "rank_tol", optional=True)
    eps = check_param(eps, "eps")
    rng = check_rng(rng) if method in ("sketch", "coarse") else exact_rng(rng)
    return method, rank_tol, eps, rng


def leverage_scores_unchecked(A, method, rank_tol, eps, rng):
    """(scores, rank) of a checked A on checked options (see leverage_scores)."""
    if method == "sketch":
        return _sketched_scores(A, eps, rank_tol, rng)
    if method == "coarse":
        return coarse_leverage(A, rank_tol, rng)
    return exact_leverage_scores(A, rank_tol, rng)


def ridge_leverage_scores(A, lam, *, method="exact", rng=None):
    r"""Ridge leverage scores :math:`\tau_i(\lambda) = a_i^\top (A^\top A + \lambda I)^{-1} a_i`.

    They are the leverage scores of the first ``n`` rows of the stacked
    matrix :math:`[A; \sqrt\lambda I_d]`, computed by the exact path of
    :func:`leverage_scores`; :math:`\sum_i \tau_i(\lambda) =
    \sum_j \sigma_j^2/(\sigma_j^2 + \lambda)`, the effective dimension.

    Parameters
    ----------
    A : array_like or scipy.sparse matrix, shape (n, d)
        Dense (C or Fortran order; float32 stays float32) or CSR/CSC.
    lam : float
        Regularisation, ``lam > 0`` (``lam = 0`` is :func:`leverage_scores`).
    method : {"exact", "coarse"}, optional
        ``"coarse"``: estimates to a factor for sampling, as
        ``leverage_scores(method="coarse")`` but with :math:`R_0` the
        triangular factor of :math:`[SA; \sqrt\lambda I_d]` (the identity
        block is not sketched, so this embeds the stacked column space
        whenever :math:`S` embeds that of :math:`A`); not scaled (their
        exact sum, the effective dimension, is not known). Two passes over
        ``A`` and no copy of it. Small input gets the exact scores.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the sketches:
        a seed or a ``numpy.random.Generator``.
        Without it, the exact scores use a fixed seed (the result is the
        same bit for bit on every call); the coarse ones fresh entropy.

    Returns
    -------
    ndarray, shape (n,)
        The scores, in ``A``'s float dtype, each in :math:`[0, 1]`.

    Notes
    -----
    Cost: a copy of ``A`` stacked over :math:`\sqrt\lambda I_d`, then the
    exact path of :func:`leverage_scores` on that ``(n + d) x d`` matrix.

    References
    ----------
    Alaoui, A. & Mahoney, M. (2015). Fast randomized kernel ridge regression
    with statistical guarantees. NeurIPS.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.diag([3.0, 1.0])
    >>> randla.ridge_leverage_scores(A, 1.0)          # sigma^2 / (sigma^2 + lam)
    array([0.9, 0.5])
    """
    A = as_matrix(A, "A", accept_sparse=True, finite=False)
    lam = check_param(lam, "lam")
    check_option(method, "method", RIDGE_METHODS)
    if method == "coarse" and coarse_applies(A.shape):
        return coarse_ridge_leverage(A, lam, check_rng(rng))  # its sketch refuses NaN and inf
    check_finite(A, "A")
    rng = exact_rng(rng)
    n, d = A.shape
    root = math.sqrt(lam) * (
        sp.identity(d, dtype=A.dtype, format="csr") if sp.issparse(A) else np.eye(d, dtype=A.dtype)
    )
    stacked = sp.vstack([A, root], format="csr") if sp.issparse(A) else np.vstack([A, root])
    return exact_leverage_scores(stacked, 0.0, rng)[0][:n]


def root_leverage_scores(A, p, *, method="auto", rank_tol=None, eps=0.5, rng=None):
    r"""Root leverage scores :math:`\tau_i^{p/2}` for :math:`1 \le p \le 2`.

    For :math:`p \le 2` they bound the :math:`\ell_p` sensitivities from
    above, :math:`\sigma_i^{(p)} \le \tau_i^{p/2}`, because
    :math:`\|Ax\|_2 \le \|Ax\|_p`; root-leverage sampling by them needs
    roughly ``d`` rows for an :math:`\ell_p` subspace embedding (Woodruff &
    Yasuda, 2023). The other arguments are those of :func:`leverage_scores`,
    and so is the cost.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    p : float
        The exponent, ``1 <= p <= 2``.
    method, rank_tol, eps, rng
        As in :func:`leverage_scores`.

    Returns
    -------
    ndarray, shape (n,)
        :math:`\tau_i^{p/2}`, in ``A``'s float dtype.

    References
    ----------
    Woodruff, D. & Yasuda, T. (2023). Sharper bounds for l_p sensitivity
    sampling. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.vstack([np.eye(2), np.eye(2)])          # every tau_i = 1/2
    >>> randla.root_leverage_scores(A, 1)
    array([0.70710678, 0.70710678, 0.70710678, 0.70710678])
    """
    A = _matrix(A, method)
    p = check_root_p(p)
    method, rank_tol, eps, rng = _check_score_options(method, rank_tol, eps, rng)
    tau, r = leverage_scores_unchecked(A, method, rank_tol, eps, rng)
    warn_rank(r, A.shape, rank_tol, "the scores", A.dtype)
    return root_of(tau, p)


def check_root_p(p):
    """p of the root leverage scores: they bound the l_p sensitivities only for p <= 2."""
    p = check_p(p)
    if p > 2:
        raise ValueError(
            f"p must be <= 2 for root leverage scores (tau^(p/2) bounds the l_p "
            f"sensitivities only for p <= 2), got {p}"
        )
    return p


def root_of(tau, p):
    """tau^(p/2), with rounding's tiny negative scores at 0."""
    return np.maximum(tau, 0) ** (p / 2)
