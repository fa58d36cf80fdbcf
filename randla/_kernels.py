"""Numba kernels for the sequential samplers. Private: only randla's modules call them.

Randomness comes in as arrays of uniforms drawn by the caller's
numpy Generator, so a seed fixes the result.
"""

import math
import os

import numba
import numpy as np
from numba.misc.appdirs import user_cache_dir

# Numba caches compiled kernels beside their source by default: inside the
# installed package, in files pip does not know of. They stayed behind when
# randla was uninstalled, and the folder they kept shadowed a later
# (editable) install as an empty namespace package, so `import randla` gave
# a module without attributes. The user's cache directory keeps them instead
# (unless NUMBA_CACHE_DIR says otherwise; where it is not writable, numba
# falls back to its own rules).
_CACHE_DIR = os.path.join(user_cache_dir("randla"), "numba")


def _kernel(**options):
    """``numba.njit(cache=True, **options)``, caching in randla's user cache directory."""

    def decorate(func):
        chosen = numba.config.CACHE_DIR
        # Read once, when the dispatcher is created; restored for the
        # user's own functions.
        numba.config.CACHE_DIR = chosen or _CACHE_DIR
        try:
            return numba.njit(cache=True, **options)(func)
        finally:
            numba.config.CACHE_DIR = chosen

    return decorate


@_kernel()
def _logaddexp(a, b):
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


@_kernel()
def log_elementary_symmetric(log_lam, k):
    """T[l, n] = log e_l(lam_1, ..., lam_n) for l <= k, n <= N, from log(lam).

    e_l^n = e_l^(n-1) + lam_n e_(l-1)^(n-1) in the log domain: no overflow
    for any spread of lam (lam = 0 is log_lam = -inf).
    """
    n_items = log_lam.shape[0]
    table = np.full((k + 1, n_items + 1), -np.inf)
    table[0, :] = 0.0
    for n in range(1, n_items + 1):
        for size in range(1, min(k, n) + 1):
            table[size, n] = _logaddexp(table[size, n - 1], log_lam[n - 1] + table[size - 1, n - 1])
    return table


@_kernel()
def select_kdpp_eigenvectors(log_lam, table, k, u):
    """Indices n of the eigenvectors kept by a k-DPP (Kulesza & Taskar, Alg. 8).

    Backwards over n, eigenvector n joins with probability
    lam_n e_(l-1)^(n-1) / e_l^n while l are still missing; u holds one
    uniform per eigenvector.
    """
    chosen = np.empty(k, dtype=np.int64)
    missing = k
    for n in range(log_lam.shape[0], 0, -1):
        if missing == 0:
            break
        p = math.exp(log_lam[n - 1] + table[missing - 1, n - 1] - table[missing, n])
        if u[n - 1] < p:
            missing -= 1
            chosen[missing] = n - 1
    return chosen


# Reassociation (so that sums vectorise) without numba's full fastmath: that
# also assumes no NaN or inf, and the passes below let a NaN or inf in the
# input show in their output, where the caller looks for it.
_REASSOCIATE = {"reassoc", "contract", "nsz"}


@_kernel()
def _abs2(z):
    return z.real * z.real + z.imag * z.imag


@_kernel(fastmath=_REASSOCIATE)
def _norm2(v):
    s = 0.0
    for m in range(v.shape[0]):
        s += _abs2(v[m])
    return s


