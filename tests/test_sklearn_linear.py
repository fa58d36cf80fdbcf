"""randla.sklearn's LpRegressor and QuantileRegressor: scikit-learn's contract and references."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model
from sklearn.base import clone
from sklearn.metrics import make_scorer, mean_pinball_loss
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

import randla
from randla.sklearn import LpRegressor, QuantileRegressor

# scikit-learn's check fits 15 rows of 30 random features with integer
# targets: an underdetermined problem, which every interpolating point
# solves with objective 0 (for any p, and any quantile without a penalty).
# The weighted fit and the fit on repeated rows each return an optimum (the
# test below checks that their objectives agree), not necessarily the same
# one; only the l1 penalty (alpha > 0) makes this minimiser unique.
_NON_UNIQUE = (
    "the minimiser of this underdetermined problem (15 rows, 30 features) is not unique "
    "without a penalty: weighted and repeated fits reach the same objective, 0, at different "
    "interpolating points"
)


def _expected_failed(estimator):
    checks = (
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weight_equivalence_on_sparse_data",
    )
    return {} if getattr(estimator, "alpha", 0) > 0 else dict.fromkeys(checks, _NON_UNIQUE)


@parametrize_with_checks(
    [
        LpRegressor(),
        LpRegressor(p=1),
        LpRegressor(p=3, sample_size=100, random_state=0),
        QuantileRegressor(),
        QuantileRegressor(alpha=0.0),
        QuantileRegressor(quantile=0.3, alpha=0.1),
    ],
    expected_failed_checks=_expected_failed,
)
def test_sklearn_contract(estimator, check):
    check(estimator)


def _data(n=400, d=4, seed=0, integer=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + 1.5 + rng.standard_t(2, size=n)
    return X, (np.round(y) if integer else y)


def _pinball(reg, X, y, q, alpha, w=None):
    """scikit-learn's objective of a fitted regressor."""
    w = np.ones(len(y)) if w is None else w
    u = y - reg.predict(X)
    return w @ np.maximum(q * u, (q - 1) * u) / w.sum() + alpha * np.abs(reg.coef_).sum()


@pytest.mark.parametrize("p", [1, 1.5, 3])
def test_lp_equals_the_function(p):
    X, y = _data()
    reg = LpRegressor(p=p, fit_intercept=False).fit(X, y)
    res = randla.lp_regression(X, y, p)
    np.testing.assert_array_equal(reg.coef_, res.x)
    assert reg.intercept_ == 0.0
    assert (reg.objective_, reg.duality_gap_, reg.n_iter_) == (
        res.objective,
        res.gap,
        res.iterations,
    )
    # The intercept is the first column of ones of the design.
    reg = LpRegressor(p=p).fit(X, y)
    res = randla.lp_regression(np.column_stack([np.ones(len(y)), X]), y, p)
    np.testing.assert_array_equal(np.r_[reg.intercept_, reg.coef_], res.x)


def test_lp_sample_weight():
    """Weights scale the row's term |r|^p: integer weights are repeated rows, zeros drop rows."""
    X, y = _data(n=200, seed=1)
    w = np.random.default_rng(2).integers(0, 4, size=len(y))
    keep = np.repeat(np.arange(len(y)), w)
    for p in (1.5, 4):
        weighted = LpRegressor(p=p).fit(X, y, sample_weight=w)
        repeated = LpRegressor(p=p).fit(X[keep], y[keep])
        assert weighted.objective_ == pytest.approx(repeated.objective_, rel=1e-10)
        # A relative gap of 1e-10 on the objective fixes the coefficients to
        # about its square root (the p-th power is flat near its minimum).
        np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-5)
        assert weighted.intercept_ == pytest.approx(repeated.intercept_, rel=1e-5)


def test_lp_sample_size():
    X, y = _data(n=20_000, d=5, seed=3)
    full = LpRegressor(p=1.5).fit(X, y)
    sampled = [LpRegressor(p=1.5, sample_size=300, random_state=4).fit(X, y) for _ in range(2)]
    np.testing.assert_array_equal(sampled[0].coef_, sampled[1].coef_)
    assert full.objective_ <= sampled[0].objective_ <= 1.02 * full.objective_
    # More rows than exist: every row of positive weight at most.
    LpRegressor(p=1.5, sample_size=10**9, random_state=0).fit(X[:50], y[:50])


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("alpha", [0.0, 0.01])
def test_quantile_equals_sklearn(q, alpha):
    """Continuous data with n >> d: a unique optimum, reached by both; weights with zeros."""
    X, y = _data(seed=int(10 * q))
    w = np.random.default_rng(5).uniform(0, 2, size=len(y))
    w[:30] = 0.0
    ours = QuantileRegressor(quantile=q, alpha=alpha).fit(X, y, sample_weight=w)
    theirs = sklearn.linear_model.QuantileRegressor(quantile=q, alpha=alpha, solver="highs")
    theirs.fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-7, atol=1e-9)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-7)
    reference = _pinball(theirs, X, y, q, alpha, w)
    assert ours.objective_ == pytest.approx(_pinball(ours, X, y, q, alpha, w), rel=1e-13)
    assert abs(ours.objective_ - reference) <= 1e-9 * reference
    # The certified gap bounds the excess over scikit-learn's (HiGHS) optimum.
    assert (ours.objective_ - reference) / ours.objective_ <= ours.duality_gap_ <= 1e-10
    assert ours.n_features_in_ == theirs.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_quantile_ties_reach_sklearn_objective(q):
    """Integer targets: a face of optima; the objective is the same, not necessarily coef_."""
    X, y = _data(seed=6, integer=True)
    X[:, 0] = np.round(X[:, 0])
    ours = QuantileRegressor(quantile=q, alpha=0.005).fit(X, y)
    theirs = sklearn.linear_model.QuantileRegressor(quantile=q, alpha=0.005).fit(X, y)
    reference = _pinball(theirs, X, y, q, 0.005)
    assert abs(ours.objective_ - reference) <= 1e-9 * reference
    assert ours.duality_gap_ <= 1e-10


