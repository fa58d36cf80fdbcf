r"""Sketching operators: Gaussian, SRHT, CountSketch and sparse sign.

A *distribution* (:class:`SketchDistribution`: kind, sketch size ``k``,
parameters) is kept apart from a *drawn operator* (:class:`SketchOperator`):
the operator carries the seed it was drawn with, so it can be applied again
to another matrix with identical results, materialises only on request
(:meth:`SketchOperator.toarray`), and never holds the dense ``k x n`` matrix.

Every operator is scaled so that :math:`\mathbb{E}[S^\top S] = I_n`.

Any block of columns of ``S`` can be regenerated on its own. The dense kinds
(Gaussian, SRHT) generate their random entries block by block of ``2**16``
columns, each block from its own stream keyed by (seed, block index). The
sparse kinds (CountSketch, sparse sign) compute the row and sign of each
nonzero from a hash of its position keyed by the seed: a polynomial of
degree 3 over the prime :math:`2^{61}-1`, whose values at any 4 positions
are independent (:class:`SketchDistribution`'s Notes say why that
suffices). So an operator costs O(1) memory until it is applied, and
applying it to a stack of row blocks of ``A`` gives the same result as
applying it to ``A``.
"""

import dataclasses
import math
import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import scipy.sparse as sp

from . import _csketch
from ._blocks import is_dask, is_memmap, map_rows
from ._validation import (
    as_array,
    as_matrix,
    check_finite_result,
    check_int,
    check_number,
    check_option,
    check_param,
    check_rng,
)

__all__ = ["SketchDistribution", "SketchOperator", "sketch", "sketch_size"]

KINDS = ("countsketch", "sparse_sign", "srht", "gaussian")

# Columns of S generated per random stream (see the module docstring).
_BLOCK = 1 << 16
# Sparse sketches of tall matrices run in _PARTS row ranges on threads when
# the partial outputs are small beside the work; see _scatter_in_parts.
_PARTS = 4
_MIN_PART_ROWS = 1 << 14
# Upper bound on the padded column buffers of the SRHT, in bytes (together).
_SRHT_BUFFER_BYTES = 256 << 20
_DEFAULT_NNZ = 8
# The prime of the sparse kinds' hash (csrc/hash.h).
_P61 = 2**61 - 1


