"""The C kernels of randla._csketch against plain NumPy references."""

import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.linalg import hadamard

from randla import _csketch


@pytest.mark.parametrize("n", [1, 2, 4, 8, 32, 128, 1024])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fwht_matches_hadamard_matrix(n, order, dtype):
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 3)).astype(dtype)
    Y = np.array(X, order=order)
    _csketch.fwht(Y)
    ref = hadamard(n) @ X.astype(np.float64)
    tol = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(Y, ref, rtol=tol, atol=tol * np.sqrt(n))


def test_fwht_one_dimensional_and_single_column():
    x = np.arange(8.0)
    y = x.copy()
    _csketch.fwht(y)
    np.testing.assert_allclose(y, hadamard(8) @ x)


@pytest.mark.parametrize("order", ["C", "F"])
def test_fwht_large_blocks_use_the_recursive_path(order):
    # 2**17 x 4 float64 is 4 MB: past the 256 kB leaf, so the depth-first
    # recursion runs. H @ H = n I checks every stage; the C and F paths agree.
    n = 1 << 17
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 4))
    Y = np.array(X, order=order)
    _csketch.fwht(Y)
    # Entry 0 of H x is the sum of x; entry n-1 the alternating-popcount sum.
    np.testing.assert_allclose(Y[0], X.sum(axis=0), rtol=1e-10)
    signs = 1 - 2 * (np.bitwise_count(np.arange(n) & (n - 1)) & 1).astype(np.int64)
    np.testing.assert_allclose(Y[n - 1], signs @ X, rtol=1e-10)
    _csketch.fwht(Y)
    np.testing.assert_allclose(Y / n, X, atol=1e-12)


def test_fwht_errors():
    with pytest.raises(ValueError, match="power-of-two number of rows, got 6"):
        _csketch.fwht(np.ones((6, 2)))
    with pytest.raises(ValueError, match="C- or Fortran-contiguous"):
        _csketch.fwht(np.ones((8, 4))[:, ::2])
    with pytest.raises(TypeError, match="float32 or float64"):
        _csketch.fwht(np.ones((8, 2), dtype=np.int64))
    a = np.ones((8, 2))
    a.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        _csketch.fwht(a)


# --- the sparse sign hash against its rule in csrc/hash.h ---------------------

P61 = (1 << 61) - 1
M64 = (1 << 64) - 1


def _reference_coefficients(seed):
    """c0..c3: SplitMix64 from `seed`, each output shifted right by 3, p skipped."""
    coefficients, state = [], seed
    while len(coefficients) < 4:
        state = (state + 0x9E3779B97F4A7C15) & M64
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        w = (z ^ (z >> 31)) >> 3
        if w != P61:
            coefficients.append(w)
    return coefficients


def _reference_hash(seed, j, k, s):
    """Rows and signs of column j, by the rule stated in csrc/hash.h, in Python integers."""
    c = _reference_coefficients(seed)
    rows, signs = [], []
    for t in range(s):
        x = j * s + t
        h = (c[0] + c[1] * x + c[2] * x**2 + c[3] * x**3) % P61
        start, stop = t * k // s, (t + 1) * k // s
        rows.append(start + (h * (stop - start) >> 61))
        signs.append(-1 if h & 1 else 1)
    return rows, signs