@_kernel(fastmath=_REASSOCIATE)
def _project(basis, v, coef, size):
    """coef[j] = <w_j, v> for the rows w_j of basis[:size]; returns sum |coef|^2.

    Four rows at a time, so that four independent sums run side by side
    instead of one waiting on itself.
    """
    total = 0.0
    j = 0
    while j < size:
        if j + 4 <= size:
            s0 = s1 = s2 = s3 = v[0] * 0
            for m in range(v.shape[0]):
                x = v[m]
                s0 += np.conj(basis[j, m]) * x
                s1 += np.conj(basis[j + 1, m]) * x
                s2 += np.conj(basis[j + 2, m]) * x
                s3 += np.conj(basis[j + 3, m]) * x
            coef[j], coef[j + 1], coef[j + 2], coef[j + 3] = s0, s1, s2, s3
            total += _abs2(s0) + _abs2(s1) + _abs2(s2) + _abs2(s3)
            j += 4
        else:
            s0 = v[0] * 0
            for m in range(v.shape[0]):
                s0 += np.conj(basis[j, m]) * v[m]
            coef[j] = s0
            total += _abs2(s0)
            j += 1
    return total


@_kernel(fastmath=_REASSOCIATE)
def _remove_direction(basis, coef, size, norm2):
    """Rotate the orthonormal rows basis[:size] so that the first size - 1 are orthogonal to v.

    coef = (<w_j, v>)_j, norm2 = |coef|^2. The Householder reflection H,
    with H coef = alpha e_(size-1), mixes the rows into w'_j = sum_l H_lj w_l:
    orthonormal again, and <w'_j, v> = (H coef)_j = 0 for j < size - 1.
    w'_j = w_j - beta conj(h_j) t, t = sum_l h_l w_l, for h = coef - alpha
    e_(size-1), beta = 2 / |h|^2, alpha = -sign(coef_(size-1)) |coef| (no
    cancellation). O(r size).
    """
    r = basis.shape[1]
    sigma = math.sqrt(norm2)
    last = coef[size - 1]
    magnitude = abs(last)
    phase = last / magnitude if magnitude > 0 else last * 0 + 1
    coef[size - 1] = phase * (magnitude + sigma)
    beta = 1.0 / (sigma * (sigma + magnitude))
    # Four rows at a time: t and the rows are read once per four, not once per row.
    t = np.zeros(r, dtype=basis.dtype)
    j = 0
    while j < size:
        if j + 4 <= size:
            c0, c1, c2, c3 = coef[j], coef[j + 1], coef[j + 2], coef[j + 3]
            for m in range(r):
                t[m] += (c0 * basis[j, m] + c1 * basis[j + 1, m]) + (
                    c2 * basis[j + 2, m] + c3 * basis[j + 3, m]
                )
            j += 4
        else:
            c0 = coef[j]
            for m in range(r):
                t[m] += c0 * basis[j, m]
            j += 1
    j = 0
    while j < size - 1:
        if j + 4 <= size - 1:
            c0, c1 = beta * np.conj(coef[j]), beta * np.conj(coef[j + 1])
            c2, c3 = beta * np.conj(coef[j + 2]), beta * np.conj(coef[j + 3])
            for m in range(r):
                x = t[m]
                basis[j, m] -= c0 * x
                basis[j + 1, m] -= c1 * x
                basis[j + 2, m] -= c2 * x
                basis[j + 3, m] -= c3 * x
            j += 4
        else:
            c0 = beta * np.conj(coef[j])
            for m in range(r):
                basis[j, m] -= c0 * t[m]
            j += 1


@_kernel()
def _try_accept(v, accept, basis, coef, size):
    """Accept v with probability ||P^perp v||^2 / ||v||^2; on acceptance shrink the complement.

    The rows of basis[:size] are an orthonormal basis of the complement of
    the chosen rows, so ||P^perp v||^2 = sum_j |<w_j, v>|^2: computed
    directly, never as ||v||^2 minus the projection on the chosen rows,
    whose cancellation loses the residual of a v close to their span. Its
    cost O(r size) falls as the steps go on, just when most proposals are
    rejected. On acceptance the basis loses the direction of P^perp v
    (:func:`_remove_direction`). coef is workspace of length >= size.
    """
    norm2 = _norm2(v)
    residual = _project(basis, v, coef, size)
    if not residual > accept * norm2:
        return False
    if size > 1:
        _remove_direction(basis, coef, size, residual)
    return True


