"""The API contract (docs/contract.rst), checked for every public function.

Every function in ``randla.__all__`` (and in ``randla.dpp`` and
``randla.bases``) has a case here, or a reason in ``NOT_CASES``: a new
function cannot join the API without passing the contract.
"""

import dataclasses
import inspect
import re
import tracemalloc
import warnings

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

import randla
from randla import bases, dpp

N, D = 600, 5


def _tall(rng=None):
    rng = np.random.default_rng(0) if rng is None else rng
    A = rng.standard_normal((N, D)) * np.geomspace(1, 1e-3, D)
    A[:3] *= 20  # a few rows of high leverage
    return A


_A = _tall()
_B = _A @ np.ones(D) + np.random.default_rng(1).standard_t(2, size=N)


def _rows(A):
    """The number of rows of A, or 1 for inputs without rows (the bad ones below)."""
    return np.shape(A)[0] if np.ndim(A) and np.shape(A)[0] else 1


def _uniform(A, p):
    """A fixed sample of A's rows, for the distortion functions."""
    return randla.uniform_sample(np.ones((_rows(A), 1)), min(60, _rows(A)), p=p, rng=0)


# Functions of a tall n x d matrix A: call(A, rng). `keeps` says whether the
# float output keeps a float32 A's dtype (True) or is float64 whatever A's
# dtype (False: Lewis weights, sensitivities and solvers work in float64,
# sampling weights and probabilities are always float64).
TALL = {
    "sketch": (lambda A, rng: randla.sketch(A, 40, kind="sparse_sign", rng=rng), True),
    "leverage_scores": (lambda A, rng: randla.leverage_scores(A, rng=rng), True),
    "ridge_leverage_scores": (lambda A, rng: randla.ridge_leverage_scores(A, 0.1, rng=rng), True),
    "root_leverage_scores": (lambda A, rng: randla.root_leverage_scores(A, 1.5, rng=rng), True),
    "orthonormal_basis": (lambda A, rng: randla.orthonormal_basis(A, rng=rng), True),
    "lewis_weights": (lambda A, rng: randla.lewis_weights(A, 1.5, rng=rng), True),
    "lewis_residual": (lambda A, rng: randla.lewis_residual(A, np.ones(_rows(A)), p=1.5), False),
    "lp_sensitivities": (
        lambda A, rng: randla.lp_sensitivities(A, 1.5, method="lewis", rng=rng),
        False,
    ),
    "total_sensitivity": (
        lambda A, rng: randla.total_sensitivity(A, 1.5, method="lewis", rng=rng),
        False,
    ),
    "leverage_sample": (lambda A, rng: randla.leverage_sample(A, 60, rng=rng), False),
    "uniform_sample": (lambda A, rng: randla.uniform_sample(A, 60, rng=rng), False),
    "sensitivity_sample": (lambda A, rng: randla.sensitivity_sample(A, 60, p=1.5, rng=rng), False),
    "root_leverage_sample": (
        lambda A, rng: randla.root_leverage_sample(A, 60, p=1.5, rng=rng),
        False,
    ),
    "lewis_sample": (lambda A, rng: randla.lewis_sample(A, 60, p=3, rng=rng), False),
    "hybrid_sample": (lambda A, rng: randla.hybrid_sample(A, 60, p=3, rng=rng), False),
    "augmented_sample": (lambda A, rng: randla.augmented_sample(A, 60, p=1.5, rng=rng), False),
    "volume_sample": (lambda A, rng: randla.volume_sample(A, 8, rng=rng), False),
    "subspace_distortion": (
        lambda A, rng: randla.subspace_distortion(A, _uniform(A, 2), rng=rng),
        False,
    ),
    "lp_distortion": (
        lambda A, rng: randla.lp_distortion(
            A, _uniform(A, 1.5), directions=8, ascent_steps=3, rng=rng
        ),
        False,
    ),
    "lstsq": (lambda A, rng: randla.lstsq(A, _B, rng=rng), True),
    "volume_lstsq": (lambda A, rng: randla.volume_lstsq(A, _B, 8, rng=rng), False),
    "lp_regression": (lambda A, rng: randla.lp_regression(A, _B, 1.5, rng=rng), False),
}

_LEGENDRE = bases.legendre(5)
_L = _tall()[:40, :] @ _tall()[:40, :].T + 0.1 * np.eye(40)
_CAL = np.random.default_rng(2).standard_normal((3, 32, 6))
_CAL_Y = (1 + 0.3 * np.random.default_rng(3).random(32)) * np.einsum("lmn,n->lm", _CAL, np.ones(6))
_DECONV_Y = np.random.default_rng(4).standard_normal((3, 32))
_K_PROJECTION = (lambda Q: Q @ Q.T)(np.linalg.qr(_tall()[:40])[0])  # rank 5
_REPEATED_FACTOR = np.random.default_rng(5).standard_normal((40, 12))
_L_REPEATED = _REPEATED_FACTOR @ _REPEATED_FACTOR.T + np.eye(40)

