"""sample_dpp(K=K) for a projection K: sampled from a factor, without an eigendecomposition.

A projection K (eigenvalues 0 and 1) is recognised by r = round(tr K) steps
of pivoted Cholesky, K = F F^* with F^* F = I to 1e-10 (randla._dpp), and
sampled as the projection DPP of F. The law tests enumerate all subsets and
run a chi-square test at level ALPHA (tests/conftest.py) on DRAWS samples;
`eigh` is watched to tell which path ran.
"""

import numpy as np
import pytest
import scipy.linalg

from randla import dpp

from .conftest import ALPHA
from .test_dpp import DRAWS, _det, _orthonormal, _p_value, _subsets


@pytest.fixture
def eigh_calls(monkeypatch):
    """The number of calls of scipy.linalg.eigh (the general path) so far."""
    calls = []
    original = scipy.linalg.eigh

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(scipy.linalg, "eigh", counted)
    return calls


def _projection_law(K, r):
    """P(Y = S) = det K_S for |S| = r = rank K."""
    law = {S: _det(K[np.ix_(S, S)]) for S in _subsets(len(K), [r])}
    assert sum(law.values()) == pytest.approx(1)
    return law


def _k_ensemble_law(K):
    """P(Y = S) = |det(K - I_complement)| (Kulesza & Taskar, 2012, eq. 2.3), over all S."""
    n, law = len(K), {}
    for S in _subsets(n, range(n + 1)):
        law[S] = abs(np.linalg.det(K - np.diag([0.0 if i in S else 1.0 for i in range(n)])))
    law = {S: q for S, q in law.items() if q > 1e-14}
    assert sum(law.values()) == pytest.approx(1)
    return law


def _noisy(K, size, rng):
    """K plus a symmetric (Hermitian) perturbation of the given norm: rounding noise."""
    E = rng.standard_normal(K.shape)
    E = (E + E.T) / 2
    return K + size * E / np.linalg.norm(E, 2)


_CASES = {
    "real": lambda rng: _orthonormal(7, 3, rng),
    "complex": lambda rng: _orthonormal(7, 3, rng, complex_=True),
    "rank 1": lambda rng: _orthonormal(7, 1, rng),
    "rank 6": lambda rng: _orthonormal(7, 6, rng),
    "coherent": lambda rng: np.linalg.qr(
        rng.standard_normal((7, 3)) * [1.0, 1e-3, 1e-6] + np.eye(7)[:, :3] * 1e3
    )[0],
}


# Two cases in the fast subset, all of them with -m slow.
_LAW_CASES = [
    pytest.param(case, noise, id=f"{case}-{'noisy' if noise else 'exact'}", marks=marks)
    for case in _CASES
    for noise in (0.0, 1e-13)
    for marks in [() if (case, noise) in {("real", 0.0), ("complex", 1e-13)} else pytest.mark.slow]
]


@pytest.mark.parametrize(("case", "noise"), _LAW_CASES)
def test_projection_kernel_law_without_eigendecomposition(case, noise, eigh_calls, global_seed):
    rng = np.random.default_rng((global_seed, 20))
    V = _CASES[case](rng)
    K = V @ V.conj().T
    K = _noisy(K, noise, rng) if noise else K
    law = _projection_law(V @ V.conj().T, V.shape[1])
    draws = [dpp.sample_dpp(K=K, rng=rng) for _ in range(DRAWS)]
    assert eigh_calls == []
    assert _p_value(draws, law) > ALPHA


def test_same_sample_as_from_an_orthonormal_basis_of_the_range(eigh_calls):
    # The chain rule on F draws what it draws on any orthonormal basis of
    # range(K): the same items for the same rng, with or without projection=True.
    for n, r, complex_ in [(2000, 50, False), (300, 20, True), (60, 60, False), (50, 1, False)]:
        V = _orthonormal(n, r, np.random.default_rng(n + r), complex_)
        K = V @ V.conj().T
        for seed in range(5):
            expected = dpp.sample_projection_dpp(V, rng=seed)
            np.testing.assert_array_equal(dpp.sample_dpp(K=K, rng=seed), expected)
            np.testing.assert_array_equal(dpp.sample_dpp(K=K, projection=True, rng=seed), expected)
    assert eigh_calls == []


def test_full_rank_and_zero_projections(eigh_calls):
    np.testing.assert_array_equal(dpp.sample_dpp(K=np.eye(9), rng=0), np.arange(9))
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal((30, 30)))[0]
    np.testing.assert_array_equal(dpp.sample_dpp(K=Q @ Q.T, rng=0), np.arange(30))
    assert dpp.sample_dpp(K=np.zeros((9, 9)), projection=True, rng=0).shape == (0,)
    assert eigh_calls == []


def test_an_eigenvalue_one_minus_1e3_is_not_a_projection(eigh_calls, global_seed):
    # Eigenvalues 1, 1, 1 - 1e-3 and 0: |Y| = 2 with probability 1e-3, which
    # a projection sampler never draws; in DRAWS = 20000 samples none has
    # |Y| = 2 with probability exp(-20) = 2e-9 < ALPHA.
    rng = np.random.default_rng((global_seed, 21))
    U = _orthonormal(6, 6, rng)
    K = (U * [1.0, 1.0, 1 - 1e-3, 0.0, 0.0, 0.0]) @ U.T
    draws = [dpp.sample_dpp(K=K, rng=rng) for _ in range(DRAWS)]
    assert eigh_calls, "K was taken for a projection"
    assert any(len(S) == 2 for S in draws)
    assert _p_value(draws, _k_ensemble_law(K)) > ALPHA
    with pytest.raises(ValueError, match="K must be an orthogonal projection with projection=True"):
        dpp.sample_dpp(K=K, projection=True)


