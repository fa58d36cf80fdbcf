"""Numba kernels for the sequential samplers. Private: only randla's modules call them.

Randomness comes in as arrays of uniforms drawn by the caller's
numpy Generator, so a seed fixes the result.
"""

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _logaddexp(a, b):
    if a == -np.inf:
        return b
    if b == -np.inf:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True, fastmath=True)
def _dot_conj(a, b, length):
    """sum(conj(a) * b) over the first `length` entries."""
    s = a[0] * 0
    for m in range(length):
        s += np.conj(a[m]) * b[m]
    return s


@njit(cache=True)
def projection_dpp_chain(V, cdf, u, basis, chosen, taken, count):
    """Continue the chain rule of a projection DPP with kernel V V^H by rejection.

    Step k draws i with probability ||P^perp v_i||^2 / (r - k + 1), P^perp
    the projection onto the complement of the rows already chosen: propose
    i with probability ||v_i||^2 / r (cdf holds the cumulative row norms)
    and accept with probability ||P^perp v_i||^2 / ||v_i||^2. The expected
    number of proposals is r (1 + 1/2 + ... + 1/r), each costing O(k r).

    basis holds, in its first `count` rows, an orthonormal basis of the
    chosen rows (Gram-Schmidt, twice, on acceptance). Consumes two uniforms
    per proposal and returns (count, uniforms used); the caller supplies
    more uniforms until count == r.
    """
    n_items, r = V.shape
    total = cdf[n_items - 1]
    used = 0
    while count < r and used + 2 <= u.shape[0]:
        target = u[used] * total
        accept = u[used + 1]
        used += 2
        i = min(np.searchsorted(cdf, target, side="right"), n_items - 1)
        if taken[i]:
            continue  # its residual is zero up to rounding
        v = V[i]
        norm2 = 0.0
        for m in range(r):
            norm2 += (v[m] * np.conj(v[m])).real
        if norm2 == 0.0:
            continue
        # ||P^perp v||^2 = ||v||^2 - sum |<e_l, v>|^2, fresh from the
        # orthonormal basis: no running update that rounding can drive negative.
        proj2 = 0.0
        for j in range(count):
            c = _dot_conj(basis[j], v, r)
            proj2 += (c * np.conj(c)).real
        if accept * norm2 >= norm2 - proj2:
            continue
        w = v.copy()
        for _ in range(2):  # Gram-Schmidt with one reorthogonalisation
            for j in range(count):
                c = _dot_conj(basis[j], w, r)
                for m in range(r):
                    w[m] -= c * basis[j, m]
        scale = 0.0
        for m in range(r):
            scale += (w[m] * np.conj(w[m])).real
        scale = math.sqrt(scale)
        for m in range(r):
            basis[count, m] = w[m] / scale
        chosen[count] = i
        taken[i] = True
        count += 1
    return count, used