@pytest.mark.parametrize(
    "seed, r0, k, s",
    [
        (123456789, 5, 10, 1),
        (123456789, 5, 300, 8),
        (2**64 - 1, 5, 301, 8),  # blocks of unequal size; the largest seed
        (0, 5, 7, 3),
        (42, 5, 2**32 - 1, 1),  # the largest k
        (42, P61 // 8 - 40, 1000, 8),  # the largest keys, just below p
        (42, P61 - 3, 1000, 1),  # differences started from keys past p
    ],
)
def test_sparse_sign_hash_follows_the_documented_rule(seed, r0, k, s):
    # Runs of columns are hashed by forward differences, single columns
    # (the CSC kernel) directly: both must follow the rule.
    r1 = min(r0 + 40, P61 // s)
    rows, signs = _csketch.sparse_sign_hash(seed, r0, r1, k, s)
    assert rows.shape == signs.shape == (r1 - r0, s)
    for j in range(r0, r1):
        ref_rows, ref_signs = _reference_hash(seed, j, k, s)
        assert rows[j - r0].tolist() == ref_rows
        assert signs[j - r0].tolist() == ref_signs


def test_sparse_sign_hash_of_a_range_is_a_slice_of_the_whole():
    whole = _csketch.sparse_sign_hash(7, 0, 5000, 97, 4)
    part = _csketch.sparse_sign_hash(7, 1234, 4321, 97, 4)
    for w, p in zip(whole, part, strict=True):
        np.testing.assert_array_equal(w[1234:4321], p)


def test_sparse_sign_hash_errors():
    with pytest.raises(ValueError, match="need 1 <= s <= k < 2\\*\\*32"):
        _csketch.sparse_sign_hash(0, 0, 10, 4, 5)
    with pytest.raises(ValueError, match="need 1 <= s <= k"):
        _csketch.sparse_sign_hash(0, 0, 10, 2**32, 1)
    with pytest.raises(ValueError, match="0 <= r0 <= r1"):
        _csketch.sparse_sign_hash(0, 10, 5, 4, 1)
    # Keys j s + t up to p - 1 = 2**61 - 2: rows j < r1 with r1 s <= p.
    with pytest.raises(ValueError, match="need r1 \\* s <= 2\\*\\*61 - 1"):
        _csketch.sparse_sign_hash(0, 0, P61 // 8 + 1, 10, 8)
    out = np.zeros((10, 2))
    with pytest.raises(ValueError, match="need r1 \\* s <= 2\\*\\*61 - 1"):
        _csketch.sparse_sign_dense(np.ones((2, 2)), P61 - 1, 0, 1, out)


# --- the scatter-add kernels against a dense reference ----------------------


def _dense_sketch(seed, n, k, s):
    rows, signs = _csketch.sparse_sign_hash(seed, 0, n, k, s)
    S = np.zeros((k, n))
    for t in range(s):
        S[rows[:, t], np.arange(n)] += signs[:, t]
    return S


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_sign_dense_kernel(order, dtype):
    n, d, k, s, seed = 3000, 6, 50, 3, 11
    rng = np.random.default_rng(0)
    A = np.array(rng.standard_normal((n, d)), dtype=dtype, order=order)
    out = np.zeros((k, d), dtype=dtype, order=order)
    # Two row ranges accumulate into one output.
    _csketch.sparse_sign_dense(A[:1000], 0, seed, s, out)
    _csketch.sparse_sign_dense(A[1000:], 1000, seed, s, out)
    ref = _dense_sketch(seed, n, k, s) @ A.astype(np.float64)
    np.testing.assert_allclose(out, ref, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-4)


# The CSC kernel hashes each row where its nonzeros are below 4 nonzeros a
# row on average (density 0.3 here), by blocks of rows above (0.8).
@pytest.mark.parametrize("density", [0.3, 0.8])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_sign_compressed_kernels(fmt, index_dtype, density):
    n, d, k, s, seed = 2000, 7, 40, 2, 5
    A = sp.random_array((n, d), density=density, format=fmt, rng=1)
    indices, indptr = A.indices.astype(index_dtype), A.indptr.astype(index_dtype)
    ref = _dense_sketch(seed, n, k, s) @ A.toarray()
    if fmt == "csr":
        out = np.zeros((k, d))
        _csketch.sparse_sign_csr(indptr, indices, A.data, 0, 700, seed, s, out)
        _csketch.sparse_sign_csr(indptr, indices, A.data, 700, n, seed, s, out)
    else:
        out = np.zeros((k, d), order="F")
        _csketch.sparse_sign_csc(indptr, indices, A.data, 0, 700, seed, s, out)
        _csketch.sparse_sign_csc(indptr, indices, A.data, 700, n, seed, s, out)
    np.testing.assert_allclose(out, ref, rtol=1e-12, atol=1e-12)


def test_sparse_sign_kernels_refuse_bad_structure():
    A = sp.random_array((100, 5), density=0.3, format="csr", rng=1)
    out = np.zeros((10, 5))
    indices = A.indices.copy()
    indices[3] = 5
    with pytest.raises(ValueError, match="indices\\[3\\] = 5 is outside \\[0, 5\\)"):
        _csketch.sparse_sign_csr(A.indptr, indices, A.data, 0, 100, 1, 1, out)
    indptr = A.indptr.copy()
    indptr[10] = indptr[9] - 1
    with pytest.raises(ValueError, match="indptr is invalid"):
        _csketch.sparse_sign_csr(indptr, A.indices, A.data, 0, 100, 1, 1, out)
    with pytest.raises(TypeError, match="int32 or int64 alike"):
        _csketch.sparse_sign_csr(
            A.indptr.astype(np.int64), A.indices.astype(np.int32), A.data, 0, 100, 1, 1, out
        )
    with pytest.raises(TypeError, match="C-contiguous"):
        _csketch.sparse_sign_csr(
            A.indptr, A.indices, A.data, 0, 100, 1, 1, np.zeros((10, 5), order="F")
        )
    for density in (0.3, 0.9):  # rows hashed in place, then by blocks
        B = sp.random_array((100, 5), density=density, format="csc", rng=1)
        indices = B.indices.copy()
        lo = B.indptr[2]
        indices[lo : lo + 2] = indices[lo : lo + 2][::-1].copy()
        with pytest.raises(ValueError, match="indices must be sorted within each column"):
            _csketch.sparse_sign_csc(
                B.indptr, indices, B.data, 0, 100, 1, 1, np.zeros((10, 5), order="F")
            )
    with pytest.raises(TypeError, match="one dtype"):
        _csketch.sparse_sign_dense(np.ones((4, 5)), 0, 1, 1, np.zeros((10, 5), dtype=np.float32))
    with pytest.raises(ValueError, match="out must have 5 columns"):
        _csketch.sparse_sign_dense(np.ones((4, 5)), 0, 1, 1, np.zeros((10, 4)))


# --- malformed arrays at the private entry points ----------------------------

# Run in a child process, so that a crash fails the test instead of killing
# pytest. Every array argument of every entry point is replaced, one at a
# time, by arrays of the wrong rank, dtype, layout, byte order or alignment;
# the child prints one line per case, before the call, then the outcome.
_MALFORMED = r"""
import numpy as np
import scipy.sparse as sp
from randla import _csketch


def misaligned(v):
    buf = bytearray(v.nbytes + 1)
    m = np.frombuffer(buf, v.dtype, count=v.size, offset=1).reshape(v.shape)
    m[...] = v
    return m


def read_only(v):
    v = v.copy()
    v.flags.writeable = False
    return v


# Layouts that an argument does not accept.
LAYOUTS = {
    "strided": lambda v: np.repeat(v, 2, axis=-1)[..., ::2],
    "F order": np.asfortranarray,
    "C order": np.ascontiguousarray,
}


def variants(v, *, wrong_dtype, layout=None, out=False, vector_ok=False):
    cases = {
        "0-d": np.asarray(v.flat[0]),
        "3-d": v.reshape(v.shape + (1,)) if v.ndim == 2 else v[:, None, None],
        "wrong dtype": v.astype(wrong_dtype),
    }
    # A 1-D argument gets a 2-D variant, a 2-D one a 1-D variant.
    if v.ndim == 1:
        cases["2-d"] = v[:, None]
    elif not vector_ok:
        cases["1-d"] = np.ascontiguousarray(v[:, 0])
    if layout is not None:
        cases[layout] = LAYOUTS[layout](v)
    if v.itemsize > 1:
        cases["byte-swapped"] = v.astype(v.dtype.newbyteorder())
        cases["misaligned"] = misaligned(v)
    if out:
        cases["read-only"] = read_only(v)
    return cases


A = sp.random_array((40, 3), density=0.5, format="csr", rng=0)
C = A.tocsc()
calls = {
    "fwht": (
        _csketch.fwht,
        [np.ones((8, 3))],
        {0: dict(wrong_dtype=np.int64, layout="strided", out=True, vector_ok=True)},
    ),
    "sparse_sign_dense": (
        _csketch.sparse_sign_dense,
        [np.ones((40, 3)), 0, 1, 2, np.zeros((10, 3))],
        {0: dict(wrong_dtype=np.int64), 4: dict(wrong_dtype=np.int64, out=True)},
    ),
    "sparse_sign_csr": (
        _csketch.sparse_sign_csr,
        [A.indptr, A.indices, A.data, 0, 40, 1, 2, np.zeros((10, 3))],
        {
            0: dict(wrong_dtype=np.float64, layout="strided"),
            1: dict(wrong_dtype=np.float64, layout="strided"),
            2: dict(wrong_dtype=np.int64, layout="strided"),
            7: dict(wrong_dtype=np.int64, layout="F order", out=True),
        },
    ),
    "sparse_sign_csc": (
        _csketch.sparse_sign_csc,
        [C.indptr, C.indices, C.data, 0, 40, 1, 2, np.zeros((10, 3), order="F")],
        {
            0: dict(wrong_dtype=np.float64, layout="strided"),
            1: dict(wrong_dtype=np.float64, layout="strided"),
            2: dict(wrong_dtype=np.int64, layout="strided"),
            7: dict(wrong_dtype=np.int64, layout="C order", out=True),
        },
    ),
}
for name, (f, args, bad) in calls.items():
    for i, options in bad.items():
        for case, value in variants(args[i], **options).items():
            print(f"{name} argument {i} {case}:", end=" ", flush=True)
            try:
                f(*args[:i], value, *args[i + 1 :])
                print("accepted", flush=True)
            except (ValueError, TypeError) as exc:
                print(type(exc).__name__, flush=True)
print("done")
"""


def test_malformed_arrays_raise_instead_of_crashing():
    result = subprocess.run(
        [sys.executable, "-c", _MALFORMED], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-300:] + result.stderr
    *lines, last = result.stdout.splitlines()
    assert last == "done" and len(lines) == 78
    assert [line for line in lines if not line.endswith(("ValueError", "TypeError"))] == []


def test_kernels_cache_outside_the_installed_package():
    # Caches written beside the source stayed behind when pip uninstalled
    # randla (pip does not know the files), and the folder they kept
    # shadowed the next, editable, install: `import randla` from another
    # directory gave an empty namespace package.
    import os
    import pathlib

    import numba
    from numba.core.registry import CPUDispatcher

    from randla import _kernels

    package = pathlib.Path(_kernels.__file__).resolve().parent
    kernels = [k for k in vars(_kernels).values() if isinstance(k, CPUDispatcher)]
    assert len(kernels) >= 10
    for kernel in kernels:
        path = pathlib.Path(kernel._cache._cache_path).resolve()
        assert package not in (path, *path.parents), f"{kernel.__name__} caches in {path}"
    # The user's numba is left as it was.
    assert numba.config.CACHE_DIR == os.environ.get("NUMBA_CACHE_DIR", "")
