"""Passes over the rows of a tall matrix: in memory, memory-mapped, or on Dask.

Every pass randla makes over a tall ``n x d`` matrix is a map over blocks of
its rows: a function of (first row, block, slices of per-row arrays) that
returns a value per row, a small total summed over the blocks, or both.
:func:`map_rows` runs such a pass on whatever holds the matrix:

* an ndarray or a scipy.sparse matrix: a loop over blocks of about 4 MB;
* a ``numpy.memmap`` (``np.load(..., mmap_mode="r")``): the same loop, and
  each block's pages leave the process's resident set once the block is
  copied, so the resident memory stays near one block however large the
  file (Linux and macOS; elsewhere the operating system decides);
* a ``dask.array.Array`` chunked by rows: one task per chunk on the current
  scheduler. The per-row values come back to the caller (``n`` numbers, not
  ``n d``) and the totals are summed there in chunk order, so the result
  does not depend on the scheduler or the number of workers.
"""

import ctypes
import mmap
import sys
import warnings
from functools import partial

import numpy as np
import scipy.sparse as sp

__all__ = ["is_dask", "is_memmap", "row_blocks", "map_rows", "take_rows", "residual_norms"]

# Rows of A per block in the streaming passes: about 4 MB of float64.
_BLOCK_BYTES = 4 << 20


def is_dask(A):
    """True for a ``dask.array.Array`` (without importing dask)."""
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(A, da.Array)


def is_memmap(A):
    """True for a view of a file mapped shared by ``numpy.memmap``: pages may be dropped.

    Only arrays that still look into the file qualify: numpy gives copies
    and ``astype`` results of a memmap the type ``numpy.memmap`` too, but
    with no mapping behind them (``_mmap`` is None); they are private
    anonymous memory, where dropping a page would zero it. Copy-on-write
    maps (mode ``"c"``) are excluded for the same reason: their changed
    pages exist nowhere else. Pages of a shared mapping (``"r"``, ``"r+"``,
    ``"w+"``) live in the page cache; dropping them from this process loses
    nothing, written pages included.
    """
    return (
        isinstance(A, np.memmap)
        and isinstance(getattr(A, "_mmap", None), mmap.mmap)
        and getattr(A, "mode", None) in ("r", "r+", "w+")
    )


