"""Shared test problems: matrices with known structure and answers."""

import numpy as np


def orthonormal(n, d, rng):
    """An n x d matrix with orthonormal columns (Haar-distributed)."""
    Q, R = np.linalg.qr(rng.standard_normal((n, d)))
    return Q * np.sign(np.diag(R))


def ill_conditioned(n, d, cond, rng):
    """An n x d matrix with singular values spaced geometrically from 1 to 1/cond."""
    U = orthonormal(n, d, rng)
    V = orthonormal(d, d, rng)
    return (U * np.geomspace(1, 1 / cond, d)) @ V.T


def sparse_random(n, d, density, rng, fmt="csr"):
    """A random sparse n x d matrix with Gaussian nonzeros."""
    import scipy.sparse as sp

    return sp.random_array(
        (n, d), density=density, format=fmt, rng=rng, data_sampler=rng.standard_normal
    )
