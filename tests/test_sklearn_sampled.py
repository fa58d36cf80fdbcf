"""SampledEstimator (issue 17): scikit-learn's checks, the sample's law, coresets on real data."""

import itertools
import pickle

import numpy as np
import pytest
import scipy.stats
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.linear_model import LinearRegression, LogisticRegression, QuantileRegressor, Ridge
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor
from sklearn.utils.estimator_checks import parametrize_with_checks

import randla
from randla.sklearn import LpRegressor, SampledEstimator
from randla.sklearn import QuantileRegressor as RandlaQuantileRegressor

# scikit-learn's checks fit on up to a few hundred rows: k = 10 samples most
# of them (scores computed), and fits the few on at most 10 rows on every row.
_CHECKED = [
    SampledEstimator(LinearRegression(), k=10, random_state=0),
    SampledEstimator(Ridge(), k=10, scores="leverage", random_state=0),
    SampledEstimator(LogisticRegression(), k=10, random_state=0),
]

# check_sample_weight_equivalence_on_dense_data fits once with integer
# weights and once with the rows repeated that many times, and asks for the
# same model. The two data sets have different rows, so their samples differ:
# the fits agree only in expectation over the samples.
_EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "repeated rows and integer weights give different samples: the fits agree only in "
        "expectation over the samples, not draw for draw"
    ),
}


@parametrize_with_checks(_CHECKED, expected_failed_checks=lambda e: _EXPECTED_FAILED)
def test_sklearn_checks(estimator, check):
    check(estimator)


def _logistic_problem(n=4000, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_t(3, size=(n, d))
    y = (rng.random(n) < 1 / (1 + np.exp(-X @ np.linspace(-1, 1, d)))).astype(int)
    return X, y


def test_same_random_state_same_fit_bit_for_bit():
    X, y = _logistic_problem()
    a = SampledEstimator(LogisticRegression(), k=300, random_state=7).fit(X, y)
    b = SampledEstimator(LogisticRegression(), k=300, random_state=7).fit(X, y)
    c = SampledEstimator(LogisticRegression(), k=300, random_state=8).fit(X, y)
    np.testing.assert_array_equal(a.sample_.indices, b.sample_.indices)
    np.testing.assert_array_equal(a.estimator_.coef_, b.estimator_.coef_)
    assert not np.array_equal(a.sample_.indices, c.sample_.indices)


def test_clone_pickle_pipeline_gridsearch():
    X, y = _logistic_problem()
    model = SampledEstimator(LogisticRegression(), k=300, random_state=0)
    assert clone(model).get_params()["k"] == 300
    fitted = model.fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict_proba(X), fitted.predict_proba(X))
    pipe = make_pipeline(StandardScaler(), SampledEstimator(LogisticRegression(), k=300))
    assert pipe.fit(X, y).score(X, y) > 0.6
    search = GridSearchCV(model, {"k": [100, 400]}, cv=3).fit(X, y)
    assert search.best_params_["k"] in (100, 400)
    assert search.best_estimator_.sample_.k == search.best_params_["k"]


def test_refuses_estimator_without_sample_weight():
    X, y = _logistic_problem(n=100)
    with pytest.raises(TypeError, match="KNeighborsClassifier.fit does not"):
        SampledEstimator(KNeighborsClassifier(), k=50).fit(X, y)


def test_bad_parameters_named():
    X, y = _logistic_problem(n=100)
    with pytest.raises(ValueError, match="'scores' parameter"):
        SampledEstimator(LogisticRegression(), k=50, scores="levrage").fit(X, y)
    with pytest.raises(ValueError, match="'k' parameter"):
        SampledEstimator(LogisticRegression(), k=0).fit(X, y)
    with pytest.raises(ValueError, match="root-leverage' needs p <= 2, got p=3"):
        SampledEstimator(LinearRegression(), k=50, scores="root-leverage", p=3).fit(X, y)


def test_delegated_methods_follow_the_estimator():
    assert hasattr(SampledEstimator(LogisticRegression(), k=5), "predict_proba")
    assert not hasattr(SampledEstimator(LinearRegression(), k=5), "predict_proba")
    assert not hasattr(SampledEstimator(LinearRegression(), k=5), "decision_function")
    X, y = _logistic_problem(n=500)
    model = SampledEstimator(LogisticRegression(), k=200, random_state=0).fit(X, y)
    np.testing.assert_array_equal(model.classes_, [0, 1])
    np.testing.assert_array_equal(model.decision_function(X), model.estimator_.decision_function(X))


