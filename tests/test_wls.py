"""Bases, optimal / DPP / volume-rescaled samplers and weighted least squares (spec section 2.5).

Statistical tests use fixed seeds; each states its level (the false-alarm
rate of a correct sampler over seeds).
"""

import itertools

import numpy as np
import pytest
import scipy.special
import scipy.stats

import randla
from randla import bases

from .conftest import ALPHA, z_bound

QUADRATURE = {
    "legendre": lambda q: (
        scipy.special.roots_legendre(q)[0],
        scipy.special.roots_legendre(q)[1] / 2,
    ),
    "hermite": lambda q: (
        scipy.special.roots_hermitenorm(q)[0],
        scipy.special.roots_hermitenorm(q)[1] / np.sqrt(2 * np.pi),
    ),
    "chebyshev": lambda q: (
        scipy.special.roots_chebyt(q)[0],
        scipy.special.roots_chebyt(q)[1] / np.pi,
    ),
}


@pytest.mark.parametrize("family", list(QUADRATURE))
def test_orthonormal_to_degree_200_and_christoffel_integral(family):
    basis = getattr(bases, family)(200)
    x, w = QUADRATURE[family](300)  # exact for degree <= 599
    Phi = basis(x[:, None])
    np.testing.assert_allclose((Phi * w[:, None]).T @ Phi, np.eye(201), atol=1e-11)
    assert np.sum(w * basis.christoffel(x[:, None])) == pytest.approx(201, rel=1e-11)


def test_tensor_bases_and_index_sets():
    assert bases.tensor("legendre", 5, degree=3).m == 56  # C(5 + 3, 3)
    assert bases.tensor("legendre", 2, degree=3, index_set="full_tensor").m == 16
    hc = bases.tensor("hermite", 2, degree=5, index_set="hyperbolic_cross")
    assert all((a + 1) * (b + 1) <= 6 for a, b in hc.indices)
    basis = bases.tensor("chebyshev", 2, degree=4)
    x1, w1 = QUADRATURE["chebyshev"](10)
    grid = np.array(list(itertools.product(x1, x1)))
    weights = np.array([a * b for a, b in itertools.product(w1, w1)])
    Phi = basis(grid)
    np.testing.assert_allclose((Phi * weights[:, None]).T @ Phi, np.eye(basis.m), atol=1e-12)
    custom = bases.tensor("legendre", 2, index_set=[[0, 0], [1, 0], [0, 1], [1, 1]])
    assert custom.m == 4
    with pytest.raises(ValueError, match=r"downward closed: \(0, 2\) is in it but \(0, 1\)"):
        bases.tensor("legendre", 2, index_set=[[0, 0], [0, 2]])
    with pytest.raises(ValueError, match="family must be one of"):
        bases.tensor("laguerre", 2, degree=3)
    with pytest.raises(ValueError, match=r"x must have shape \(N, 2\)"):
        basis(np.zeros((3, 3)))


def _univariate_cdf(family, degree):
    """An independent reference CDF of phi_j^2 dmu: the density on a fine grid, integrated.

    Cumulative trapezoids on 200001 points (in theta = arccos x for the
    arcsine law, whose density is singular at the ends): accurate to about
    1e-9, far below what a KS test resolves.
    """
    basis = getattr(bases, family)(degree)
    if family == "chebyshev":
        theta = np.linspace(np.pi, 0, 200_001)  # x = cos(theta) increasing
        density = basis(np.cos(theta)[:, None])[:, degree] ** 2 / np.pi
        grid, step = np.cos(theta), np.pi / 200_000
    else:
        edge = 1.0 if family == "legendre" else 2 * np.sqrt(degree + 1) + 10
        grid = np.linspace(-edge, edge, 200_001)
        measure = 0.5 if family == "legendre" else np.exp(-(grid**2) / 2) / np.sqrt(2 * np.pi)
        density = basis(grid[:, None])[:, degree] ** 2 * measure
        step = grid[1] - grid[0]
    cumulative = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2) * step])
    return lambda values: np.interp(values, grid, cumulative / cumulative[-1])


@pytest.mark.parametrize("family", list(QUADRATURE))
@pytest.mark.parametrize("degree", [0, 3, 40, 200])
def test_squared_density_samplers_ks(family, degree, global_seed):
    basis = getattr(bases, family)(degree)
    rng = np.random.default_rng((global_seed, degree))
    x = basis.sample_squared(np.full(4000, degree), rng=rng)[:, 0]
    # Kolmogorov-Smirnov test at level ALPHA against the exact CDF.
    assert scipy.stats.kstest(x, _univariate_cdf(family, degree)).pvalue > ALPHA


