r""":math:`\ell_p` regression, on the full data or on a sensitivity sample, with a certificate."""

import dataclasses
import math
import warnings
from functools import partial

import numpy as np
import scipy.linalg
import scipy.optimize
import scipy.sparse as sp

from ._blocks import is_dask, map_rows, residual_norms, row_blocks
from ._lewis import check_sensitivity_method, sensitivity_bounds
from ._linalg import factor
from ._newton import minimize_lp, psd_solve
from ._sampling import coarse_bounds, grown_size, sample_rows_unchecked
from ._validation import (
    ConvergenceWarning,
    RankWarning,
    as_matrix,
    as_rhs,
    check_finite,
    check_p,
    check_param,
    check_rng,
    exact_rng,
    renamed,
    warn,
)

__all__ = ["LpRegressionResult", "lp_regression"]


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class LpRegressionResult:
    r"""The result of :func:`lp_regression`.

    Built by :func:`lp_regression`; not meant to be constructed by hand.

    Parameters
    ----------
    x, objective, gap, iterations, converged, rank, rows_used, p, method
        The attributes below, in this order.

    Attributes
    ----------
    x : ndarray, shape (d,)
        The solution (zeros on columns judged dependent).
    objective : float
        :math:`\|Ax - b\|_p` on the full data, for the returned ``x``.
    gap : float
        A certified bound on the relative suboptimality of
        :math:`\|Ax - b\|_p^p` against :math:`\min_x \|Ax - b\|_p^p` over
        all :math:`x \in \mathbb{R}^d` (not only the directions that
        ``rank`` kept), from a dual feasible point (Fenchel duality) and the
        residual of ``x`` on ``A`` with its rounding error; in [0, 1]. For a
        solve on a sample, the bound for the sampled problem.
    iterations : int
        Newton iterations (0 for the linear program of p = 1).
    converged : bool
        ``gap <= tol``.
    rank : int
        The numerical rank used: the number of directions of the column
        space the returned ``x`` was solved in (``d`` unless columns are
        dependent to working precision, or :func:`randla.orthonormal_basis`'s
        rank rule truncated and the solve in the full column space certified
        no better).
    rows_used : int
        Rows of the problem that was solved (``n``, or the sample's size).
    p : float
        The norm.
    method : str
        ``"newton"``, ``"highs"`` or ``"homotopy"``, with ``"sample+"`` in
        front for a solve on a sample.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((100, 3))
    >>> res = randla.lp_regression(A, A @ np.ones(3) + rng.standard_t(1.5, size=100), p=1)
    >>> res.method, res.rows_used, res.converged
    ('highs', 100, True)
    >>> bool(res.gap < 1e-10)
    True
    """

    x: np.ndarray
    objective: float
    gap: float
    iterations: int
    converged: bool
    rank: int
    rows_used: int
    p: float
    method: str

    def __repr__(self):
        return (
            f"LpRegressionResult(p={self.p:g}, method={self.method!r}, "
            f"objective={self.objective:.8g}, gap={self.gap:.2g}, "
            f"iterations={self.iterations}, converged={self.converged}, "
            f"rank={self.rank}, rows_used={self.rows_used})"
        )


_U = np.finfo(np.float64).eps / 2  # unit roundoff of float64
_U_EXTENDED = np.finfo(np.longdouble).eps / 2  # of long double (= _U where it is float64)
# _full_basis leaves out a column whose remainder after projection is below
# this fraction of its norm: 8.9e-16 with x86-64 long double, 2e-13 where
# long double is float64. Measured in long double over 200 random cases
# each: columns dependent up to the rounding of float64 data (a column
# computed from others, products of factors of lower rank) leave at most
# 2.7 u; the weakest direction of a cond-1e15 matrix at least 26 u
# (u = eps/2). Below 8 u a remainder is the data's own rounding, and a
# certificate that kept it would fail about half of all exactly
# rank-deficient float inputs.
_RESOLVED = max(8 * _U, 2000 * _U_EXTENDED)
# Above this condition number of _qr's R, its float64 basis is too far from
# range(A) (by about eps cond) for the certificate, which takes _full_basis.
_MAX_COND = 1e8


def _gamma(k, u):
    """Higham's gamma_k = k u / (1 - k u): the relative error bound of a k-term dot product."""
    return k * u / (1 - k * u)


def _unit_box(n):
    """The box [-1, 1]^n of the symmetric l1 dual, as read-only views (no memory)."""
    return np.broadcast_to(-1.0, n), np.broadcast_to(1.0, n)


def _box_loss(r, box):
    """sum_i max(lo_i r_i, hi_i r_i): the loss whose dual box is [lo, hi] (|r| for [-1, 1])."""
    lo, hi = box
    return float(np.sum(np.maximum(lo * r, hi * r)))


def _box_grad(r, box):
    """A subgradient of _box_loss at r: hi_i where r_i > 0, lo_i where r_i < 0, else 0."""
    lo, hi = box
    return np.where(r > 0, hi, np.where(r < 0, lo, 0.0))


