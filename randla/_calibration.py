r"""Self-calibration and blind deconvolution by linear least squares (Ling & Strohmer, 2018).

Measurements :math:`y_l = D A_l x_l + \varepsilon_l` with an unknown
diagonal calibration :math:`D = \operatorname{diag}(d)` are bilinear in
:math:`(d, x)`; with :math:`s = 1/d` (entrywise) they become the linear,
homogeneous system :math:`\operatorname{diag}(y_l)\, s - A_l x_l = 0`, whose
null space is :math:`\operatorname{span}\{(s_0, x_0)\}` when the
measurements identify the unknowns up to the scalar ambiguity
:math:`(d, x) \to (\alpha d, x/\alpha)`.
"""

import cmath
import dataclasses
import math
import numbers
from typing import NamedTuple

import numpy as np
import scipy.linalg
from scipy.sparse.linalg import LinearOperator

from ._linalg import add_gram
from ._lstsq import lsqr_solve, lstsq_unchecked
from ._validation import (
    RandlaWarning,
    as_array,
    check_finite,
    check_number,
    check_option,
    check_rng,
    warn,
)

__all__ = ["CalibrationResult", "self_calibrate", "DeconvolutionResult", "blind_deconvolve"]

MODELS = ("repeated", "snapshots", "diverse-inputs")
METHODS = ("lstsq", "spectral")
CONSTRAINTS = ("mean", "reference", "random")


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class CalibrationResult:
    r"""The result of :func:`self_calibrate`.

    Built by :func:`self_calibrate` (and kept by :func:`blind_deconvolve`);
    not meant to be constructed by hand.

    Parameters
    ----------
    d, x, s, h, residual_norm, constraint_cosine, singular_gap, null_space_dim, method, model
        The attributes below, in this order.

    Attributes
    ----------
    d : ndarray, shape (m,)
        The calibration (gains), :math:`d = 1/s`.
    x : ndarray, shape (n,) or (p, n)
        The signal (``"repeated"``), or one signal per snapshot or input.
    s : ndarray, shape (m,)
        The inverse calibration the linear system solves for.
    h : ndarray, shape (k,) or None
        With ``subspace=B``: the coefficients, :math:`s = Bh`.
    residual_norm : float
        :math:`(\sum_l \|\operatorname{diag}(y_l)s - A_l x_l\|^2)^{1/2}`:
        0 for noiseless data, the size of :math:`\operatorname{diag}(\varepsilon_l) s`
        otherwise.
    constraint_cosine : float
        :math:`|w^*z|/(\|w\|\|z\|)` for the solution :math:`z = (s, x)` (or
        :math:`(h, x)`) and the constraint vector :math:`w`, both in the
        units of the balanced data (see :func:`self_calibrate`, Notes), so
        that it does not change with the units of ``y``, ``A`` or the
        subspace: near 0, the constraint is nearly orthogonal to the
        solution and the result is unstable; choose another.
    singular_gap : float
        Spectral method: :math:`(\sigma_{K-1} - \sigma_K)/\sigma_1` of the
        reduced system (its two smallest singular values): the smaller, the
        more noise moves the solution. NaN for ``"lstsq"``.
    null_space_dim : int
        The numerical dimension of the solutions of the homogeneous system,
        at least 1: 1 when the measurements determine :math:`(d, x)` up to
        scale (for noisy data: when no second singular value vanishes).
    method : str
        ``"lstsq"`` or ``"spectral"``, as requested.
    model : str
        ``"repeated"``, ``"snapshots"`` or ``"diverse-inputs"``, as requested.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> rng = np.random.default_rng(0)
    >>> p, m, n = 3, 16, 4
    >>> A = rng.standard_normal((p, m, n))
    >>> y = (1 + rng.random(m)) * np.einsum("lmn,n->lm", A, rng.standard_normal(n))
    >>> res = randla.self_calibrate(y, A)
    >>> res.model, res.null_space_dim, res.h is None
    ('repeated', 1, True)
    >>> bool(np.isclose(res.s.mean(), 1) and res.residual_norm < 1e-10)   # constraint="mean"
    True
    """

    d: np.ndarray
    x: np.ndarray
    s: np.ndarray
    h: np.ndarray | None
    residual_norm: float
    constraint_cosine: float
    singular_gap: float
    null_space_dim: int
    method: str
    model: str

    def __repr__(self):
        return (
            f"CalibrationResult(model={self.model!r}, method={self.method!r}, m={len(self.d)}, "
            f"x shape={self.x.shape}, residual_norm={self.residual_norm:.3g}, "
            f"constraint_cosine={self.constraint_cosine:.3g}, "
            f"null_space_dim={self.null_space_dim})"
        )


def _as_data(M, name, ndim):
    M = as_array(M, name)
    if M.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be real or complex numbers, got dtype {M.dtype}")
    if M.ndim != ndim or 0 in M.shape:
        raise ValueError(f"{name} must be a non-empty {ndim}-D array, got shape {M.shape}")
    M = M.astype(np.complex128 if M.dtype.kind == "c" else np.float64, copy=False)
    check_finite(M, name)
    return M