def _rho_cdf(basis):
    """The CDF of rho_m = (1/m) sum_j phi_j^2 for a 1-D basis."""
    parts = [_univariate_cdf(basis.family, j) for j in range(basis.m)]
    return lambda values: np.mean([part(values) for part in parts], axis=0)


@pytest.mark.parametrize("method", ["iid", "dpp", "volume", "repeated-dpp"])
def test_one_point_marginals_are_rho_m(method, global_seed):
    basis = bases.legendre(4)
    rng = np.random.default_rng((global_seed, 1))
    draw = {
        "iid": lambda: randla.optimal_sample(basis, 5, rng=rng),
        "dpp": lambda: randla.projection_dpp_sample(basis, rng=rng),
        "volume": lambda: randla.volume_rescaled_sample(basis, 8, rng=rng),
        "repeated-dpp": lambda: randla.repeated_dpp_sample(basis, 10, rng=rng),
    }[method]
    # One point per sample (the first), so the KS sample is i.i.d. from the marginal.
    x = np.array([draw().points[0, 0] for _ in range(1500)])
    assert scipy.stats.kstest(x, _rho_cdf(basis)).pvalue > ALPHA


def test_dpp_has_m_distinct_points_and_repels():
    basis = bases.tensor("legendre", 2, degree=3)
    sample = randla.projection_dpp_sample(basis, rng=0)
    assert len(sample) == basis.m and len(np.unique(sample.points, axis=0)) == basis.m
    np.testing.assert_allclose(sample.weights, basis.m / basis.christoffel(sample.points))
    # Phi is invertible: the DPP points can interpolate.
    assert np.linalg.cond(basis(sample.points)) < 1e8


@pytest.mark.parametrize("method", ["iid", "dpp", "volume", "repeated-dpp"])
def test_expected_gram_matrix_is_identity(method, global_seed):
    basis = bases.legendre(3)
    rng = np.random.default_rng((global_seed, 2))
    n = {"iid": 6, "dpp": 4, "volume": 6, "repeated-dpp": 8}[method]
    draw = {
        "iid": lambda: randla.optimal_sample(basis, n, rng=rng),
        "dpp": lambda: randla.projection_dpp_sample(basis, rng=rng),
        "volume": lambda: randla.volume_rescaled_sample(basis, n, rng=rng),
        "repeated-dpp": lambda: randla.repeated_dpp_sample(basis, n, rng=rng),
    }[method]
    grams = []
    for _ in range(3000):
        s = draw()
        M = basis(s.points) * np.sqrt(s.weights / n)[:, None]
        grams.append(M.T @ M)
    grams = np.array(grams)
    se = grams.std(axis=0) / np.sqrt(len(grams))
    # 16 entries, Bonferroni at ALPHA.
    assert np.all(np.abs(grams.mean(axis=0) - np.eye(4)) < z_bound(16) * se + 1e-12)


def _coefficients(f, basis):
    x, w = QUADRATURE[basis.family](200)
    return (basis(x[:, None]) * w[:, None]).T @ f(x[:, None])


@pytest.mark.parametrize("method, n", [("dpp", 4), ("volume", 7)])
def test_unbiased_coefficients(method, n, global_seed):
    basis = bases.legendre(3)

    def f(x):
        return np.exp(x[:, 0]) + np.abs(x[:, 0]) ** 3

    truth = _coefficients(f, basis)
    rng = np.random.default_rng((global_seed, 4))
    estimates = np.array(
        [randla.dpp_wls(f, basis, n, method=method, rng=rng).coef for _ in range(3000)]
    )
    se = estimates.std(axis=0) / np.sqrt(len(estimates))
    assert np.all(np.abs(estimates.mean(axis=0) - truth) < z_bound(basis.m) * se)


