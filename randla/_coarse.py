r"""Coarse scores for sampling: leverage scores and Lewis weights to a factor.

A row sample does not need accurate scores: sampling by estimates that are
too small for some rows keeps its guarantee when the sample grows by a
constant factor. The coarse scores cost one sparse sketch and one narrow
product, a pass each:

1. a sparse sign sketch :math:`SA` (:data:`SKETCH_NNZ` nonzeros per
   column, ``8d + 16`` rows) and its QR factor :math:`R_0`, so that
   :math:`AR_0^{-1}` is well conditioned;
2. a Gaussian :math:`G` of :math:`m` columns with :math:`N(0, 1/m)` entries,
   :math:`m` the smallest width from 8 up with
   :math:`n\,P(\chi^2_m/m < 1/16) \le 0.01` (:func:`width`: 12 at
   :math:`n = 2000`, 18 at :math:`10^6`, 22 at :math:`2\cdot10^7`, so
   :math:`O(\log n)`), and :math:`\hat\tau_i \propto \|a_i R_0^{-1} G\|_2^2`,
   scaled to sum to the rank (the ``n x d`` by ``d x m`` product costs
   :math:`2ndm` flops against the :math:`4nd^2` of the exact scores).

**What they guarantee.** Let :math:`q_i` be the rows of an orthonormal
basis of :math:`\operatorname{range}(A)` (:math:`\tau_i = \|q_i\|^2`) and
:math:`C = R_0^{-\top}A^\top A R_0^{-1}`, whose eigenvalues are
:math:`1/\sigma_j^2(SQ)`: in :math:`[(1+\varepsilon_1)^{-2},
(1-\varepsilon_1)^{-2}]` when :math:`S` embeds the column space with
distortion :math:`\varepsilon_1`; :math:`\kappa = \bar\lambda(C) /
\lambda_{\min}(C)`, mean over smallest eigenvalue. Given :math:`S`, every
unscaled estimate is :math:`t_i X_i/m` with :math:`t_i = \|a_iR_0^{-1}\|^2
\ge \lambda_{\min}(C)\,\tau_i` and :math:`X_i \sim \chi^2_m` (rotation
invariance of :math:`G`); the scaled estimates divide by their mean, about
:math:`\bar\lambda(C)`. Hence:

* **each row**: :math:`P(\hat\tau_i < \tau_i/\beta) \lesssim
  F_{\chi^2_m}(m\kappa/\beta)`;
* **every row at once**: with probability at least 0.99 no :math:`X_i/m`
  is below 1/16 (the choice of :math:`m`), so no estimate is below
  :math:`\tau_i/(16\kappa)`: a sample by them at size :math:`\beta k`
  draws no row with a probability more than :math:`16\kappa/\beta` times
  smaller than exact-score sampling at size ``k`` does, which bounds the
  largest term of the matrix Chernoff bound (Tropp 2012) by that factor;
* **the second moment**: for two rows :math:`E[X_j/X_i] \le m/(m-2)`
  (write the direction of row :math:`j` as :math:`c\,u + s\,w` with
  :math:`w \perp u`; the cross term vanishes by symmetry), so a Bernoulli
  sample with probabilities :math:`\min(1, \beta k\hat\tau_i/r)` has
  :math:`E\|Q^\top S^\top SQ - I\|_F^2 = E\sum_i (1/p_i - 1)\tau_i^2` at most
  what exact-score sampling of expected size ``k`` has (:math:`r^2/k`) once
  :math:`\beta \ge \frac{m}{m-2}\,\kappa`. The embedding follows from this
  second moment by Chebyshev's inequality, the argument that proves the
  sparse sketches are embeddings (Clarkson & Woodruff 2013; Nelson &
  Nguyen 2013). With :math:`m \ge 8` the first factor is at most 4/3;
  :math:`\kappa`, measured on Gaussian, coherent, heavy-tailed and real
  inputs with the sketch used here, stays below 2.6
  (``tests/test_coarse.py``); :data:`OVERSAMPLING` = 3.5 is the factor the
  samplers apply.

**Lewis weights to a factor.** For :math:`p < 4` the Lewis map
:math:`w_i \leftarrow (a_i^\top(A^\top W^{1-2/p}A)^{-1}a_i)^{p/2}` is an
:math:`\ell_\infty` contraction of :math:`\log w` with rate
:math:`|1 - p/2|` (Cohen & Peng 2015, Lemma 3.2); a constant-factor error of
the leverage estimates changes the fixed point by a constant factor only,
and :math:`O(\log\log n)` iterations from uniform weights reach it (Cohen &
Peng 2015, Sec. 3). Each iteration here is one pass: the block's weights
from the current factor and a fresh :math:`G` of width 8 (their per-row
errors average out in the next factor), then the sketch of the rescaled
block for the next factor; the last pass uses the width above, times
:math:`(p/2)^2` for :math:`p > 2` (the weights are the estimates to the
power :math:`p/2`).

References
----------
Drineas, P., Magdon-Ismail, M., Mahoney, M. & Woodruff, D. (2012). Fast
approximation of matrix coherence and statistical leverage. JMLR 13.
Cohen, M. & Peng, R. (2015). l_p row sampling by Lewis weights. STOC.
Clarkson, K. & Woodruff, D. (2013). Low rank approximation and regression in
input sparsity time. STOC.
Tropp, J. (2012). User-friendly tail bounds for sums of random matrices.
Found. Comput. Math. 12(4).
"""