def _stream(seed, *key):
    """An independent generator for one (seed, key) pair."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


@dataclasses.dataclass(frozen=True)
class SketchDistribution:
    r"""A distribution of ``k x n`` sketching matrices :math:`S`.

    Parameters
    ----------
    kind : {"countsketch", "sparse_sign", "srht", "gaussian"}
        ``"countsketch"``: one nonzero :math:`\pm 1` per column at a uniform
        row (Clarkson & Woodruff, 2013). ``"sparse_sign"``: ``nnz`` nonzeros
        :math:`\pm 1/\sqrt{s}` per column, one in each of ``s = nnz``
        contiguous blocks of rows (the block construction of Kane & Nelson,
        2014; an OSNAP of Nelson & Nguyen, 2013). ``"srht"``: subsampled
        randomized Hadamard transform :math:`\sqrt{n'/k}\,P H D` with
        :math:`D` random signs, :math:`H` the orthogonal Walsh-Hadamard
        matrix of order :math:`n' = 2^{\lceil \log_2 n \rceil}` (``A`` padded
        with zero rows) and :math:`P` ``k`` rows drawn uniformly without
        replacement (Ailon & Chazelle, 2009; Tropp, 2011). ``"gaussian"``:
        i.i.d. :math:`N(0, 1/k)` entries.
    k : int
        Number of rows of :math:`S` (the sketch size).
    nnz : int, optional
        Nonzeros per column for ``"sparse_sign"`` (default 8, at most ``k``).
        Fixed to 1 for ``"countsketch"``; must be None for the dense kinds.

    Notes
    -----
    **Scaling.** All kinds satisfy :math:`\mathbb{E}[S^\top S] = I_n`, so
    :math:`\mathbb{E}\|Sx\|_2^2 = \|x\|_2^2`.

    **Subspace embedding.** For :math:`Q` with ``d`` orthonormal columns, the
    sizes below make every singular value of :math:`SQ` lie in
    :math:`[1-\varepsilon, 1+\varepsilon]` with probability at least
    :math:`1-\delta` (:func:`sketch_size` evaluates them; :math:`0<\varepsilon<1`):

    * Gaussian: :math:`k \ge ((\sqrt d + \sqrt{2\ln(2/\delta)})/\varepsilon)^2`,
      from :math:`\sqrt k - \sqrt d - t \le \sigma(G) \le \sqrt k + \sqrt d + t`
      except with probability :math:`2e^{-t^2/2}` (Davidson & Szarek, 2001;
      Vershynin, 2012, Cor. 5.35).
    * CountSketch and sparse sign: :math:`k \ge (d^2+d)/(\varepsilon^2\delta)`
      (``k`` a multiple of ``nnz``). The proof is Chebyshev's inequality on
      :math:`\mathbb{E}\|Q^\top S^\top S Q - I\|_F^2 = c\,(d^2 + d -
      2\sum_i \|q_i\|^4)` with :math:`c = s^{-2}\sum_t 1/b_t` (``b_t`` the
      block sizes; :math:`c = 1/k` when ``s`` divides ``k``), an identity for
      both constructions (Clarkson & Woodruff, 2013; Nelson & Nguyen, 2013;
      Meng & Mahoney, 2013). It bounds the eigenvalues of
      :math:`Q^\top S^\top S Q` by :math:`1 \pm \varepsilon`, hence the
      singular values. Much smaller sizes work in practice: sparse sign with
      ``nnz = 8`` and ``k`` a small multiple of ``d`` (Martinsson & Tropp,
      2020, Sec. 9). The identity holds for the hash that places the
      nonzeros (below).
    * SRHT: :math:`k \ge 3L\ln(2d/\delta)/\varepsilon^2` with
      :math:`L = (\sqrt d + \sqrt{8\ln(2n'/\delta)})^2`. The rows of
      :math:`HDQ` have squared norm at most :math:`L/n'` except with
      probability :math:`\delta/2` (Tropp, 2011, Lemma 3.3), then the matrix
      Chernoff bound for sampling without replacement (Tropp, 2011,
      Thm. 2.2) fails with probability at most
      :math:`2d\,e^{-\varepsilon^2 k/(3L)} \le \delta/2`.

    **The hash of the sparse kinds.** Nonzero :math:`t` of column :math:`j`
    (:math:`0 \le t < s`) has the key :math:`x = js + t` and the value
    :math:`h(x) = (c_0 + c_1 x + c_2 x^2 + c_3 x^3) \bmod p`, :math:`p =
    2^{61} - 1`, with :math:`c_0, \dots, c_3` drawn once per operator from
    its seed (SplitMix64; Steele, Lea & Flood, 2014). Its row is
    :math:`\lfloor h b / 2^{61} \rfloor` into block :math:`t` (of ``b``
    rows), its sign :math:`-1` when :math:`h` is odd. For uniform
    coefficients, the values at any 4 distinct keys are independent and
    uniform on :math:`\{0, \dots, p-1\}` (a polynomial of degree 3 is
    fixed by its values at 4 points: Carter & Wegman, 1979; Wegman &
    Carter, 1981), so the (row, sign) pairs of any 4 nonzeros are
    independent; each row has probability :math:`1/b` within a relative
    :math:`2b/p`, each sign is :math:`+1` with probability :math:`1/2 +
    1/(2p)`. That suffices: expanding :math:`\|Q^\top S^\top S Q -
    I\|_F^2` over pairs of nonzeros, each term of its expectation involves
    at most 4 nonzeros, through the probability that 2 nonzeros of one
    block share a row (pairwise independent uniform rows) and a product of
    up to 4 signs, zero unless the signs pair up (4-wise independent signs,
    independent of the rows), which leaves the identity above. This is
    the independence the proofs of Clarkson & Woodruff (2013), Meng &
    Mahoney (2013) and Nelson & Nguyen (2013) assume, 2-wise for rows and
    4-wise for signs; signs only pairwise independent would not do (those
    of a degree-1 polynomial fail the 4-wise moments). The deviations of
    the values from exactly uniform change the expectation by less than
    :math:`((nd)^2 + 8kd^2)/p^2`, under :math:`10^{-12} d^2` for ``n`` and
    ``k`` below :math:`2^{40}`. Cost: on a run of consecutive columns (the
    rows of ``A`` as the kernels meet them), three additions modulo
    :math:`p` per nonzero (forward differences of the cubic) and one
    product for its row; a column on its own, three products modulo
    :math:`p`.

    **Cost of S @ A** for ``A`` of shape ``(n, d)``: CountSketch and sparse
    sign O(nnz · nnz(A)) (a scatter-add in C, dense, CSR or CSC; besides the
    k x d result, O(1) memory); SRHT
    O(n' d log n') with a C fast Walsh-Hadamard transform on padded column
    blocks of A (at most 256 MB of buffers, or 8 columns); Gaussian O(k n d) (BLAS), with
    ``S`` generated in blocks of ``2**16`` columns.

    References
    ----------
    Ailon, N. & Chazelle, B. (2009). The fast Johnson-Lindenstrauss transform
    and approximate nearest neighbors. SIAM J. Comput. 39(1).
    Carter, J. L. & Wegman, M. N. (1979). Universal classes of hash
    functions. J. Comput. Syst. Sci. 18(2).
    Clarkson, K. & Woodruff, D. (2013). Low rank approximation and regression
    in input sparsity time. STOC.
    Davidson, K. & Szarek, S. (2001). Local operator theory, random matrices
    and Banach spaces. Handbook of the Geometry of Banach Spaces, vol. 1.
    Kane, D. & Nelson, J. (2014). Sparser Johnson-Lindenstrauss transforms.
    J. ACM 61(1).
    Martinsson, P.-G. & Tropp, J. (2020). Randomized numerical linear algebra:
    foundations and algorithms. Acta Numerica 29.
    Meng, X. & Mahoney, M. (2013). Low-distortion subspace embeddings in
    input-sparsity time and applications to robust linear regression. STOC.
    Nelson, J. & Nguyen, H. (2013). OSNAP: faster numerical linear algebra
    algorithms via sparser subspace embeddings. FOCS.
    Steele, G., Lea, D. & Flood, C. (2014). Fast splittable pseudorandom
    number generators. OOPSLA.
    Tropp, J. (2011). Improved analysis of the subsampled randomized Hadamard
    transform. Adv. Adapt. Data Anal. 3(1-2).
    Vershynin, R. (2012). Introduction to the non-asymptotic analysis of
    random matrices. In Compressed Sensing, Cambridge University Press.
    Wegman, M. N. & Carter, J. L. (1981). New hash functions and their use
    in authentication and set equality. J. Comput. Syst. Sci. 22(3).

    Examples
    --------
    >>> import numpy as np
    >>> from randla import SketchDistribution
    >>> dist = SketchDistribution("sparse_sign", k=40)
    >>> S = dist.draw(1000, rng=0)
    >>> S.shape
    (40, 1000)
    >>> A = np.random.default_rng(1).standard_normal((1000, 5))
    >>> np.allclose(S @ A, S.toarray() @ A)
    True
    """

    kind: str
    k: int
    nnz: int | None = None

    def __post_init__(self):
        check_option(self.kind, "kind", KINDS)
        k = check_param(self.k, "k")
        object.__setattr__(self, "k", k)
        nnz = self.nnz
        if self.kind == "sparse_sign":
            nnz = _DEFAULT_NNZ if nnz is None else check_param(nnz, "nnz")
            # Default nnz shrinks to k for tiny sketches; an explicit one must fit.
            if self.nnz is None:
                nnz = min(nnz, k)
            elif nnz > k:
                raise ValueError(f"nnz must be <= k = {k}, got {nnz}")
        elif self.kind == "countsketch":
            if nnz not in (None, 1):
                raise ValueError(f"nnz is 1 for kind='countsketch', got {nnz}")
            nnz = 1
        elif nnz is not None:
            raise ValueError(f"nnz applies to sparse kinds only, not kind={self.kind!r}")
        object.__setattr__(self, "nnz", nnz)

    def draw(self, n, *, rng=None):
        """Draw an operator of shape ``(k, n)``.

        Parameters
        ----------
        n : int
            Number of columns of ``S`` (rows of the matrices it will sketch).
        rng : None, int or numpy.random.Generator, optional
            Source of randomness: ``None`` for fresh OS entropy, an int seed
            or a ``Generator``. The same seed gives the same operator.

        Returns
        -------
        SketchOperator
        """
        n = self._columns(n)
        seed = int(check_rng(rng).integers(0, 2**63))
        return SketchOperator(self, n, seed)

    def _columns(self, n):
        """Check the number of columns ``n`` of an operator of this distribution."""
        n = check_param(n, "n")
        # The hash's keys j nnz + t must stay below its prime (csrc/hash.h).
        if self.nnz is not None and n > _P61 // self.nnz:
            raise ValueError(
                f"n must be <= {_P61 // self.nnz} for kind={self.kind!r} with "
                f"nnz={self.nnz}, got {n}"
            )
        if self.kind == "srht" and self.k > _padded(n):
            raise ValueError(
                f"k must be <= {_padded(n)} (n = {n} padded to a power of two) "
                f"for kind='srht', got {self.k}"
            )
        return n


@dataclasses.dataclass(frozen=True)
class SketchOperator:
    """A drawn sketching matrix of shape ``(k, n)``; see :class:`SketchDistribution`.

    Built by :meth:`SketchDistribution.draw`. It holds only its distribution,
    ``n`` and the seed; ``S @ A`` regenerates the random entries it needs, so
    applying it twice, or to another matrix, uses the same ``S``.

    Parameters
    ----------
    distribution : SketchDistribution
        The distribution it was drawn from: kind, ``k`` and ``nnz``.
    n : int
        Number of columns of ``S``: the rows of the matrices it sketches.
    seed : int
        The root of every random stream of this operator.

    Examples
    --------
    >>> import numpy as np
    >>> from randla import SketchDistribution
    >>> S = SketchDistribution("countsketch", k=20).draw(500, rng=0)
    >>> S.shape, S.kind
    ((20, 500), 'countsketch')
    >>> A = np.random.default_rng(1).standard_normal((500, 3))
    >>> bool(np.array_equal(S @ A, S @ A))          # the same S every time
    True
    >>> (S @ A[:, 0]).shape                          # a vector gives a vector
    (20,)
    """

    distribution: SketchDistribution
    n: int
    seed: int

    def __post_init__(self):
        # Checked here too, not only in draw: the fields compare by value, and
        # an array among them would make == raise.
        if not isinstance(self.distribution, SketchDistribution):
            raise TypeError(
                f"distribution must be a SketchDistribution, got {type(self.distribution).__name__}"
            )
        object.__setattr__(self, "n", self.distribution._columns(self.n))
        # The C hash takes the seed as a 64-bit unsigned integer.
        object.__setattr__(self, "seed", check_int(self.seed, "seed", minimum=0, maximum=2**64 - 1))

    @property
    def shape(self):
        """``(k, n)``."""
        return (self.distribution.k, self.n)

    @property
    def kind(self):
        """The distribution's kind, e.g. ``"sparse_sign"``."""
        return self.distribution.kind

    def __repr__(self):
        dist = self.distribution
        nnz = f", nnz={dist.nnz}" if dist.kind == "sparse_sign" else ""
        return f"SketchOperator(kind={dist.kind!r}, shape={self.shape}{nnz}, seed={self.seed})"

    def __matmul__(self, A):
        """``S @ A`` for a dense or scipy.sparse (CSR/CSC) ``A`` with ``n`` rows.

        A 1-D ``A`` of length ``n`` gives a 1-D result of length ``k``. The
        result is a dense array of ``A``'s float dtype (float32 or float64).
        A ``numpy.memmap`` or a dask array is sketched block by block of rows
        (one pass; the result is computed, a numpy array); there the SRHT
        costs as much as a Gaussian sketch, O(k n d).
        """
        if not (sp.issparse(A) or is_dask(A)):
            A = as_array(A, "A")
        vector = not sp.issparse(A) and A.ndim == 1
        if vector:
            A = A[:, None]
        # NaN and inf are refused after the product, on the small result: a
        # full check of A would cost two more passes over it (see
        # check_finite_result; every kind multiplies each entry of A by
        # nonzero factors, so a non-finite entry always reaches S @ A).
        A = as_matrix(A, "A", accept_sparse=True, accept_dask=True, finite=False)
        if A.shape[0] != self.n:
            raise ValueError(
                f"A must have {self.n} rows to match the operator's shape "
                f"{self.shape}, got {A.shape[0]}"
            )
        # Overflow and NaN are reported by check_finite_result, not warned of.
        with np.errstate(over="ignore", invalid="ignore"):
            if is_dask(A) or is_memmap(A):
                SA = map_rows(partial(apply_to_rows, self), A)[1]
            else:
                SA = _APPLY[self.kind](self, A)
        SA = check_finite_result(SA, A, "A", "S @ A")
        return SA[:, 0] if vector else SA

    def toarray(self, dtype=np.float64):
        """The dense ``k x n`` matrix ``S`` (for small ``n``: it costs ``k n`` memory)."""
        dtype = np.dtype(dtype)
        S = np.empty(self.shape, dtype=dtype)
        for r0, r1 in _blocks(self.n):
            S[:, r0:r1] = _COLUMNS[self.kind](self, r0, r1)
        return S