def test_m_plus_one_law_of_dpp_interpolation_by_enumeration():
    # Finite set: N = 9 points, mu uniform on them, m = 3 orthonormalised
    # Legendre functions; E ||f - I_S f||^2 = (m + 1) e_m(f)^2 exactly.
    N, m = 9, 3
    x = np.linspace(-1, 1, N) ** 3
    f = np.cos(3 * x) + x
    Q = np.linalg.qr(bases.legendre(m - 1)(x[:, None]) / np.sqrt(N))[0]
    phi = np.sqrt(N) * Q  # orthonormal for the uniform measure on the N points
    best = f - phi @ (phi.T @ f / N)
    e2 = np.mean(best**2)
    expected = 0.0
    for S in itertools.combinations(range(N), m):
        probability = np.linalg.det(Q[list(S)]) ** 2
        if probability > 1e-15:
            coef = np.linalg.solve(phi[list(S)], f[list(S)])
            expected += probability * np.mean((f - phi @ coef) ** 2)
    assert expected == pytest.approx((m + 1) * e2, rel=1e-10)
    # The same expectation through randla's finite sampler, by Monte Carlo.
    errors = []
    for s in range(4000):
        S = randla.dpp.sample_projection_dpp(Q, rng=s)
        errors.append(np.mean((f - phi @ np.linalg.solve(phi[S], f[S])) ** 2))
    assert np.mean(errors) == pytest.approx(
        (m + 1) * e2, rel=4 * np.std(errors) / np.sqrt(4000) / ((m + 1) * e2)
    )


@pytest.mark.parametrize(
    "method, n",
    [("iid", 12), ("iid-conditioned", 40), ("dpp", 10), ("volume", 12), ("repeated-dpp", 20)],
)
def test_exact_on_the_approximation_space(method, n):
    basis = bases.tensor("hermite", 2, degree=3)
    coef = np.random.default_rng(3).standard_normal(basis.m)
    res = randla.dpp_wls(lambda x: basis(x) @ coef, basis, n, method=method, rng=4)
    np.testing.assert_allclose(res.coef, coef, atol=1e-9)
    assert res(np.zeros((1, 2))) == pytest.approx(basis(np.zeros((1, 2))) @ coef)
    if method == "iid-conditioned":
        assert res.gram_error <= 0.5


def test_rounds_of_the_boosted_estimator_and_reproducibility():
    basis = bases.legendre(9)
    a = randla.dpp_wls(np.sin, basis, 60, method="volume", rng=7)
    b = randla.dpp_wls(np.sin, basis, 60, method="volume", rng=7)
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.coef, b.coef)
    res = randla.fit_wls(basis, a.points, a.values, weights=a.weights)
    np.testing.assert_allclose(res.coef, a.coef)
    assert res.gram_error == pytest.approx(a.gram_error)


def test_bad_inputs():
    basis = bases.legendre(4)
    with pytest.raises(ValueError, match="n must be >= m = 5 for volume-rescaled sampling"):
        randla.volume_rescaled_sample(basis, 3)
    with pytest.raises(ValueError, match="method='dpp' takes n = m = 5 points"):
        randla.dpp_wls(np.sin, basis, 6, method="dpp")
    with pytest.raises(ValueError, match="n must be a multiple of m = 5"):
        randla.repeated_dpp_sample(basis, 7)
    with pytest.raises(TypeError, match="f must be callable"):
        randla.dpp_wls(3.0, basis, 6)
    with pytest.raises(TypeError, match="basis must be a randla.bases.TensorBasis"):
        randla.optimal_sample(np.eye(3), 4)
    with pytest.raises(ValueError, match="f returned NaN"):
        randla.dpp_wls(lambda x: np.full(len(x), np.nan), basis, 6)
    with pytest.raises(ValueError, match="method must be one of"):
        randla.dpp_wls(np.sin, basis, 6, method="lhs")


def test_dpp_pair_law_repulsion(global_seed):
    # m = 2 (Legendre degree 1): joint density (1/2) det[K(x_i, x_j)] w.r.t. mu x mu.
    # E|x_1 - x_2| exactly by quadrature, against the sampler and against i.i.d. rho_m.
    basis = bases.legendre(1)
    t, w = QUADRATURE["legendre"](40)
    X, Y = np.meshgrid(t, t, indexing="ij")
    P, Q = basis(X.ravel()[:, None]), basis(Y.ravel()[:, None])
    density = 0.5 * (np.sum(P**2, 1) * np.sum(Q**2, 1) - np.sum(P * Q, 1) ** 2)
    weight = np.outer(w, w).ravel()
    exact = np.sum(weight * density * np.abs(X.ravel() - Y.ravel()))
    exact_iid = np.sum(
        weight * np.sum(P**2, 1) * np.sum(Q**2, 1) / 4 * np.abs(X.ravel() - Y.ravel())
    )
    rng = np.random.default_rng((global_seed, 8))
    gaps = np.array(
        [np.ptp(randla.projection_dpp_sample(basis, rng=rng).points) for _ in range(4000)]
    )
    se = gaps.std() / np.sqrt(len(gaps))
    assert abs(gaps.mean() - exact) < z_bound() * se
    assert abs(exact_iid - exact) > 2 * z_bound() * se  # the test would catch i.i.d. points