# The other functions: call(rng) on fixed inputs, and those inputs.
OTHER = {
    "sample_rows": (lambda rng: randla.sample_rows(_A[:, 0] ** 2, 60, rng=rng), [_A]),
    "optimal_sample": (lambda rng: randla.optimal_sample(_LEGENDRE, 20, rng=rng), []),
    "projection_dpp_sample": (lambda rng: randla.projection_dpp_sample(_LEGENDRE, rng=rng), []),
    "volume_rescaled_sample": (
        lambda rng: randla.volume_rescaled_sample(_LEGENDRE, 10, rng=rng),
        [],
    ),
    "repeated_dpp_sample": (lambda rng: randla.repeated_dpp_sample(_LEGENDRE, 12, rng=rng), []),
    "dpp_wls": (lambda rng: randla.dpp_wls(np.cos, _LEGENDRE, 12, rng=rng), []),
    "self_calibrate": (lambda rng: randla.self_calibrate(_CAL_Y, _CAL, rng=rng), [_CAL, _CAL_Y]),
    "blind_deconvolve": (
        lambda rng: randla.blind_deconvolve(_DECONV_Y, _CAL, rng=rng),
        [_CAL, _DECONV_Y],
    ),
    "sample_projection_dpp": (
        lambda rng: dpp.sample_projection_dpp(_A[:40], orthonormalize=True, rng=rng),
        [_A],
    ),
    "sample_dpp": (lambda rng: dpp.sample_dpp(L=_L, rng=rng), [_L]),
    "sample_dpp, projection K": (
        lambda rng: dpp.sample_dpp(K=_K_PROJECTION, rng=rng),
        [_K_PROJECTION],
    ),
    "sample_kdpp": (lambda rng: dpp.sample_kdpp(4, L=_L, rng=rng), [_L]),
    # Degenerate spectra: eigenvalue 1 of multiplicity 28, whose eigenvectors
    # eigh picks differently on another thread count (the sample did too).
    "sample_kdpp, repeated eigenvalue": (
        lambda rng: dpp.sample_kdpp(10, L=_L_REPEATED, rng=rng),
        [_L_REPEATED],
    ),
    "sample_dpp, repeated eigenvalue": (
        lambda rng: dpp.sample_dpp(L=_L_REPEATED, rng=rng),
        [_L_REPEATED],
    ),
}

# Public callables without a case, and why.
NOT_CASES = {
    "sketch_size": "deterministic arithmetic on integers; tests/test_sketch.py",
    "fit_wls": "deterministic weighted solve of given points; tests/test_wls_inputs.py",
    "legendre": "builds a basis (no input arrays, no randomness); tests/test_bases.py",
    "hermite": "builds a basis; tests/test_bases.py",
    "chebyshev": "builds a basis; tests/test_bases.py",
    "tensor": "builds a basis; tests/test_bases.py",
    "custom": "wraps a user's function as a basis; tests/test_bases.py",
}


def _public_functions():
    names = [n for n in randla.__all__ if inspect.isfunction(getattr(randla, n))]
    names += [n for n in dpp.__all__ if inspect.isfunction(getattr(dpp, n))]
    names += [n for n in bases.__all__ if inspect.isfunction(getattr(bases, n))]
    return names


def test_every_public_function_has_a_case():
    missing = [
        n for n in _public_functions() if n not in TALL and n not in OTHER and n not in NOT_CASES
    ]
    assert not missing, f"public functions without a contract case: {missing}"


def _arrays(result):
    """The arrays and numbers of a result, flattened in a fixed order."""
    if sp.issparse(result):
        return [result.toarray()]
    if isinstance(result, np.ndarray):
        return [result]
    if isinstance(result, (float, int, np.floating, np.integer, bool, str)):
        return [np.asarray(result)]
    if dataclasses.is_dataclass(result):
        return [a for f in dataclasses.fields(result) for a in _arrays(getattr(result, f.name))]
    if isinstance(result, (tuple, list)):
        return [a for item in result for a in _arrays(item)]
    if result is None or callable(result):
        return []
    raise TypeError(f"no arrays in {type(result)}")


def _float_arrays(result):
    """The float arrays of a result (not its scalars: norms and estimates are Python floats)."""
    return [a for a in _arrays(result) if a.dtype.kind == "f" and a.ndim > 0]


def _assert_identical(a, b):
    xs, ys = _arrays(a), _arrays(b)
    assert len(xs) == len(ys)
    for x, y in zip(xs, ys, strict=True):
        np.testing.assert_array_equal(x, y)


