"""Input checks shared by every public function of randla.

Public functions validate at the door with these helpers and then trust their
input; internal callers use the private implementations directly. Every error
names the argument, what was expected and what was given.
"""

import functools
import numbers
import operator
import os
import sys
import warnings

import numpy as np
import scipy.sparse as sp

from ._blocks import is_dask, is_memmap, map_rows

__all__ = [
    "RandlaWarning",
    "ConvergenceWarning",
    "RankWarning",
    "as_array",
    "as_matrix",
    "as_returned",
    "as_rhs",
    "as_weights",
    "check_finite",
    "nonfinite_name",
    "check_finite_result",
    "check_rng",
    "exact_rng",
    "check_p",
    "check_number",
    "check_int",
    "check_option",
    "check_param",
    "renamed",
    "warn",
]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class RandlaWarning(UserWarning):
    """Base class of the warnings randla issues about numerical trouble.

    A filter on it covers every randla warning, :class:`ConvergenceWarning`
    included. Raised as such, for instance, when a basis has no exact
    sampler of its optimal density, or when calibration data do not
    identify the unknowns.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import randla
    >>> flat = randla.bases.custom(lambda x: np.ones((len(x), 1)), 1,
    ...                            sample_measure=lambda n, rng: rng.uniform(-1, 1, n))
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", randla.RandlaWarning)
    ...     s = randla.optimal_sample(flat, 5, rng=0)     # no christoffel_bound
    >>> [type(w.message).__name__ for w in caught]
    ['RandlaWarning']
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", randla.RandlaWarning)   # silence them all
    ...     s = randla.optimal_sample(flat, 5, rng=0)
    >>> issubclass(randla.ConvergenceWarning, randla.RandlaWarning)
    True
    """


class RankWarning(RandlaWarning):
    """A matrix was found numerically rank deficient and its rank truncated.

    Issued by the functions that return a bare array computed on the column
    space of ``A`` (:func:`randla.leverage_scores`,
    :func:`randla.orthonormal_basis`, :func:`randla.lewis_weights`...): the
    result is that of the columns kept, and sums to their number. Results
    with a ``rank`` field (:func:`randla.lstsq`, :func:`randla.lp_regression`)
    say it there instead. Rank is decided on the column-equilibrated
    triangular factor, so a column in other units is never dropped for its
    scale.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import randla
    >>> G = np.random.default_rng(0).standard_normal((100, 2))
    >>> A = np.column_stack([G, G[:, 0] + G[:, 1]])       # rank 2
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always", randla.RankWarning)
    ...     tau = randla.leverage_scores(A)
    >>> type(caught[0].message).__name__, round(float(tau.sum()), 10)
    ('RankWarning', 2.0)
    """


class ConvergenceWarning(RandlaWarning):
    """An iterative method stopped before reaching its tolerance.

    Issued by :func:`randla.lewis_weights` (and the functions built on it),
    :func:`randla.lstsq` (``"lsqr"``) and :func:`randla.lp_regression`; the
    message gives the residual or gap reached. The result is still returned.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> import randla
    >>> A = np.random.default_rng(0).standard_normal((50, 3))
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", randla.ConvergenceWarning)   # make it an error
    ...     try:
    ...         randla.lewis_weights(A, 1.5, max_iter=1)
    ...     except randla.ConvergenceWarning as w:
    ...         print(str(w).split(":")[0])
    Lewis weights not converged after 1 iterations
    """


def _describe(x):
    return f"{type(x).__module__}.{type(x).__qualname__}"


def as_array(x, name):
    """``x`` as a plain ndarray, without copying an ndarray; masked arrays refused.

    Every array argument enters randla through here (or through
    :func:`as_matrix`, which calls it). Subclasses become plain ndarrays
    (``np.matrix`` would keep its rows 2-D under indexing and reductions,
    which the code below does not expect), except a file-backed
    ``numpy.memmap``, which stays one so that passes over it read it block
    by block. A masked array is refused: its hidden entries are numbers that
    the computation would use, and no single meaning of a mask fits every
    function.
    """
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"{name} is a numpy.ma.MaskedArray, whose mask randla would ignore; pass "
            f"{name}.filled(value) or drop the masked entries first"
        )
    if type(x) is np.ndarray or is_memmap(x):
        return x
    try:
        return np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be array_like, got {_describe(x)}") from exc