@pytest.mark.parametrize(
    ("estimator", "p", "label"),
    [
        (LinearRegression(), 2.0, "exact lewis"),
        (QuantileRegressor(alpha=0.0), 1.0, "exact lewis"),
        (RandlaQuantileRegressor(quantile=0.2, alpha=0.0), 1.0, "exact lewis"),
        (LpRegressor(p=1.5), 1.5, "exact lewis"),
        (LogisticRegression(), 1.0, "exact lewis + uniform"),
    ],
)
def test_p_follows_the_loss(estimator, p, label):
    X, y = _logistic_problem(n=300)
    model = SampledEstimator(estimator, k=100, random_state=0).fit(X, y)
    assert model.p_ == p
    assert model.sample_.p == p
    assert model.sample_.scores == label


def test_class_missing_from_the_sample_is_reported():
    X, y = _logistic_problem(n=300)
    y[7] = 2  # one row of a third class, kept with probability 20/300
    model = SampledEstimator(LogisticRegression(), k=20, scores="uniform", random_state=0)
    with pytest.warns(randla.RandlaWarning, match=r"misses the classes \[2\]"):
        model.fit(X, y)
    assert 7 not in model.sample_.indices
    np.testing.assert_array_equal(model.classes_, [0, 1])


def test_k_at_least_n_fits_on_every_row():
    X, y = _logistic_problem(n=200)
    u = np.random.default_rng(1).random(200)
    model = SampledEstimator(LogisticRegression(), k=500, random_state=0).fit(X, y, u)
    assert model.sample_.scores == "all rows"
    np.testing.assert_array_equal(model.sample_.indices, np.arange(200))
    full = LogisticRegression().fit(X, y, sample_weight=u)
    np.testing.assert_allclose(model.estimator_.coef_, full.coef_, rtol=1e-12)