def _madvise():
    if not hasattr(mmap, "MADV_DONTNEED"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.madvise
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


_MADVISE = _madvise()
_PAGE = mmap.PAGESIZE
# take_rows: rows gathered between releases, and how far around a row a
# page fault may map (the largest page-cache folio, 2 MB on x86-64).
_GATHER_ROWS = 64
_FOLIO_BYTES = 2 << 20


def _drop_pages(start, nbytes):
    """madvise(DONTNEED) on the whole pages inside [start, start + nbytes).

    For a shared file mapping this only unmaps the pages from this process:
    the file and the page cache keep the data, and a later read faults it in.
    """
    lo = -(-start // _PAGE) * _PAGE
    hi = (start + nbytes) // _PAGE * _PAGE
    if hi > lo:
        _MADVISE(lo, hi - lo, mmap.MADV_DONTNEED)


def _release(rows):
    """Drop the resident pages of ``rows``, a block of rows of a memmap."""
    if _MADVISE is None or rows.size == 0:
        return
    if rows.flags.c_contiguous:  # a block of rows, or a whole matrix or vector
        _drop_pages(rows.ctypes.data, rows.nbytes)
    elif rows.strides[0] == rows.itemsize:  # rows of a Fortran-ordered matrix
        column_bytes = rows.shape[0] * rows.itemsize
        for j in range(rows.shape[1]):
            _drop_pages(rows.ctypes.data + j * rows.strides[1], column_bytes)


def row_blocks(A, cols=None, *, densify=True):
    """Blocks of rows of ``A[:, cols]`` as scratch copies, with their first row.

    Yields ``(i0, block)``: ``block`` is a dense copy of ``A[i0:i1, cols]``
    (all columns when ``cols`` is None) in A's memory order (Fortran for a
    Fortran-ordered A, C otherwise), which the caller may overwrite; one
    buffer serves all full blocks, so a block must not be kept past the next
    one. With ``densify=False`` sparse A gives CSR slices instead.
    """
    n, d = A.shape
    width = d if cols is None else len(cols)
    step = max(256, _BLOCK_BYTES // (8 * max(width, 1)))
    sparse = sp.issparse(A)
    if sparse and A.format != "csr":
        A = A.tocsr()
    if sparse and not densify:
        for i0 in range(0, n, step):
            block = A[i0 : i0 + step]
            yield i0, block if cols is None else block[:, cols]
        return
    order = "F" if not sparse and A.flags.f_contiguous and not A.flags.c_contiguous else "C"
    release = is_memmap(A)
    buf = np.empty((min(step, n), width), dtype=A.dtype, order=order)
    for i0 in range(0, n, step):
        i1 = min(n, i0 + step)
        rows = A[i0:i1]
        block = rows if cols is None else rows[:, cols]
        out = buf if i1 - i0 == len(buf) else np.empty((i1 - i0, width), dtype=A.dtype, order=order)
        if sparse:
            out[...] = block.toarray()
        else:
            np.copyto(out, block)
        if release:
            _release(rows)
        yield i0, out


def map_rows(func, A, *row_args, cols=None, densify=True):
    """One pass over the rows of ``A[:, cols]``: ``(per-row values, total)``.

    Parameters
    ----------
    func : callable
        ``func(i0, block, *slices) -> (rows, total)`` with ``block`` a scratch
        copy of rows ``i0:i1`` (see :func:`row_blocks`), ``slices`` the same
        rows of each of ``row_args``, ``rows`` an array with one entry per row
        of the block (or None) and ``total`` an array to sum over the blocks
        (or None). On Dask it runs on the workers: it must be picklable and
        must not depend on state it changes.
    A : ndarray, scipy.sparse matrix, numpy.memmap or dask.array.Array
    *row_args : arrays with ``n`` rows (numpy, or dask for dask ``A``)
    cols : array of int, optional
    densify : bool
        Pass sparse blocks as dense arrays (default) or as CSR slices.

    Returns
    -------
    rows : ndarray or None
        The per-row values, concatenated in row order.
    total : ndarray or None
        The sum of the blocks' totals, in row order.
    """
    if is_dask(A):
        results = _map_dask(func, A, row_args, cols)
    else:
        results = (
            func(i0, block, *(a[i0 : i0 + block.shape[0]] for a in row_args))
            for i0, block in row_blocks(A, cols, densify=densify)
        )
    rows, total = [], None
    for r, t in results:
        if r is not None:
            rows.append(r)
        if t is not None:
            total = t if total is None else total + t
    return (np.concatenate(rows) if rows else None), total


def take_rows(A, indices):
    """``A[indices]``, in memory, reading only those rows.

    Of a dask array only the rows are computed. Of a memmap the rows are
    gathered a few dozen at a time and the pages mapped for them dropped
    after each group: a fault maps a whole folio of the page cache (up to
    megabytes) around the row it reads.
    """
    if is_dask(A):
        return np.asarray(A[indices].compute())
    if not is_memmap(A):
        return A[indices]
    out = np.empty((len(indices),) + A.shape[1:], dtype=A.dtype)
    pad = _FOLIO_BYTES // max(A.strides[0], 1) + 1
    for j in range(0, len(indices), _GATHER_ROWS):
        group = indices[j : j + _GATHER_ROWS]
        out[j : j + len(group)] = A[group]
        _release(A[max(0, group.min() - pad) : group.max() + 1 + pad])
    return out


def residual_norms(A, x, b, p=2):
    """``||b - A x||_p`` (per column of a 2-D ``b``), without overflow or underflow.

    The residuals are divided by their largest magnitude before they are
    raised to the power ``p`` (as LAPACK's ``nrm2`` scales), so the norm is
    right wherever it is representable: residuals of 1e300 or of 1e-170
    squared would overflow or underflow. A memory-mapped or dask ``A`` is
    read in one pass, which keeps the ``n`` residuals (``n m`` numbers, not
    ``n d``).
    """
    if is_dask(A) or is_memmap(A):
        r = map_rows(partial(_residual_rows, x), A, b)[0]
    else:
        r = np.abs(b - A @ x)
    largest = r.max(axis=0)
    scale = np.where(largest > 0, largest, 1.0)
    norm = largest * (np.sum((r / scale) ** p, axis=0) ** (1.0 / p))
    return norm if np.ndim(norm) else float(norm)


def _residual_rows(x, i0, block, b):
    """(|b - block x|, None) for map_rows."""
    return np.abs(b - block @ x), None


def _block_task(func, i0, block, *slices):
    # A chunk may be read-only (from_array on a file) or a view: give func
    # the writable scratch copy the in-memory loop gives it.
    block = np.array(block, order="C") if not sp.issparse(block) else block
    return func(i0, block, *(np.asarray(s) for s in slices))


def _map_dask(func, A, row_args, cols):
    import dask

    if cols is not None:
        A = A[:, cols]
    if len(A.chunks[1]) > 1:  # func needs whole rows
        A = A.rechunk({1: -1})
    chunks = A.chunks[0]
    starts = np.concatenate([[0], np.cumsum(chunks)[:-1]])
    args = []
    for a in row_args:
        if is_dask(a):
            args.append(
                a.rechunk((chunks,) + a.chunks[1:]).to_delayed().reshape(len(chunks), -1)[:, 0]
            )
        else:
            args.append([a[i0 : i0 + c] for i0, c in zip(starts, chunks, strict=True)])
    task = dask.delayed(_block_task, pure=True)
    blocks = A.to_delayed().reshape(len(chunks), -1)[:, 0]
    tasks = [
        task(func, int(i0), block, *(a[c] for a in args))
        for c, (i0, block) in enumerate(zip(starts, blocks, strict=True))
    ]
    with warnings.catch_warnings():
        # The per-row arguments travel with the tasks (8 bytes a row a pass,
        # by design); distributed warns of any graph over 10 MB.
        warnings.filterwarnings("ignore", "Sending large graph", UserWarning)
        return dask.compute(*tasks)


def nonzero_rows(A):
    """A boolean mask of the rows of A with a nonzero entry, in one pass."""
    if sp.issparse(A):
        return np.asarray(abs(A).sum(axis=1)).ravel() > 0
    return map_rows(_nonzero_in_rows, A)[0]


def _nonzero_in_rows(i0, block):
    return np.any(block != 0, axis=1), None