def _checked(y, A, model, subspace):
    """(y (p, m), A, B or None) with matching shapes, y and A in their common dtype."""
    y = _as_data(y, "y", 2)
    p, m = y.shape
    if model == "snapshots":
        A = _as_data(A, "A", 2)
        if A.shape[0] != m:
            raise ValueError(f"A must have m = {m} rows (y is {p} x {m}), got shape {A.shape}")
    else:
        A = _as_data(A, "A", 3)
        if A.shape[:2] != (p, m):
            raise ValueError(
                f"A must have shape ({p}, {m}, n) to match y ({p} x {m}), got {A.shape}"
            )
    B = None
    if subspace is not None:
        B = _as_data(subspace, "subspace", 2)
        if B.shape[0] != m or B.shape[1] > m:
            raise ValueError(f"subspace must have shape ({m}, k) with k <= {m}, got {B.shape}")
    elif np.any(np.all(y == 0, axis=0)):
        i = int(np.flatnonzero(np.all(y == 0, axis=0))[0])
        raise ValueError(
            f"y is zero at entry {i} in every measurement: the gain d[{i}] cannot be identified"
        )
    dtype = np.result_type(y, A, B if B is not None else np.float64)
    return y.astype(dtype, copy=False), A.astype(dtype, copy=False), B


def _check_sizes(model, y, A, B, constraint):
    """Refuse fewer equations than unknowns - 1 (the scale is free), and a w of the wrong size.

    The message for too few equations says how many measurements p would do.
    """
    p, m = y.shape
    n = A.shape[-1]
    k = m if B is None else B.shape[1]
    unknowns = k + n * (1 if model == "repeated" else p)
    if m * p < unknowns - 1:
        if model == "repeated":
            need = f"p >= {math.ceil((k + n - 1) / m)}"
        elif m > n:
            need = f"p >= {math.ceil((k - 1) / (m - n))}"
        else:
            need = f"m > n (each snapshot adds m - n = {m - n} equations net)"
        raise ValueError(
            f"too few measurements to identify (d, x) up to scale: {m * p} equations for "
            f"{unknowns} unknowns, at least {unknowns - 1} needed ({need})"
        )
    if not isinstance(constraint, str) and constraint[0].shape != (unknowns,):
        raise ValueError(f"constraint w must have shape ({unknowns},), got {constraint[0].shape}")


def _checked_constraint(constraint):
    """A constraint name, or (w, c): w a finite 1-D array, c a finite nonzero number."""
    if isinstance(constraint, str):
        return check_option(constraint, "constraint", CONSTRAINTS)
    if not isinstance(constraint, tuple | list) or len(constraint) != 2:
        raise TypeError(
            f"constraint must be one of {CONSTRAINTS} or a pair (w, c), got {constraint!r}"
        )
    w = _as_data(constraint[0], "constraint w", 1)
    c = constraint[1]
    if isinstance(c, np.ndarray) and c.ndim == 0:
        c = c.item()
    if isinstance(c, numbers.Complex) and not isinstance(c, numbers.Real):
        c = complex(c)
    else:
        c = check_number(c, "constraint c", "(-inf, inf)")
    if c == 0 or not cmath.isfinite(c):
        raise ValueError(f"constraint c must be finite with c != 0, got {c}")
    return w, c


def _constraint(constraint, m, K, n_total, B, dtype, rng, units):
    """(w over the balanced unknowns z = (s or h, x), c).

    The named constraints are set on the balanced unknowns. A given ``w``
    is over the unknowns as they are: ``units`` holds, for the s- or
    h-block and for the x-block, the (numerator, denominator) of the real
    factor that takes the balanced unknowns back to them; it multiplies
    ``w`` too, so that ``w^* z`` is unchanged.
    """
    if not isinstance(constraint, str):
        w, c = constraint
        w = w.astype(np.result_type(dtype, w.dtype))
        return np.concatenate([_rescale(w[:K], *units[0]), _rescale(w[K:], *units[1])]), c
    if constraint == "random":
        w = rng.standard_normal(K + n_total).astype(dtype)
        if np.iscomplexobj(w):
            w += 1j * rng.standard_normal(K + n_total)
        return w / np.linalg.norm(w), 1.0
    # w^* z = sum(s) = m ("mean": the mean of s is 1) or s_0 = 1 ("reference"); s = B h.
    w = np.zeros(K + n_total, dtype=dtype)
    row = np.ones(m) if constraint == "mean" else np.eye(1, m)[0]
    w[:K] = row if B is None else (row @ B).conj()
    return w, float(m) if constraint == "mean" else 1.0


def _magnitude(M):
    """The largest magnitude in M (1 when M is zero): what balancing divides M by."""
    top = float(np.max(np.abs(M)))
    return top if top > 0 else 1.0


