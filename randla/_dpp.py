"""The finite DPP samplers behind ``randla.dpp``, and the pieces volume sampling and
the weighted least-squares samplers share with them."""

import functools
import math

import numpy as np
import scipy.linalg

from . import _kernels
from ._validation import as_array, check_finite, check_int, check_rng

__all__ = ["sample_projection_dpp", "sample_dpp", "sample_kdpp"]


def _as_kernel_matrix(M, name, square, checked=True):
    """A 2-D float64 or complex128 array (square when asked), and checked.

    Checked: finite, and Hermitian when square. ``checked=False`` leaves the
    values to the caller, which reads them in a pass of its own.
    """
    M = as_array(M, name)
    if M.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be real or complex numbers, got dtype {M.dtype}")
    if M.ndim != 2 or M.shape[0] == 0 or M.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {M.shape}")
    M = M.astype(np.complex128 if M.dtype.kind == "c" else np.float64, copy=False)
    if square and M.shape[0] != M.shape[1]:
        raise ValueError(f"{name} must be square, got shape {M.shape}")
    if not checked:
        return M
    check_finite(M, name)
    if square:
        asymmetry = np.max(np.abs(M - M.conj().T))
        if asymmetry > 1e-10 * max(np.max(np.abs(M)), 1e-300):
            raise ValueError(
                f"{name} must be Hermitian (symmetric if real): max |{name} - {name}^H| = "
                f"{asymmetry:.3g}"
            )
    return M


@functools.lru_cache(maxsize=8)
def _probes(n):
    """Two fixed Gaussian vectors of length n, from a seed of their own.

    Checks that use them never touch the caller's rng, so checking does not
    change the sample; drawn once per length (a Generator costs more than a
    check of a small V).
    """
    x = np.random.default_rng(0).standard_normal((2, n))
    x.flags.writeable = False
    return x[0], x[1]


def _check_orthonormal(V, name, advice=""):
    """Refuse V unless finite with V^H V = I; return its squared row norms.

    V^H V = I is probed with two random vectors in one pass over the rows
    of V, which also gives the row norms and finds a NaN or inf: O(N r),
    not O(N r^2). ``advice`` ends the message (what the caller can do
    instead).
    """
    V = np.ascontiguousarray(V)
    x0, x1 = _probes(V.shape[1])
    norms, z0, z1 = _kernels.gram_probe(V, x0, x1)
    if not np.isfinite(norms.sum()):
        check_finite(V, name)  # names the first NaN or inf; else V overflows, refused below
    error = math.sqrt(
        (np.linalg.norm(z0 - x0) ** 2 + np.linalg.norm(z1 - x1) ** 2)
        / (np.linalg.norm(x0) ** 2 + np.linalg.norm(x1) ** 2)
    )
    if not error < 1e-8 * math.sqrt(V.shape[1]):
        raise ValueError(
            f"{name} must have orthonormal columns: |{name}^H {name} x - x| / |x| = {error:.3g} "
            f"for a random x{advice}"
        )
    return norms


def projection_sample(V, rng, norms=None):
    """The projection DPP of an orthonormal V (N x r): r indices, sorted.

    ``norms``: the squared row norms of V, when the caller has them.
    """
    n_items, r = V.shape
    if r == 0:
        return np.empty(0, dtype=np.int64)
    V = np.ascontiguousarray(V)
    if norms is None:
        norms = np.einsum("ij,ij->i", V.conj(), V).real
    cdf = np.cumsum(norms)
    basis = np.eye(r, dtype=V.dtype)  # the complement of the rows chosen so far
    chosen = np.empty(r, dtype=np.int64)
    taken = np.zeros(n_items, dtype=np.bool_)
    count = 0
    # r (1 + 1/2 + ... + 1/r) proposals are expected, two uniforms each.
    batch = 2 * int(r * (math.log(r) + 1.6) + 32)
    while count < r:
        count, _ = _kernels.projection_dpp_chain(
            V, cdf, rng.random(batch), basis, chosen, taken, count
        )
    return np.sort(chosen)