def as_matrix(A, name="A", *, accept_sparse=False, accept_dask=False, dtype=None, finite=True):
    """Check a 2-D matrix argument and return it as float32 or float64.

    Parameters
    ----------
    A : array_like or scipy.sparse matrix/array
        The argument to check.
    name : str
        The argument's name, used in error messages.
    accept_sparse : bool
        Accept scipy.sparse CSR and CSC input (other formats are converted to
        CSR). When false, sparse input raises ``TypeError``.
    accept_dask : bool
        Accept a ``dask.array.Array`` (rechunked to whole rows if its columns
        are split; the dtype converted lazily). When false, dask input raises
        ``TypeError`` rather than being computed into memory unasked.
    dtype : {None, numpy.float32, numpy.float64}
        Force a float dtype. By default float32 stays float32, float64 stays
        float64 and everything else real (ints, bools, float16) becomes
        float64.
    finite : bool
        Refuse NaN and inf. A caller may pass False only when it checks its
        own (smaller) result with :func:`check_finite_result` instead, which
        finds any NaN or inf of ``A`` that reached it.

    Returns
    -------
    ndarray or scipy.sparse.csr_array / csc_array or dask.array.Array
        A dense array (C or Fortran order kept, copied only when the dtype
        changes or the input is not an ndarray; a ``numpy.memmap`` stays one
        and is checked block by block) or, with ``accept_sparse``, a CSR/CSC
        matrix with sorted-or-not indices as given, or with ``accept_dask`` a
        dask array chunked by rows only.

    Raises
    ------
    TypeError
        Sparse input where it is not accepted, complex or non-numeric input.
    ValueError
        Not 2-D, empty, or containing NaN or inf (the message gives the first
        bad position).
    """
    if sp.issparse(A):
        if not accept_sparse:
            raise TypeError(
                f"{name} must be a dense array; this function does not accept "
                f"scipy.sparse input (got {A.format.upper()}). Convert with "
                f"{name}.toarray() if it fits in memory."
            )
        return _as_sparse_matrix(A, name, dtype, finite)
    if is_dask(A):
        return _as_dask_matrix(A, name, accept_dask, dtype, finite)
    A = as_array(A, name)
    target = _target_dtype(A.dtype, name, dtype)
    if A.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got an array of shape {A.shape}")
    if A.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {A.shape}")
    if A.dtype != target:  # a converted memmap is ordinary memory: say so in its type
        A = np.asarray(A).astype(target)
    if not A.flags.aligned:  # from unpickling, for one: the C kernels need alignment
        A = A.copy(order="K")
    if finite:
        check_finite(A, name)
    return A


def nonfinite_name(value):
    """How every message names a value that is not finite: "NaN", "inf" or "-inf"."""
    return "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")


def check_finite(A, name):
    """Raise ``ValueError`` naming the first NaN or inf of an array, if any.

    A memory-mapped or dask matrix is checked in one pass over blocks of rows.
    """
    if is_dask(A) or (is_memmap(A) and A.ndim == 2):
        return _check_finite_rows(A, name)
    values = A.data if sp.issparse(A) else A
    # min and max propagate NaN and inf and, unlike isfinite(A), need no
    # temporary the size of A.
    if values.size == 0 or (np.isfinite(values.min()) and np.isfinite(values.max())):
        return
    if sp.issparse(A):
        bad = np.flatnonzero(~np.isfinite(A.data))[0]
        # A stored entry's minor index is stored; its major index is the
        # compressed slot that holds it.
        major = np.searchsorted(A.indptr, bad, side="right") - 1
        minor = A.indices[bad]
        i, j = (major, minor) if A.format == "csr" else (minor, major)
        value = A.data[bad]
    else:
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(A))[0])
        value = A[where]
        if A.ndim != 2:
            kind = nonfinite_name(value)
            at = where[0] if A.ndim == 1 else where
            raise ValueError(f"{name} contains {kind} (first at index {at})")
        i, j = where
    kind = nonfinite_name(value)
    raise ValueError(f"{name} contains {kind} (first at row {i}, column {j})")


