"""randla.sklearn.Nystroem: scikit-learn's conventions, its transform, landmark quality."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.kernel_approximation import Nystroem as SklearnNystroem
from sklearn.linear_model import RidgeClassifier
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from randla.sklearn import Nystroem

SAMPLINGS = ("rls", "uniform", "kdpp")
DIGITS = load_digits()
X_DIGITS = DIGITS.data / 16


def _clustered(n, seed, clusters=100):
    """Tight clusters with sizes proportional to 1/j: a few large, many small."""
    rng = np.random.default_rng(seed)
    w = 1 / np.arange(1, clusters + 1)
    labels = rng.choice(clusters, size=n, p=w / w.sum())
    centers = rng.uniform(0, 20, size=(clusters, 5))
    return centers[labels] + 0.2 * rng.standard_normal((n, 5))


# Every check applies: none is marked as an expected failure.
@parametrize_with_checks([Nystroem(sampling=s, n_components=10, random_state=0) for s in SAMPLINGS])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_uniform_is_sklearns_nystroem():
    # Same random_state, same landmarks, same features, bit for bit.
    ours = Nystroem(sampling="uniform", gamma=0.2, n_components=40, random_state=7).fit(X_DIGITS)
    theirs = SklearnNystroem(gamma=0.2, n_components=40, random_state=7).fit(X_DIGITS)
    np.testing.assert_array_equal(ours.component_indices_, theirs.component_indices_)
    np.testing.assert_array_equal(ours.transform(X_DIGITS), theirs.transform(X_DIGITS))


def _sklearn_on(X, indices, **params):
    """scikit-learn's Nystroem with the landmarks ``indices``: fitted on exactly
    those rows, it takes them all, in its own order ``ci``."""
    m = len(indices)
    theirs = SklearnNystroem(n_components=m, random_state=0, **params).fit(X[indices])
    return theirs, theirs.component_indices_


@pytest.mark.parametrize("sampling", ["rls", "kdpp"])
@pytest.mark.parametrize(
    "params", [{"gamma": 0.2}, {"kernel": "poly", "degree": 2, "gamma": 0.1, "coef0": 1.0}]
)
def test_transform_equals_sklearns_given_the_same_landmarks(sampling, params):
    ours = Nystroem(n_components=60, sampling=sampling, random_state=0, **params).fit(X_DIGITS)
    theirs, order = _sklearn_on(X_DIGITS, ours.component_indices_, **params)
    # feature j of scikit-learn's is the landmark order[j] of ours
    np.testing.assert_allclose(
        ours.transform(X_DIGITS)[:, order], theirs.transform(X_DIGITS), rtol=1e-7, atol=1e-9
    )
    np.testing.assert_array_equal(ours.components_, X_DIGITS[ours.component_indices_])


def test_repeated_points_give_a_finite_pseudo_inverse_root():
    # 12 distinct points, each 10 times; 20 landmarks: the landmark kernel
    # is singular (rank <= 12), its inverse root clipped as scikit-learn's.
    X = np.repeat(np.random.default_rng(0).standard_normal((12, 3)), 10, axis=0)
    for sampling in SAMPLINGS:
        ours = Nystroem(gamma=0.5, n_components=20, sampling=sampling, random_state=0).fit(X)
        features = ours.transform(X)
        assert np.isfinite(ours.normalization_).all() and np.isfinite(features).all()
        theirs, order = _sklearn_on(X, ours.component_indices_, gamma=0.5)
        np.testing.assert_allclose(
            features @ features.T, (F := theirs.transform(X)) @ F.T, rtol=1e-6, atol=1e-6
        )


def test_clone_pickle_and_reproducibility():
    est = Nystroem(gamma=0.2, n_components=30, random_state=3)
    twin = clone(est)
    assert twin.get_params() == est.get_params()
    a = est.fit(X_DIGITS).transform(X_DIGITS)
    np.testing.assert_array_equal(twin.fit(X_DIGITS).transform(X_DIGITS), a)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform(X_DIGITS), a)
    np.testing.assert_array_equal(restored.component_indices_, est.component_indices_)
    # a RandomState is advanced, as in scikit-learn: two fits, two draws
    state = np.random.RandomState(0)
    first = Nystroem(n_components=30, random_state=state).fit(X_DIGITS).component_indices_
    second = Nystroem(n_components=30, random_state=state).fit(X_DIGITS).component_indices_
    assert not np.array_equal(first, second)


def test_pipeline_and_grid_search():
    X, y = X_DIGITS, DIGITS.target
    pipe = make_pipeline(Nystroem(gamma=0.2, random_state=0), RidgeClassifier(alpha=1e-3))
    search = GridSearchCV(pipe, {"nystroem__n_components": [20, 150]}, cv=3).fit(X, y)
    assert search.best_params_ == {"nystroem__n_components": 150}
    assert search.best_score_ > 0.9
    assert search.best_estimator_[0].transform(X).shape == (len(X), 150)


def _relative_errors(est, X, K):
    """(Frobenius, trace) relative errors of K_hat = F F^T, F = est.transform(X)."""
    F = est.transform(X)
    residual = K - F @ F.T
    return np.linalg.norm(residual) / np.linalg.norm(K), np.trace(residual) / np.trace(K)


def _median_errors(X, gamma, m, sampling, seeds=range(5)):
    K = rbf_kernel(X, gamma=gamma)
    errors = [
        _relative_errors(
            Nystroem(gamma=gamma, n_components=m, sampling=sampling, random_state=s).fit(X), X, K
        )
        for s in seeds
    ]
    return np.median(errors, axis=0)


@pytest.mark.parametrize("m", [100, 200])
def test_beats_uniform_on_clusters_of_very_different_sizes(m):
    X = _clustered(2000, 0)
    uniform = _median_errors(X, 0.5, m, "uniform")
    rls = _median_errors(X, 0.5, m, "rls")
    assert (rls < 0.95 * uniform).all(), (rls, uniform)


@pytest.mark.parametrize("m", [50, 200])
def test_no_worse_than_uniform_on_digits(m):
    # Digits has nearly flat ridge leverage scores (max / mean < 1.5 at the
    # recursion's lambda), so uniform landmarks are already close to
    # leverage sampling: what holds is "no more than 5% worse", not "better".
    uniform = _median_errors(X_DIGITS, 0.2, m, "uniform")
    rls = _median_errors(X_DIGITS, 0.2, m, "rls")
    assert (rls < 1.05 * uniform).all(), (rls, uniform)


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"n_components": 0}, InvalidParameterError, "'n_components' parameter"),
        ({"n_components": 2.5}, InvalidParameterError, "'n_components' parameter"),
        ({"kernel": "rbff"}, InvalidParameterError, "'kernel' parameter"),
        ({"sampling": "dpp"}, InvalidParameterError, "'sampling' parameter"),
        ({"kernel": lambda x, y: x @ y, "gamma": 1.0}, ValueError, "must be None with a callable"),
    ],
)
def test_bad_parameters(params, error, message):
    with pytest.raises(error, match=message):
        Nystroem(**params).fit(X_DIGITS[:50])


def test_nan_input_and_unfitted():
    X = X_DIGITS[:50].copy()
    X[3, 7] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        Nystroem(n_components=5).fit(X)
    est = Nystroem(n_components=5, random_state=0).fit(X_DIGITS[:50])
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.transform(X)


def test_more_components_than_samples_warns_and_uses_all():
    with pytest.warns(UserWarning, match=r"n_components \(100\) > n_samples \(30\)") as record:
        est = Nystroem(n_components=100, random_state=0).fit(X_DIGITS[:30])
    assert record[0].filename == __file__  # the user's line, not randla's or sklearn's
    assert sorted(est.component_indices_) == list(range(30))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert est.transform(X_DIGITS[:5]).shape == (5, 30)


def test_sparse_and_callable_kernels():
    import scipy.sparse as sp

    Xs = sp.csr_matrix(X_DIGITS[:300])
    dense = Nystroem(gamma=0.2, n_components=20, random_state=0).fit(X_DIGITS[:300])
    sparse = Nystroem(gamma=0.2, n_components=20, random_state=0).fit(Xs)
    np.testing.assert_array_equal(dense.component_indices_, sparse.component_indices_)
    np.testing.assert_allclose(sparse.transform(Xs), dense.transform(X_DIGITS[:300]), atol=1e-10)

    def laplace(x, y, scale):
        return np.exp(-np.abs(x - y).sum() / scale)

    est = Nystroem(laplace, kernel_params={"scale": 8.0}, n_components=15, random_state=0)
    F = est.fit(X_DIGITS[:80]).transform(X_DIGITS[:80])
    assert F.shape == (80, 15) and np.isfinite(F).all()