@_kernel()
def projection_dpp_chain(V, cdf, u, basis, chosen, taken, count):
    """Continue the chain rule of a projection DPP with kernel V V^H by rejection.

    Step k draws i with probability ||P^perp v_i||^2 / (r - k + 1), P^perp
    the projection onto the complement of the rows already chosen: propose
    i with probability ||v_i||^2 / r (cdf holds the cumulative row norms)
    and accept with probability ||P^perp v_i||^2 / ||v_i||^2. The expected
    number of proposals is r (1 + 1/2 + ... + 1/r), each costing O(k r).

    Consumes two uniforms per proposal and returns (count, uniforms used);
    the caller supplies more uniforms until count == r. basis (r x r) holds
    an orthonormal basis of the complement of the chosen rows in its first
    r - count rows (the identity before any is chosen).
    """
    n_items, r = V.shape
    total = cdf[n_items - 1]
    coef = np.empty(r, dtype=basis.dtype)
    used = 0
    while count < r and used + 2 <= u.shape[0]:
        target = u[used] * total
        accept = u[used + 1]
        used += 2
        i = min(np.searchsorted(cdf, target, side="right"), n_items - 1)
        if taken[i]:
            continue  # its residual is zero up to rounding
        if _try_accept(V[i], accept, basis, coef, r - count):
            chosen[count] = i
            taken[i] = True
            count += 1
    return count, used


@_kernel()
def continuous_dpp_chain(Phi, u, basis, chosen, count, start):
    """The same chain rule over proposals given in order (rows of Phi, i.i.d. from rho_m).

    Continuous projection DPPs: the proposals are i.i.d. points from the
    optimal density, with feature rows Phi; row i is accepted with
    probability ||P^perp phi_i||^2 / ||phi_i||^2 (uniform u[i]). Returns
    (count, next unused row). basis as in :func:`projection_dpp_chain`.
    """
    r = basis.shape[1]
    coef = np.empty(r, dtype=basis.dtype)
    i = start
    while count < r and i < Phi.shape[0]:
        if _try_accept(Phi[i], u[i], basis, coef, r - count):
            chosen[count] = i
            count += 1
        i += 1
    return count, i


@_kernel(fastmath=_REASSOCIATE)
def gram_probe(V, x0, x1):
    """(squared row norms of V, V^H V x0, V^H V x1) in one pass over the rows of V.

    V^H V x = sum_i conj(v_i) (v_i . x): each row is used twice while in
    cache. A NaN or inf in V makes its row norm NaN or inf.
    """
    n_items, r = V.shape
    norms = np.empty(n_items)
    z0 = np.zeros(r, dtype=V.dtype)
    z1 = np.zeros(r, dtype=V.dtype)
    for i in range(n_items):
        v = V[i]
        s = 0.0
        a0 = a1 = v[0] * 0
        for m in range(r):
            s += _abs2(v[m])
            a0 += v[m] * x0[m]
            a1 += v[m] * x1[m]
        norms[i] = s
        for m in range(r):
            c = np.conj(v[m])
            z0[m] += c * a0
            z1[m] += c * a1
    return norms, z0, z1


@_kernel(fastmath=_REASSOCIATE)
def matrix_probe(M, x0, x1):
    """(M x0, M x1) in one pass over the rows of M; a NaN or inf in M shows in them.

    Four rows at a time, so that each entry of x0 and x1 is loaded once per
    four rows: the pass then runs at the speed of memory, like a BLAS gemv.
    """
    n, m = M.shape
    y0 = np.empty(n, dtype=M.dtype)
    y1 = np.empty(n, dtype=M.dtype)
    i = 0
    while i < n:
        if i + 4 <= n:
            a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = M[i, 0] * 0
            for j in range(m):
                u, w = x0[j], x1[j]
                p, q, s, t = M[i, j], M[i + 1, j], M[i + 2, j], M[i + 3, j]
                a0 += p * u
                a1 += q * u
                a2 += s * u
                a3 += t * u
                b0 += p * w
                b1 += q * w
                b2 += s * w
                b3 += t * w
            y0[i], y0[i + 1], y0[i + 2], y0[i + 3] = a0, a1, a2, a3
            y1[i], y1[i + 1], y1[i + 2], y1[i + 3] = b0, b1, b2, b3
            i += 4
        else:
            a0 = b0 = M[i, 0] * 0
            for j in range(m):
                a0 += M[i, j] * x0[j]
                b0 += M[i, j] * x1[j]
            y0[i], y1[i] = a0, b0
            i += 1
    return y0, y1