def check_finite_result(result, A, name, what):
    """Check a result computed from ``A`` validated with ``finite=False``.

    Use it where every entry of ``A`` reaches the result through a nonzero
    factor (a sketch ``S @ A``), so that a NaN or inf in ``A`` always shows
    in the result. Then a non-finite result means either a non-finite ``A``
    (reported as :func:`check_finite` does) or an overflow.
    """
    if np.isfinite(result).all():
        return result
    check_finite(A, name)
    largest = abs(A).max()
    largest = float(largest.compute() if is_dask(A) else largest)
    raise ValueError(
        f"{what} overflowed although {name} is finite; rescale {name} "
        f"(its largest magnitude is {largest:.3g})"
    )


def _finite_rows(i0, block):
    # Whole-block min and max are several times faster than per-row ones on
    # narrow rows; the per-row pass runs only on the block that has a NaN/inf.
    if block.size == 0 or (np.isfinite(block.min()) and np.isfinite(block.max())):
        return np.ones(len(block), dtype=bool), None
    return np.isfinite(block.min(axis=1)) & np.isfinite(block.max(axis=1)), None


def _check_finite_rows(A, name):
    finite, _ = map_rows(_finite_rows, A)
    if finite.all():
        return
    i = int(np.flatnonzero(~finite)[0])
    row = np.asarray(A[i])
    j = int(np.flatnonzero(~np.isfinite(row))[0])
    kind = nonfinite_name(row[j])
    raise ValueError(f"{name} contains {kind} (first at row {i}, column {j})")


def _as_dask_matrix(A, name, accept_dask, dtype, finite):
    if not accept_dask:
        raise TypeError(
            f"{name} is a dask array, which this function does not accept; call "
            f"{name}.compute() if it fits in memory (see the 'Scaling up' guide for "
            f"the functions that work on dask arrays)"
        )
    if A.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got an array of shape {A.shape}")
    if not isinstance(A._meta, np.ndarray):  # the passes run numpy code on every chunk
        raise TypeError(
            f"{name} must be a dask array of numpy chunks, got chunks of "
            f"{_describe(A._meta)}; convert with {name}.map_blocks(lambda c: c.toarray())"
        )
    if any(np.isnan(s) for s in A.shape):
        raise ValueError(f"{name} must have known chunk sizes; call {name}.compute_chunk_sizes()")
    if A.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {A.shape}")
    target = _target_dtype(A.dtype, name, dtype)
    if A.dtype != target:
        A = A.astype(target)
    if len(A.chunks[1]) > 1:  # the passes need whole rows in every chunk
        A = A.rechunk({1: -1})
    if finite:
        check_finite(A, name)
    return A


def _as_sparse_matrix(A, name, dtype, finite):
    if A.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {A.shape}")
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {A.shape}")
    if A.format not in ("csr", "csc"):
        A = sp.csr_array(A)
    target = _target_dtype(A.dtype, name, dtype)
    if A.dtype != target:
        A = A.astype(target)
    if finite:
        check_finite(A, name)
    return A


def _target_dtype(given, name, forced):
    if forced is not None:
        forced = np.dtype(forced)
        if forced not in _FLOATS:
            raise ValueError(f"dtype must be float32 or float64, got {forced}")
        if given.kind not in "biuf":
            raise TypeError(f"{name} must be real and numeric, got dtype {given}")
        return forced
    if given in _FLOATS:
        return given
    if given.kind in "biuf":
        return np.dtype(np.float64)
    if given.kind == "c":
        raise TypeError(f"{name} must be real, got complex dtype {given}")
    hint = (
        f" (pandas' nullable dtypes, for one, convert to object: pass "
        f"{name}.to_numpy(dtype=float) or np.asarray({name}, dtype=float))"
        if given.kind == "O"
        else ""
    )
    raise TypeError(f"{name} must be numeric, got dtype {given}{hint}")