def test_candidate_sets_reduce_to_leverage_and_finite_dpps(global_seed):
    from collections import Counter

    N, basis = 7, bases.legendre(2)  # m = 3
    X = np.linspace(-1, 1, N)[:, None] ** 3
    Q = np.linalg.qr(basis(X) / np.sqrt(N))[0]
    tau = np.sum(Q**2, axis=1)
    # i.i.d.: candidate i with probability tau_i / m, weight m / (N tau_i).
    rng = np.random.default_rng((global_seed, 1))
    s = randla.optimal_sample(basis, 30_000, candidates=X, rng=rng)
    counts = np.bincount(s.indices, minlength=N)
    assert scipy.stats.chisquare(counts, 30_000 * tau / 3).pvalue > ALPHA
    np.testing.assert_allclose(s.weights, 3 / (N * tau[s.indices]))
    np.testing.assert_array_equal(s.points, X[s.indices])
    # One DPP: P(S) = det(Q_S)^2 over the 3-subsets (chi-square at level ALPHA).
    law = {S: np.linalg.det(Q[list(S)]) ** 2 for S in itertools.combinations(range(N), 3)}
    draws = Counter(
        tuple(sorted(randla.projection_dpp_sample(basis, candidates=X, rng=rng).indices.tolist()))
        for _ in range(20_000)
    )
    keys = [S for S in law if law[S] * 20_000 >= 5]
    observed = np.array([draws[S] for S in keys] + [20_000 - sum(draws[S] for S in keys)])
    expected = np.array(
        [law[S] * 20_000 for S in keys] + [20_000 * (1 - sum(law[S] for S in keys))]
    )
    assert scipy.stats.chisquare(observed, expected).pvalue > ALPHA
    # The approximation is exact on V_m, whatever the orthonormalisation.
    coef = np.array([1.0, -2.0, 0.5])
    res = randla.dpp_wls(lambda x: basis(x) @ coef, basis, 5, method="volume", candidates=X, rng=2)
    np.testing.assert_allclose(res.coef, coef, atol=1e-10)
    with pytest.raises(ValueError, match="candidates must have at least m = 3 points"):
        randla.optimal_sample(basis, 3, candidates=X[:2])


def test_user_basis_rejection_sampling_and_fallback(global_seed):
    legendre = bases.legendre(3)

    def uniform(n, rng):
        return rng.uniform(-1, 1, n)

    # The same Legendre functions through a callable, with the bound k_m <= m^2 = 16.
    mine = bases.custom(
        lambda x: legendre(x), 4, sample_measure=uniform, christoffel_bound=16.0, rng=0
    )
    rng = np.random.default_rng((global_seed, 1))
    x = randla.optimal_sample(mine, 3000, rng=rng).points[:, 0]
    assert scipy.stats.kstest(x, _rho_cdf(legendre)).pvalue > ALPHA
    firsts = [randla.projection_dpp_sample(mine, rng=rng).points[0, 0] for _ in range(1500)]
    assert scipy.stats.kstest(firsts, _rho_cdf(legendre)).pvalue > ALPHA
    # Without a bound: a discrete candidate set from mu, and a warning that says so.
    unbounded = bases.custom(lambda x: legendre(x), 4, sample_measure=uniform, rng=0)
    with pytest.warns(randla.RandlaWarning, match="no christoffel_bound .* candidates drawn"):
        res = randla.dpp_wls(lambda x: legendre(x) @ np.arange(4.0), unbounded, 8, rng=2)
    np.testing.assert_allclose(res.coef, np.arange(4.0), atol=1e-10)
    with pytest.raises(ValueError, match="not orthonormal for its measure"):
        bases.custom(lambda x: 2 * legendre(x), 4, sample_measure=uniform)
    wrong = bases.custom(lambda x: legendre(x), 4, sample_measure=uniform, christoffel_bound=5.0)
    with pytest.raises(ValueError, match="christoffel_bound=5 is wrong: k_m = "):
        randla.optimal_sample(wrong, 100, rng=0)
    with pytest.raises(ValueError, match="christoffel_bound must be >= m = 4"):
        bases.custom(lambda x: legendre(x), 4, sample_measure=uniform, christoffel_bound=2.0)


def test_user_basis_volume_with_n_equal_to_m():
    trig = bases.custom(
        lambda x: np.hstack([np.ones((len(x), 1)), np.sqrt(2) * np.cos(np.pi * x)]),
        2,
        sample_measure=lambda n, rng: rng.uniform(-1, 1, n),
        christoffel_bound=3.0,
    )
    assert len(randla.volume_rescaled_sample(trig, 2, rng=0)) == 2