def _gap(Q, r, delta, p, y=None, box=None):
    r"""Relative gap of min (1/p)||Az - b||_p^p, range(A) = range(Q), certified by a dual point.

    For p = 1 the loss is h(r) = sum_i max(lo_i r_i, hi_i r_i) of the
    per-row ``box`` = (lo, hi), lo_i < 0 < hi_i (``None``: [-1, 1], the l1
    norm; the pinball loss and weighted rows have others). ``r`` is the
    residual of the primal point as computed and ``delta >= 0`` a
    bound on its error (0 for an exact one). Fenchel duality: with
    h = ||.||_p^p / p and h* = ||.||_q^q / q (for p = 1 the indicator of
    the box), every y with Q^T y = 0 gives the lower bound
    -h*(y) - b^T y = -h*(y) + r^T y on the optimum (the identity holds for
    the exact residual; r^T y is taken at its worst over |r - r_hat| <=
    delta, and that form avoids the cancellation of b^T y when |b| >> |r|).
    The primal value is taken at its worst too, h(r_hat) + max(-lo, hi) delta
    for p = 1 and h(|r_hat| + delta) otherwise. y is
    the gradient of h at r (or the given y: the LP's, the vertex or the
    smoothed dual for p = 1) projected onto {Q^T y = 0} and scaled at its
    best (into the box for p = 1): feasible, so the gap bounds the
    relative suboptimality whatever produced it.

    Everything is computed in units of max(|r| + delta), the dual scale by
    logarithms: no overflow or underflow for any scale of r and any p. A
    residual within delta everywhere (a consistent system) has gap 0.
    """
    m = float(np.max(np.abs(r) + delta, initial=0.0))
    if np.all(np.abs(r) <= delta):
        # Zero to working precision: the residual is within the rounding of
        # A x - b, so x solves A x = b as far as float64 can tell (and no
        # relative gap of a minimum of 0 exists).
        return 0.0
    u, e = r / m, np.broadcast_to(delta / m, r.shape)
    with np.errstate(under="ignore"):
        if p == 1:
            box = _unit_box(len(r)) if box is None else box
            lo, hi = box
            primal = np.sum(np.maximum(lo * u, hi * u) + np.maximum(-lo, hi) * e)
            if y is None:
                y = _box_grad(u, box)
        else:
            primal = np.sum((np.abs(u) + e) ** p) / p  # >= 1/p
            if y is None:
                y = np.sign(u) * np.abs(u) ** (p - 1)
        y = y - Q @ (Q.T @ y)
        top = float(np.max(np.abs(y), initial=0.0))
        if top == 0:
            return 1.0
        if p == 1:
            # The largest t <= 1 with t y in the box (|y| itself for [-1, 1]).
            y /= max(1.0, float(np.max(np.maximum(y / hi, y / lo))))
            dual = u @ y - e @ np.abs(y)
        else:
            # max over beta >= 0 of -beta^q S/q + beta L, w = y/max|y|: L^p S^(1-p) / p.
            w = y / top
            L = u @ w - e @ np.abs(w)
            S = np.sum(np.abs(w) ** (p / (p - 1)))
            dual = math.exp(p * math.log(L) - (p - 1) * math.log(S)) / p if L > 0 else 0.0
    return min(1.0, max(0.0, (primal - dual) / primal))


def _lp_newton(Q, b, p, tol, max_iter):
    """(z, iterations) for min ||Q z - b||_p^p by the shared Newton method, Q orthonormal.

    Orthonormal Q keeps the Newton systems as well conditioned as the
    weights allow. Starts from the least-squares point and stops when the
    relative duality gap is below tol, or when the residuals are at the
    rounding level of Q z - b (a consistent system: the certificate says so
    with its bound), or when no step decreases the objective any more.
    """

    def done(r, z):
        floor = _gamma(Q.shape[1] + 1, _U) * (np.max(np.abs(b)) + np.linalg.norm(z))
        return np.max(np.abs(r)) <= floor or _gap(Q, r, 0.0, p) <= tol

    z, _, iterations, _ = minimize_lp(-b, Q, p, Q.T @ b, max_iter=max_iter, done=done)
    return z, iterations