def warn(message, category):
    """``warnings.warn`` pointing at the caller's line: the first frame outside randla.

    A fixed ``stacklevel`` points inside the package whenever the warning is
    raised through a public function that another public function calls.
    scikit-learn's frames are passed over too: an estimator of
    :mod:`randla.sklearn` is called through scikit-learn's ``fit`` wrapper
    (and from its pipelines and searches), and the line to show is the
    user's.
    """
    skipped = (_PACKAGE_DIR,)
    if "sklearn" in sys.modules:
        skipped += (os.path.dirname(os.path.abspath(sys.modules["sklearn"].__file__)) + os.sep,)
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_code.co_filename.startswith(skipped):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def renamed(note=None, /, **old_to_new):
    """Refuse the old spellings of renamed keyword arguments, naming the new ones.

    ``@renamed(sample_size="k")`` makes ``f(..., sample_size=5)`` raise
    ``TypeError: f() takes k=, not sample_size= (renamed)`` instead of
    Python's bare "unexpected keyword argument", so that a script written for
    the old API fails with the fix in the message; ``note`` adds a sentence
    where the old argument meant more than the new one. There is no
    deprecation cycle: randla has no outside users yet.
    """
    tail = "" if note is None else f"; {note}"

    def decorate(function):
        @functools.wraps(function)
        def refuse_old(*args, **kwargs):
            for old in old_to_new.keys() & kwargs.keys():
                raise TypeError(
                    f"{function.__name__}() takes {old_to_new[old]}=, not {old}= (renamed){tail}"
                )
            return function(*args, **kwargs)

        return refuse_old

    return decorate


def check_rng(rng):
    """Normalise the ``rng`` argument (SPEC 7) to a ``numpy.random.Generator``.

    Parameters
    ----------
    rng : None, int or numpy.random.Generator
        ``None`` draws fresh entropy from the operating system; an int seeds
        a new ``Generator``; a ``Generator`` is used as it is (and advanced).

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    TypeError
        For anything else, including the legacy ``RandomState``: its stream
        differs from ``Generator``'s, so accepting it would silently change
        results.
    """
    if rng is None or isinstance(rng, (numbers.Integral, np.integer)):
        if rng is not None and rng < 0:
            raise ValueError(f"rng must be a non-negative seed, got {rng}")
        return np.random.default_rng(rng)
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(
        f"rng must be None, an int seed or a numpy.random.Generator, got {_describe(rng)}"
    )


def exact_rng(rng):
    """The ``rng`` of an exact quantity: ``None`` is a fixed seed, not fresh entropy.

    Exact quantities (leverage scores, Lewis weights, solutions) use
    randomness only for a preconditioner, which changes nothing but the
    rounding; with a fixed default they are bit for bit reproducible
    without a seed, as DESIGN.md promises.
    """
    return check_rng(0 if rng is None else rng)