def _blocks(n):
    """The (start, stop) row ranges of the random-stream blocks."""
    return [(r0, min(n, r0 + _BLOCK)) for r0 in range(0, n, _BLOCK)]


def _padded(n):
    return 1 << max(0, (n - 1).bit_length())


# --- sparse sign and CountSketch ------------------------------------------------
#
# The hash (row and sign of every nonzero) is computed in C (csrc/hash.h),
# keyed by the operator's seed: any column of S is hashed on its own, and the
# kernels hash the rows of A as they go.


def _hash(op, r0, r1):
    """Rows (int64) and signs (int8) of the nonzeros of columns r0..r1-1."""
    dist = op.distribution
    return _csketch.sparse_sign_hash(op.seed, r0, r1, dist.k, dist.nnz)


def _sparse_sign_columns(op, r0, r1):
    rows, signs = _hash(op, r0, r1)
    block = np.zeros((op.distribution.k, r1 - r0))
    cols = np.broadcast_to(np.arange(r1 - r0)[:, None], rows.shape)
    block[rows, cols] = signs / math.sqrt(op.distribution.nnz)
    return block


def _sparse_sign_apply(op, A):
    k, s = op.distribution.k, op.distribution.nnz
    n, d = A.shape
    order = "C"
    if sp.issparse(A):
        csc = A.format == "csc"
        if csc:
            # The CSC kernel finds each column's rows r0.. by bisection, and
            # scatters into one column of out at a time.
            order = "F"
            A = A if A.has_sorted_indices else A.sorted_indices()
        kernel = _csketch.sparse_sign_csc if csc else _csketch.sparse_sign_csr
        indices, indptr = _same_index_dtype(A)

        def part(r0, r1, out):
            kernel(indptr, indices, A.data, r0, r1, op.seed, s, out)

    else:
        # Accumulate in the order of A so the kernel walks both contiguously.
        order = "F" if A.flags.f_contiguous and not A.flags.c_contiguous else "C"

        def part(r0, r1, out):
            _csketch.sparse_sign_dense(A[r0:r1], r0, op.seed, s, out)

    work = (A.data.nbytes if sp.issparse(A) else A.nbytes) * s
    out = _scatter_in_parts(part, n, work, (k, d), A.dtype, order)
    if s > 1:
        out *= 1 / math.sqrt(s)
    return out