def sample_projection_dpp(V, *, orthonormalize=False, rng=None):
    r"""Sample the projection DPP with kernel :math:`K = VV^*`: exactly ``r`` items.

    .. math::

        P(Y = S) = |\det V_{S,:}|^2, \qquad |S| = r,

    for :math:`V \in \mathbb{C}^{N \times r}` with orthonormal columns.

    Parameters
    ----------
    V : array_like, shape (N, r)
        Real or complex, with orthonormal columns (checked in
        :math:`O(Nr)` with random probes).
    orthonormalize : bool, optional
        Replace a full-column-rank ``V`` by the Q factor of its QR
        decomposition (the same column space, hence the same DPP) instead
        of refusing it.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    ndarray of int64, shape (r,)
        The items, sorted.

    Notes
    -----
    The chain rule (Hough et al., 2006): having chosen :math:`k-1` items,
    item :math:`i` comes next with probability
    :math:`\|P^\perp v_i\|^2/(r-k+1)`, :math:`P^\perp` the projection onto
    the orthogonal complement of the chosen rows. Each step proposes
    :math:`i` with probability :math:`\|v_i\|^2/r` (the marginal
    :math:`K_{ii}/r`) and accepts it with probability
    :math:`\|P^\perp v_i\|^2/\|v_i\|^2 \le 1`, computed as
    :math:`\sum_j |\langle w_j, v_i\rangle|^2` over an orthonormal basis
    :math:`w_1, \dots, w_{r-k+1}` of the complement (which loses one
    direction, by a Householder reflection, with each item chosen), never
    as a difference that rounding could cancel or drive negative. Step
    :math:`k` takes :math:`r/(r-k+1)` proposals on average, each
    :math:`O(r(r-k+1))`, as is the update: :math:`O(Nr)` for the row norms
    and the check of ``V``, plus :math:`O(r^3)` in all, against
    :math:`O(Nr^2)` for the Gram-Schmidt update of all :math:`N` residuals
    (DPPy's ``"GS"``); memory :math:`O(r^2)` besides ``V``.

    References
    ----------
    Hough, J. B., Krishnapur, M., Peres, Y. & Virag, B. (2006).
    Determinantal processes and independence. Probability Surveys 3.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> V = np.linalg.qr(np.random.default_rng(0).standard_normal((1000, 5)))[0]
    >>> S = randla.dpp.sample_projection_dpp(V, rng=0)
    >>> len(S), len(set(S.tolist()))
    (5, 5)
    """
    rng = check_rng(rng)
    V = np.ascontiguousarray(_as_kernel_matrix(V, "V", square=False, checked=orthonormalize))
    if V.shape[1] > V.shape[0]:
        raise ValueError(f"V must have at most as many columns as rows, got shape {V.shape}")
    if orthonormalize:
        Q, R = scipy.linalg.qr(V, mode="economic", check_finite=False)
        diagonal = np.abs(np.diag(R))
        if diagonal.min() <= V.shape[0] * np.finfo(float).eps * diagonal.max():
            raise ValueError("V must have full column rank to be orthonormalised")
        return projection_sample(Q, rng)
    norms = _check_orthonormal(
        V, "V", " (pass orthonormalize=True to orthonormalise a full-column-rank V)"
    )
    return projection_sample(V, rng, norms)


def _check_one_given(L, K, eig, factor):
    given = [
        name for name, v in (("L", L), ("K", K), ("eig", eig), ("factor", factor)) if v is not None
    ]
    if len(given) != 1:
        raise ValueError(f"give exactly one of L, K, eig, factor; got {given or 'none'}")


# How far from a projection K may be and still be sampled as one: the
# rounding tolerance that _checked_spectrum allows K's eigenvalues beyond
# [0, 1]. Rounding leaves K = V V^* 1e-13 to 1e-12 away at N = 10^4, r = 10^3.
_PROJECTION_TOL = 1e-10