@_kernel(fastmath=_REASSOCIATE)
def pivoted_cholesky(K, r, tol):
    """Up to r steps of Cholesky with diagonal pivoting of a Hermitian K, for a projection.

    Returns (R, residual, steps): K ~ F F^H with F = R[:steps].T, and the
    diagonal of K - F F^H. Step k pivots on the largest residual diagonal
    entry p and takes the column of the residual there, scaled by its
    pivot; it reads row p of K only (conj(K[p, :]) is column p of a
    Hermitian K): O(N k) per step. For a projection every column has unit
    norm (||E e_p||^2 = E_pp for the residual projection E), so a column
    off by more than tol, or a pivot that is not positive, stops the
    factorisation early: K is not a projection.
    """
    n = K.shape[0]
    R = np.empty((r, n), dtype=K.dtype)
    residual = np.empty(n)
    for i in range(n):
        residual[i] = K[i, i].real
    for k in range(r):
        p = np.argmax(residual)
        pivot = residual[p]
        if not pivot > 0.0:
            return R, residual, k
        row = R[k]
        for i in range(n):
            row[i] = np.conj(K[p, i])
        j = 0
        while j < k:  # four rows of R at a time: row is loaded and stored once per four
            if j + 4 <= k:
                c0, c1 = np.conj(R[j, p]), np.conj(R[j + 1, p])
                c2, c3 = np.conj(R[j + 2, p]), np.conj(R[j + 3, p])
                for i in range(n):
                    row[i] -= (c0 * R[j, i] + c1 * R[j + 1, i]) + (
                        c2 * R[j + 2, i] + c3 * R[j + 3, i]
                    )
                j += 4
            else:
                c0 = np.conj(R[j, p])
                for i in range(n):
                    row[i] -= c0 * R[j, i]
                j += 1
        scale = 1.0 / math.sqrt(pivot)
        norm2 = 0.0
        for i in range(n):
            row[i] *= scale
            a = _abs2(row[i])
            residual[i] -= a
            norm2 += a
        residual[p] = 0.0
        if not abs(norm2 - 1.0) <= tol:
            return R, residual, k
    return R, residual, r


# Univariate orthonormal polynomial families (codes shared with randla.bases).
LEGENDRE, HERMITE, CHEBYSHEV = 0, 1, 2


@_kernel()
def orthonormal_polynomials(x, degree, family):
    """(N, degree + 1) values of the orthonormal polynomials of a family at the points x.

    Three-term recurrences of the orthonormal polynomials themselves (no
    factorials, no growth): Legendre for dx/2 on [-1, 1],
    x p_j = b_(j+1) p_(j+1) + b_j p_(j-1) with b_j = j / sqrt(4 j^2 - 1);
    Hermite for the standard Gaussian, x h_j = sqrt(j+1) h_(j+1) + sqrt(j) h_(j-1);
    Chebyshev for the arcsine law, t_0 = 1, t_j = sqrt(2) T_j.
    """
    out = np.empty((x.shape[0], degree + 1))
    for i in range(x.shape[0]):
        previous, current = 0.0, 1.0
        out[i, 0] = 1.0
        for j in range(degree):
            previous, current = current, _step(x[i], j, current, previous, family)
            out[i, j + 1] = current
    return out