import math
from functools import partial

import numpy as np
import scipy.linalg
from scipy.special import chdtr
from threadpoolctl import threadpool_limits

from ._blocks import map_rows
from ._linalg import (
    exact_leverage_scores,
    is_tall,
    preconditioner,
    product_norms,
    rank_tolerance,
    row_norms_squared,
    sketch_factor,
)
from ._sketch import SketchDistribution, apply_to_rows

__all__ = ["OVERSAMPLING"]

# The narrowest Gaussian projection (m in the module docstring), used for the
# intermediate Lewis iterations, whose per-row errors average out in the next
# factor; the final estimates use _width(n).
WIDTH = 8
# The final estimates keep every row's chi-square factor above 1/_FLOOR with
# probability 1 - _FLOOR_DELTA.
_FLOOR = 16
_FLOOR_DELTA = 0.01
# Nonzeros per column of the sparse sign sketch of the preconditioner: with
# one, two rows of a coherent matrix that share a bucket collapse into one
# direction; with four, all four buckets must coincide.
SKETCH_NNZ = 4
# Rows of that sketch per column of A: the smaller the distortion, the
# smaller the oversampling the estimates need.
SKETCH_ROWS_PER_COLUMN = 8
#: The factor by which the samplers grow the sample when they draw by coarse
#: scores: 4/3 (a width of at least 8) times the largest ratio of mean to
#: smallest eigenvalue of the preconditioned Gram matrix measured (2.6).
OVERSAMPLING = 3.5
# The Lewis iterations stop once |1 - p/2|^t log(n) is below this.
_LEWIS_SLACK = 0.25
# At most this many iterations: with the validation, the first sketch and the
# gather of the sampled rows, a Lewis sample reads A at most eight times.
_MAX_LEWIS_PASSES = 5


def applies(shape):
    """True when coarse scores pay: smaller input gets exact scores, which cost no more."""
    n, d = shape
    return is_tall(shape) and _sketch_rows(d) < n


def _sketch_rows(d):
    return SKETCH_ROWS_PER_COLUMN * d + 16


def _sketch(n, d, rng):
    return SketchDistribution("sparse_sign", _sketch_rows(d), nnz=SKETCH_NNZ).draw(n, rng=rng)


def width(n):
    """Smallest m >= WIDTH with n P(chi2_m / m < 1/16) <= 0.01: 12 at n = 2000, 18 at 1e6."""
    m = WIDTH
    while n * chdtr(m, m / _FLOOR) > _FLOOR_DELTA:
        m += 1
    return m


def _projection(R0, rng, width):
    """R0^{-1} G, G with ``width`` columns of N(0, 1/width) entries, in R0's dtype."""
    G = rng.standard_normal((len(R0), width)) / math.sqrt(width)
    return scipy.linalg.solve_triangular(R0, G.astype(R0.dtype), check_finite=False)


def _narrow_pass(func, A, **kwargs):
    """map_rows with one BLAS thread: a block times a few columns is bound by
    memory, and splitting it over threads costs more than it saves (0.35 s
    against 0.16 s for 10^6 x 50 coarse leverage on two idle cores)."""
    with threadpool_limits(1, user_api="blas"):
        return map_rows(func, A, **kwargs)