def _projection_factor(K, required):
    r"""F (N x r) with orthonormal columns and K = F F^*, if K is a projection; else None.

    A K that is not a projection gives None, or with ``required`` a
    ValueError naming it (after the general checks, so that a NaN or an
    asymmetry is reported as such). See :func:`sample_dpp` for the test.
    """
    K = _as_kernel_matrix(K, "K", square=True, checked=False)
    tol = _PROJECTION_TOL
    trace = float(np.trace(K).real)
    r = round(trace) if math.isfinite(trace) else -1
    defect = abs(trace - r) if 0 <= r <= len(K) else math.inf
    if defect <= tol:
        R, residual, steps = _kernels.pivoted_cholesky(K, r, tol)
        defect = math.inf
        if steps == r:
            F = R.T
            gram = np.linalg.norm(R.conj() @ F - np.eye(r))
            x0, x1 = _probes(len(K))
            y0, y1 = _kernels.matrix_probe(K, x0, x1)
            probe = math.sqrt(
                (
                    np.linalg.norm(y0 - F @ (R.conj() @ x0)) ** 2
                    + np.linalg.norm(y1 - F @ (R.conj() @ x1)) ** 2
                )
                / (np.linalg.norm(x0) ** 2 + np.linalg.norm(x1) ** 2)
            )
            defect = np.max([gram, abs(residual.sum()), probe])  # NaN stays NaN
            if defect <= tol:
                return np.ascontiguousarray(F)
    if required:
        _as_kernel_matrix(K, "K", square=True)
        raise ValueError(
            f"K must be an orthogonal projection with projection=True (K = F F^* with "
            f"F^* F = I, to {tol:g}); the test failed by {defect:.3g}"
        )
    return None


def eigen_of(L=None, K=None, eig=None, factor=None):
    """(eigenvalues, eigenvectors, which) from exactly one of the four descriptions.

    The eigenvalues are those of L, except for which == "K"; they come sorted
    in increasing order, each eigenspace with the basis of
    :func:`_canonical_eigenbasis`, so that what is returned depends on the
    kernel only, not on the eigensolver's choice of eigenvectors.
    """
    _check_one_given(L, K, eig, factor)
    owned = True
    if L is not None or K is not None:
        name = "L" if L is not None else "K"
        M = _as_kernel_matrix(L if L is not None else K, name, square=True)
        values, vectors = scipy.linalg.eigh(M, check_finite=False)
        computed = values
    elif factor is not None:
        # L = B B^H: the left singular vectors of B are its eigenvectors; the
        # SVD of the N x m factor avoids both N x N and the squared B^H B.
        B = _as_kernel_matrix(factor, "factor", square=False)
        vectors, computed, _ = scipy.linalg.svd(B, full_matrices=False, check_finite=False)
        # Increasing, as from eigh: views, so sorting copies nothing.
        vectors, computed = vectors[:, ::-1], computed[::-1]
        values, name = computed**2, "factor"
    else:
        if not isinstance(eig, tuple | list) or len(eig) != 2:
            raise TypeError("eig must be a pair (eigenvalues, eigenvectors)")
        values = as_array(eig[0], "eig[0]")
        if values.dtype.kind not in "biuf" or values.ndim != 1:
            raise ValueError("eig[0] must be a 1-D array of real eigenvalues")
        values = values.astype(np.float64)
        check_finite(values, "eig[0]")
        vectors = _as_kernel_matrix(eig[1], "eig[1]", square=False)
        if vectors.shape[1] != len(values):
            raise ValueError(
                f"eig[1] must have one column per eigenvalue ({len(values)}), got shape "
                f"{vectors.shape}"
            )
        # Checked before the basis is replaced by an orthonormal one.
        _check_orthonormal(vectors, "eig[1]")
        computed, name, owned = values, "eig", False
    values, vectors = _canonical_eigenbasis(values, vectors, computed, owned)
    return values, vectors, name


# The probe of _canonical_basis: a fixed Gaussian matrix, drawn by rows in
# blocks of _PROBE_ROWS from a seed of its own (so it never touches the
# caller's rng and memory stays O(m^2 + _PROBE_ROWS m)).
_PROBE_SEED = 0x5EED
_PROBE_ROWS = 4096


