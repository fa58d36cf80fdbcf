"""Inputs every randla.sklearn estimator meets alike, which scikit-learn's checks do not try."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression

from randla.sklearn import LpRegressor, Nystroem, QuantileRegressor, SampledEstimator

ESTIMATORS = [
    LpRegressor(random_state=0),
    QuantileRegressor(quantile=0.3, alpha=0.0, random_state=0),
    SampledEstimator(LinearRegression(), k=80, random_state=0),
    Nystroem(n_components=20, random_state=0),
]
IDS = [type(e).__name__ for e in ESTIMATORS]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    return X, X @ [1.0, -2.0, 0.5, 3.0] + rng.standard_t(2, size=300)


def _result(estimator):
    """What a fit learned: the coefficients, or the landmarks."""
    if isinstance(estimator, Nystroem):
        return estimator.components_
    if isinstance(estimator, SampledEstimator):
        return estimator.estimator_.coef_
    return np.r_[estimator.coef_, estimator.intercept_]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_a_masked_array_is_refused_by_name(estimator, data):
    # scikit-learn would drop the mask and fit on the hidden values.
    X, y = data
    masked = np.ma.masked_array(X, mask=np.abs(X) > 2)
    with pytest.raises(TypeError, match="X is a masked array"):
        clone(estimator).fit(masked, y)
    if not isinstance(estimator, Nystroem):
        with pytest.raises(TypeError, match="y is a masked array"):
            clone(estimator).fit(X, np.ma.masked_array(y, mask=y > 3))
    fitted = clone(estimator).fit(X, y)
    with pytest.raises(TypeError, match="X is a masked array"):
        (fitted.transform if isinstance(fitted, Nystroem) else fitted.predict)(masked)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_a_memmap_and_a_read_only_view_fit_as_the_array_does(estimator, data, tmp_path):
    X, y = data
    np.save(tmp_path / "X.npy", X)
    mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    view = X.view()
    view.flags.writeable = False
    before = X.copy()
    reference = _result(clone(estimator).fit(X, y))
    for container in (mapped, view):
        np.testing.assert_array_equal(_result(clone(estimator).fit(container, y)), reference)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=IDS)
def test_a_float32_memmap_and_its_copy_fit_alike_and_stay_unchanged(estimator, data, tmp_path):
    X, y = data
    X32 = X.astype(np.float32)
    np.save(tmp_path / "X32.npy", X32)
    mapped = np.load(tmp_path / "X32.npy", mmap_mode="r")
    copied = np.array(mapped)  # an ordinary array: the copy a user makes of a mapping
    reference = _result(clone(estimator).fit(X32, y))
    for container in (mapped, copied):
        np.testing.assert_array_equal(_result(clone(estimator).fit(container, y)), reference)
    np.testing.assert_array_equal(np.load(tmp_path / "X32.npy"), X32)
    np.testing.assert_array_equal(copied, X32)


@pytest.mark.parametrize("estimator", ESTIMATORS[:3], ids=IDS[:3])
def test_the_scale_of_the_data_does_not_change_the_fit(estimator, data):
    # X and y times s: the same coefficients, the intercept times s. (An rbf
    # kernel of s X is another kernel, so Nystroem is left out.)
    X, y = data
    reference = _result(clone(estimator).fit(X, y))
    for s in (1e-150, 1e150):
        got = _result(clone(estimator).fit(X * s, y * s))
        unit = np.r_[np.ones(X.shape[1]), np.full(len(reference) - X.shape[1], s)]
        np.testing.assert_allclose(got / unit, reference, rtol=1e-6, atol=1e-12)
