"""Property-based tests: the invariants of spec sections 0, 1.6 and 2.5 on generated inputs.

hypothesis draws matrices of every kind the functions must survive: tall and
square, condition numbers up to 1e10, exact rank deficiency, duplicated and
zero rows, and scales from 1e-150 to 1e150. The tests assert what is proved
(spec section 0: 0 <= tau <= 1, sum tau = rank, invariance under A -> AR
and under scaling, duplication divides the scores; section 1.6: the same for
Lewis weights, sensitivities in [0, 1], unbiased sampling probabilities;
least squares: the minimum residual), never a fixed output.
"""

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import randla
from randla import bases
from randla._sampling import _bernoulli_probabilities

from ._problems import orthonormal

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def matrices(draw, min_rows_per_column=1):
    """(A, rank, cond): A = U diag(s) V^T scaled, with some rows zero or duplicated.

    cond is that of the nonzero singular values before the rows are changed:
    the tolerances scale with it (rounding errors grow like eps * cond).
    """
    d = draw(st.integers(1, 6))
    rank = draw(st.integers(1, d))
    n = draw(st.integers(max(d * min_rows_per_column, rank + 1), 80))
    seed = draw(st.integers(0, 2**32 - 1))
    cond = 10.0 ** draw(st.floats(0, 10))
    log_scale = draw(st.floats(-150, 150))
    rng = np.random.default_rng(seed)
    s = np.geomspace(1, 1 / cond, rank)
    A = (orthonormal(n, rank, rng) * s) @ orthonormal(d, rank, rng).T * 10.0**log_scale
    zero = draw(st.integers(0, max(0, n - rank - 1)))
    if zero:
        A[rng.choice(n, zero, replace=False)] = 0
    if draw(st.booleans()):
        A[-1] = A[0]  # a duplicated row
    # Zeroing or overwriting rows may lower the rank (never raise the condition
    # number past what numpy's rank tolerance resolves at cond <= 1e10).
    return A, int(np.linalg.matrix_rank(A)), cond


def _assert_scores(tau, rank, cond):
    assert np.all(tau >= -1e-12) and np.all(tau <= 1 + 1e-10)
    np.testing.assert_allclose(tau.sum(), rank, rtol=1e-8 + 1e-14 * cond)


@SETTINGS
@given(matrices())
def test_leverage_scores_are_in_0_1_and_sum_to_the_rank(problem):
    A, rank, cond = problem
    tau = randla.leverage_scores(A, rng=0)
    _assert_scores(tau, rank, cond)
    # Exactly 0 in exact arithmetic; Householder's Q keeps rounding in zero
    # rows, of the order of (eps cond)^2.
    assert np.all(tau[~A.any(axis=1)] <= 1e-30 * cond**2 + 1e-30)


@SETTINGS
@given(matrices(), st.integers(0, 2**32 - 1), st.floats(-100, 100))
def test_leverage_scores_are_invariant_under_a_change_of_basis_and_scale(problem, seed, log_c):
    A, rank, cond = problem
    if rank < A.shape[1]:
        return  # AR has the same column space only for invertible R; full-rank A here
    R = np.linalg.qr(np.random.default_rng(seed).standard_normal((A.shape[1],) * 2))[1]
    R += np.sign(np.diag(R)) * np.eye(len(R))  # well conditioned: cond(AR) ~ cond(A)
    tau = randla.leverage_scores(A, rng=0)
    np.testing.assert_allclose(randla.leverage_scores(A @ R, rng=0), tau, atol=1e-12 * cond)
    np.testing.assert_allclose(
        randla.leverage_scores(A * 10.0**log_c, rng=0), tau, atol=1e-13 * cond
    )


@SETTINGS
@given(matrices(), st.integers(2, 4))
def test_duplicating_every_row_divides_the_scores(problem, k):
    A, rank, cond = problem
    tau = randla.leverage_scores(A, rng=0)
    np.testing.assert_allclose(
        randla.leverage_scores(np.tile(A, (k, 1)), rng=0), np.tile(tau / k, k), atol=1e-13 * cond
    )


@SETTINGS
@given(matrices(), st.sampled_from([1.0, 1.5, 3.0]))
def test_lewis_weights_are_a_fixed_point_summing_to_the_rank(problem, p):
    A, rank, cond = problem
    w = randla.lewis_weights(A, p, rng=0)
    _assert_scores(w, rank, cond)
    zero = ~A.any(axis=1)
    assert np.all(w[zero] == 0)
    if rank == A.shape[1] and not zero.all():
        assert randla.lewis_residual(A, w, p=p) < 1e-8 + 1e-14 * cond


@SETTINGS
@given(matrices(), st.sampled_from([1.0, 1.5, 3.0]), st.integers(2, 3))
def test_lewis_weights_of_duplicated_rows_and_changed_basis(problem, p, k):
    A, rank, cond = problem
    if rank < A.shape[1]:
        return
    w = randla.lewis_weights(A, p, rng=0)
    tol = 1e-8 + 1e-12 * cond
    np.testing.assert_allclose(
        randla.lewis_weights(np.tile(A, (k, 1)), p, rng=0), np.tile(w / k, k), atol=tol
    )
    R = np.triu(np.ones((A.shape[1],) * 2))  # cond(R) is modest for d <= 6
    np.testing.assert_allclose(randla.lewis_weights(A @ R, p, rng=0), w, atol=tol)