def check_p(p, name="p"):
    """Check that an l_p exponent is a finite real number ``>= 1``."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(p)}")
    p = float(p)
    if not np.isfinite(p) or p < 1:
        raise ValueError(f"{name} must be >= 1 and finite, got {_number(p)}")
    return p


def check_number(x, name, interval):
    """Check a real number against an interval written as in mathematics.

    ``interval`` is text such as ``"(0, 1)"``, ``"[0, 1)"`` or ``"(0, inf)"``;
    brackets say whether an end belongs to it. Returns the number as a
    float. NaN is outside every interval; bools and strings are not numbers.

    >>> check_number(0.5, "tol", "(0, 1)")
    0.5
    >>> check_number(2, "tol", "(0, 1)")
    Traceback (most recent call last):
    ...
    ValueError: tol must be in (0, 1), got 2.0
    """
    if isinstance(x, np.ndarray) and x.ndim == 0 and x.dtype.kind in "iuf":
        x = x.item()
    if isinstance(x, bool | np.bool_) or not isinstance(x, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(x)}")
    x = float(x)
    low, high = (float(end) for end in interval[1:-1].split(","))
    above = x >= low if interval[0] == "[" else x > low
    below = x <= high if interval[-1] == "]" else x < high
    if not (above and below):
        raise ValueError(f"{name} must be in {interval}, got {_number(x)}")
    return x


# Parameters that mean the same thing in every function that takes them,
# declared once so that a value is valid or not whatever the function or the
# input's path (small, tall, sparse, Dask): interval in mathematical notation,
# or the integer's least value.
INTERVALS = {
    "rank_tol": "[0, 1)",
    "tol": "(0, 1)",
    "eps": "(0, 1)",
    "lam": "(0, inf)",
    "max_gram_error": "(0, 1)",
}
MINIMUMS = {"k": 1, "n": 1, "max_iter": 1, "directions": 1, "ascent_steps": 1, "nnz": 1}
SCHEMES = ("bernoulli", "iid")


def check_param(value, name, *, optional=False, maximum=None):
    """Check a declared parameter (``INTERVALS`` or ``MINIMUMS``) at a public door.

    ``optional`` lets ``None`` through (the function's default rule); an
    integer parameter may also have a ``maximum`` that depends on the input.

    >>> check_param(0.1, "rank_tol")
    0.1
    >>> check_param(-1, "rank_tol")
    Traceback (most recent call last):
    ...
    ValueError: rank_tol must be in [0, 1), got -1.0
    """
    if value is None and optional:
        return None
    if name in INTERVALS:
        return check_number(value, name, INTERVALS[name])
    return check_int(value, name, minimum=MINIMUMS[name], maximum=maximum)


def _number(x):
    return repr(x) if np.isfinite(x) else nonfinite_name(x)


def check_int(k, name, *, minimum=1, maximum=None):
    """Check that ``k`` is an integer with ``minimum <= k`` (and ``k <= maximum``)."""
    if isinstance(k, bool):
        raise TypeError(f"{name} must be an integer, got bool")
    try:
        k = operator.index(k)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {_describe(k)}") from None
    if k < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {k}")
    if maximum is not None and k > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {k}")
    return k


def as_returned(values, who, shape, points=None):
    """What a user's callable ``who`` returned, as float64 of ``shape``: real and finite.

    A 1-D ``shape`` also takes a row or a column of that many values (what
    an ``np.matrix`` gives). ``points``, what the callable was given,
    locates a NaN or inf in the message.
    """
    if isinstance(values, np.ma.MaskedArray):
        raise TypeError(f"{who} returned a numpy.ma.MaskedArray, whose mask randla would ignore")
    values = as_array(values, f"what {who} returned")
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{who} must return real numbers, got dtype {values.dtype}")
    vector = len(shape) == 1 and values.ndim == 2 and 1 in values.shape
    if values.shape != shape and not (vector and values.size == shape[0]):
        raise ValueError(f"{who} must return shape {shape}, got {values.shape}")
    values = values.astype(np.float64).reshape(shape)
    if not np.isfinite(values).all():
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
        kind = nonfinite_name(values[where])
        at = f"row {where[0]}" + ("" if len(where) == 1 else f", column {where[1]}")
        point = "" if points is None else f" at x = {np.asarray(points)[where[0]].tolist()}"
        raise ValueError(f"{who} returned {kind} (first at {at}){point}")
    return values


def check_option(value, name, options):
    """Check a string option against its valid values; list them if wrong."""
    if not isinstance(value, str) or value not in options:
        valid = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {valid}; got {value!r}")
    return value


def as_rhs(b, n, dtype, name="b"):
    """Check a right-hand side: n values, or n x m; finite; in ``dtype``."""
    if sp.issparse(b):
        b = b.toarray()
    if is_dask(b):  # n values: small beside the n x d matrix they go with
        b = b.compute()
    b = as_array(b, name)
    # Unaligned buffers (from unpickling, for one) would fail the C kernels.
    b = np.require(b, requirements="A")
    if b.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D or 2-D, got an array of shape {b.shape}")
    if b.shape[0] != n:
        raise ValueError(f"{name} must have {n} rows to match A, got {b.shape[0]}")
    if b.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {b.shape}")
    b = b.astype(_target_dtype(b.dtype, name, dtype), copy=False)
    check_finite(b, name)
    return b


def as_weights(w, n, name="weights"):
    """Check nonnegative finite weights, one per row; at least one positive."""
    w = as_array(w, name)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(f"{name} must be 1-D of length {n}, got shape {w.shape}")
    if w.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be real numbers, got dtype {w.dtype}")
    w = w.astype(np.float64)
    check_finite(w, name)
    if (w < 0).any():
        i = np.flatnonzero(w < 0)[0]
        raise ValueError(f"{name} must be >= 0, got {w[i]} at index {i}")
    if not (w > 0).any():
        raise ValueError(f"{name} must have a positive entry, got all zeros")
    return w