def _assert_close(a, b, dtype):
    """Equal to a tolerance of the dtype's precision (different memory order: other rounding)."""
    tol = 1e3 * np.finfo(dtype).eps
    for x, y in zip(_arrays(a), _arrays(b), strict=True):
        if x.dtype.kind in "fc":
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol * max(1.0, np.abs(y).max()))
        else:
            np.testing.assert_array_equal(x, y)


_CALLS = [(name, call) for name, (call, _) in TALL.items()] + [
    (name, lambda A, rng, call=call: call(rng)) for name, (call, _) in OTHER.items()
]
_RANDOM = [(name, call) for name, call in _CALLS if name != "lewis_residual"]


@pytest.mark.parametrize(("name", "call"), _RANDOM, ids=[n for n, _ in _RANDOM])
def test_same_seed_same_bits_and_every_rng_form(name, call):
    first = call(_A, 7)
    assert all(np.isfinite(a).all() for a in _float_arrays(first)), "a non-finite output"
    _assert_identical(first, call(_A, 7))
    _assert_identical(first, call(_A, np.random.default_rng(7)))
    call(_A, None)
    with pytest.raises(TypeError, match="rng"):
        call(_A, np.random.RandomState(7))


@pytest.mark.parametrize(("name", "call"), _CALLS, ids=[n for n, _ in _CALLS])
def test_output_does_not_depend_on_the_thread_count(name, call):
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    many = call(_A, 3)
    try:
        numba.set_num_threads(1)
        with threadpool_limits(1):
            one = call(_A, 3)
    finally:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    _assert_identical(many, one)


@pytest.mark.parametrize("name", list(TALL) + list(OTHER))
def test_inputs_are_not_modified(name):
    if name in TALL:
        A, b = _A.copy(), _B.copy()
        TALL[name][0](A, 0)
        np.testing.assert_array_equal(A, _A)
        np.testing.assert_array_equal(_B, b)
    else:
        call, inputs = OTHER[name]
        copies = [x.copy() for x in inputs]
        call(0)
        for x, copy in zip(inputs, copies, strict=True):
            np.testing.assert_array_equal(x, copy)


@pytest.mark.parametrize("name", list(TALL))
def test_dtype_and_memory_order_policy(name):
    call, keeps = TALL[name]
    reference = call(_A, 0)
    expected = np.float32 if keeps else np.float64
    single = call(_A.astype(np.float32), 0)
    assert {a.dtype for a in _float_arrays(single)} <= {np.dtype(expected)}, name
    _assert_close(single, reference, np.float32)
    _assert_close(call(np.asfortranarray(_A), 0), reference, np.float64)
    integers = np.round(_A * 100).astype(np.int64)
    _assert_identical(call(integers, 0), call(integers.astype(np.float64), 0))
    for fmt in ("csr", "csc"):
        _assert_close(call(sp.csr_array(_A).asformat(fmt), 0), reference, np.float64)


def _with(A, i, j, value):
    A = A.copy()
    A[i, j] = value
    return A


_BAD = {
    "NaN": (_with(_A, 17, 2, np.nan), ValueError, r"A contains NaN \(first at row 17, column 2\)"),
    "-inf": (_with(_A, 5, 0, -np.inf), ValueError, r"A contains -inf \(first at row 5, column 0\)"),
    "empty": (np.zeros((0, D)), ValueError, "A must not be empty"),
    "1-D": (_A[:, 0], ValueError, "A must be 2-D"),
    "complex": (_A + 0j, TypeError, "A must be real"),
    "text": ("A", TypeError, "A must be"),
}


@pytest.mark.parametrize("bad", list(_BAD))
@pytest.mark.parametrize("name", list(TALL))
def test_bad_input_is_refused_naming_the_argument(name, bad):
    A, error, message = _BAD[bad]
    with pytest.raises(error, match=message):
        TALL[name][0](A, 0)


def _peak_bytes(f):
    tracemalloc.start()
    try:
        f()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# Peak traced memory of a tall function, beyond its input, as a multiple of
# n d itemsize; the docs (contract.rst) state it.
MEMORY_MULTIPLE = 4.0


@pytest.mark.parametrize("name", list(TALL))
def test_no_n_by_n_memory_for_tall_input(name):
    n, d = 200_000, 8
    A = np.random.default_rng(0).standard_normal((n, d))
    global _B
    saved, _B = _B, A @ np.ones(d) + np.random.default_rng(1).standard_normal(n)
    try:
        peak = _peak_bytes(lambda: TALL[name][0](A, 0))
    finally:
        _B = saved
    assert peak < MEMORY_MULTIPLE * A.nbytes, f"{name}: peak {peak / A.nbytes:.2f} x n d itemsize"


