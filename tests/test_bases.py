"""randla.bases: index sets enumerated directly, and arguments checked by name."""

import itertools
import math

import numpy as np
import pytest

from randla import bases


def _brute_force(kind, dim, degree):
    """The named set by filtering the (degree + 1)^dim grid, graded as randla orders it."""
    fits = {
        "total_degree": lambda a: sum(a) <= degree,
        "hyperbolic_cross": lambda a: math.prod(k + 1 for k in a) <= degree + 1,
        "full_tensor": lambda a: True,
    }[kind]
    found = [a for a in itertools.product(range(degree + 1), repeat=dim) if fits(a)]
    return sorted(found, key=lambda a: (sum(a), a))


@pytest.mark.parametrize("kind", ["total_degree", "hyperbolic_cross", "full_tensor"])
@pytest.mark.parametrize("dim", [1, 2, 3, 4])
@pytest.mark.parametrize("degree", [0, 1, 2, 3, 5, 7])
def test_named_index_sets_equal_the_brute_force_filter(kind, dim, degree):
    indices = bases.tensor("legendre", dim, degree=degree, index_set=kind).indices
    assert indices.dtype == np.int64 and indices.shape[1] == dim
    assert [tuple(a) for a in indices.tolist()] == _brute_force(kind, dim, degree)


def _hyperbolic_cross_size(dim, degree):
    """#{alpha in N^dim : prod (alpha_k + 1) <= degree + 1}, by counting factorizations.

    The alpha with prod (alpha_k + 1) = j are the ordered factorizations of j
    into dim factors >= 1: prod over the primes p^e of j of C(e + dim - 1, dim - 1).
    """
    total = 0
    for j in range(1, degree + 2):
        count, rest, p = 1, j, 2
        while rest > 1:
            e = 0
            while rest % p == 0:
                rest, e = rest // p, e + 1
            count *= math.comb(e + dim - 1, dim - 1)
            p += 1
        total += count
    return total


@pytest.mark.parametrize("dim, degree", [(12, 6), (40, 3), (20, 5), (3, 40), (100, 2), (6, 12)])
def test_large_total_degree_sets_have_the_binomial_size(dim, degree):
    # (degree + 1)^dim is 1.4e10 for (12, 6) and 1.2e24 for (40, 3): the grid
    # cannot be walked, the set (18564 and 12341 indices) can.
    basis = bases.tensor("legendre", dim, degree=degree)
    assert basis.m == math.comb(dim + degree, dim)
    assert len({tuple(a) for a in basis.indices.tolist()}) == basis.m
    assert basis.indices.sum(axis=1).max() == degree


@pytest.mark.parametrize("dim, degree", [(20, 5), (30, 7), (3, 40), (50, 3), (8, 100)])
def test_large_hyperbolic_crosses_have_the_counted_size(dim, degree):
    # Dim 20, degree 5: 671 indices out of a grid of 6^20 = 3.7e15.
    basis = bases.tensor("hermite", dim, degree=degree, index_set="hyperbolic_cross")
    assert basis.m == _hyperbolic_cross_size(dim, degree)
    assert np.prod(basis.indices + 1, axis=1).max() <= degree + 1
    if (dim, degree) == (20, 5):
        assert basis.m == 671


@pytest.mark.slow
def test_an_index_set_too_large_to_use_is_refused_before_it_is_built():
    with pytest.raises(ValueError, match=r"index_set='full_tensor' .* has more than 10000000"):
        bases.tensor("legendre", 40, degree=3, index_set="full_tensor")
    with pytest.raises(ValueError, match=r"index_set='total_degree' .* has more than"):
        bases.tensor("legendre", 60, degree=10)