def _scatter_in_parts(part, n, work, shape, dtype, order):
    """Run ``part(r0, r1, out)`` over row ranges of A and sum the outputs.

    The number of parts depends on the shapes only, never on the number of
    threads that run them, and the partial outputs are summed in a fixed
    order: the result is bit-identical on any machine and thread count.
    """
    size = math.prod(shape) * np.dtype(dtype).itemsize
    # Parts pay off when the work (about one pass over A, `work` bytes)
    # dwarfs the partial outputs that must be zeroed and summed.
    parts = _PARTS if n >= _PARTS * _MIN_PART_ROWS and 8 * _PARTS * size <= work else 1
    bounds = [(n * i) // parts for i in range(parts + 1)]
    outs = [np.zeros(shape, dtype=dtype, order=order) for _ in range(parts)]
    _run(
        [
            partial(part, r0, r1, out)
            for r0, r1, out in zip(bounds[:-1], bounds[1:], outs, strict=True)
        ]
    )
    out = outs[0]
    for other in outs[1:]:
        out += other
    return out


def _run(tasks):
    """Run independent tasks (callables that release the GIL), on threads if cores allow."""
    threads = min(len(tasks), _available_cores())
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            for future in [pool.submit(task) for task in tasks]:
                future.result()
    else:
        for task in tasks:
            task()


def _available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _same_index_dtype(A):
    """indices and indptr of a compressed matrix with one integer dtype."""
    if A.indices.dtype == A.indptr.dtype and A.indices.dtype in (np.int32, np.int64):
        return A.indices, A.indptr
    return A.indices.astype(np.int64), A.indptr.astype(np.int64)


# --- SRHT -------------------------------------------------------------------


def _srht_signs(op, r0, r1):
    return _stream(op.seed, 0, r0 // _BLOCK).integers(0, 2, size=r1 - r0, dtype=np.int8) * 2 - 1


def _srht_rows(op):
    """The k sampled rows of the padded transform, sorted for a local gather."""
    n_pad = _padded(op.n)
    return np.sort(_stream(op.seed, 1).choice(n_pad, size=op.distribution.k, replace=False))


def _srht_columns(op, r0, r1):
    # H[i, j] = (-1)^popcount(i & j) for the unnormalised Hadamard matrix.
    rows = _srht_rows(op)[:, None]
    cols = np.arange(r0, r1)[None, :]
    H = 1 - 2 * (np.bitwise_count(rows & cols) & 1).astype(np.float64)
    return H * _srht_signs(op, r0, r1) / math.sqrt(op.distribution.k)


def _srht_apply(op, A):
    n, d = A.shape
    n_pad = _padded(n)
    k = op.distribution.k
    D = np.concatenate([_srht_signs(op, r0, r1) for r0, r1 in _blocks(n)]).astype(A.dtype)
    rows = _srht_rows(op)
    if sp.issparse(A):
        A = A.tocsc()
    # The transform runs on column blocks of A copied into a padded buffer in
    # A's own memory order (whole rows or whole columns stay contiguous). The
    # blocks are independent, so they run on threads; their width bounds the
    # memory, never the result (every column sees the same butterflies).
    order = "F" if sp.issparse(A) or (A.flags.f_contiguous and not A.flags.c_contiguous) else "C"
    cores = _available_cores()
    itemsize = A.dtype.itemsize
    blocks = max(cores, math.ceil(n_pad * d * itemsize / _SRHT_BUFFER_BYTES))
    # At least 8 columns a block (a cache line of float64) when A has them.
    width = max(math.ceil(d / blocks), min(d, 8))
    out = np.empty((k, d), dtype=A.dtype)

    def transform(c0):
        c1 = min(d, c0 + width)
        buf = np.empty((n_pad, c1 - c0), dtype=A.dtype, order=order)
        cols = A[:, c0:c1]
        if sp.issparse(cols):
            cols = cols.toarray(order="F")
        np.multiply(cols, D[:, None], out=buf[:n])
        buf[n:] = 0
        _csketch.fwht(buf)
        out[:, c0:c1] = buf[rows]

    _run([partial(transform, c0) for c0 in range(0, d, width)])
    out *= 1 / math.sqrt(k)
    return out


# --- Gaussian ----------------------------------------------------------------


def _gaussian_columns(op, r0, r1):
    k = op.distribution.k
    G = _stream(op.seed, 0, r0 // _BLOCK).standard_normal((k, r1 - r0))
    G *= 1 / math.sqrt(k)
    return G


def _gaussian_apply(op, A):
    k, d = op.distribution.k, A.shape[1]
    if sp.issparse(A):
        A = A.tocsr()
    out = np.zeros((k, d), dtype=A.dtype)
    for r0, r1 in _blocks(op.n):
        # Generated in float64 whatever A's dtype, so S does not depend on it.
        G = _gaussian_columns(op, r0, r1).astype(A.dtype, copy=False)
        if sp.issparse(A):
            out += (A[r0:r1].T @ G.T).T
        else:
            out += G @ A[r0:r1]
    return out


def apply_to_rows(op, i0, block):
    """(None, S[:, i0:i1] @ block): one block's share of S @ A, for map_rows.

    The sparse kinds hash the block's rows where they are (the kernels take
    the block's first row); the dense kinds generate the block's columns of
    S from the random streams that cover them. For the SRHT that costs
    O(k d) per row, as for a Gaussian sketch: the fast transform mixes all
    rows, which a pass over blocks of rows cannot.
    """
    k, d = op.distribution.k, block.shape[1]
    if op.kind in ("sparse_sign", "countsketch"):
        s = op.distribution.nnz
        order = "F" if block.flags.f_contiguous and not block.flags.c_contiguous else "C"
        out = np.zeros((k, d), dtype=block.dtype, order=order)
        _csketch.sparse_sign_dense(block, i0, op.seed, s, out)
        if s > 1:
            out *= 1 / math.sqrt(s)
        return None, out
    i1 = i0 + block.shape[0]
    first = i0 // _BLOCK * _BLOCK
    columns = np.hstack(
        [_COLUMNS[op.kind](op, r0, min(op.n, r0 + _BLOCK)) for r0 in range(first, i1, _BLOCK)]
    )
    return None, columns[:, i0 - first : i1 - first].astype(block.dtype, copy=False) @ block


_APPLY = {
    "countsketch": _sparse_sign_apply,
    "sparse_sign": _sparse_sign_apply,
    "srht": _srht_apply,
    "gaussian": _gaussian_apply,
}
_COLUMNS = {
    "countsketch": _sparse_sign_columns,
    "sparse_sign": _sparse_sign_columns,
    "srht": _srht_columns,
    "gaussian": _gaussian_columns,
}


def sketch(A, k, *, kind="countsketch", nnz=None, rng=None):
    r"""Sketch the rows of ``A``: return :math:`SA` for a random ``k x n`` :math:`S`.

    Parameters
    ----------
    A : array_like, scipy.sparse matrix or dask array, shape (n, d)
        Dense (C or Fortran order, float32 or float64; other real dtypes are
        converted to float64) or CSR/CSC.
        A ``numpy.memmap`` or a dask array chunked by rows is read in
        passes over blocks of rows (:doc:`/scaling`).
    k : int
        Sketch size: the number of rows of the result.
    kind : {"countsketch", "sparse_sign", "srht", "gaussian"}, optional
        The distribution of :math:`S`; see :class:`SketchDistribution` for
        each kind's definition, embedding guarantee and cost.
    nnz : int, optional
        Nonzeros per column for ``kind="sparse_sign"`` (default 8).
    rng : None, int or numpy.random.Generator, optional
        Source of randomness: ``None`` for fresh OS entropy, an int seed or a
        ``Generator``.

    Returns
    -------
    ndarray, shape (k, d)
        :math:`SA`, with :math:`\mathbb{E}[S^\top S] = I`, in ``A``'s float
        dtype. To apply the same :math:`S` to another matrix, draw it once
        with :meth:`SketchDistribution.draw` instead.

    Notes
    -----
    Cost: one pass over ``A``; per kind, that of ``S @ A`` in
    :class:`SketchDistribution`'s Notes.

    References
    ----------
    Clarkson, K. & Woodruff, D. (2013). Low rank approximation and regression
    in input sparsity time. STOC.
    Nelson, J. & Nguyen, H. (2013). OSNAP: faster numerical linear algebra
    algorithms via sparser subspace embeddings. FOCS.
    Tropp, J. (2011). Improved analysis of the subsampled randomized Hadamard
    transform. Adv. Adapt. Data Anal. 3(1-2).

    Examples
    --------
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((10_000, 4))
    >>> SA = randla.sketch(A, 400, kind="srht", rng=0)
    >>> SA.shape
    (400, 4)
    >>> s = np.linalg.svd(SA, compute_uv=False) / np.linalg.svd(A, compute_uv=False)
    >>> bool(np.all((0.8 < s) & (s < 1.2)))
    True
    """
    distribution = SketchDistribution(kind, k, nnz)
    rng = check_rng(rng)
    A = as_matrix(A, "A", accept_sparse=True, accept_dask=True, finite=False)
    return distribution.draw(A.shape[0], rng=rng) @ A


def sketch_size(kind, d, *, eps=0.5, delta=0.01, n=None, nnz=None):
    r"""The sketch size that the documented bound needs for an ε-embedding.

    Returns the smallest ``k`` for which :class:`SketchDistribution`'s Notes
    guarantee that every singular value of :math:`SQ` lies in
    :math:`[1-\varepsilon, 1+\varepsilon]` with probability at least
    :math:`1-\delta`, for any ``Q`` with ``d`` orthonormal columns. The bounds
    are worst-case; smaller sketches usually work.

    Parameters
    ----------
    kind : {"countsketch", "sparse_sign", "srht", "gaussian"}
        The sketch kind whose bound is evaluated.
    d : int
        Dimension of the subspace.
    eps : float, optional
        Distortion, ``0 < eps < 1``.
    delta : float, optional
        Failure probability, ``0 < delta < 1``.
    n : int, optional
        Number of rows of ``Q``; required for ``"srht"``, whose bound grows
        with ``log n``.
    nnz : int, optional
        Nonzeros per column for ``"sparse_sign"`` (default 8); the result is
        rounded up to a multiple of it.

    Returns
    -------
    int
        The sketch size ``k``: for ``"gaussian"``
        :math:`\lceil((\sqrt d + \sqrt{2\ln(2/\delta)})/\varepsilon)^2\rceil`,
        for the sparse kinds :math:`\lceil (d^2+d)/(\varepsilon^2\delta) \rceil`
        rounded up to a multiple of ``nnz``, for ``"srht"``
        :math:`\lceil 3L\ln(2d/\delta)/\varepsilon^2 \rceil` (``L`` as in
        :class:`SketchDistribution`'s Notes).

    References
    ----------
    Clarkson, K. & Woodruff, D. (2013). Low rank approximation and regression
    in input sparsity time. STOC.
    Nelson, J. & Nguyen, H. (2013). OSNAP: faster numerical linear algebra
    algorithms via sparser subspace embeddings. FOCS.
    Tropp, J. (2011). Improved analysis of the subsampled randomized Hadamard
    transform. Adv. Adapt. Data Anal. 3(1-2).
    Vershynin, R. (2012). Introduction to the non-asymptotic analysis of
    random matrices. In Compressed Sensing, Cambridge University Press.

    Examples
    --------
    >>> from randla import sketch_size
    >>> sketch_size("gaussian", 10, eps=0.5, delta=0.01)
    165
    >>> sketch_size("countsketch", 10, eps=0.5, delta=0.01)
    44000
    """
    check_option(kind, "kind", KINDS)
    d = check_int(d, "d")
    eps = check_param(eps, "eps")
    delta = check_number(delta, "delta", "(0, 1)")
    n = check_param(n, "n", optional=True)
    nnz = check_param(nnz, "nnz", optional=True)
    if kind == "gaussian":
        return math.ceil(((math.sqrt(d) + math.sqrt(2 * math.log(2 / delta))) / eps) ** 2)
    if kind == "srht":
        if n is None:
            raise ValueError("n is required for kind='srht'")
        n_pad = _padded(n)
        L = (math.sqrt(d) + math.sqrt(8 * math.log(2 * n_pad / delta))) ** 2
        return math.ceil(3 * L * math.log(2 * d / delta) / eps**2)
    s = 1 if kind == "countsketch" else _DEFAULT_NNZ if nnz is None else nnz
    k = math.ceil((d * d + d) / (eps**2 * delta))
    return s * math.ceil(k / s)