# Arguments other than A: the exponent, the sample size, b.
_BAD_ARGUMENTS = {
    "p < 1": (
        "p must be >= 1",
        [
            lambda: randla.root_leverage_scores(_A, 0.5),
            lambda: randla.lewis_weights(_A, 0.5),
            lambda: randla.lp_sensitivities(_A, 0),
            lambda: randla.sensitivity_sample(_A, 10, p=0.5),
            lambda: randla.lewis_sample(_A, 10, p=0.9),
            lambda: randla.uniform_sample(_A, 10, p=0.5),
            lambda: randla.sample_rows(np.ones(N), 10, p=-1),
            lambda: randla.lp_regression(_A, _B, 0.5),
        ],
    ),
    "k <= 0": (
        "must be >= 1",
        [
            lambda: randla.sketch(_A, 0),
            lambda: randla.leverage_sample(_A, 0),
            lambda: randla.sensitivity_sample(_A, -3, p=1.5),
            lambda: randla.volume_sample(_A, 0),
            lambda: randla.volume_lstsq(_A, _B, 0),
            lambda: randla.lp_regression(_A, _B, 1.5, k=0),
            lambda: randla.optimal_sample(_LEGENDRE, 0),
        ],
    ),
    "k > n": (
        "must be <=",
        [
            lambda: randla.leverage_sample(_A, N + 1),
            lambda: randla.uniform_sample(_A, N + 1),
            lambda: randla.sample_rows(np.ones(N), N + 1),
            lambda: randla.volume_sample(_A, N + 1),
            lambda: randla.lp_regression(_A, _B, 1.5, k=N + 1),
            lambda: dpp.sample_kdpp(41, L=_L),
        ],
    ),
    "b of another length": (
        "b must have 600 rows",
        [
            lambda: randla.lstsq(_A, _B[:-1]),
            lambda: randla.volume_lstsq(_A, _B[:-1], 8),
            lambda: randla.lp_regression(_A, _B[:-1], 1.5),
        ],
    ),
}


@pytest.mark.parametrize("case", list(_BAD_ARGUMENTS))
def test_bad_arguments_are_refused_naming_them(case):
    message, calls = _BAD_ARGUMENTS[case]
    for call in calls:
        with pytest.raises(ValueError, match=message):
            call()


# The functions of a tall A that take a dask array (docs/scaling.rst); the
# others refuse it rather than compute it into memory.
DASK = {
    "sketch",
    "leverage_scores",
    "root_leverage_scores",
    "lewis_weights",
    "lp_sensitivities",
    "total_sensitivity",
    "leverage_sample",
    "uniform_sample",
    "sensitivity_sample",
    "root_leverage_sample",
    "lewis_sample",
    "hybrid_sample",
    "augmented_sample",
    "lstsq",
}


@pytest.mark.parametrize("name", list(TALL))
def test_dask_input_gives_the_in_memory_result_or_a_clear_refusal(name):
    da = pytest.importorskip("dask.array")
    import dask

    call = TALL[name][0]
    A = da.from_array(_A, chunks=(170, D))
    with dask.config.set(scheduler="synchronous"):
        if name == "lstsq":  # "auto" preconditions a dask A of any size
            np.testing.assert_allclose(call(A, 0).x, call(_A, 0).x, rtol=1e-10)
        elif name in DASK:
            _assert_close(call(A, 0), call(_A, 0), np.float64)
        elif name == "lp_regression":
            with pytest.raises(ValueError, match="k is required"):
                call(A, 0)
        else:
            with pytest.raises(TypeError, match="A is a dask array"):
                call(A, 0)


# Memory-mapped input: a file-backed map of any dtype is read block by block
# and its pages dropped after use; copies and conversions of a memmap (numpy
# types them np.memmap too) are ordinary memory, whose pages must never be
# dropped (that zeroed them). Each case compares with the in-memory result
# and checks that the caller's array still holds its values.
_MEMMAP_DTYPES = ["float64", "float32", "float16", "int64", "int8", "bool"]


def _memmap_values(dtype):
    if dtype == "bool":  # no zero rows (lewis_residual's weights are positive)
        A = np.random.default_rng(5).random((N, D)) < 0.5
        A[:, 0] |= ~A.any(axis=1)
        return A
    if dtype.startswith("int"):
        return np.round(_A * 40).astype(dtype)
    return _A.astype(dtype)


@pytest.fixture(scope="module")
def memmaps(tmp_path_factory):
    folder = tmp_path_factory.mktemp("memmaps")
    paths = {}
    for dtype in _MEMMAP_DTYPES:
        paths[dtype] = folder / f"A_{dtype}.npy"
        np.save(paths[dtype], _memmap_values(dtype))
    return paths


_CONTAINERS = {
    "memmap": lambda path: np.load(path, mmap_mode="r"),
    "memmap r+": lambda path: np.load(path, mmap_mode="r+"),
    "copy of a memmap": lambda path: np.load(path, mmap_mode="r").copy(),
    "astype of a memmap": lambda path: np.load(path, mmap_mode="r").astype(np.float64),
    "slice of a memmap": lambda path: np.load(path, mmap_mode="r")[:, :],
}