@pytest.mark.parametrize(
    "build",
    [
        lambda d: bases.legendre(d),
        lambda d: bases.hermite(d),
        lambda d: bases.chebyshev(d),
        lambda d: bases.tensor("legendre", 2, degree=d),
        lambda d: bases.tensor("chebyshev", 2, degree=d, index_set="hyperbolic_cross"),
    ],
)
def test_degree_is_checked_by_name(build):
    for bad in ["3", 2.5, 2.0, True, [3]]:
        with pytest.raises(TypeError, match="^degree must be an integer, got "):
            build(bad)
    with pytest.raises(ValueError, match=r"^degree must be >= 0, got -1$"):
        build(-1)
    assert build(np.int64(2)).m == build(2).m


def test_a_missing_degree_is_named():
    with pytest.raises(TypeError, match="^degree must be an integer, got builtins.NoneType"):
        bases.hermite(None)
    with pytest.raises(ValueError, match="^degree is needed for index_set='total_degree'"):
        bases.tensor("hermite", 2)


def test_dim_is_checked_by_name():
    with pytest.raises(TypeError, match="^dim must be an integer"):
        bases.tensor("legendre", "2", degree=3)
    with pytest.raises(ValueError, match="^dim must be >= 1"):
        bases.tensor("legendre", 0, degree=3)


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_index_set_arrays_go_through_as_array():
    square = [[0, 0], [1, 0], [0, 1], [1, 1]]
    assert bases.tensor("legendre", 2, index_set=np.matrix(square)).m == 4
    with pytest.raises(TypeError, match="index_set is a numpy.ma.MaskedArray"):
        bases.tensor("legendre", 2, index_set=np.ma.masked_array(square))


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_points_are_checked_by_name():
    basis = bases.tensor("legendre", 2, degree=2)
    with pytest.raises(TypeError, match=r"^x must be real numbers, got dtype <U"):
        basis(np.array([["0.5", "0.1"]]))
    with pytest.raises(TypeError, match="^x must be real numbers, got dtype complex128"):
        basis(np.array([[0.5, 0.1j]]))
    with pytest.raises(TypeError, match="x is a numpy.ma.MaskedArray"):
        basis(np.ma.masked_array([[0.5, 0.1]]))
    with pytest.raises(ValueError, match=r"^x contains NaN \(first at row 1, column 0\)"):
        basis([[0.5, 0.1], [np.nan, 0.0]])
    x = np.array([[0.5, 0.1], [0.2, -0.3]])
    np.testing.assert_array_equal(basis(np.matrix(x)), basis(x))


@pytest.mark.parametrize("family", ["legendre", "hermite", "chebyshev"])
def test_overflow_far_out_is_an_error_not_inf(family, capfd):
    basis = bases.tensor(family, 2, degree=4)
    far = np.array([[0.0, 0.0], [1e200, 0.0], [0.0, 3.0]])
    with pytest.raises(ValueError, match=r"overflow at x\[1\] = \[1e\+200, 0.0\]"):
        basis(far)
    with pytest.raises(ValueError, match="overflow"):
        basis.christoffel(far)
    # Large but representable values are computed: p_4(1e50) ~ 1e200.
    assert np.isfinite(basis([[1e50, 1e50]])).all()
    assert capfd.readouterr() == ("", "")


def test_sample_squared_checks_j():
    basis = bases.legendre(3)
    with pytest.raises(ValueError, match=r"^j must be in 0..3, got values from 0 to 4"):
        basis.sample_squared([0, 4], rng=0)
    with pytest.raises(TypeError, match="^j must be a 1-D array of integers"):
        basis.sample_squared([0.5], rng=0)
    with pytest.raises(TypeError, match="j is a numpy.ma.MaskedArray"):
        basis.sample_squared(np.ma.masked_array([0, 1]), rng=0)
    with pytest.raises(ValueError, match="^n must be >= 1"):
        basis.sample_measure(0)


def _uniform(n, rng):
    return rng.uniform(-1, 1, n)


def _legendre(x):
    return bases.legendre(1)(x)