@pytest.mark.parametrize(
    "estimator", [LpRegressor(), LpRegressor(p=1), QuantileRegressor(quantile=0.75, alpha=0.0)]
)
def test_weighted_and_repeated_reach_the_same_objective(estimator):
    """scikit-learn's weight-equivalence check, on the objective (see _NON_UNIQUE)."""
    rng = np.random.RandomState(42)
    X, y = rng.rand(15, 30), rng.randint(0, 3, size=15).astype(float)
    w = rng.randint(0, 5, size=15)
    keep = np.repeat(np.arange(15), w)
    weighted = clone(estimator).fit(X, y, sample_weight=w)
    repeated = clone(estimator).fit(X[keep], y[keep])
    assert weighted.objective_ == pytest.approx(repeated.objective_, abs=1e-12)
    assert weighted.duality_gap_ == repeated.duality_gap_ == 0.0  # consistent systems


def test_quantile_against_statsmodels():
    """statsmodels' QuantReg (IRLS, not exact) at alpha = 0: ours is at least as good."""
    import statsmodels.api as sm

    X, y = _data(n=1000, seed=7)
    for q in (0.1, 0.9):
        ours = QuantileRegressor(quantile=q, alpha=0.0).fit(X, y)
        fit = sm.QuantReg(y, sm.add_constant(X)).fit(q=q, max_iter=5000, p_tol=1e-10)
        u = y - sm.add_constant(X) @ fit.params
        theirs = np.mean(np.maximum(q * u, (q - 1) * u))
        assert ours.objective_ <= theirs * (1 + 1e-12)
        np.testing.assert_allclose(np.r_[ours.intercept_, ours.coef_], fit.params, atol=1e-3)


def test_quantile_sparse_and_sample_size():
    X, y = _data(n=3000, seed=8)
    dense = QuantileRegressor(quantile=0.7, alpha=0.01).fit(X, y)
    sparse = QuantileRegressor(quantile=0.7, alpha=0.01).fit(sp.csr_matrix(X), y)
    assert sparse.objective_ == pytest.approx(dense.objective_, rel=1e-10)
    np.testing.assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X), rtol=1e-7)
    sampled = QuantileRegressor(quantile=0.7, alpha=0.01, sample_size=200, random_state=0)
    sampled.fit(X, y)
    assert sampled.duality_gap_ <= 1e-10
    assert dense.objective_ <= sampled.objective_ <= 1.05 * dense.objective_
    again = clone(sampled).fit(X, y)
    np.testing.assert_array_equal(again.coef_, sampled.coef_)


def test_parameters_are_validated_in_fit():
    X, y = _data(n=50)
    reg = QuantileRegressor(quantile=1.5)  # __init__ only stores
    with pytest.raises(InvalidParameterError, match="quantile"):
        reg.fit(X, y)
    with pytest.raises(InvalidParameterError, match="'p' parameter"):
        LpRegressor(p=0.5).fit(X, y)
    with pytest.raises(ValueError, match="[Nn]egative"):
        QuantileRegressor().fit(X, y, sample_weight=-np.ones(len(y)))


def test_pipeline_grid_search_clone_pickle():
    X, y = _data(n=600, seed=9)
    X = X * [1, 10, 100, 1000]
    scorer = make_scorer(mean_pinball_loss, alpha=0.5, greater_is_better=False)
    pipe = make_pipeline(StandardScaler(), QuantileRegressor(alpha=0.0))
    search = GridSearchCV(pipe, {"quantileregressor__quantile": [0.2, 0.5, 0.8]}, scoring=scorer)
    search.fit(X, y)
    assert search.best_params_ == {"quantileregressor__quantile": 0.5}
    reg = search.best_estimator_[-1]
    assert reg.quantile == 0.5 and reg.duality_gap_ <= 1e-10
    twin = pickle.loads(pickle.dumps(search.best_estimator_))
    np.testing.assert_array_equal(twin.predict(X), search.predict(X))
    fresh = clone(reg)
    assert fresh.get_params() == reg.get_params() and not hasattr(fresh, "coef_")
    lp = pickle.loads(pickle.dumps(LpRegressor(p=1.2).fit(X, y)))
    np.testing.assert_array_equal(lp.predict(X), LpRegressor(p=1.2).fit(X, y).predict(X))


def test_the_defaults_and_keywords_are_scikit_learn_s():
    # A drop-in: swapping the import must not change a fit (scikit-learn's
    # alpha defaults to 1.0), and the parameters are keyword-only there too.
    import inspect

    theirs = sklearn.linear_model.QuantileRegressor().get_params()
    ours = QuantileRegressor().get_params()
    assert {name: ours[name] for name in theirs.keys() & ours.keys()} == {
        name: theirs[name] for name in theirs.keys() & ours.keys()
    }
    for estimator in (QuantileRegressor, LpRegressor):
        kinds = {p.kind for p in inspect.signature(estimator).parameters.values()}
        assert kinds == {inspect.Parameter.KEYWORD_ONLY}, estimator