@pytest.mark.parametrize("container", list(_CONTAINERS))
@pytest.mark.parametrize("dtype", _MEMMAP_DTYPES)
@pytest.mark.parametrize("name", list(TALL))
def test_memmaps_and_their_copies_give_the_in_memory_result(name, dtype, container, memmaps):
    call = TALL[name][0]
    A = _CONTAINERS[container](memmaps[dtype])
    values = np.array(A)  # the same numbers in ordinary memory
    np.testing.assert_array_equal(values, _memmap_values(dtype).astype(values.dtype))
    reference = call(values, 0)
    result = call(A, 0)
    np.testing.assert_array_equal(np.asarray(A), values, err_msg="the caller's array changed")
    _assert_identical(result, reference)


# Containers that are not plain ndarrays: a masked array is refused by name
# (its mask would be ignored: the masked entries are numbers the computation
# would use), np.matrix is taken as the ndarray it holds (it crashed lstsq,
# lp_regression, volume_lstsq, lewis_residual and lp_distortion).
@pytest.mark.parametrize("name", list(TALL))
def test_masked_arrays_are_refused_by_name(name):
    masked = np.ma.masked_array(_A, mask=np.zeros(_A.shape, dtype=bool))
    masked.mask[4, 1] = True
    with pytest.raises(TypeError, match="A is a numpy.ma.MaskedArray"):
        TALL[name][0](masked, 0)


@pytest.mark.parametrize("name", list(TALL))
def test_np_matrix_is_taken_as_its_ndarray(name):
    call = TALL[name][0]
    _assert_identical(call(np.asmatrix(_A), 0), call(_A, 0))


_MASKED = np.ma.masked_array(_B, mask=np.arange(N) == 3)
_OTHER_ARRAYS = {
    "K of sample_dpp, projection=True": lambda: dpp.sample_dpp(
        K=np.ma.masked_array(_K_PROJECTION), projection=True, rng=0
    ),
    "b of lstsq": lambda: randla.lstsq(_A, _MASKED),
    "b of lp_regression": lambda: randla.lp_regression(_A, _MASKED, 1.5),
    "b of volume_lstsq": lambda: randla.volume_lstsq(_A, _MASKED, 8),
    "weights of lstsq": lambda: randla.lstsq(_A, _B, weights=np.ma.abs(_MASKED)),
    "scores of sample_rows": lambda: randla.sample_rows(np.ma.abs(_MASKED), 10),
    "w of lewis_residual": lambda: randla.lewis_residual(_A, np.ma.abs(_MASKED) + 1, p=1.5),
    "RowSample.apply": lambda: randla.uniform_sample(_A, 10, rng=0).apply(_MASKED),
    "SketchOperator @": lambda: randla.SketchDistribution("gaussian", 8).draw(N, rng=0) @ _MASKED,
    "L of sample_dpp": lambda: dpp.sample_dpp(L=np.ma.masked_array(_L), rng=0),
    "K of sample_dpp": lambda: dpp.sample_dpp(K=np.ma.masked_array(0.5 * np.eye(40)), rng=0),
    "factor of sample_kdpp": lambda: dpp.sample_kdpp(2, factor=np.ma.masked_array(_A[:40])),
    "eig[0] of sample_dpp": lambda: dpp.sample_dpp(
        eig=(np.ma.masked_array(np.ones(3)), np.eye(40)[:, :3]), rng=0
    ),
    "V of sample_projection_dpp": lambda: dpp.sample_projection_dpp(
        np.ma.masked_array(np.eye(40)[:, :3]), rng=0
    ),
}


@pytest.mark.parametrize("case", list(_OTHER_ARRAYS))
def test_masked_arrays_are_refused_in_every_array_argument(case):
    name = case.split(" of ")[0] if " of " in case else "A"
    with pytest.raises(TypeError, match=re.escape(f"{name} is a numpy.ma.MaskedArray")):
        _OTHER_ARRAYS[case]()


# Scale: multiplying A (and b) by c changes no invariant output (scores,
# weights, samples, distortions, solutions of A x ~ b when b is scaled too)
# and multiplies the equivariant ones (sketches, residual norms,
# objectives) by c. Before, residual norms overflowed to inf or underflowed
# to 0 at 1e300 and 1e-170 while x was right.
_EQUIVARIANT = {
    "sketch": None,
    "lstsq": {"residual_norm"},
    "volume_lstsq": {"residual_norm"},
    "lp_regression": {"objective"},
}  # None: the whole output
# Fields that are rounding-level numbers: compared in absolute terms.
_ROUNDING_FIELDS = {"gap"}
_SCALES = [1e-300, 1e-150, 1e-8, 1e8, 1e150, 1e300]


def _fields(result):
    if dataclasses.is_dataclass(result):
        return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    return {"": result}