@pytest.mark.parametrize(
    "function, error, message",
    [
        (lambda x: np.full((len(x), 2), np.nan), ValueError, r"^function returned NaN \(first "),
        (lambda x: np.full((len(x), 2), np.inf), ValueError, r"^function returned inf \(first "),
        (lambda x: np.ones(len(x)), ValueError, r"^function must return shape \(20000, 2\), got"),
        (lambda x: np.ones((len(x), 3)), ValueError, r"^function must return shape \(20000, 2\)"),
        (lambda x: np.full((len(x), 2), "1"), TypeError, "^function must return real numbers"),
        (lambda x: None, TypeError, "^function must return real numbers, got dtype object"),
        (lambda x: _legendre(x) * 1j, TypeError, "^function must return real numbers"),
        (
            lambda x: np.ma.masked_array(_legendre(x)),
            TypeError,
            "^function returned a numpy.ma.MaskedArray",
        ),
    ],
)
def test_custom_names_its_function(function, error, message):
    with pytest.raises(error, match=message):
        bases.custom(function, 2, sample_measure=_uniform, rng=0)


def test_custom_locates_a_nan_of_its_function():
    def spiky(x):
        values = _legendre(x)
        values[np.abs(x[:, 0]) < 0.01] = np.nan
        return values

    with pytest.raises(ValueError, match=r"^function returned NaN \(first at row \d+, .*x = \[-?0"):
        bases.custom(spiky, 2, sample_measure=_uniform, rng=0)


@pytest.mark.parametrize(
    "sampler, error, message",
    [
        (lambda n, rng: np.full(n, np.nan), ValueError, "^sample_measure returned NaN"),
        (lambda n, rng: np.ones(3), ValueError, r"^sample_measure must return shape \(20000, 1\)"),
        (lambda n, rng: np.full(n, "0.5"), TypeError, "^sample_measure must return real"),
    ],
)
def test_custom_names_its_sampler(sampler, error, message):
    with pytest.raises(error, match=message):
        bases.custom(_legendre, 2, sample_measure=sampler, rng=0)


def test_custom_checks_christoffel_bound():
    for bad, error in [(np.inf, ValueError), (np.nan, ValueError), ("3", TypeError)]:
        with pytest.raises(error, match="^christoffel_bound must be"):
            bases.custom(_legendre, 2, sample_measure=_uniform, christoffel_bound=bad)
    basis = bases.custom(_legendre, 2, sample_measure=_uniform, christoffel_bound=4, rng=0)
    assert basis.christoffel_bound == 4.0


def test_tensor_options_are_keyword_only():
    expected = bases.tensor("legendre", 2, degree=3, index_set="full_tensor")
    with pytest.raises(TypeError, match="takes 2 positional arguments but 3 were given"):
        bases.tensor("legendre", 2, 3)
    with pytest.raises(TypeError, match="takes 2 positional arguments but 4 were given"):
        bases.tensor("legendre", 2, 3, "full_tensor")
    assert expected.m == 16


def test_a_degree_beside_an_array_index_set_is_refused():
    # Before, the degree was silently ignored.
    with pytest.raises(ValueError, match="^degree applies to a named index_set only"):
        bases.tensor("legendre", 2, degree=5, index_set=[[0, 0], [1, 0]])


@pytest.mark.parametrize(
    "basis",
    [
        bases.legendre(3),
        bases.custom(
            lambda x: np.hstack([np.ones((len(x), 1)), np.sqrt(3) * x]),
            2,
            sample_measure=_uniform,
            christoffel_bound=4.0,
            rng=0,
        ),
    ],
    ids=["tensor", "custom"],
)
def test_the_samplers_take_rng_by_keyword(basis):
    np.testing.assert_array_equal(basis.sample_measure(5, rng=3), basis.sample_measure(5, rng=3))
    with pytest.raises(TypeError, match="takes 2 positional arguments but 3 were given"):
        basis.sample_measure(5, 3)
    if isinstance(basis, bases.TensorBasis):
        with pytest.raises(TypeError, match="takes 2 positional arguments but 3 were given"):
            basis.sample_squared([0, 1], 3)
        np.testing.assert_array_equal(
            basis.sample_squared([0, 1], rng=3), basis.sample_squared([0, 1], rng=3)
        )
