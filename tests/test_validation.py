import numpy as np
import pytest
import scipy.sparse as sp

from randla._validation import (
    as_matrix,
    check_finite,
    check_finite_result,
    check_int,
    check_number,
    check_option,
    check_p,
    check_rng,
)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_as_matrix_keeps_float_dtype_order_and_memory(dtype, order):
    A = np.ones((4, 3), dtype=dtype, order=order)
    B = as_matrix(A)
    assert B.dtype == dtype
    assert B is A  # no copy of a valid float array


@pytest.mark.parametrize("dtype", [np.int8, np.int64, np.uint16, np.bool_, np.float16])
def test_as_matrix_converts_other_reals_to_float64(dtype):
    A = np.ones((4, 3), dtype=dtype)
    B = as_matrix(A)
    assert B.dtype == np.float64
    np.testing.assert_array_equal(B, 1.0)


def test_as_matrix_accepts_nested_lists_and_forced_dtype():
    assert as_matrix([[1, 2], [3, 4]]).dtype == np.float64
    assert as_matrix(np.ones((2, 2)), dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(
    "A, match",
    [
        (np.ones(3), r"A must be 2-D, got an array of shape \(3,\)"),
        (np.ones((2, 2, 2)), "A must be 2-D"),
        (np.ones((0, 3)), r"A must not be empty, got shape \(0, 3\)"),
        (np.ones((3, 0)), "A must not be empty"),
    ],
)
def test_as_matrix_rejects_bad_shapes(A, match):
    with pytest.raises(ValueError, match=match):
        as_matrix(A)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("bad, kind", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_as_matrix_names_first_nonfinite_position(bad, kind, order):
    A = np.ones((30, 5), order=order)
    A[17, 3] = bad
    A[20, 0] = bad
    with pytest.raises(ValueError, match=rf"X contains {kind} \(first at row 17, column 3\)"):
        as_matrix(A, "X")


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_as_matrix_names_nonfinite_position_in_sparse(fmt):
    A = sp.lil_array((6, 4))
    A[1, 1] = 2.0
    A[4, 2] = np.nan
    A = A.asformat(fmt)
    with pytest.raises(ValueError, match=r"contains NaN \(first at row 4, column 2\)"):
        as_matrix(A, accept_sparse=True)


def test_as_matrix_sparse_formats():
    A = sp.random_array((5, 4), density=0.5, rng=0, format="coo")
    B = as_matrix(A, accept_sparse=True)
    assert B.format == "csr"
    np.testing.assert_array_equal(B.toarray(), A.toarray())
    C = sp.csc_array(np.eye(3, dtype=np.int64))
    assert as_matrix(C, accept_sparse=True).dtype == np.float64
    assert (
        as_matrix(sp.csr_array(np.eye(3, dtype=np.float32)), accept_sparse=True).dtype == np.float32
    )
    with pytest.raises(TypeError, match="A must be a dense array.*got CSR"):
        as_matrix(sp.csr_array(np.eye(3)))


def test_as_matrix_rejects_complex_and_non_numeric():
    with pytest.raises(TypeError, match="A must be real, got complex"):
        as_matrix(np.ones((2, 2), dtype=complex))
    with pytest.raises(TypeError, match="A must be numeric"):
        as_matrix(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="B must be numeric"):
        as_matrix(np.array([[object()]]), "B")


def test_check_finite_result_distinguishes_bad_input_from_overflow():
    A = np.ones((3, 2))
    assert check_finite_result(np.ones(2), A, "A", "S @ A") is not None
    A[2, 1] = np.inf
    with pytest.raises(ValueError, match=r"A contains inf \(first at row 2, column 1\)"):
        check_finite_result(np.array([np.inf]), A, "A", "S @ A")
    with pytest.raises(ValueError, match="S @ A overflowed although A is finite"):
        check_finite_result(np.array([np.inf]), np.ones((3, 2)), "A", "S @ A")


def test_check_rng():
    g = np.random.default_rng(3)
    assert check_rng(g) is g
    assert isinstance(check_rng(None), np.random.Generator)
    a = check_rng(5).standard_normal(3)
    b = check_rng(np.int64(5)).standard_normal(3)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(
        TypeError, match="rng must be None, an int seed or a numpy.random.Generator"
    ):
        check_rng(np.random.RandomState(0))
    with pytest.raises(TypeError, match="rng must be"):
        check_rng(1.5)
    with pytest.raises(ValueError, match="rng must be a non-negative seed, got -1"):
        check_rng(-1)


def test_check_p():
    assert check_p(1) == 1.0
    assert check_p(np.float32(2.5)) == 2.5
    with pytest.raises(ValueError, match="p must be >= 1 and finite, got 0.5"):
        check_p(0.5)
    with pytest.raises(ValueError, match="p must be >= 1"):
        check_p(np.inf)
    with pytest.raises(TypeError, match="p must be a real number"):
        check_p("2")
    with pytest.raises(TypeError):
        check_p(True)


def test_check_int():
    assert check_int(np.int32(3), "k") == 3
    with pytest.raises(ValueError, match="k must be >= 1, got 0"):
        check_int(0, "k")
    with pytest.raises(ValueError, match="k must be <= 10, got 11"):
        check_int(11, "k", maximum=10)
    with pytest.raises(TypeError, match="k must be an integer, got builtins.float"):
        check_int(2.0, "k")
    with pytest.raises(TypeError, match="got bool"):
        check_int(True, "k")


def test_check_option_lists_valid_values():
    assert check_option("qr", "method", ("qr", "sketch")) == "qr"
    with pytest.raises(ValueError, match="method must be one of 'qr', 'sketch'; got 'skech'"):
        check_option("skech", "method", ("qr", "sketch"))
    with pytest.raises(ValueError, match="got None"):
        check_option(None, "method", ("qr",))


@pytest.mark.parametrize("bad, kind", [(np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_every_message_names_a_nonfinite_value_the_same_way(bad, kind):
    # NaN was "nan" in the interval checks and "NaN" in the array checks.
    with pytest.raises(ValueError, match=rf"tol must be in \(0, 1\), got {kind}$"):
        check_number(bad, "tol", "(0, 1)")
    with pytest.raises(ValueError, match=rf"p must be >= 1 and finite, got {kind}$"):
        check_p(bad)
    with pytest.raises(ValueError, match=rf"w contains {kind} \(first at index 1\)"):
        check_finite(np.array([0.0, bad]), "w")
