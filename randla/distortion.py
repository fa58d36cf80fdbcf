r"""How good is a sample: the exact :math:`\ell_2` subspace distortion."""

import numpy as np

from ._validation import as_matrix, check_rng
from .leverage import _basis_rows

__all__ = ["subspace_distortion"]


def subspace_distortion(A, sample, *, rng=None):
    r"""The exact :math:`\ell_2` distortion of a row sample of ``A``.

    .. math::

        \max_j |\lambda_j(Q^\top S^\top S Q) - 1|
        = \sup_{x \ne 0} \left| \frac{\|SAx\|_2^2}{\|Ax\|_2^2} - 1 \right|,

    with :math:`Q` an orthonormal basis of the column space of ``A`` and
    :math:`S` the sampling-and-rescaling matrix of ``sample``: the sample is
    an :math:`\varepsilon`-subspace embedding (in squared norm) exactly when
    this is at most :math:`\varepsilon`.

    Parameters
    ----------
    A : array_like or scipy.sparse matrix, shape (n, d)
    sample : RowSample
        A sample of the rows of ``A`` (``sample.n == n``), for ``p = 2``.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness for the sketch that preconditions the basis
        (SPEC 7); the result does not depend on it beyond rounding.

    Returns
    -------
    float

    Notes
    -----
    Only the sampled rows of :math:`Q` are formed, as
    :math:`A_{I,:}R^{-1}` with :math:`R` from the exact path of
    :func:`randla.leverage_scores`: never an ``n x n`` matrix, nor an
    ``n x d`` one beyond that path's own. Cost: that factorisation plus
    :math:`O(m d^2)` for ``m`` sampled rows.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((20_000, 5))
    >>> s = randla.leverage_sample(A, 2_000, rng=0)
    >>> bool(randla.subspace_distortion(A, s) < 0.2)
    True
    """
    A = as_matrix(A, "A", accept_sparse=True)
    if not all(hasattr(sample, f) for f in ("indices", "weights", "n", "p")):
        raise TypeError(f"sample must be a RowSample, got {type(sample).__name__}")
    if sample.n != A.shape[0]:
        raise ValueError(f"sample is of a matrix with {sample.n} rows; A has {A.shape[0]}")
    if sample.p != 2:
        raise ValueError(
            f"sample must be scaled for p = 2 (the l2 distortion), got p = {sample.p:g}"
        )
    SQ = _basis_rows(A, sample.indices, None, check_rng(rng)) * sample.weights[:, None]
    if SQ.shape[1] == 0:
        return 0.0
    eigenvalues = np.linalg.eigvalsh(SQ.T @ SQ)
    return float(np.max(np.abs(eigenvalues - 1)))