@pytest.mark.parametrize(
    "values",
    [
        [1.0, 1.0 - 1e-3, 1e-3, 0.0],  # integer trace, eigenvalues off 0 and 1
        [1.0 + 1e-3, 1.0 - 1e-3, 0.0, 0.0],  # integer trace, one eigenvalue above 1
        [1.0, 1.0, 1.0 - 1e-7, 0.0],
        [0.5, 0.5, 0.0, 0.0],
    ],
)
def test_kernels_near_a_projection_are_not_taken_for_one(values, eigh_calls):
    U = _orthonormal(40, 4, np.random.default_rng(22))
    K = (U * values) @ U.T
    with pytest.raises(ValueError, match="K must be an orthogonal projection"):
        dpp.sample_dpp(K=K, projection=True)
    if max(values) <= 1:
        dpp.sample_dpp(K=K, rng=0)
        assert eigh_calls
    else:
        with pytest.raises(ValueError, match=r"K must have eigenvalues in \[0, 1\]"):
            dpp.sample_dpp(K=K, rng=0)


def test_indefinite_kernel_with_a_projection_diagonal_is_refused():
    # K = e1 e1^T + a (e2 e3^T + e3 e2^T): trace 1, and one step of pivoted
    # Cholesky leaves a residual with a zero diagonal, so F^T F = 1 and
    # tr(K - F F^T) = 0; only the probes see the off-diagonal a (K has
    # eigenvalue -a), and the general path refuses K.
    for a in (0.3, 1e-6):
        K = np.zeros((5, 5))
        K[0, 0], K[1, 2], K[2, 1] = 1.0, a, a
        with pytest.raises(ValueError, match=r"K must have eigenvalues in \[0, 1\]"):
            dpp.sample_dpp(K=K, rng=0)
        with pytest.raises(ValueError, match="K must be an orthogonal projection"):
            dpp.sample_dpp(K=K, projection=True, rng=0)


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_every_input_class_of_a_projection_k(eigh_calls):
    V = _orthonormal(12, 4, np.random.default_rng(23))
    K = V @ V.T
    expected = dpp.sample_dpp(K=K, rng=3)
    inputs = {
        "Fortran order": np.asfortranarray(K),
        "np.matrix": np.asmatrix(K),
        "nested lists": K.tolist(),
        "read-only": np.require(K, requirements="C").copy(),
        "complex with zero imaginary part": K + 0j,
    }
    inputs["read-only"].flags.writeable = False
    for name, value in inputs.items():
        np.testing.assert_array_equal(dpp.sample_dpp(K=value, rng=3), expected, err_msg=name)
    identity = dpp.sample_dpp(K=np.eye(5, dtype=np.int64), projection=True, rng=0)
    np.testing.assert_array_equal(identity, np.arange(5))
    assert eigh_calls == []


def test_the_input_is_not_modified():
    V = _orthonormal(30, 5, np.random.default_rng(24))
    K = V @ V.T
    copy = K.copy()
    dpp.sample_dpp(K=K, rng=0)
    np.testing.assert_array_equal(K, copy)


@pytest.mark.parametrize("projection", [None, True])
def test_bad_projection_kernels_are_refused_by_name(projection):
    V = _orthonormal(10, 3, np.random.default_rng(25))
    K = V @ V.T
    bad = K.copy()
    bad[4, 7] = np.nan
    with pytest.raises(ValueError, match=r"K contains NaN \(first at row 4, column 7\)"):
        dpp.sample_dpp(K=bad, projection=projection)
    bad[4, 7] = np.inf
    with pytest.raises(ValueError, match=r"K contains inf \(first at row 4, column 7\)"):
        dpp.sample_dpp(K=bad, projection=projection)
    asymmetric = K.copy()
    asymmetric[0, 5] += 1e-3
    with pytest.raises(ValueError, match="K must be Hermitian"):
        dpp.sample_dpp(K=asymmetric, projection=projection)
    with pytest.raises(TypeError, match="K is a numpy.ma.MaskedArray"):
        dpp.sample_dpp(K=np.ma.masked_array(K), projection=projection)
    with pytest.raises(ValueError, match="K must be square"):
        dpp.sample_dpp(K=K[:, :5], projection=projection)


def test_the_projection_argument():
    V = _orthonormal(10, 3, np.random.default_rng(26))
    K = V @ V.T
    with pytest.raises(TypeError, match="projection must be None, True or False, got 'yes'"):
        dpp.sample_dpp(K=K, projection="yes")
    with pytest.raises(ValueError, match="projection= applies to K only"):
        dpp.sample_dpp(L=K, projection=True)
    with pytest.raises(ValueError, match="give exactly one of L, K, eig, factor"):
        dpp.sample_dpp(K=K, L=K, projection=True)
    with pytest.raises(ValueError, match=r"K must be an orthogonal projection .* failed by 0.5"):
        dpp.sample_dpp(K=K / 2, projection=True)  # trace 1.5


def test_projection_false_eigendecomposes(eigh_calls, global_seed):
    rng = np.random.default_rng((global_seed, 27))
    V = _orthonormal(7, 3, rng)
    K = V @ V.T
    draws = [dpp.sample_dpp(K=K, projection=False, rng=rng) for _ in range(2000)]
    assert len(eigh_calls) == 2000
    assert {len(S) for S in draws} == {3}