def _normalized(u, r):
    """Estimates scaled to sum to the rank, as the exact scores and weights do."""
    total = u.sum()
    return u * (r / total) if total > 0 else u


def coarse_leverage(A, rank_tol, rng):
    """(estimates summing to the rank, rank) of a checked A: two passes when it is tall.

    Input too small for the sketch to pay gets the exact scores.
    """
    if not applies(A.shape):
        return exact_leverage_scores(A, rank_tol, rng)
    n, d = A.shape
    tol = rank_tolerance(rank_tol, d, A.dtype)
    R0, cols, r = preconditioner(A, tol, rng, rows=_sketch_rows(d), nnz=SKETCH_NNZ)
    if r == 0:
        return np.zeros(n, dtype=A.dtype), 0
    M = _projection(R0, rng, width(n))
    u = _narrow_pass(partial(product_norms, M), A, cols=cols, densify=False)[0]
    return _normalized(u, r), r


def coarse_ridge_leverage(A, lam, rng):
    r"""Coarse ridge leverage scores of a tall checked A: R0 from :math:`[SA; \sqrt\lambda I]`.

    The sketch of the stacked matrix :math:`[A; \sqrt\lambda I]` leaves the
    identity block exact, so it embeds the stacked column space whenever
    :math:`S` embeds that of :math:`A`.
    """
    n, d = A.shape
    SA = _sketch(n, d, rng) @ A
    R0 = scipy.linalg.qr(
        np.vstack([SA, math.sqrt(lam) * np.eye(d, dtype=SA.dtype)]), mode="r", check_finite=False
    )[0][:d]
    M = _projection(R0, rng, width(n))
    return _narrow_pass(partial(product_norms, M), A, densify=False)[0]


def lewis_iterations(n, p):
    """Iterations of the coarse Lewis map: |1 - p/2|^t log(n) below the slack, at most 5."""
    rate = abs(1 - p / 2)
    if rate == 0:
        return 1
    t = math.ceil(math.log(math.log(max(n, 3)) / _LEWIS_SLACK) / -math.log(rate))
    return max(1, min(t, _MAX_LEWIS_PASSES))


def _lewis_pass(M, p, op, i0, block):
    """(weights, sketch of the rescaled block) of one block for map_rows.

    The weights come from the unscaled rows, w_i = ||a_i R^{-1} G||^(p) (so a
    tiny weight keeps its relative accuracy); the rows, scaled by
    w^(1/2 - 1/p) (0 for a zero weight), are sketched for the next factor.
    """
    u = row_norms_squared(np.asarray(block @ M))
    w = u ** (p / 2)
    if op is None:
        return w, None
    with np.errstate(divide="ignore"):
        scale = np.where(w > 0, w ** (0.5 - 1 / p), 0.0)
    return w, apply_to_rows(op, i0, block * scale[:, None])[1]


def coarse_lewis(A, p, rng):
    """(weights, rank): coarse l_p Lewis weights, 1 <= p < 4, of a tall checked float64 A.

    The Cohen-Peng iteration from uniform weights with coarse leverage
    scores: lewis_iterations(n, p) passes after the sketch of A.
    """
    n, d = A.shape
    tol = rank_tolerance(None, d, A.dtype)
    R, cols, r = preconditioner(A, tol, rng, rows=_sketch_rows(d), nnz=SKETCH_NNZ)
    if r == 0:
        return np.zeros(n), 0
    iterations = lewis_iterations(n, p)
    for t in range(iterations):
        last = t == iterations - 1
        op = None if last else _sketch(n, len(R), rng)
        # The last weights are the estimates to the power p/2: for p > 2 a
        # wider projection keeps the spread of log w that of the scores.
        m = math.ceil(width(n) * max(1.0, p / 2) ** 2) if last else WIDTH
        w, SB = _narrow_pass(partial(_lewis_pass, _projection(R, rng, m), p, op), A, cols=cols)
        if op is not None:
            # The rescaled rows span the same space; a weight that underflowed
            # can still drop a direction, and the factor then keeps fewer columns.
            R, kept, _, _ = sketch_factor(SB, tol)
            if kept is not None:
                cols = kept if cols is None else cols[kept]
    return _normalized(w, len(R)), len(R)