@pytest.mark.parametrize("c", _SCALES)
@pytest.mark.parametrize("name", [n for n in TALL if n != "ridge_leverage_scores"])
def test_scaling_A_and_b_scales_only_the_equivariant_outputs(name, c):
    # ridge_leverage_scores is left out: its lam fixes a scale.
    global _B
    call = TALL[name][0]
    reference = call(_A, 0)
    saved, _B = _B, _B * c
    try:
        result = call(_A * c, 0)
    finally:
        _B = saved
    scaled = _EQUIVARIANT.get(name, set())
    expected, got = _fields(reference), _fields(result)
    for field, value in expected.items():
        factor = c if scaled is None or field in scaled else 1.0
        if isinstance(value, str | bool | np.bool_):
            assert got[field] == value, field
            continue
        value = np.asarray(value, dtype=float) * factor
        atol = 1e-9 if field in _ROUNDING_FIELDS else 1e-12 * float(np.max(np.abs(value)))
        np.testing.assert_allclose(got[field], value, rtol=1e-9, atol=atol, err_msg=field)


# Large p: every function of an l_p exponent converges or warns at p = 20,
# 50 and 100, and returns finite numbers; none raises (lp_regression raised
# LinAlgError from a Hessian whose weights |r|^(p-2) underflowed).
_LARGE_P = {
    "lewis_weights": lambda p: randla.lewis_weights(_A, p, rng=0),
    "lp_sensitivities": lambda p: randla.lp_sensitivities(_A, p, method="lewis", rng=0),
    "sensitivity_sample": lambda p: randla.sensitivity_sample(_A, 60, p=p, rng=0),
    "lewis_sample": lambda p: randla.lewis_sample(_A, 60, p=p, rng=0),
    "hybrid_sample": lambda p: randla.hybrid_sample(_A, 60, p=p, rng=0),
    "uniform_sample": lambda p: randla.uniform_sample(_A, 60, p=p, rng=0),
    "lp_distortion": lambda p: randla.lp_distortion(
        _A, randla.uniform_sample(_A, 60, p=p, rng=0), directions=8, ascent_steps=3, rng=0
    ),
    "lp_regression": lambda p: randla.lp_regression(_A, _B, p),
    "lp_regression sampled": lambda p: randla.lp_regression(_A, _B, p, k=200, rng=0),
}


@pytest.mark.parametrize("p", [20.0, 50.0, 100.0])
@pytest.mark.parametrize("name", list(_LARGE_P))
def test_large_p_converges_or_warns_and_never_raises(name, p):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", randla.ConvergenceWarning)
        result = _LARGE_P[name](p)
    assert all(np.isfinite(a).all() for a in _arrays(result) if a.dtype.kind == "f")


# Results compare by identity: a result holds arrays, and the dataclass
# equality compared them elementwise (== raised ValueError, hash TypeError).
_RESULTS = {
    "RowSample": lambda: randla.uniform_sample(_A, 60, rng=0),
    "volume_sample": lambda: randla.volume_sample(_A, 8, rng=0),
    "LstsqResult": lambda: randla.lstsq(_A, _B),
    "volume_lstsq": lambda: randla.volume_lstsq(_A, _B, 8, rng=0),
    "LpRegressionResult": lambda: randla.lp_regression(_A, _B, 1.5),
    "PointSample": lambda: randla.optimal_sample(_LEGENDRE, 20, rng=0),
    "WLSResult": lambda: randla.dpp_wls(np.cos, _LEGENDRE, 12, rng=0),
    "CalibrationResult": lambda: randla.self_calibrate(_CAL_Y, _CAL, rng=0),
    "DeconvolutionResult": lambda: randla.blind_deconvolve(_DECONV_Y, _CAL, rng=0),
}


@pytest.mark.parametrize("name", list(_RESULTS))
def test_results_compare_by_identity_and_hash(name):
    first, second = _RESULTS[name](), _RESULTS[name]()
    assert first == first and first != second and not (first == second)
    assert len({first, second}) == 2


def test_every_result_type_is_covered():
    types = {type(f()) for f in _RESULTS.values()}
    exported = {getattr(randla, name) for name in randla.__all__}
    exported = {obj for obj in exported if isinstance(obj, type) and dataclasses.is_dataclass(obj)}
    assert {t for t in exported if t.__name__.endswith(("Result", "Sample"))} <= types


def test_one_type_per_field():
    # volume_sample(...).p was an int where every other RowSample has a float.
    samples = [_RESULTS[name]() for name in ("RowSample", "volume_sample")]
    for field in dataclasses.fields(samples[0]):
        kinds = {type(getattr(s, field.name)) for s in samples}
        assert len(kinds) == 1, (field.name, kinds)