def _regression(n, d, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_t(2, size=(n, d))
    return X, X @ np.ones(d) + rng.standard_t(2, size=n)


@pytest.mark.parametrize("classifier", [False, True])
def test_sampled_loss_unbiased_exactly(classifier):
    """E sum_{i in S} (u_i/q_i) loss_i = sum_i u_i loss_i, summed over all 2^n subsets."""
    n = 10
    X, y = _regression(n, 2, seed=3)
    estimator = LinearRegression()
    if classifier:
        y, estimator = (y > 0).astype(int), LogisticRegression()
    u = np.random.default_rng(4).random(n) + 0.5
    q = SampledEstimator(estimator, k=4, random_state=0).fit(X, y, u).sample_.probabilities
    assert q.sum() == pytest.approx(4) and np.all((q > 0) & (q <= 1))
    # The loss of any model is a per-row loss: the identity holds row by row,
    # so random per-row losses check it for every model at once.
    loss = np.random.default_rng(5).random(n)
    expectation = 0.0
    for keep in itertools.product([False, True], repeat=n):
        keep = np.array(keep)
        probability = np.prod(np.where(keep, q, 1 - q))
        expectation += probability * np.sum(u[keep] / q[keep] * loss[keep])
    assert expectation == pytest.approx(np.sum(u * loss), rel=1e-12)


def _inclusion_statistic(counts, trials, q):
    """Chi-square statistic of inclusion counts against Binomial(trials, q_i), 0 < q_i < 1."""
    random = (q > 0) & (q < 1)
    expected = trials * q[random]
    return np.sum((counts[random] - expected) ** 2 / (expected * (1 - q[random]))), random.sum()


def test_inclusion_law_chi_square():
    """Each row is kept in a fraction q_i of the fits (Bernoulli), at alpha = 1e-3."""
    X, y = _regression(12, 2, seed=6)
    X[0] *= 30  # a row of high Lewis weight: kept surely
    trials = 500
    counts = np.zeros(12)
    for seed in range(trials):
        model = SampledEstimator(LinearRegression(), k=5, p=1.5, random_state=seed).fit(X, y)
        counts[model.sample_.indices] += 1
    q = model.sample_.probabilities
    assert q[0] == 1 and counts[0] == trials
    assert np.all(trials * np.minimum(q, 1 - q)[q < 1] >= 5)  # the chi-square law applies
    statistic, dof = _inclusion_statistic(counts, trials, q)
    assert statistic < scipy.stats.chi2.ppf(1 - 1e-3, dof)
    # The test has power: uniform probabilities (the same expected size) are refused.
    wrong, _ = _inclusion_statistic(counts, trials, np.full(12, 5 / 12))
    assert wrong > scipy.stats.chi2.ppf(1 - 1e-3, 12)


@pytest.mark.parametrize("p", [1.0, 1.5, 2.0])
def test_regression_scores_are_the_lewis_weights_of_weighted_x_1_y(p):
    """Regression: q from the l_p Lewis weights of diag(u^(1/p)) [X 1 y], as randla computes."""
    X, y = _regression(300, 3, seed=7)
    u = np.random.default_rng(8).random(300) * 3
    model = SampledEstimator(LinearRegression(), k=60, p=p, random_state=0).fit(X, y, u)
    A = np.column_stack([X, np.ones(300), y]) * (u ** (1 / p))[:, None]
    expected = randla.sample_rows(randla.lewis_weights(A, p), 60, p=p).probabilities
    np.testing.assert_allclose(model.sample_.probabilities, expected, rtol=1e-8)
    assert model.sample_.scores == "exact lewis"


def test_classification_scores_are_l1_lewis_plus_uniform_share():
    """Classification: q from w_i(U [X 1]) + u_i / sum(u), without the labels."""
    X, y = _logistic_problem(n=400, d=3, seed=9)
    u = np.random.default_rng(10).random(400) * 3
    model = SampledEstimator(LogisticRegression(), k=80, random_state=0).fit(X, y, u)
    w = randla.lewis_weights(np.column_stack([X, np.ones(400)]) * u[:, None], 1)
    expected = randla.sample_rows(w + u / u.sum(), 80, p=1).probabilities
    np.testing.assert_allclose(model.sample_.probabilities, expected, rtol=1e-8)
    flipped = SampledEstimator(LogisticRegression(), k=80, random_state=0).fit(X, 1 - y, u)
    np.testing.assert_array_equal(flipped.sample_.indices, model.sample_.indices)


@pytest.mark.parametrize("classifier", [False, True])
def test_rare_direction_kept_surely(classifier):
    """A feature nonzero on 3 rows of 2000: Lewis scores keep them, uniform ones rarely do."""
    X, y = _regression(2000, 3, seed=12)
    X = np.column_stack([X, np.zeros(2000)])
    X[[5, 500, 1500], 3] = [1.0, -2.0, 0.5]
    estimator = LinearRegression()
    if classifier:
        y, estimator = (y > 0).astype(int), LogisticRegression()
    q = SampledEstimator(estimator, k=100, random_state=0).fit(X, y).sample_.probabilities
    np.testing.assert_array_equal(q[[5, 500, 1500]], 1.0)
    uniform = SampledEstimator(estimator, k=100, scores="uniform", random_state=0).fit(X, y)
    np.testing.assert_allclose(uniform.sample_.probabilities, 100 / 2000)


def _ratios(estimator, X, y, k, scores, loss):
    full = loss(y, clone(estimator).fit(X, y), X)
    ratios = []
    for seed in range(20):
        model = SampledEstimator(estimator, k=k, scores=scores, random_state=seed).fit(X, y)
        ratios.append(loss(y, model, X) / full)
    return np.array(ratios)


def _log_loss(y, model, X):
    return log_loss(y, model.predict_proba(X))


def _squared_loss(y, model, X):
    return np.mean((y - model.predict(X)) ** 2)


def test_breast_cancer_coreset_fit_near_full_fit():
    """569 rows, 30 features: 250 sampled rows give a full-data log-loss near the full fit's.

    Measured (20 seeds): median ratio 1.13 by Lewis weights, 1.28 uniform;
    90th percentile 1.25 and 1.57.
    """
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    lewis = _ratios(LogisticRegression(), X, y, 250, "lewis", _log_loss)
    uniform = _ratios(LogisticRegression(), X, y, 250, "uniform", _log_loss)
    assert np.median(lewis) < 1.2
    assert np.quantile(lewis, 0.9) < np.quantile(uniform, 0.9)


def test_diabetes_coreset_fit_near_full_fit():
    """442 rows, 10 features: 80 sampled rows give a full-data squared loss near the full fit's.

    Measured (20 seeds): median ratio 1.105 by Lewis weights, 1.138 uniform;
    90th percentile 1.18 and 1.29.
    """
    X, y = load_diabetes(return_X_y=True)
    lewis = _ratios(LinearRegression(), X, y, 80, "lewis", _squared_loss)
    uniform = _ratios(LinearRegression(), X, y, 80, "uniform", _squared_loss)
    assert np.median(lewis) < 1.15
    assert np.quantile(lewis, 0.9) < np.quantile(uniform, 0.9)


def test_tree_regressor_is_sampled_too():
    """Any estimator with sample_weight: a tree is fitted on the sample (a heuristic)."""
    X, y = _regression(2000, 3, seed=11)
    model = SampledEstimator(DecisionTreeRegressor(max_depth=3), k=200, random_state=0)
    model.fit(X, y)
    assert model.p_ == 2.0 and model.sample_.scores == "exact lewis"
    assert model.estimator_.tree_.n_node_samples[0] == len(model.sample_)


def test_a_warning_from_fit_points_at_the_caller_not_at_scikit_learn():
    # scikit-learn's fit wrapper sits between the user's line and randla's
    # warning: the warning must name the user's file, not sklearn/base.py.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = np.arange(300) % 2
    y[0] = 2  # one row of class 2: a sample of 20 rows misses it
    model = SampledEstimator(LogisticRegression(), k=20, scores="uniform", random_state=0)
    with pytest.warns(randla.RandlaWarning, match="misses the classes") as record:
        model.fit(X, y)
    assert {w.filename for w in record} == {__file__}