def _rescale(M, numerator, denominator):
    """M * numerator / denominator, without overflow or underflow on the way.

    The fractions of the two factors multiply M, their powers of two go
    through ldexp (exactly), so the ratio itself need not be representable.
    """
    (f_n, e_n), (f_d, e_d) = np.frexp(numerator), np.frexp(denominator)
    M = M * (f_n / f_d)
    if not np.iscomplexobj(M):
        return np.ldexp(M, e_n - e_d)
    out = np.empty_like(M)
    out.real, out.imag = np.ldexp(M.real, e_n - e_d), np.ldexp(M.imag, e_n - e_d)
    return out


def _complex_lstsq(M, rhs, rng):
    """randla.lstsq on a real matrix, or on the real form [[Re, -Im], [Im, Re]] of a complex one.

    The body of :func:`randla.lstsq`: M and rhs are finite float64 already.
    """
    if not np.iscomplexobj(M):
        res = lstsq_unchecked(M, rhs, rng=rng)
        return res.x, res.rank, M.shape[1]
    real = np.block([[M.real, -M.imag], [M.imag, M.real]])
    res = lstsq_unchecked(real, np.concatenate([rhs.real, rhs.imag]), rng=rng)
    K = M.shape[1]
    # The real form has twice the rank of M.
    return res.x[:K] + 1j * res.x[K:], res.rank // 2, K


# Reduced systems with more columns than this take the iterative spectral solver.
_DENSE_SPECTRAL_COLUMNS = 1500


def _smallest_singular(M):
    """(unit right singular vector of the smallest singular value, singular values) of tall M.

    Householder QR first, so the SVD is of a K x K triangle.
    """
    R = scipy.linalg.qr(M, mode="r", check_finite=False)[0][: M.shape[1]]
    _, sv, Vh = scipy.linalg.svd(R, check_finite=False)
    return Vh[-1].conj(), sv


def _smallest_singular_iterative(gram, scale, rng, iterations=200):
    """(vector, [sigma_1, sigma_(K-1), sigma_K]) from the Gram matrix (upper triangle given).

    Shift-invert subspace iteration: (G + tau I)^(-1) with
    tau = max(1e-12 tr(G)/K, eps scale^2), so that the Cholesky factor
    exists when G is singular, even zero (``scale`` is the size of the
    data); Rayleigh-Ritz on the projection, until the two smallest Ritz
    values stop moving. O(K^3 / 3) for the factor, O(K^2) per step,
    instead of a QR of the whole reduced matrix. The accuracy is that of
    the Gram matrix (eps cond^2), ample for the well-conditioned reduced
    systems of random designs.
    """
    K = gram.shape[0]
    G = np.triu(gram) + np.triu(gram, 1).conj().T
    top = float(np.max(np.abs(scipy.linalg.eigvalsh(G, subset_by_index=[K - 1, K - 1]))))
    tau = max(1e-12 * float(np.trace(G).real) / K, np.finfo(float).eps * scale**2)
    factor = scipy.linalg.cho_factor(G + tau * np.eye(K), check_finite=False)
    # Four vectors, so the second smallest Ritz value converges too (at the
    # rate lambda_(K-1) / lambda_(K-4) rather than lambda_(K-1) / lambda_(K-2)).
    X = rng.standard_normal((K, min(K, 4))).astype(G.dtype)
    previous = None
    for _ in range(iterations):
        X = np.linalg.qr(scipy.linalg.cho_solve(factor, X, check_finite=False))[0]
        values, vectors = np.linalg.eigh(X.conj().T @ G @ X)
        X = X @ vectors
        if previous is not None and np.all(np.abs(values[:2] - previous) <= 1e-12 * top):
            break
        previous = values[:2]
    values = np.sqrt(np.maximum(values, 0.0))
    return X[:, 0], np.array([math.sqrt(top), values[1], values[0]])


class _ProjectedRows:
    """The reduced matrix of the repeated model, kept implicit.

    Row (l, i) is row i of A_l minus u_li coeff_i, with u_i = y[:, i] /
    ||y[:, i]|| and coeff_i = u_i^* G_i (G_i the rows i of the A_l): the
    projection of G_i away from u_i. Products cost what products with the
    A_l cost, and the Gram matrix is sum_l A_l^* A_l - coeff^* coeff,
    without the (mp x n) matrix.
    """

    def __init__(self, A, u, coeff):
        self.A, self.u, self.coeff = A, u, coeff
        p, m, n = A.shape
        self.shape, self.dtype = (p * m, n), A.dtype

    def dense(self):
        return (self.A - self.u[:, :, None] * self.coeff[None, :, :]).reshape(self.shape)

    def matvec(self, x):
        Ax = self.A.reshape(self.shape) @ x
        return Ax - (self.u * (self.coeff @ x)[None, :]).ravel()

    def rmatvec(self, r):
        r = r.reshape(self.u.shape)
        return self.A.reshape(self.shape).conj().T @ r.ravel() - self.coeff.conj().T @ np.sum(
            self.u.conj() * r, axis=0
        )

    def gram(self):
        """The upper triangle of the Gram matrix (real data: BLAS syrk, half a product)."""
        G = add_gram(np.zeros((self.shape[1],) * 2, order="F"), self.A.reshape(self.shape))
        return G - self.coeff.T @ self.coeff