# Exact quantities do not depend on rng beyond rounding, and without one they
# are the same bit for bit (lewis_weights drew a fresh preconditioner). The
# tall shape takes the sketch-preconditioned path.
_TALL_A = np.random.default_rng(7).standard_normal((60_000, 5)) * np.geomspace(1, 1e-4, 5)
_TALL_B = _TALL_A @ np.ones(5) + np.random.default_rng(8).standard_t(2, size=60_000)
_EXACT = {
    "leverage_scores": lambda: randla.leverage_scores(_TALL_A),
    "ridge_leverage_scores": lambda: randla.ridge_leverage_scores(_TALL_A, 0.1),
    "root_leverage_scores": lambda: randla.root_leverage_scores(_TALL_A, 1.5),
    "orthonormal_basis": lambda: randla.orthonormal_basis(_TALL_A),
    "lewis_weights": lambda: randla.lewis_weights(_TALL_A, 1.5),
    "lewis_residual": lambda: randla.lewis_residual(_TALL_A, np.full(60_000, 5 / 60_000), p=1.5),
    "lp_sensitivities": lambda: randla.lp_sensitivities(_TALL_A, 3, method="lewis"),
    "total_sensitivity": lambda: randla.total_sensitivity(_TALL_A, 1.5, method="lewis"),
    "subspace_distortion": lambda: randla.subspace_distortion(
        _TALL_A, randla.uniform_sample(_TALL_A, 600, rng=0)
    ),
    "lstsq": lambda: randla.lstsq(_TALL_A, _TALL_B).x,
    "lstsq lsqr": lambda: randla.lstsq(_TALL_A, _TALL_B, method="lsqr").x,
    "lp_regression": lambda: randla.lp_regression(_TALL_A[:5000], _TALL_B[:5000], 1.5).x,
}


@pytest.mark.parametrize("name", list(_EXACT))
def test_exact_quantities_are_reproducible_without_a_seed(name):
    first, second = _EXACT[name](), _EXACT[name]()
    assert np.array_equal(first, second)


# A declared parameter is valid or not whatever path the input takes: small
# inputs go to Householder QR and gelsd, tall ones to the sketches
# (leverage_scores(tall, rank_tol=-1) ran; lstsq(small, rank_tol=5) ran).
_DECLARED = {
    "leverage_scores": lambda A, v: randla.leverage_scores(A, rank_tol=v),
    "root_leverage_scores": lambda A, v: randla.root_leverage_scores(A, 1.5, rank_tol=v),
    "orthonormal_basis": lambda A, v: randla.orthonormal_basis(A, rank_tol=v),
    "lstsq": lambda A, v: randla.lstsq(A, A[:, 0], rank_tol=v),
    "lstsq lsqr": lambda A, v: randla.lstsq(A, A[:, 0], method="lsqr", rank_tol=v),
}


@pytest.mark.parametrize("value", [-1, 5, 1.0, np.nan, "0.1"])
@pytest.mark.parametrize("shape", [(100, 5), (60_000, 5)], ids=["small", "tall"])
@pytest.mark.parametrize("name", list(_DECLARED))
def test_rank_tol_is_checked_on_every_path(name, shape, value):
    A = _TALL_A[: shape[0]]
    error = TypeError if isinstance(value, str) else ValueError
    with pytest.raises(error, match="rank_tol"):
        _DECLARED[name](A, value)


# Warnings point at the caller's line (the first frame outside randla), also
# when a public function warns through another one.
_RANK_DEFICIENT = np.column_stack([_TALL_A[:20_000], np.zeros(20_000)])
_WARNS = {
    "leverage_scores": lambda: randla.leverage_scores(_RANK_DEFICIENT),
    "orthonormal_basis": lambda: randla.orthonormal_basis(_RANK_DEFICIENT),
    "lewis_weights": lambda: randla.lewis_weights(_RANK_DEFICIENT, 1.5),
    "lewis_weights, max_iter": lambda: randla.lewis_weights(_TALL_A, 1.5, max_iter=1),
    "lewis_sample": lambda: randla.lewis_sample(_RANK_DEFICIENT, 100, p=1.5, rng=0),
    "sensitivity_sample": lambda: randla.sensitivity_sample(_RANK_DEFICIENT, 100, p=1.5, rng=0),
    "hybrid_sample": lambda: randla.hybrid_sample(_RANK_DEFICIENT, 100, p=3, rng=0),
    "lp_distortion": lambda: randla.lp_distortion(
        _RANK_DEFICIENT, randla.uniform_sample(_RANK_DEFICIENT, 100, p=1.5, rng=0), rng=0
    ),
    "lstsq lsqr": lambda: randla.lstsq(_TALL_A, _TALL_B, method="lsqr", max_iter=1),
    "lp_regression": lambda: randla.lp_regression(_TALL_A[:2000], _TALL_B[:2000], 1.5, max_iter=1),
}