def _canonical_eigenbasis(values, vectors, computed, owned):
    r"""Sort the eigenpairs and give every repeated eigenvalue a basis that depends on L only.

    An eigenvalue of multiplicity :math:`m > 1` has no preferred
    eigenvectors: any orthonormal basis of its eigenspace will do, and the
    eigensolver's choice changes with the BLAS thread count. The samplers
    keep or drop eigenvectors one by one, so the sample (though not its
    law) would depend on that choice. Here the eigenpairs are sorted by
    eigenvalue; eigenvalues whose computed values (``computed``: those of
    ``eigh``, or the singular values for a factor) are closer than the
    rounding level :math:`N\epsilon\max|\cdot|` (the floor of
    :func:`numerical_rank`; the spread of a computed multiple eigenvalue is
    about 1% of it) are grouped into one cluster (gaps larger than it
    separate clusters); each cluster's eigenvalues are replaced by their
    mean (a change of ``L`` by at most the cluster's spread, gaps of
    rounding size) and its eigenvectors by :func:`_canonical_basis`, a
    function of the eigenspace alone. A cluster at the rounding level of
    zero becomes exactly zero instead: its eigenvectors are never kept, so
    their basis does not matter (and for an ``N x N`` kernel of low rank it
    is most of the work).

    Why the law is unchanged: the mixture of Hough et al. (2006),
    :math:`K = \sum_j p_j v_j v_j^*` sampled by keeping :math:`v_j` with
    probability :math:`p_j` and then the projection DPP of the kept
    vectors, and its k-DPP analogue (Cauchy-Binet,
    :math:`\det L_S = \sum_{|J|=k} \prod_{j \in J} \lambda_j |\det V_{S,J}|^2`),
    hold for every orthonormal eigenbasis :math:`\{v_j\}` of ``L``; the
    canonical basis is one, chosen without the sampler's randomness. A
    single eigenvector keeps its sign or phase: the projection DPP depends
    only on the span of the kept vectors (:math:`VV^*`), and so does its
    chain rule, up to rounding.

    ``values`` is written in place, ``vectors`` too when ``owned`` (else
    it is copied first).
    Cost: :math:`O(Nm^2)` per cluster of size :math:`m`.
    """
    order = np.argsort(values, kind="stable")
    if np.any(order != np.arange(len(order))):
        values, vectors, computed = values[order], vectors[:, order], computed[order]
        owned = True
    tol = vectors.shape[0] * np.finfo(float).eps * np.max(np.abs(computed), initial=0.0)
    edges = [0, *(np.flatnonzero(np.diff(computed) > tol) + 1), len(values)]
    clusters = [(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b - a > 1]
    if clusters and not owned:
        vectors = vectors.copy()
    for a, b in clusters:
        if np.max(np.abs(computed[a:b])) <= tol:
            # Eigenvalues at the rounding level of zero: zero, so never kept,
            # and their basis (often most of an N x N kernel's) is not needed.
            values[a:b] = 0.0
            continue
        values[a:b] = values[a:b].mean()
        _canonical_basis(vectors[:, a:b])
    return values, vectors


def _canonical_basis(U):
    r"""In place: replace the orthonormal U (N x m) by a basis that depends on UU^* only.

    With :math:`P = UU^*` and a fixed Gaussian probe :math:`G` (N x m), the
    new basis is the Q factor of :math:`PG = QR` with :math:`R` upper
    triangular of positive diagonal, unique when :math:`PG` has full rank.
    It is computed as :math:`Q = UQ_C` from :math:`C = U^*G = Q_C R`:
    for another orthonormal basis :math:`UW` of the same space
    (:math:`W` unitary), :math:`W^*C = (W^*Q_C)R` gives
    :math:`UW \cdot W^*Q_C = UQ_C`, the same Q. No pivots or other discrete
    choices are made, so rounding moves Q by about
    :math:`\epsilon\,\mathrm{cond}(C)` only; :math:`C` is distributed as an
    m x m Gaussian matrix whatever U is (condition number about m). Q is
    orthonormal whatever C is. Cost :math:`4Nm^2 + O(m^3)`, in row blocks.
    """
    n_items, m = U.shape
    probe = np.random.default_rng(_PROBE_SEED)
    C = np.zeros((m, m), dtype=U.dtype)
    for start in range(0, n_items, _PROBE_ROWS):
        rows = U[start : start + _PROBE_ROWS]
        G = probe.standard_normal(rows.shape)
        if U.dtype.kind == "c":
            G = G + 1j * probe.standard_normal(rows.shape)
        C += rows.conj().T @ G
    Q_C, R = scipy.linalg.qr(C, check_finite=False)
    # Q_C D, D^* R with D = diag(R_jj / |R_jj|): R's diagonal becomes positive
    # (a column with R_jj = 0, C exactly singular, is left as it is).
    diagonal = np.diag(R)
    nonzero = diagonal != 0
    Q_C[:, nonzero] *= diagonal[nonzero] / np.abs(diagonal[nonzero])
    for start in range(0, n_items, _PROBE_ROWS):
        U[start : start + _PROBE_ROWS] = U[start : start + _PROBE_ROWS] @ Q_C


def _checked_spectrum(values, name):
    """Eigenvalues of an L-ensemble (>= 0) or of K (in [0, 1]), rounding clipped."""
    scale = max(float(np.max(np.abs(values))), 1.0) if len(values) else 1.0
    tol = 1e-10 * scale
    if name == "K":
        if values.min() < -tol or values.max() > 1 + tol:
            raise ValueError(
                f"K must have eigenvalues in [0, 1], got [{values.min():.6g}, {values.max():.6g}]"
            )
        return np.clip(values, 0.0, 1.0)
    if values.min() < -tol:
        label = {"L": "L", "factor": "L", "eig": "eig[0]"}[name]
        raise ValueError(
            f"{label} must be positive semidefinite, got eigenvalue {values.min():.6g}"
        )
    return np.maximum(values, 0.0)


def numerical_rank(values, name, n_items):
    """Eigenvalues above rounding: eps-relative for eigh, eps^2 for squared singular values."""
    eps, top = np.finfo(float).eps, values.max(initial=0.0)
    floor = (n_items * eps) ** 2 * top if name == "factor" else n_items * eps * top
    return int(np.sum(values > floor))


def sample_dpp(*, L=None, K=None, eig=None, factor=None, projection=None, rng=None):
    r"""Sample a finite DPP given by an L-ensemble, a marginal kernel, or their factors.

    .. math::

        P(Y = S) = \frac{\det L_S}{\det(I + L)}, \qquad
        P(S \subseteq Y) = \det K_S, \quad K = L(I+L)^{-1}.

    Give exactly one of ``L``, ``K``, ``eig`` and ``factor``.

    Parameters
    ----------
    L : array_like, shape (N, N), optional
        Hermitian positive semidefinite (real or complex).
    K : array_like, shape (N, N), optional
        Hermitian with eigenvalues in [0, 1].
    eig : (array_like, array_like), optional
        ``(eigenvalues, eigenvectors)`` of ``L``: eigenvalues (m,) >= 0 and
        orthonormal eigenvectors (N, m); eigenvalues not listed are 0.
    factor : array_like, shape (N, m), optional
        ``B`` with :math:`L = BB^*`; ``L`` is never formed.
    projection : bool, optional
        With ``K`` only (DPPy's spelling). ``None`` (the default): sample a
        ``K`` that is an orthogonal projection (:math:`K^2 = K`, found by
        the test in Notes) from a factor, without an eigendecomposition;
        ``True``: the same, but a ``K`` that fails the test raises
        ``ValueError``; ``False``: always eigendecompose ``K``.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    ndarray of int64
        The items, sorted; the size is random, with mean
        :math:`\operatorname{tr} K` (exactly :math:`\operatorname{rank} K`
        for a projection).

    Notes
    -----
    Hough et al. (2006): keep eigenvector :math:`j` independently with
    probability :math:`\lambda_j/(1+\lambda_j)` (:math:`\lambda_j` of
    ``L``; the eigenvalue itself for ``K``), then sample the projection DPP
    of the kept eigenvectors (:func:`sample_projection_dpp`). Cost: the
    eigendecomposition (:math:`O(N^3)` for ``L`` or ``K``, :math:`O(Nm^2)`
    by an SVD of the factor), then :math:`O(Nr + r^3)` for ``r``
    kept eigenvectors.

    A projection ``K`` keeps all its eigenvectors, so any orthonormal
    basis of its range will do, and a factor gives one without an
    eigendecomposition. With :math:`r` the integer nearest
    :math:`\operatorname{tr} K`, ``r`` steps of Cholesky with diagonal
    pivoting give :math:`F` (:math:`N \times r`, from ``r`` rows of
    ``K``), and ``K`` is sampled as a projection when
    :math:`|\operatorname{tr} K - r|`, :math:`\|F^*F - I\|_F`,
    :math:`|\operatorname{tr}(K - FF^*)|` and :math:`\|(K - FF^*)X\|_F /
    \|X\|_F` for two fixed Gaussian probes :math:`X` are at most
    :math:`\tau = 10^{-10}` (the rounding allowance of the eigenvalues of
    ``K`` on the general path). For a valid ``K`` (:math:`K \succeq 0`)
    the residual :math:`K - FF^*` is a Schur complement, positive
    semidefinite, so its norm is at most its trace: :math:`\|K -
    QQ^*\|_2 \le 2\tau` for an orthonormal basis :math:`Q` of the range of
    :math:`F`, every eigenvalue of ``K`` is within :math:`2\tau` of 0 or 1,
    and the law sampled, the projection DPP of :math:`F`, is within total
    variation of order :math:`r\tau` of :math:`\mathrm{DPP}(K)`. A ``K``
    with an eigenvalue farther than :math:`2\tau` from 0 and 1 always fails
    the test; the probes also fail an input that is not Hermitian, not
    positive semidefinite or not finite, which the general path then
    refuses by name. Cost: one pass over ``K`` (:math:`O(N^2)`, the probes)
    and :math:`O(Nr^2)` for the factor and its test, instead of
    :math:`O(N^3)`; a ``K`` whose trace is not an integer fails at
    :math:`O(N)`. The sample is the one :func:`sample_projection_dpp` draws
    from any orthonormal basis of the range of ``K`` with the same ``rng``
    (up to rounding).

    Repeated eigenvalues: their eigenvectors are not unique (an eigensolver
    returns a different basis of the eigenspace on another number of
    threads), and the eigenvectors kept depend on the basis, though the law
    does not. Eigenvalues equal up to rounding (closer than :math:`N\epsilon`
    times the largest; for ``factor``, singular values closer than
    :math:`N\epsilon` times the largest) are therefore treated as one
    eigenvalue, their mean, and its eigenspace is given a basis that depends
    on the eigenspace only. The sample is then a function of the kernel (up
    to rounding) and ``rng``: the same on any number of threads, for any
    eigenbasis and order of the pairs in ``eig``, and for the factors
    :math:`B` and :math:`BW` (:math:`W` unitary) of the same ``L``. This
    costs :math:`O(Nm^2)` for an eigenvalue of multiplicity :math:`m`.

    References
    ----------
    Hough, J. B., Krishnapur, M., Peres, Y. & Virag, B. (2006).
    Determinantal processes and independence. Probability Surveys 3.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> B = np.random.default_rng(0).standard_normal((500, 8))
    >>> S = randla.dpp.sample_dpp(factor=B, rng=0)
    >>> bool(len(S) <= 8)
    True
    >>> V = np.linalg.qr(B)[0]                 # K = V V^T: a projection of rank 8
    >>> S = randla.dpp.sample_dpp(K=V @ V.T, projection=True, rng=0)
    >>> len(S), bool(np.array_equal(S, randla.dpp.sample_projection_dpp(V, rng=0)))
    (8, True)
    """
    rng = check_rng(rng)
    _check_one_given(L, K, eig, factor)
    if projection is not None and not isinstance(projection, bool | np.bool_):
        raise TypeError(f"projection must be None, True or False, got {projection!r}")
    if projection is not None and K is None:
        raise ValueError("projection= applies to K only (an L-ensemble is never a projection DPP)")
    if K is not None and projection is not False:
        F = _projection_factor(K, required=projection)
        if F is not None:
            return projection_sample(F, rng)
    values, vectors, name = eigen_of(L, K, eig, factor)
    values = _checked_spectrum(values, name)
    keep = values if name == "K" else values / (1.0 + values)
    V = vectors[:, rng.random(len(values)) < keep]
    return projection_sample(V, rng)


def _log_eigenvalues(values):
    with np.errstate(divide="ignore"):
        return np.log(values)


def sample_kdpp(k, *, L=None, eig=None, factor=None, rng=None):
    r"""Sample a k-DPP: exactly ``k`` items, with :math:`P(Y = S) \propto \det L_S`.

    .. math::

        P(Y = S) = \frac{\det L_S}{e_k(\lambda_1, \dots, \lambda_N)}, \qquad |S| = k,

    :math:`e_k` the k-th elementary symmetric polynomial of the eigenvalues
    of ``L`` (Kulesza & Taskar, 2011). Give exactly one of ``L``, ``eig``
    and ``factor`` (as in :func:`sample_dpp`).

    Parameters
    ----------
    k : int
        ``1 <= k <=`` the rank of ``L``.
    L, eig, factor
        As in :func:`sample_dpp`.
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: a seed or a ``numpy.random.Generator``.

    Returns
    -------
    ndarray of int64, shape (k,)
        The items, sorted.

    Notes
    -----
    ``k`` eigenvectors are chosen with :math:`P(J) \propto \prod_{j\in J}
    \lambda_j` (backwards, eigenvector :math:`n` joining with probability
    :math:`\lambda_n e_{l-1}^{n-1}/e_l^n` while ``l`` are missing), then
    their projection DPP is sampled. The polynomials
    :math:`e_l^n = e_l(\lambda_1..\lambda_n)` come from
    :math:`e_l^n = e_l^{n-1} + \lambda_n e_{l-1}^{n-1}` in the log domain,
    so no spread of eigenvalues overflows or underflows them (products of
    ``k`` eigenvalues of a 10^4-item kernel easily leave float64's range).
    Cost: the eigendecomposition, then :math:`O(Nk)` time and memory.
    Repeated eigenvalues are handled as in :func:`sample_dpp`, so that the
    sample depends on ``L`` and ``rng`` only.

    References
    ----------
    Kulesza, A. & Taskar, B. (2011). k-DPPs: fixed-size determinantal point
    processes. ICML.

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> B = np.random.default_rng(0).standard_normal((500, 8))
    >>> randla.dpp.sample_kdpp(3, factor=B, rng=0).shape
    (3,)
    """
    k = check_int(k, "k")
    rng = check_rng(rng)
    values, vectors, name = eigen_of(L, None, eig, factor)
    values = _checked_spectrum(values, name)
    rank = numerical_rank(values, name, max(vectors.shape))
    if k > rank:
        raise ValueError(f"k must be <= the rank of L ({rank}), got {k}")
    J = kdpp_eigenvectors(values, k, rng)
    return projection_sample(vectors[:, J], rng)


def kdpp_eigenvectors(values, k, rng):
    """k eigenvector indices with P(J) proportional to prod(values[J])."""
    log_lam = _log_eigenvalues(values)
    table = _kernels.log_elementary_symmetric(log_lam, k)
    return _kernels.select_kdpp_eigenvectors(log_lam, table, k, rng.random(len(values)))


def kdpp_eigen_inclusion(values, k):
    """P(eigenvector n is among a k-DPP's k): lam_n e_(k-1)(lam without n) / e_k(lam)."""
    log_lam = _log_eigenvalues(np.asarray(values, dtype=np.float64))
    prefix = _kernels.log_elementary_symmetric(log_lam, k)
    suffix = _kernels.log_elementary_symmetric(log_lam[::-1].copy(), k)
    m = len(log_lam)
    out = np.empty(m)
    for n in range(m):
        # e_{k-1}(lam without n) = sum_a e_a(lam_<n) e_{k-1-a}(lam_>n)
        terms = prefix[:k, n] + suffix[k - 1 :: -1, m - 1 - n]
        out[n] = math.exp(log_lam[n] + np.logaddexp.reduce(terms) - prefix[k, m])
    return out