def _reduce_repeated(y, A, w_s, w_x):
    """Eliminate s sensor by sensor: (reduced matrix over x, q, v, recover s from (x, t)).

    Sensor i's p equations y_li s_i - (A_l x)_i, rotated by u_i = y[:, i]/rho_i:
    rho_i s_i - u_i^* G_i x = t_i determines s_i, and (I - u_i u_i^*) G_i x
    (G_i rows i of the A_l) involves x alone.
    """
    rho = np.linalg.norm(y, axis=0)
    u = y / rho
    coeff = np.einsum("li,lin->in", u.conj(), A)
    v = w_s / rho
    q = w_x + coeff.conj().T @ v

    def eliminated(x, t):
        return (t + coeff @ x) / rho

    return _ProjectedRows(A, u, coeff), q, v, eliminated


def _gram_lsqr(reduced, q, scale, c):
    """min ||reduced x||^2 + |q^T x - c|^2 / scale^2 for real data, or None.

    LSQR on the implicit system, right-preconditioned by the Cholesky
    factor of its Gram matrix: the answer comes from LSQR on the system
    itself (and a refinement step), the Gram matrix only makes it converge
    in a few iterations. None when that Gram matrix is too ill-conditioned
    to factor, for the caller to fall back on QR-based solvers.
    """
    n = reduced.shape[1]
    gram = reduced.gram() + np.outer(q, q) / scale**2
    try:
        R = scipy.linalg.cholesky(gram, lower=False, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    diagonal = np.abs(np.diag(R))
    if diagonal.min() <= 1e-7 * diagonal.max():  # cond(gram) near 1/eps: no longer a preconditioner
        return None
    rows = reduced.shape[0] + 1
    op = LinearOperator(
        (rows, n),
        matvec=lambda x: np.append(reduced.matvec(x), q @ x / scale),
        rmatvec=lambda r: reduced.rmatvec(r[:-1]) + q * (r[-1] / scale),
        dtype=np.float64,
    )
    rhs = np.zeros(rows)
    rhs[-1] = c / scale
    x, _, converged = lsqr_solve(op, rhs, R, None, np.zeros(n), 1e-15, 100)
    return x if converged else None


def _reduce_blocks(Ys, Xs, w_k, w_xs):
    """Eliminate each x-block: (reduced matrix over s or h, q, v, recover the x-blocks).

    Block j's equations Y_j k - X_j x_j, with X_j = Q_j R_j: Q_j^* rows
    R_j x_j = Q_j^* Y_j k - t_j determine x_j; (I - Q_j Q_j^*) Y_j k does not
    involve it.
    """
    parts, vs, factors = [], [], []
    q = w_k.copy()
    for Y, X, w_x in zip(Ys, Xs, w_xs, strict=True):
        Q, R = scipy.linalg.qr(X, mode="economic", check_finite=False)
        diagonal = np.abs(np.diag(R))
        if diagonal.min() <= max(X.shape) * np.finfo(float).eps * diagonal.max():
            raise ValueError("A must have full column rank: the signal x is not identifiable")
        C = Q.conj().T @ Y
        parts.append(Y - Q @ C)
        v = -scipy.linalg.solve_triangular(R, w_x, trans="C", check_finite=False)
        vs.append(v)
        q = q - C.conj().T @ v
        factors.append((R, C))

    def eliminated(k, t):
        out, start = [], 0
        for R, C in factors:
            size = R.shape[0]
            out.append(scipy.linalg.solve_triangular(R, C @ k - t[start : start + size]))
            start += size
        return out

    return np.vstack(parts), q, np.concatenate(vs), eliminated


def self_calibrate(
    y, A, *, model="repeated", method="lstsq", constraint="mean", subspace=None, rng=None
):
    r"""Recover an unknown diagonal calibration and the signals from bilinear measurements.

    :math:`y_l = \operatorname{diag}(d) A_l x_l + \varepsilon_l`. With
    :math:`s = 1/d`, the measurements are the linear homogeneous system
    :math:`\operatorname{diag}(y_l)s - A_l x_l = 0` (Ling & Strohmer, 2018),
    solved either with one linear constraint :math:`w^* z = c` that fixes
    the scale (``"lstsq"``: :math:`\min\|A_w z\|^2 + |w^*z - c|^2`), or by
    the singular vector of its smallest singular value (``"spectral"``).

    Parameters
    ----------
    y : array_like, shape (p, m)
        ``p`` measurements of ``m`` entries (sensors, pixels, frequencies),
        real or complex.
    A : array_like, shape (p, m, n), or (m, n) for ``"snapshots"``
        The known matrices.
    model : {"repeated", "snapshots", "diverse-inputs"}, optional
        * ``"repeated"``: :math:`y_l = DA_lx` (one signal, ``p`` matrices);
          ``x`` has shape (n,).
        * ``"snapshots"``: :math:`y_l = DAx_l` (one matrix with ``m > n``,
          ``p`` signals); ``x`` has shape (p, n).
        * ``"diverse-inputs"``: :math:`y_l = DA_lx_l`; ``x`` has shape (p, n).
          Blind deconvolution is this model in the Fourier domain
          (:func:`blind_deconvolve`).
    method : {"lstsq", "spectral"}, optional
    constraint : {"mean", "reference", "random"} or (w, c), optional
        ``"mean"``: the mean of :math:`s` is 1; ``"reference"``:
        :math:`s_0 = 1`; ``"random"``: a random unit :math:`w` (over the
        balanced unknowns, see Notes) and :math:`c = 1`; or your own
        :math:`w` over :math:`z = (s, x)` (:math:`(h, x)` with a subspace;
        the x-blocks in order) and :math:`c \ne 0`, both finite. The
        spectral method rescales its vector to satisfy it. The solution is
        :math:`c z_0 / (w^* z_0)`: the constraint must not be orthogonal to
        the truth (``constraint_cosine`` reports it).
    subspace : array_like, shape (m, k), optional
        A known subspace of the inverse calibration, :math:`s = Bh`.
    rng : None, int or numpy.random.Generator, optional
        For ``"random"`` and the sketches of the least-squares solver:
        a seed or a ``numpy.random.Generator``.

    Returns
    -------
    CalibrationResult
        The calibration ``d`` and its inverse ``s``, the signals ``x``, and
        the diagnostics (residual, constraint cosine, null-space dimension).

    Raises
    ------
    ValueError
        Too few measurements (fewer equations than unknowns minus one: the
        message says how many ``p`` are needed), ``y`` zero at one entry in
        every measurement, or mismatched shapes.

    Warns
    -----
    RandlaWarning
        When the system has a null space of dimension 2 or more (the
        measurements do not identify the unknowns), or ``s`` has zeros.

    Notes
    -----
    The unknowns split into the ones eliminated exactly by orthogonal
    transformations and the rest, so the least-squares problem that
    :func:`randla.lstsq` solves is small and no normal equations are
    formed. ``"repeated"``: the ``p`` equations of entry ``i`` involve
    :math:`s_i` alone, so rotating them by :math:`y_{:,i}/\|y_{:,i}\|` leaves
    one equation for :math:`s_i` and a projected system in :math:`x`
    (:math:`mp \times n`). The other models (and ``"repeated"`` with a
    subspace): the QR factorisation of each :math:`A_l` eliminates
    :math:`x_l`, leaving the projections
    :math:`(I - A_lA_l^+)\operatorname{diag}(y_l)` in :math:`s` (the
    Schur complement of the spec, as a matrix rather than its Gram). The
    constraint row, which couples the two parts, is reduced exactly too.
    The spectral method takes the smallest right singular vector of the
    reduced matrix (a Householder QR, then the SVD of its triangle); beyond
    1500 unknowns in the reduced system, shift-invert subspace iteration on
    its Gram matrix instead (the vector to the accuracy that the Gram matrix
    allows, ample for well-conditioned designs).

    The problem is linear in ``y`` and in ``A``: ``c y`` gives
    :math:`(d, cx)`, ``c A`` gives :math:`(d, x/c)` and ``c B`` gives
    :math:`(d, h/c)`, with the same diagnostics (``residual_norm``, in the
    units of ``y``, scales with it) and warnings. To keep it so, the solver
    works on the balanced data :math:`y/\sigma_y`, :math:`A/\sigma_A`,
    :math:`B/\sigma_B` (:math:`\sigma`: the largest magnitude of each), whose
    unknowns are :math:`s`, :math:`x\sigma_A/\sigma_y` and :math:`h\sigma_B`:
    the constraint row is then on the scale of the system, the rank and
    orthogonality tolerances are relative to data of size 1, and nothing
    overflows or underflows before the unknowns are scaled back. A given
    :math:`w` is over the unknowns as they are and is converted with them.

    Complex data go through :func:`randla.lstsq` in the real form
    :math:`\begin{psmallmatrix}\Re & -\Im \\ \Im & \Re\end{psmallmatrix}`.

    References
    ----------
    Ling, S. & Strohmer, T. (2018). Self-calibration and bilinear inverse
    problems via linear least squares. SIAM J. Imaging Sci. 11(1).

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> rng = np.random.default_rng(0)
    >>> p, m, n = 4, 64, 16
    >>> A = rng.standard_normal((p, m, n))
    >>> d, x = 1 + 0.5 * rng.random(m), rng.standard_normal(n)
    >>> y = d * np.einsum("lmn,n->lm", A, x)
    >>> res = randla.self_calibrate(y, A, constraint="reference")
    >>> bool(np.allclose(res.d, d / d[0]) and np.allclose(res.x, x * d[0]))
    True
    """
    check_option(model, "model", MODELS)
    check_option(method, "method", METHODS)
    constraint = _checked_constraint(constraint)
    rng = check_rng(rng)
    y, A, B = _checked(y, A, model, subspace)
    _check_sizes(model, y, A, B, constraint)
    return _self_calibrate(y, A, B, model, method, constraint, rng)


def _self_calibrate(y, A, B, model, method, constraint, rng):
    """self_calibrate on checked arguments: reduce -> solve -> assemble -> diagnostics."""
    system = _reduce(y, A, B, model, constraint, rng)
    solution = _solve(system, method, rng)
    estimate = _assemble(system, solution, method)
    return _diagnostics(system, solution, estimate, method)


class _System(NamedTuple):
    """A self-calibration problem reduced to the unknowns left to solve for.

    ``y``, ``A``, ``B`` are the balanced data (see :func:`_reduce`), ``units``
    takes the balanced unknowns back to the caller's, ``w^* z = c`` is the
    constraint over the balanced unknowns. ``reduced`` (a matrix, or the
    implicit :class:`_ProjectedRows`) acts on the kept unknowns ``k``;
    with ``q``, ``v`` the objective is ``||reduced k||^2 + |t|^2 + |v^* t +
    q^* k - c|^2``, and ``eliminated(k, t)`` gives the other unknowns.
    """

    model: str
    y: np.ndarray
    A: np.ndarray
    B: np.ndarray | None
    units: tuple
    w: np.ndarray
    c: complex
    reduced: object
    q: np.ndarray
    v: np.ndarray
    eliminated: object


class _Solution(NamedTuple):
    """The kept unknowns ``k`` and ``t`` of a reduced system, and what the solver saw of it."""

    kept: np.ndarray
    t: np.ndarray
    null_space_dim: int
    singular_gap: float


class _Estimate(NamedTuple):
    """The balanced unknowns: s (or h), x, z = (s or h, x), and whether w^* z vanished."""

    s_or_h: np.ndarray
    x: np.ndarray
    z: np.ndarray
    orthogonal: bool


def _reduce(y, A, B, model, constraint, rng):
    """Balance the data, set the constraint, eliminate unknowns exactly: the _System.

    The balanced data are y / sigma_y, A / sigma_a, B / sigma_b (sigma: the
    largest magnitude), whose unknowns are s, x sigma_a / sigma_y and
    h sigma_b: the constraint row is then on the scale of the system, every
    tolerance is relative to data of size 1, and the result and its
    diagnostics do not depend on the units of y, A and B.
    """
    p, m = y.shape
    n = A.shape[-1]
    K = m if B is None else B.shape[1]
    blocks = 1 if model == "repeated" else p
    sigma_y, sigma_a = _magnitude(y), _magnitude(A)
    sigma_b = 1.0 if B is None else _magnitude(B)
    y, A = y / sigma_y, A / sigma_a
    B = None if B is None else B / sigma_b
    units = ((1.0, sigma_b), (sigma_y, sigma_a))
    w, c = _constraint(constraint, m, K, n * blocks, B, y.dtype, rng, units)
    w_k, w_x = w[:K], w[K:]
    if model == "repeated" and B is None:
        parts = _reduce_repeated(y, A, w_k, w_x)
    else:
        Ys = [row[:, None] * (np.eye(m, dtype=y.dtype) if B is None else B) for row in y]
        if model == "repeated":
            Ys, Xs = [np.vstack(Ys)], [A.reshape(p * m, n)]
        else:
            Xs = [A] * p if model == "snapshots" else list(A)
        parts = _reduce_blocks(Ys, Xs, w_k, np.split(w_x, blocks))
    return _System(model, y, A, B, units, w, c, *parts)


def _solve(system, method, rng):
    """The _Solution by least squares with the constraint row, or the smallest singular vector."""
    if method == "lstsq":
        return _solve_lstsq(system, rng)
    if system.reduced.shape[1] > _DENSE_SPECTRAL_COLUMNS:
        return _solve_spectral_iterative(system, rng)
    return _solve_spectral(system)


def _real_projected(reduced):
    """Whether the reduced matrix is the implicit one of real data (Gram matrix by syrk)."""
    return isinstance(reduced, _ProjectedRows) and not np.iscomplexobj(reduced.A)


def _dense(reduced):
    return reduced.dense() if isinstance(reduced, _ProjectedRows) else reduced


def _solve_lstsq(system, rng):
    """min ||reduced k||^2 + |t|^2 + |v^* t + q^* k - c|^2: t = -v beta / (1 + ||v||^2)."""
    reduced, q, v, c = system.reduced, system.q, system.v, system.c
    scale = math.sqrt(1.0 + float(np.vdot(v, v).real))
    kept = _gram_lsqr(reduced, q, scale, c) if _real_projected(reduced) else None
    null_dim = 1  # _gram_lsqr succeeds only on a safely positive definite Gram matrix
    if kept is None:
        matrix = np.vstack([_dense(reduced), q.conj()[None, :] / scale])
        rhs = np.zeros(matrix.shape[0], dtype=matrix.dtype)
        rhs[-1] = c / scale
        kept, rank, size = _complex_lstsq(matrix, rhs, rng)
        null_dim = size - rank + 1 if rank < size else 1
    beta = np.vdot(q, kept) - c
    return _Solution(kept, -v * beta / scale**2, null_dim, math.nan)


def _solve_spectral(system):
    """The smallest right singular vector of the dense reduced matrix (t = 0)."""
    dense = _dense(system.reduced)
    kept, sv = _smallest_singular(dense)
    tiny = max(dense.shape) * np.finfo(float).eps * sv[0]
    null_dim = max(1, int(np.sum(sv <= tiny)))
    gap = float((sv[-2] - sv[-1]) / sv[0]) if len(sv) > 1 and sv[0] > 0 else math.nan
    return _Solution(kept, np.zeros(len(system.v), dtype=kept.dtype), null_dim, gap)


def _solve_spectral_iterative(system, rng):
    """The smallest singular vector from the Gram matrix, for large reduced systems (t = 0)."""
    reduced = system.reduced
    if _real_projected(reduced):
        gram = reduced.gram()
    else:
        dense = _dense(reduced)
        gram = dense.conj().T @ dense
    scale = float(np.linalg.norm(system.y) + np.linalg.norm(system.A))
    kept, sv = _smallest_singular_iterative(gram, scale, rng)
    # The Gram matrix resolves singular values down to about sqrt(eps)
    # times the size of the data.
    null_dim = 2 if sv[1] <= 1e-7 * max(sv[0], scale) else 1
    gap = float((sv[1] - sv[2]) / sv[0]) if sv[0] > 0 else math.nan
    return _Solution(kept, np.zeros(len(system.v), dtype=kept.dtype), null_dim, gap)


def _assemble(system, solution, method):
    """The _Estimate: the eliminated unknowns recovered; the spectral vector given its scale."""
    other = system.eliminated(solution.kept, solution.t)
    if system.model == "repeated" and system.B is None:
        s_or_h, x = other, solution.kept
    else:
        # One x-block per measurement, (p, n) even for p = 1, except for "repeated".
        s_or_h, x = solution.kept, other[0] if system.model == "repeated" else np.stack(other)
    z = np.concatenate([s_or_h, np.ravel(x)])
    if method == "lstsq":
        return _Estimate(s_or_h, x, z, False)
    # The singular vector has no scale: give it the constraint's.
    scale = np.vdot(system.w, z)
    orthogonal = abs(scale) <= 1e-12 * np.linalg.norm(system.w) * np.linalg.norm(z)
    factor = system.c / (1.0 if orthogonal else scale)
    return _Estimate(s_or_h * factor, x * factor, z * factor, bool(orthogonal))


def _diagnostics(system, solution, estimate, method):
    """Warn of what went wrong; the CalibrationResult in the caller's units."""
    y, A, B, units = system.y, system.A, system.B, system.units
    if estimate.orthogonal:
        warn(
            "the constraint is orthogonal to the spectral solution; its scale is arbitrary",
            RandlaWarning,
        )
    if solution.null_space_dim >= 2:
        warn(
            f"the measurements do not identify (d, x) up to scale: the system's null space has "
            f"dimension {solution.null_space_dim}",
            RandlaWarning,
        )
    s = estimate.s_or_h if B is None else B @ estimate.s_or_h
    if np.any(s == 0):
        warn("s has zero entries: d = 1/s is infinite there", RandlaWarning)
    with np.errstate(divide="ignore"):
        d = 1.0 / s
    p, m = y.shape
    x = estimate.x
    A_blocks = A if A.ndim == 3 else np.broadcast_to(A, (p, m, A.shape[-1]))
    if system.model == "repeated":
        predicted = np.einsum("lmn,n->lm", A_blocks, x)
    else:
        predicted = np.einsum("lmn,ln->lm", A_blocks, x)
    sigma_y = units[1][0]  # the residual of the balanced data, in the units of y
    residual = float(_rescale(np.linalg.norm(y * s[None, :] - predicted), sigma_y, 1.0))
    w, z = system.w, estimate.z
    cosine = float(abs(np.vdot(w, z)) / (np.linalg.norm(w) * np.linalg.norm(z)))
    return CalibrationResult(
        d,
        _rescale(x, *units[1]),
        s,
        None if B is None else _rescale(estimate.s_or_h, *units[0]),
        residual,
        cosine,
        solution.singular_gap,
        int(solution.null_space_dim),
        method,
        system.model,
    )


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class DeconvolutionResult:
    """The result of :func:`blind_deconvolve`.

    Built by :func:`blind_deconvolve`; not meant to be constructed by hand.

    Parameters
    ----------
    h, x, calibration
        The attributes below, in this order.

    Attributes
    ----------
    h : ndarray, shape (m,)
        The filter (real when the data are).
    x : ndarray, shape (p, n)
        The input coefficients.
    calibration : CalibrationResult
        The Fourier-domain self-calibration it came from (``d`` = FFT of ``h``).

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> rng = np.random.default_rng(0)
    >>> p, m, n = 3, 16, 2
    >>> h = np.exp(-np.arange(m) / 2.0)
    >>> C, x = rng.standard_normal((p, m, n)), rng.standard_normal((p, n))
    >>> y = np.real(np.fft.ifft(np.fft.fft(h) * np.fft.fft(np.einsum("lmn,ln->lm", C, x))))
    >>> res = randla.blind_deconvolve(y, C)
    >>> res.h.shape, res.x.shape, res.calibration.model
    ((16,), (3, 2), 'diverse-inputs')
    >>> alpha = res.h[0] / h[0]                       # h and x up to a scale
    >>> bool(np.allclose(res.h, alpha * h) and np.allclose(res.x, x / alpha))
    True
    """

    h: np.ndarray
    x: np.ndarray
    calibration: CalibrationResult

    def __repr__(self):
        return f"DeconvolutionResult(m={len(self.h)}, x shape={self.x.shape})"


def blind_deconvolve(y, C, *, method="lstsq", constraint="mean", rng=None):
    r"""Blind deconvolution from diverse inputs: :math:`y_l = h \circledast (C_l x_l)`.

    An unknown filter :math:`h` (circular convolution of length ``m``)
    applied to ``p`` inputs :math:`C_l x_l` from known subspaces. In the
    Fourier domain :math:`\hat y_l = \operatorname{diag}(\hat h)\, F C_l x_l`:
    the ``"diverse-inputs"`` model of :func:`self_calibrate` with
    :math:`d = \hat h` and :math:`A_l = FC_l` (Ling & Strohmer, 2018). The
    filter must have no zero in its spectrum.

    Parameters
    ----------
    y : array_like, shape (p, m)
        The blurred outputs.
    C : array_like, shape (p, m, n)
        The known input subspaces.
    method, constraint, rng
        As in :func:`self_calibrate` (``"mean"`` fixes the mean of
        :math:`1/\hat h` to 1: the scale of ``h`` is otherwise free).

    Returns
    -------
    DeconvolutionResult
        The filter ``h``, the coefficients ``x`` (both real for real data)
        and the Fourier-domain :class:`CalibrationResult`.

    Notes
    -----
    Cost: FFTs of ``y`` and ``C`` along their length-``m`` axis
    (:math:`O(pnm\log m)`), then :func:`self_calibrate` on complex data.

    References
    ----------
    Ling, S. & Strohmer, T. (2018). Self-calibration and bilinear inverse
    problems via linear least squares. SIAM J. Imaging Sci. 11(1).

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> rng = np.random.default_rng(0)
    >>> p, m, n = 4, 64, 8
    >>> h = np.exp(-np.arange(m) / 3.0)
    >>> C, x = rng.standard_normal((p, m, n)), rng.standard_normal((p, n))
    >>> y = np.real(np.fft.ifft(np.fft.fft(h) * np.fft.fft(np.einsum("lmn,ln->lm", C, x))))
    >>> res = randla.blind_deconvolve(y, C, constraint="reference")
    >>> alpha = res.h[0] / h[0]
    >>> bool(np.allclose(res.h, alpha * h) and np.allclose(res.x, x / alpha))
    True
    """
    check_option(method, "method", METHODS)
    constraint = _checked_constraint(constraint)
    rng = check_rng(rng)
    y = _as_data(y, "y", 2)
    C = _as_data(C, "C", 3)
    if C.shape[:2] != y.shape:
        raise ValueError(f"C must have shape ({y.shape[0]}, {y.shape[1]}, n), got {C.shape}")
    real = not (np.iscomplexobj(y) or np.iscomplexobj(C))
    model = "diverse-inputs"
    y_hat, A, _ = _checked(np.fft.fft(y, axis=1), np.fft.fft(C, axis=1), model, None)
    _check_sizes(model, y_hat, A, None, constraint)
    result = _self_calibrate(y_hat, A, None, model, method, constraint, rng)
    h = np.fft.ifft(result.d)
    x = result.x
    if real:
        # Real data: the solution is real up to the constraint's phase.
        phase = np.exp(-1j * np.angle(np.sum(h * h)) / 2)
        h, x = (h * phase).real, (x / phase).real
    return DeconvolutionResult(h, x, result)