@_kernel()
def _step(t, j, current, previous, family):
    """The orthonormal polynomial of degree j + 1 at t from those of degrees j and j - 1."""
    if family == LEGENDRE:
        b_next = (j + 1) / math.sqrt(4.0 * (j + 1) ** 2 - 1.0)
        b = j / math.sqrt(4.0 * j * j - 1.0) if j > 0 else 0.0
        return (t * current - b * previous) / b_next
    if family == HERMITE:
        return (t * current - math.sqrt(j) * previous) / math.sqrt(j + 1.0)
    if j == 0:
        return math.sqrt(2.0) * t
    if j == 1:
        return 2.0 * t * current - math.sqrt(2.0)
    return 2.0 * t * current - previous


@_kernel()
def _degree(t, j, family):
    """The orthonormal polynomial of degree j at t (no allocation)."""
    previous, current = 0.0, 1.0
    for k in range(j):
        previous, current = current, _step(t, k, current, previous, family)
    return current


@_kernel()
def _cdf_density(x, j, family, coef):
    """(F(x), f(x)) for the density f = phi_j^2 dmu of the family, in its own variable.

    Legendre: x in [-1, 1], F the polynomial of degree 2j + 1 whose
    Chebyshev coefficients are in ``coef``, by Clenshaw's recurrence. Hermite: F(x) = Phi(x) -
    phi(x) sum_k h_(k-1)(x) h_k(x) / sqrt(k), from
    d/dx [h_(k-1) h_k phi] = sqrt(k) (h_(k-1)^2 - h_k^2) phi. Chebyshev: the
    variable is theta (x = cos theta), with density (1 + cos 2j theta) / pi.
    """
    if family == LEGENDRE:
        following, current = 0.0, 0.0
        for k in range(coef.shape[0] - 1, 0, -1):
            following, current = current, 2.0 * x * current - following + coef[k]
        density = _degree(x, j, family)
        return x * current - following + coef[0], 0.5 * density * density
    if family == HERMITE:
        gauss = math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        previous, current, total = 0.0, 1.0, 0.0
        for k in range(j):
            previous, current = current, _step(x, k, current, previous, family)
            total += previous * current / math.sqrt(k + 1.0)
        cdf = 0.5 * math.erfc(-x / math.sqrt(2.0)) - gauss * total
        return cdf, current * current * gauss
    if j == 0:
        return x / math.pi, 1.0 / math.pi
    return (x + math.sin(2.0 * j * x) / (2.0 * j)) / math.pi, (
        1.0 + math.cos(2.0 * j * x)
    ) / math.pi


@_kernel()
def invert_cdf(u, j, family, lo, hi, coef):
    """x with F(x) = u for each u: Newton's method inside a bisection bracket.

    A table of F on 8 (j + 1) + 8 equispaced points (the density has j + 1
    bumps at most) gives each u a bracket where F is nearly linear; a
    Newton step that leaves the bracket (or meets a zero density) is
    replaced by bisection, so the bracket shrinks at every step. Stops when
    F(x) is within 1e-14 of u or the bracket is below 1e-15 relative.
    """
    size = 8 * (j + 1) + 9
    grid = np.linspace(lo, hi, size)
    table = np.empty(size)
    for g in range(size):
        table[g], _ = _cdf_density(grid[g], j, family, coef)
    out = np.empty(u.shape[0])
    for i in range(u.shape[0]):
        g = min(max(np.searchsorted(table, u[i]) - 1, 0), size - 2)
        a, b = grid[g], grid[g + 1]
        width = table[g + 1] - table[g]
        x = a + (b - a) * ((u[i] - table[g]) / width if width > 0 else 0.5)
        for _ in range(200):
            F, f = _cdf_density(x, j, family, coef)
            error = F - u[i]
            if abs(error) <= 1e-14:
                break
            if error > 0:
                b = x
            else:
                a = x
            step = x - error / f if f > 0 else 0.5 * (a + b)
            x = step if a < step < b else 0.5 * (a + b)
            if b - a <= 1e-15 * max(1.0, abs(x)):
                break
        out[i] = x
    return out