@SETTINGS
@given(matrices(), st.sampled_from([1.0, 1.5, 2.0, 3.0]))
def test_sensitivity_bounds_are_in_0_1_and_bound_the_total(problem, p):
    A, rank, cond = problem
    sigma = randla.lp_sensitivities(A, p, method="lewis", rng=0)
    assert np.all((sigma >= 0) & (sigma <= 1))
    # Sum of the bounds: <= rank for p <= 2; for p > 2 each bound is r^(p/2-1) w_i.
    assert sigma.sum() <= rank * max(1.0, rank ** (p / 2 - 1)) * (1 + 1e-8 + 1e-14 * cond)


@SETTINGS
@given(
    st.lists(st.floats(0, 1e6), min_size=1, max_size=60).filter(lambda s: sum(s) > 0),
    st.integers(1, 60),
    st.sampled_from([1.0, 2.0, 3.0]),
)
def test_bernoulli_probabilities_spend_the_budget(scores, k, p):
    s = np.array(scores)
    positive = int(np.count_nonzero(s))
    k = min(k, len(s))
    q = _bernoulli_probabilities(s, k)
    assert np.all((q >= 0) & (q <= 1)) and np.all(q[s == 0] == 0)
    np.testing.assert_allclose(q.sum(), min(k, positive), rtol=1e-10)
    sample = randla.sample_rows(s, k, p=p, rng=0)
    assert np.all(np.diff(sample.indices) > 0) and np.all(s[sample.indices] > 0)
    np.testing.assert_allclose(sample.scales, q[sample.indices] ** (-1 / p), rtol=1e-12)


@SETTINGS
@given(matrices(min_rows_per_column=2), st.integers(0, 2**32 - 1))
def test_lstsq_attains_the_minimum_residual(problem, seed):
    A, rank, cond = problem
    b = np.random.default_rng(seed).standard_normal(len(A)) * np.abs(A).max()
    best = np.linalg.norm(A @ np.linalg.lstsq(A, b, rcond=None)[0] - b)
    # Residuals computed in floating point differ by about eps cond ||b||.
    slack = best * 1e-8 + 1e-14 * cond * np.linalg.norm(b)
    for method in ("auto", "precondition", "direct"):
        res = randla.lstsq(A, b, method=method, rng=0)
        assert res.residual_norm <= best + slack, method
        assert res.rank == rank or method != "direct"


@SETTINGS
@given(matrices(min_rows_per_column=2), st.sampled_from([1.0, 1.5, 3.0]), st.integers(0, 2**32 - 1))
def test_lp_regression_is_no_worse_than_least_squares(problem, p, seed):
    A, rank, cond = problem
    scale = np.abs(A).max()
    b = np.random.default_rng(seed).standard_t(2, size=len(A)) * scale
    res = randla.lp_regression(A, b, p)
    x2 = np.linalg.lstsq(A, b, rcond=None)[0]
    r = np.abs(A @ x2 - b)
    m = r.max() or 1.0
    ls = m * np.sum((r / m) ** p) ** (1 / p)  # scaled: residuals of 1e-110 cubed underflow
    assert res.objective <= ls * (1 + 1e-8 + 1e-14 * cond)
    assert res.gap <= 1e-6 or not res.converged


# Spec section 2.5, items 1, 3 and 7 on generated bases and samples.


@st.composite
def tensor_bases(draw):
    family = draw(st.sampled_from(["legendre", "hermite", "chebyshev"]))
    dim = draw(st.integers(1, 3))
    degree = draw(st.integers(1, 4 if dim > 1 else 12))
    return bases.tensor(family, dim, degree=degree)


@SETTINGS
@given(tensor_bases(), st.sampled_from(["dpp", "volume", "iid"]), st.integers(0, 2**32 - 1))
def test_weighted_least_squares_is_exact_on_the_approximation_space(basis, method, seed):
    rng = np.random.default_rng(seed)
    coef = rng.standard_normal(basis.m)
    n = {"dpp": basis.m, "volume": 2 * basis.m, "iid": 10 * basis.m}[method]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", randla.RandlaWarning)  # i.i.d. G may be ill-conditioned
        fit = randla.dpp_wls(lambda x: basis(x) @ coef, basis, n, method=method, rng=rng)
    # Exact whenever the weighted design has full rank, to rounding times its condition.
    cond = np.linalg.cond(basis(fit.points) * np.sqrt(fit.weights)[:, None])
    np.testing.assert_allclose(fit.coef, coef, atol=1e-13 * cond * np.abs(coef).max())


@SETTINGS
@given(tensor_bases(), st.integers(0, 2**32 - 1))
def test_a_projection_dpp_has_m_distinct_points_with_positive_weights(basis, seed):
    sample = randla.projection_dpp_sample(basis, rng=seed)
    assert len(sample) == basis.m
    assert len(np.unique(sample.points, axis=0)) == basis.m
    assert np.all(sample.weights > 0) and np.all(np.isfinite(sample.weights))
    np.testing.assert_allclose(sample.weights, basis.m / basis.christoffel(sample.points))