@pytest.mark.parametrize("name", list(_WARNS))
def test_warnings_point_at_the_callers_line(name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _WARNS[name]()
    ours = [w for w in caught if issubclass(w.category, randla.RandlaWarning)]
    assert ours, "no randla warning"
    assert {w.filename for w in ours} == {__file__}, [(w.filename, w.lineno) for w in ours]


# --- the coarse path (issue 16) ------------------------------------------------
# The samplers draw by coarse scores by default, and the score functions take
# method="coarse", but only on input tall enough for a sketch to pay: _A is
# not. The same contract on an input where that path runs.
_C = np.vstack([_tall(np.random.default_rng(s)) for s in range(20)])  # 12000 x 5
_C_B = _C @ np.ones(D) + np.random.default_rng(1).standard_t(2, size=len(_C))

COARSE = {
    "leverage_scores": lambda A, rng: randla.leverage_scores(A, method="coarse", rng=rng),
    "ridge_leverage_scores": lambda A, rng: randla.ridge_leverage_scores(
        A, 0.1, method="coarse", rng=rng
    ),
    "root_leverage_scores": lambda A, rng: randla.root_leverage_scores(
        A, 1.5, method="coarse", rng=rng
    ),
    "lewis_weights": lambda A, rng: randla.lewis_weights(A, 1.5, method="coarse", rng=rng),
    "leverage_sample": lambda A, rng: randla.leverage_sample(A, 60, rng=rng),
    "sensitivity_sample": lambda A, rng: randla.sensitivity_sample(A, 60, p=1.5, rng=rng),
    "root_leverage_sample": lambda A, rng: randla.root_leverage_sample(A, 60, p=1, rng=rng),
    "lewis_sample": lambda A, rng: randla.lewis_sample(A, 60, p=3, rng=rng),
    "hybrid_sample": lambda A, rng: randla.hybrid_sample(A, 60, p=3, rng=rng),
    "augmented_sample": lambda A, rng: randla.augmented_sample(A, 60, p=1.5, rng=rng),
    "lp_regression": lambda A, rng: randla.lp_regression(A, _C_B, 1.5, k=60, rng=rng),
}
# Float outputs in A's float dtype (the others are float64 whatever A's dtype).
_COARSE_KEEPS = {
    "leverage_scores",
    "ridge_leverage_scores",
    "root_leverage_scores",
    "lewis_weights",
}


@pytest.mark.parametrize("name", list(COARSE))
def test_the_coarse_path_meets_the_contract(name, tmp_path):
    call = COARSE[name]
    reference = call(_C, 7)
    if isinstance(reference, randla.RowSample):  # the path ran: its label says so
        assert reference.scores.startswith("coarse") and reference.k == 210
    # Same seed, same bits; every rng form; no n x n; inputs untouched.
    A = _C.copy()
    _assert_identical(call(A, np.random.default_rng(7)), reference)
    np.testing.assert_array_equal(A, _C)
    call(_C, None)
    with pytest.raises(TypeError, match="rng"):
        call(_C, np.random.RandomState(7))
    # Thread counts.
    with threadpool_limits(1):
        numba.set_num_threads(1)
        try:
            _assert_identical(call(_C, 7), reference)
        finally:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    # Dtypes and memory orders: close (other rounding), integers as floats.
    single = call(_C.astype(np.float32), 7)
    expected = np.float32 if name in _COARSE_KEEPS else np.float64
    assert {a.dtype for a in _float_arrays(single)} <= {np.dtype(expected)}
    _assert_close(call(np.asfortranarray(_C), 7), reference, np.float64)
    integers = np.round(_C * 100).astype(np.int64)
    _assert_identical(call(integers, 7), call(integers.astype(np.float64), 7))
    for fmt in ("csr", "csc"):
        _assert_close(call(sp.csr_array(_C).asformat(fmt), 7), reference, np.float64)
    # A memmap, and a copy of one, give the in-memory result bit for bit.
    np.save(tmp_path / "C.npy", _C)
    for container in ("memmap", "copy of a memmap"):
        mapped = _CONTAINERS[container](tmp_path / "C.npy")
        _assert_identical(call(mapped, 7), reference)
        np.testing.assert_array_equal(np.asarray(mapped), _C)
    # Bad input, by name.
    with pytest.raises(ValueError, match=r"A contains NaN \(first at row 17, column 2\)"):
        call(_with(_C, 17, 2, np.nan), 7)
    with pytest.raises(TypeError, match="A is a numpy.ma.MaskedArray"):
        call(np.ma.masked_array(_C, mask=np.zeros(_C.shape, dtype=bool)), 7)


@pytest.mark.parametrize("name", [n for n in COARSE if n in DASK])
def test_the_coarse_path_on_dask_gives_the_in_memory_result(name):
    da = pytest.importorskip("dask.array")
    import dask

    with dask.config.set(scheduler="synchronous"):
        result = COARSE[name](da.from_array(_C, chunks=(1700, D)), 7)
    _assert_close(result, COARSE[name](_C, 7), np.float64)