def _lp_highs(Q, b, box):
    """min h(Q z - b) (_box_loss) by its dual LP: max b^T y, Q^T y = 0, -hi <= y <= -lo (HiGHS).

    The multipliers of Q^T y = 0 are the solution z (up to sign, fixed by
    checking the objective); returns z and the dual point -y.
    """
    lo, hi = box
    res = scipy.optimize.linprog(
        -b,
        A_eq=Q.T,
        b_eq=np.zeros(Q.shape[1]),
        bounds=np.column_stack([-hi, -lo]),
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed: {res.message}")
    z = res.eqlin.marginals
    if _box_loss(Q @ z - b, box) > _box_loss(-Q @ z - b, box):
        z = -z
    return z, -res.x


def _l1_vertex_dual(Q, residual, tie, box):
    """The l1 dual point of a (near) optimum: the gradient off the zero residuals, solved on them.

    At an optimum of min h(Q z - b) (_box_loss of the ``box`` (lo, hi)), y
    is hi_i or lo_i by the sign of r_i on the nonzero residuals
    (complementary slackness) and, on the set Z of residuals within ``tie``
    of zero, solves Q_Z^T y_Z = -Q^T y_rest with lo_Z <= y_Z <= hi_Z. A
    vertex has at least rank(Q) zero residuals, and many more with ties
    (integer or repeated data); an optimum inside a face of optimal points
    (a degenerate problem) has fewer. Two sets are tried, Z
    and Z with the d smallest residuals added, and the point with the
    smaller certified gap is returned. On each, the minimum-norm solution
    first; when it leaves the box, a small LP (|Z| variables, d equations,
    HiGHS) with slacks of least l1 norm where it has no exact solution.
    """
    n, d = Q.shape
    tied = np.abs(residual) <= tie
    smallest = tied.copy()
    smallest[np.argsort(np.abs(residual))[:d]] = True
    candidates = [_dual_on(Q, residual, zero, box) for zero in (tied, smallest) if zero.any()]
    return min(candidates, key=lambda y: _gap(Q, residual, 0.0, 1.0, y, box))


def _dual_on(Q, residual, zero, box):
    """y = _box_grad(r) off ``zero``; on it, the solution of Q_Z^T y_Z = -Q^T y_rest in the box."""
    d = Q.shape[1]
    lo, hi = box[0][zero], box[1][zero]
    y = _box_grad(residual, box)
    y[zero] = 0.0
    QZ = Q[zero].T
    k = QZ.shape[1]
    target = -(Q.T @ y)
    yz = np.linalg.lstsq(QZ, target, rcond=None)[0]
    y[zero] = yz
    inside = np.all(yz <= hi) and np.all(yz >= lo)
    if inside and np.allclose(QZ @ yz, target, rtol=0, atol=1e-12):
        return y
    y[zero] = 0.0
    res = scipy.optimize.linprog(
        np.r_[np.zeros(k), np.ones(2 * d)],
        A_eq=np.hstack([QZ, np.eye(d), -np.eye(d)]),
        b_eq=target,
        bounds=list(zip(lo, hi, strict=True)) + [(0, None)] * (2 * d),
        method="highs",
    )
    if res.status == 0:
        y[zero] = res.x[:k]
    return y


# The l1 homotopy tries the vertex dual (a linear program on the tied rows)
# only once the smoothed dual certifies a relative gap below this: far from
# the optimum it certifies nothing and costs the most (many near-ties).
_VERTEX_GAP = 1e-2


def _l1_homotopy(Q, b, tol, max_iter, box):
    r"""min h(Q z - b) (_box_loss) by Newton on a smoothing, mu -> 0.

    With c = (hi - lo)/2 and m = (hi + lo)/2, h(r) = sum_i c_i |r_i| + m_i r_i
    (|r| for the box [-1, 1]; for the pinball loss the linear term is
    (2q - 1)/2 times the residual), smoothed to
    sum_i c_i sqrt(r_i^2 + mu^2) + m_i r_i. mu starts at the median absolute
    least-squares residual (b is in units
    of its largest entry) and shrinks ten times per stage, each stage
    warm-started from the last. After each stage the duality gap is
    certified by the smoothed gradient y = c r / sqrt(r^2 + mu^2) + m (in
    the box) and, once that is below
    _VERTEX_GAP, by the vertex dual of _l1_vertex_dual with the residuals
    below 10 mu taken as ties; the homotopy stops below tol. Returns z,
    the better dual point, the Newton iterations and whether tol was met.
    """
    c, m = (box[1] - box[0]) / 2, (box[1] + box[0]) / 2

    def smoothed(r):
        s = np.sqrt(r * r + mu * mu)
        return s, np.sum(c * s) + np.sum(m * r)

    z = Q.T @ b
    r = Q @ z - b
    mu = float(np.median(np.abs(r))) or 1.0
    iterations = 0
    best = (math.inf, None)
    ties_before = math.inf
    while iterations < max_iter:
        for _ in range(100):
            s, value = smoothed(r)
            grad = Q.T @ (c * r / s + m)
            B = Q * np.sqrt(c * (mu * mu) / s**3)[:, None]
            step = -psd_solve(B.T @ B, grad)  # B^T B: numpy's syrk, half a product
            decrement = -grad @ step
            iterations += 1
            if decrement <= 1e-13 * value or iterations >= max_iter:
                break
            t = 1.0
            while t > 1e-14:
                z_new = z + t * step
                r_new = Q @ z_new - b
                if smoothed(r_new)[1] <= value - 0.25 * t * decrement:
                    z, r = z_new, r_new
                    break
                t /= 2
            else:
                break  # no descent left at this mu
        y = c * r / np.sqrt(r * r + mu * mu) + m
        best = min(best, (_gap(Q, r, 0.0, 1.0, y, box), y), key=lambda pair: pair[0])
        if best[0] > tol and len(b) > Q.shape[1]:
            z_vertex, r_vertex, y = _crossover(Q, b, r, box)
            if _gap(Q, r_vertex, 0.0, 1.0, y, box) <= tol:
                return z_vertex, y, iterations, True
        # Near a vertex, its dual is worth a small LP; but while the near-ties
        # (below 10 mu) still shrink about tenfold per stage, the iterate is
        # not there yet, and an LP on thousands of them costs the most.
        ties = int(np.count_nonzero(np.abs(r) <= 10 * mu))
        settled, ties_before = 2 * ties >= ties_before, ties
        if tol < best[0] < _VERTEX_GAP and settled:
            y = _l1_vertex_dual(Q, r, 10 * mu, box)
            best = min(best, (_gap(Q, r, 0.0, 1.0, y, box), y), key=lambda pair: pair[0])
            if ties > Q.shape[1]:
                # A degenerate vertex (ties): more than d residuals vanish at
                # the optimum, and _crossover's d rows miss the others. The
                # point that zeroes all the settled near-ties, with its
                # vertex dual, is the exact optimum when they are its ties.
                tied = np.abs(r) <= 10 * mu
                z_vertex = np.linalg.lstsq(Q[tied], b[tied], rcond=None)[0]
                r_vertex = Q @ z_vertex - b
                rounding = 4 * _gamma(Q.shape[1] + 1, _U) * (1 + np.abs(z_vertex).sum())
                y = _l1_vertex_dual(Q, r_vertex, rounding, box)
                if _gap(Q, r_vertex, 0.0, 1.0, y, box) <= tol:
                    return z_vertex, y, iterations, True
        if best[0] <= tol:
            return z, best[1], iterations, True
        if mu <= 1e-15:
            break
        mu /= 10
    return z, best[1], iterations, False


def _crossover(Q, b, r, box):
    """(z, residual, dual point) of the vertex through the d rows of smallest |r| (d < n).

    z solves Q_Z z = b_Z on that set Z; the dual point is _box_grad off Z
    and, on Z, the solution of Q_Z^T y_Z = -Q^T y_rest (unique when Q_Z is
    nonsingular). Long before mu is small, the d smallest residuals of the
    homotopy's iterate are those of the optimal vertex; then the pair is
    optimal and its gap is at the rounding level (one stage of Newton
    steps instead of several), and otherwise its gap says it is not. Two
    products with Q and two d x d solves: cheap beside a Newton step.
    """
    d = Q.shape[1]
    zero = np.argpartition(np.abs(r), d - 1)[:d]
    QZ = Q[zero]
    z = np.linalg.lstsq(QZ, b[zero], rcond=None)[0]
    r = Q @ z - b
    y = _box_grad(r, box)
    y[zero] = 0.0
    y[zero] = np.linalg.lstsq(QZ.T, -(Q.T @ y), rcond=None)[0]
    return z, r, y


# Up to this many rows, p = 1 goes to HiGHS (exact); beyond, the dual LP
# with a dense n x d constraint block becomes slow (70 s at 2e5 x 20) and
# the smoothed homotopy takes over. With _crossover, the homotopy reaches
# the same vertex 3 to 15 times faster than HiGHS from 3000 rows on
# (measured at 3000..20000 x 5..50, one BLAS thread, load 6: 0.30 s
# against 2.5 s at 2e4 x 20); HiGHS stays below, where it costs little.
_HIGHS_MAX_ROWS = 5_000


def _solve_in_basis(Q, b, p, tol, max_iter, box):
    """(z, dual point or None, iterations, method): min ||Q z - b||_p, b in units of max|b|.

    For p = 1, the loss of the ``box`` (_box_loss).
    """
    if p == 1 and len(b) <= _HIGHS_MAX_ROWS:
        z, y = _lp_highs(Q, b, box)
        return z, y, 0, "highs"
    if p == 1:
        z, y, iterations, _ = _l1_homotopy(Q, b, tol, max_iter, box)
        return z, y, iterations, "homotopy"
    z, iterations = _lp_newton(Q, b, p, tol, max_iter)
    return z, None, iterations, "newton"


def _full_basis(A):
    """(Q, R, cols): A[:, cols] = Q R, Q an orthonormal basis of the whole column space of A.

    Pivoted Gram-Schmidt, each column orthogonalised twice ("twice is
    enough", Giraud et al. 2005), on the column-equilibrated A in long
    double: Q spans range(A) to about eps_ld cond(A) (1e-4 at cond 1e15 on
    x86-64, where a float64 QR is off by 0.1 in the weakest direction), and
    a column is left out only when what remains of it after projection is
    below _RESOLVED of its norm. Exact dependence (duplicated columns,
    dummies summing to the intercept) leaves a remainder at the long double
    rounding level, a few 1e-18, and dependence up to the rounding of
    float64 data (a column computed from others) at most a few u; singular
    values of A down to about 1e-15 ||A|| are kept. Q is returned in float64
    (rounding it moves its span by eps only).
    """
    dense = A.toarray() if sp.issparse(A) else np.asarray(A)
    norms = np.linalg.norm(dense, axis=0)
    cols = np.flatnonzero(norms > 0)
    W = (dense[:, cols] / norms[cols]).astype(np.longdouble)
    k = len(cols)
    R = np.zeros((k, k), dtype=np.longdouble)
    for j in range(k):
        remaining = np.sqrt(np.einsum("ij,ij->j", W[:, j:], W[:, j:]))
        pivot = j + int(np.argmax(remaining))
        if remaining[pivot - j] <= _RESOLVED:
            k = j
            break
        for M in (W, R):
            M[:, [j, pivot]] = M[:, [pivot, j]]
        cols[[j, pivot]] = cols[[pivot, j]]
        c = W[:, :j].T @ W[:, j]
        W[:, j] -= W[:, :j] @ c
        R[:j, j] += c
        R[j, j] = np.sqrt(W[:, j] @ W[:, j])
        W[:, j] /= R[j, j]
        c = W[:, j] @ W[:, j + 1 :]
        W[:, j + 1 :] -= np.outer(W[:, j], c)
        R[j, j + 1 :] = c
    cols = cols[:k]
    return W[:, :k].astype(np.float64), (R[:k, :k] * norms[cols]).astype(np.float64), cols


def _residual_rows(x, i0, block, b):
    """(columns: Ax - b and |A||x| + |b|, in float64) for map_rows."""
    return np.column_stack([block @ x - b, np.abs(block) @ np.abs(x) + np.abs(b)]), None


def _extended_residual_rows(x, i0, block, b):
    """(Ax - b in long double, rounded to float64) for map_rows."""
    return (block.astype(np.longdouble) @ x - b).astype(np.float64), None


def _residuals(A, x, b):
    """(r, delta) pairs for the residual Ax - b: float64, then long double where it is longer.

    |fl(Ax - b) - (Ax - b)| <= gamma_{d+1} (|A||x| + |b|) componentwise
    (Higham 2002, Sec. 3.5): delta bounds the error of r. The long double
    residual (about 2000 times more accurate on x86-64) is rounded to
    float64, which adds u |r|; it matters where |A||x| is far above |r|, as
    for ill-conditioned A with a solution of large norm, or residuals near
    the rounding level of b. A generator: the long double pass over A runs
    only when the float64 residual does not certify enough.
    """
    k = A.shape[1] + 1
    rows = map_rows(partial(_residual_rows, x), A, b)[0]
    size = rows[:, 1]
    yield rows[:, 0], _gamma(k, _U) * size
    if _U_EXTENDED < _U:
        r = map_rows(partial(_extended_residual_rows, x.astype(np.longdouble)), A, b)[0]
        yield r, _gamma(k, _U_EXTENDED) * size + _U * np.abs(r)


def _certify(A, x, b, p, Q, y, tol, box):
    """The certified relative gap of x for min ||Ax - b||_p, range(A) = range(Q).

    For p = 1, the loss of the ``box`` (_box_loss). Stops refining (the long
    double residual, the l1 vertex dual) once the gap is at most tol.
    """
    best = 1.0
    for r, delta in _residuals(A, x, b):
        best = min(best, _gap(Q, r, delta, p, y, box))
        if best > tol and p == 1:
            y_vertex = _l1_vertex_dual(Q, r, 4 * delta, box)
            best = min(best, _gap(Q, r, delta, p, y_vertex, box))
        if best <= tol:
            break
    return best


def _to_x(z, R, cols, d):
    x = np.zeros(d)
    x[slice(None) if cols is None else cols] = scipy.linalg.solve_triangular(
        R, z, check_finite=False
    )
    return x


def _lp_solve(A, b, p, tol, max_iter, rng, box=None):
    """(x, gap, iterations, rank, method) on the given (small or full) data.

    For p = 1, ``box`` = (lo, hi) (arrays of length n, lo < 0 < hi) makes
    the loss sum_i max(lo_i r_i, hi_i r_i) of r = Ax - b (_box_loss): ``None``
    is [-1, 1], the l1 norm.

    Solved in the orthonormal basis Q of _qr, whose numerical rank may leave
    directions of range(A) out. The gap is certified on A itself: the
    residual of x on A, and dual points projected off a basis of all of
    range(A) (the factor's Q when it kept every column, else an untruncated
    Householder QR). Where that gap is above tol and the factor truncated, the
    problem is solved again in the full basis, and the better certified
    of the two solutions is returned.
    """
    d = A.shape[1]
    if box is None:
        loss = partial(residual_norms, A, b=b, p=p)  # in passes over blocks (memory maps)
        box = _unit_box(len(b)) if p == 1 else None
    else:
        loss = lambda x: _box_loss(A @ x - b, box)  # noqa: E731
    f = factor(A, None, rng, keep_q=True)
    Q, R, cols = f.Q, f.R, f.cols
    scale = float(np.abs(b).max())
    if scale == 0:
        return np.zeros(d), 0.0, 0, Q.shape[1], "newton"
    # In units of b: HiGHS and Newton's tolerances are absolute (HiGHS failed
    # outright on residuals of 1e19), and x scales with b.
    bs = b / scale
    exact = Q.shape[1] == d and np.linalg.cond(R) <= _MAX_COND
    full = (Q, R, cols) if exact else _full_basis(A)
    best = None
    iterations = 0
    for basis in [(Q, R, cols)] + ([full] if full[0] is not Q else []):
        if basis[0].shape[1] == 0:
            x, y, method = np.zeros(d), None, "newton"
        else:
            z, y, its, method = _solve_in_basis(basis[0], bs, p, tol, max_iter, box)
            iterations += its
            x = _to_x(z * scale, basis[1], basis[2], d)
        candidates = [(x, y)]
        if basis[0].shape[1]:
            # A nearly consistent system: x solved in the basis is exact to
            # about eps cond(R), but the certificate needs A x - b within its
            # own rounding on every row. One step of iterative refinement
            # (least squares on the residual, in the same basis) gets there;
            # kept only if it certifies better without a worse objective.
            r = np.asarray(A @ x) - b
            candidates.append((x - _to_x(basis[0].T @ r, basis[1], basis[2], d), None))
        for x, y in candidates:
            gap = _certify(A, x, b, p, full[0], y, tol, box)
            value = loss(x)
            if best is None or (gap < best[1] and value <= best[4]):  # never a worse objective
                best = (x, gap, basis[0].shape[1], method, value)
            if best[1] <= tol:
                break
        if best[1] <= tol:
            break
    x, gap, rank, method, _ = best
    return x, gap, iterations, rank, method


def _with_column(A, b):
    """[A b] in A's kind: sparse, dask (chunked as A) or dense.

    Dense [A b] is copied one block of rows at a time (row_blocks drops the
    pages of a memory-mapped A behind it): np.column_stack kept all of A's
    file pages mapped beside the copy, twice the memory of A at the peak.
    """
    if sp.issparse(A):
        return sp.hstack([A, sp.csr_array(b[:, None])], format="csr")
    if is_dask(A):
        import dask.array as da

        column = da.from_array(b[:, None], chunks=(A.chunks[0], 1))
        return da.concatenate([A, column], axis=1).rechunk({1: -1})
    n, d = A.shape
    Ab = np.empty((n, d + 1), dtype=np.result_type(A.dtype, b.dtype))
    for i0, block in row_blocks(A):
        Ab[i0 : i0 + len(block), :d] = block
    Ab[:, d] = b
    return Ab


@renamed(sample_size="k", scores="method")
def lp_regression(
    A, b, p, *, k=None, method="lewis", accuracy="coarse", tol=1e-10, max_iter=200, rng=None
):
    r"""Solve :math:`\min_x \|Ax - b\|_p` on the full data, or on a sensitivity sample.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    b : array_like, shape (n,)
        One right-hand side.
    p : float
        ``p >= 1``.
    k : int, optional
        Solve on a sample of the rows of :math:`[A\ b]` instead: about this
        many rows, kept with probabilities proportional to (upper bounds on)
        their :math:`\ell_p` sensitivities and rescaled by
        :math:`q_i^{-1/p}` (:func:`randla.sensitivity_sample`): the
        :math:`(1+\varepsilon)` coreset pipeline. Sampling :math:`[A\ b]`
        rather than :math:`A` makes the sample an :math:`\ell_p` embedding
        of every residual :math:`Ax - b`.
    method : {"lewis", "exact", "root-leverage"}, optional
        The sensitivities (or bounds) the sample of ``k`` rows is drawn by,
        as in :func:`randla.sensitivity_sample`.
    accuracy : {"coarse", "exact"}, optional
        For the sample, as in :func:`randla.sensitivity_sample`: by default
        the bounds come from coarse Lewis weights (or leverage scores) and
        about ``ceil(3.5 k)`` rows are drawn (:data:`randla.OVERSAMPLING`);
        ``"exact"`` draws about ``k`` rows by exact ones.
    tol : float, optional
        Target for the certified relative duality gap of
        :math:`\|Ax - b\|_p^p` (the result's ``gap``, an upper bound on the
        relative suboptimality): Newton and the :math:`\ell_1` homotopy stop
        once it is reached.
    max_iter : int, optional
        Newton iteration limit (default 200; ``None`` is the default).
    rng : None, int or numpy.random.Generator, optional
        Source of randomness, a seed or a ``numpy.random.Generator``: the sample for
        ``k``; otherwise only the preconditioner of the basis, and without it
        the solution is the same bit for bit on every call (a fixed seed).

    Returns
    -------
    LpRegressionResult
        The solution ``x``, its objective on the full data, the certified
        gap (for the whole problem, over all ``x``), the numerical rank used
        and the solver that ran.

    Warns
    -----
    ConvergenceWarning
        When the certified gap is above ``tol``: Newton (or the
        :math:`\ell_1` homotopy) stopped at ``max_iter`` or found no descent,
        or the gap cannot go lower in double precision (ill-conditioned
        ``A`` whose solution has a norm far above the residual's).

    Notes
    -----
    Both solvers work in an orthonormal basis :math:`Q = AP_rR^{-1}` of the
    column space (the exact path of :func:`randla.leverage_scores`, with its
    numerical rank), so their systems are as well conditioned as the
    problem allows, and map back with :math:`x = R^{-1}z`.

    * :math:`p > 1`: Newton's method on :math:`\sum_i |(Qz - b)_i|^p` from
      the least-squares solution, with Armijo backtracking. Residuals are
      divided by the largest before they are raised to a power, and the
      Newton system is solved by pseudo-inverse: for large ``p`` (tested to
      100) most weights :math:`|r_i|^{p-2}` underflow and the Hessian is
      singular in floating point. For :math:`p < 2` the curvature is capped
      where residuals vanish. Cost per iteration :math:`O(nd^2)`.
    * :math:`p = 1`, up to 5000 rows: exactly, as the dual linear program
      :math:`\max\{b^\top y : Q^\top y = 0, \|y\|_\infty \le 1\}` by HiGHS
      (``n`` variables, ``d`` equality constraints). More rows: Newton on
      the smoothing :math:`\sum_i \sqrt{r_i^2 + \mu^2}` with :math:`\mu`
      shrinking tenfold per stage, until the gap certified by the vertex
      dual is below ``tol``: after each stage, the vertex through the
      ``d`` smallest residuals is tried, and is the exact optimum once the
      iterate is near it (HiGHS took 70 s on a
      :math:`2\cdot10^5 \times 20` problem that the homotopy solves in
      1.4 s; 2.5 s against 0.3 s at :math:`2\cdot10^4 \times 20`). Ties
      (integer or repeated data) leave many more than ``d`` residuals at
      zero at the optimum: the vertex dual is the sign of the
      residuals elsewhere, and on the zero residuals the solution of a
      small linear program (their dual values in :math:`[-1, 1]`, ``d``
      equations).

    **The certificate.** ``gap`` bounds the relative suboptimality for the
    problem as posed, over all :math:`x`, whatever rank the solve used and
    whatever the solver did. The dual point (the gradient at the residual,
    or the linear program's dual, scaled at its best) is projected off a
    basis of the whole column space of ``A``: the solver's when it kept
    every column of a matrix of condition at most :math:`10^8`, otherwise
    one from a pivoted Gram-Schmidt in long double (which leaves out only
    columns dependent to about :math:`10^{-16}\|A\|`). The primal value is
    that of the returned ``x`` on ``A``, with Higham's bound
    :math:`\gamma_{d+1}(|A||x| + |b|)` on the rounding error of
    :math:`Ax - b` (the residual recomputed in long double where that
    matters). Where the truncated solve misses ``tol``, the problem is
    solved again in the full basis and the better certified ``x`` kept
    (``rank`` says which). So ``gap`` cannot go below the rounding level:
    at :math:`\mathrm{cond}(A) = 10^{15}` with residuals of the order of
    ``b`` it is about :math:`10^{-5}`, and ``converged`` is then False. A
    residual within that rounding bound in every row (a consistent system,
    :math:`Ax = b` solved as far as float64 can tell) has ``gap`` 0: a
    minimum of 0 has no relative gap. ``converged`` is ``gap <= tol``.

    **Sampled path.** If the rescaled sample :math:`S` is an
    :math:`\varepsilon` :math:`\ell_p` subspace embedding of the span of
    :math:`[A\ b]` (in the :math:`p`-th power; sensitivity and Lewis-weight
    sampling give one with enough rows: Cohen & Peng, 2015; Woodruff &
    Yasuda, 2023), the solution :math:`\hat x` of the sampled problem, solved
    to a relative gap :math:`g < 1`, satisfies

    .. math::

        \|A\hat x - b\|_p^p \le \frac{1+\varepsilon}{(1-\varepsilon)(1-g)}\,
        \min_x \|Ax - b\|_p^p.

    Cost: the sensitivity bounds of :math:`[A\ b]` (by default coarse Lewis
    weights, at most six passes for :math:`p < 4`; with
    ``accuracy="exact"`` Lewis weights to the loose tolerance 0.05), the
    solve on the sample, and one pass over ``A`` for the objective.

    References
    ----------
    Cohen, M. & Peng, R. (2015). l_p row sampling by Lewis weights. STOC.
    Woodruff, D. & Yasuda, T. (2023). Sharper bounds for l_p sensitivity
    sampling. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> rng = np.random.default_rng(0)
    >>> A = rng.standard_normal((2000, 5))
    >>> b = A @ np.ones(5) + rng.standard_t(1.5, size=2000)
    >>> res = randla.lp_regression(A, b, p=1.5)
    >>> res.converged, bool(res.gap < 1e-10), res.rank
    (True, True, 5)
    """
    # NaN and inf in A are refused below: by the first sketch of the coarse
    # scores when they run (a pass saved), else by check_finite.
    A = as_matrix(A, "A", accept_sparse=True, accept_dask=True, finite=False)
    A = A.astype(np.float64, copy=False)
    n, d = A.shape
    b = as_rhs(b, n, np.float64)
    if b.ndim != 1:
        raise ValueError(f"b must be 1-D for lp_regression, got shape {b.shape}")
    if is_dask(A) and k is None:
        raise ValueError("k is required for a dask array A (the full solve needs A in memory)")
    p = check_p(p)
    k = check_param(k, "k", optional=True, maximum=n)
    method = check_sensitivity_method(method, p)
    if k is None and method != "lewis":
        raise ValueError(f"method={method!r} chooses the scores of a sample: it needs k")
    coarse = coarse_bounds((n, d + 1), p, method, accuracy) and k is not None
    if not coarse:
        check_finite(A, "A")
    if k is None and accuracy != "coarse":
        raise ValueError(f"accuracy={accuracy!r} chooses the scores of a sample: it needs k")
    tol = check_param(tol, "tol")
    max_iter = 200 if max_iter is None else check_param(max_iter, "max_iter")
    rng = exact_rng(rng) if k is None else check_rng(rng)
    if k is None:
        x, gap, iterations, rank, solver = _lp_solve(A, b, p, tol, max_iter, rng)
        rows = n
    else:
        Ab = _with_column(A, b)
        # Sampling needs the scores only up to a constant factor (Cohen &
        # Peng sample by approximate Lewis weights): for p <= 2 a residual
        # of 0.05 puts them within e^0.1 of the fixed point, in a third of
        # the passes.
        with warnings.catch_warnings():
            # [A b] is rank deficient whenever b is in the column space of
            # A: not news to the caller, whose A the result's rank describes.
            warnings.simplefilter("ignore", RankWarning)
            bounds = sensitivity_bounds(
                Ab, p, method, rng, lewis_tol=0.05, accuracy="coarse" if coarse else "exact"
            )
        del Ab  # the size of A
        k = grown_size(k, n, "bernoulli", coarse)
        sample = sample_rows_unchecked(bounds, k, p, "bernoulli", rng)
        SA, Sb = sample.apply(A), sample.apply(b)
        x, gap, iterations, rank, solver = _lp_solve(SA, Sb, p, tol, max_iter, rng)
        solver, rows = "sample+" + solver, len(sample)
    converged = gap <= tol
    if not converged:
        warn(
            f"{solver} stopped above tol={tol:g} after {iterations} iterations: certified "
            f"relative gap {gap:.2g} (rank {rank} of {d}; the gap includes the rounding "
            "error of A x - b and every direction of the column space of A)",
            ConvergenceWarning,
        )
    objective = float(residual_norms(A, x, b, p))
    return LpRegressionResult(
        x, objective, float(gap), int(iterations), bool(converged), int(rank), int(rows), p, solver
    )


def quantile_solve(
    A,
    b,
    quantile,
    *,
    alpha=0.0,
    penalized=None,
    weights=None,
    k=None,
    tol=1e-10,
    max_iter=200,
    rng=None,
):
    r"""Quantile (pinball-loss) regression with an :math:`\ell_1` penalty, certified.

    Minimises scikit-learn's objective

    .. math::

        F(x) = \frac{1}{W}\sum_i w_i\,\rho_q(b_i - a_i^\top x)
               + \alpha \sum_{j\,\text{penalized}} |x_j|,
        \qquad \rho_q(u) = \max(qu, (q-1)u), \quad W = \sum_i w_i,

    for randla's scikit-learn estimators (not a public :mod:`randla`
    function). Inputs are trusted: A a float64 matrix (dense or
    scipy.sparse), b float64 of length n, 0 < quantile < 1, alpha >= 0,
    weights >= 0 with a positive sum.

    Parameters
    ----------
    A : ndarray or scipy.sparse matrix, shape (n, d)
    b : ndarray, shape (n,)
    quantile : float
    alpha : float, optional
    penalized : ndarray of bool, shape (d,), optional
        The coefficients the penalty applies to (default all; an intercept
        column is not).
    weights : ndarray, shape (n,), optional
        Sample weights (default ones); rows of weight 0 are left out.
    k : int, optional
        Solve on a sample of about this many rows times
        :math:`\kappa = \max(q, 1-q)/\min(q, 1-q)`, drawn by the
        :math:`\ell_1` sensitivity bounds (coarse Lewis weights) of the rows
        of :math:`[A\ b]` scaled by their weights, each kept row's weight
        divided by its probability; the penalty is not sampled.
    tol, max_iter, rng
        As in :func:`randla.lp_regression`.

    Returns
    -------
    x : ndarray, shape (d,)
    objective : float
        :math:`F(x)` on the full data.
    gap : float
        Certified relative duality gap of :math:`F` (of the sampled
        problem, with ``k``).
    iterations : int
        Newton iterations of the homotopy (0 for HiGHS).
    method : str
        ``"highs"`` or ``"homotopy"``, ``"sample+"`` in front with ``k``.

    Warns
    -----
    ConvergenceWarning
        When the certified gap is above ``tol``.

    Notes
    -----
    With :math:`r = Ax - b`, :math:`w_i\rho_q(-r_i) = \max(\ell_i r_i, h_i r_i)`
    with the box :math:`[\ell_i, h_i] = w_i[-q, 1-q]`, and a penalty term
    :math:`\alpha W |x_j|` is the same loss of a row :math:`e_j^\top` with
    target 0 and the box :math:`\alpha W [-1, 1]`. Every term is the support
    function of its box, so the dual of :math:`\min_x WF(x)` is the
    :math:`\ell_1` dual with per-row boxes,

    .. math::

        \max_y\ -\tilde b^\top y \quad\text{s.t.}\quad \tilde A^\top y = 0,\
        \ell_i \le y_i \le h_i,

    solved as :func:`randla.lp_regression` solves :math:`p = 1` (HiGHS on the
    dual up to 5000 rows, else Newton on the smoothing
    :math:`c_i\sqrt{r_i^2 + \mu^2} + m_i r_i`, :math:`c = (h - \ell)/2`,
    :math:`m = (h + \ell)/2`, and the vertex dual on the tied residuals) and
    certified the same way. Weights scale the boxes rather than the rows:
    the basis of the column space, and the rounding bound of the
    residual, stay those of ``A``. The boxes are divided by their largest
    half-width, so HiGHS's absolute tolerances see dual values of order 1.

    **Sampling.** The sensitivity of row :math:`i` for the pinball loss,
    :math:`\sup_x w_i\rho_q(r_i)/\sum_l w_l\rho_q(r_l)`, is at most
    :math:`\kappa` times its :math:`\ell_1` sensitivity, since
    :math:`\min(q, 1-q)|u| \le \rho_q(u) \le \max(q, 1-q)|u|`; bounds that
    are all :math:`\kappa` times larger keep the same probabilities up to
    the sample size, which grows by :math:`\kappa`.
    """
    n, d = A.shape
    w = np.ones(n) if weights is None else weights
    total = float(np.sum(w))
    q = float(quantile)
    kappa = max(q, 1 - q) / min(q, 1 - q)
    rng = exact_rng(rng) if k is None else check_rng(rng)
    kept = np.flatnonzero(w > 0)
    if k is None:
        rows = slice(None) if len(kept) == n else kept  # a view of A where no row drops
        rw, solver = w[rows], ""
    else:
        Ab = _with_column(A[kept], b[kept])
        Ab = (sp.diags_array(w[kept]) @ Ab) if sp.issparse(Ab) else Ab * w[kept, None]
        coarse = coarse_bounds(Ab.shape, 1, "lewis", "coarse")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RankWarning)  # as in lp_regression
            bounds = sensitivity_bounds(
                Ab, 1, "lewis", rng, lewis_tol=0.05, accuracy="coarse" if coarse else "exact"
            )
        del Ab
        size = grown_size(min(math.ceil(kappa * k), len(kept)), len(kept), "bernoulli", coarse)
        sample = sample_rows_unchecked(bounds, size, 1, "bernoulli", rng)
        rows, rw, solver = kept[sample.indices], w[kept][sample.indices] * sample.scales, "sample+"
    pen = np.ones(d, bool) if penalized is None else np.asarray(penalized, bool)
    pen = np.flatnonzero(pen) if alpha > 0 else np.zeros(0, int)
    top = max(float(np.max(rw, initial=0.0)) * max(q, 1 - q), alpha * total if len(pen) else 0.0)
    lo = np.r_[-q * rw, np.full(len(pen), -alpha * total)] / top
    hi = np.r_[(1 - q) * rw, np.full(len(pen), alpha * total)] / top
    M = A[rows]
    if len(pen):
        E = sp.csr_array((np.ones(len(pen)), (np.arange(len(pen)), pen)), shape=(len(pen), d))
        M = sp.vstack([M, E], format="csr") if sp.issparse(M) else np.vstack([M, E.toarray()])
    t = np.r_[b[rows], np.zeros(len(pen))]
    x, gap, iterations, rank, method = _lp_solve(M, t, 1, tol, max_iter, rng, box=(lo, hi))
    solver += method
    if gap > tol:
        warn(
            f"{solver} stopped above tol={tol:g} after {iterations} iterations: certified "
            f"relative gap {gap:.2g} (rank {rank} of {d})",
            ConvergenceWarning,
        )
    u = b - A @ x
    objective = float(w @ np.maximum(q * u, (q - 1) * u)) / total + alpha * float(
        np.sum(np.abs(x[pen]))
    )
    return x, objective, float(gap), int(iterations), solver
