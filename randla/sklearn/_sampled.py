r"""SampledEstimator: fit any estimator that takes ``sample_weight`` on a weighted row sample."""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    _fit_context,
    clone,
    is_classifier,
)
from sklearn.utils import get_tags
from sklearn.utils._available_if import available_if
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    has_fit_parameter,
)

from .._coarse import applies as coarse_applies
from .._leverage import leverage_scores_unchecked, root_of
from .._lewis import coarse_lewis_applies, lewis_weights_unchecked
from .._sampling import sample_rows_unchecked
from .._validation import RandlaWarning, RankWarning, warn
from ._data import generator, validated

__all__ = ["SampledEstimator"]

SCORES = ("lewis", "leverage", "root-leverage", "uniform")


def _delegates(method):
    """available_if check: the wrapped estimator (fitted, or as given) has ``method``."""

    def check(self):
        return hasattr(self.estimator_ if hasattr(self, "estimator_") else self.estimator, method)

    return check


class SampledEstimator(MetaEstimatorMixin, BaseEstimator):
    r"""Fit a clone of ``estimator`` on a weighted row sample of the data (a coreset).

    Row :math:`i` is kept independently with probability
    :math:`q_i = \min(1, \alpha s_i)`, :math:`\sum_i q_i = k`
    (:func:`randla.sample_rows`, Bernoulli scheme), and the clone is fitted on
    the kept rows with ``sample_weight`` :math:`u_i / q_i` (:math:`u` the
    user's weights, 1 without them). Any loss :math:`\sum_i u_i f_i(\theta)`
    is then estimated without bias for every :math:`\theta`:
    :math:`\mathbb{E}\sum_{i \in S} (u_i / q_i) f_i(\theta) = \sum_i u_i f_i(\theta)`.
    The scores :math:`s_i` decide how small the variance is.

    **Regression** (``estimator`` is not a classifier). The residual
    :math:`X\beta + b - y` of a linear model lies in the column space of
    :math:`A = [X\ 1\ y]` (the column of ones only when the estimator has
    ``fit_intercept=True``), so an :math:`\ell_p` subspace embedding of that
    space preserves :math:`\sum_i u_i |r_i|^p` for all :math:`\beta, b` at
    once. The rows of :math:`A` are scaled by :math:`u_i^{1/p}` first (the
    weighted loss is :math:`\sum_i |u_i^{1/p} r_i|^p`), and scored by

    * ``"lewis"``: the :math:`\ell_p` Lewis weights of :math:`A` (Cohen & Peng,
      2015); they bound the :math:`\ell_p` sensitivities (up to
      :math:`d^{p/2-1}` for :math:`p > 2`, a constant factor on the scores that
      sampling ignores). At :math:`p = 2` they are the leverage scores.
    * ``"leverage"``: the leverage scores (the :math:`\ell_2` choice at any ``p``).
    * ``"root-leverage"``: :math:`\tau_i^{p/2}`, :math:`1 \le p \le 2`
      (Woodruff & Yasuda, 2023).
    * ``"uniform"``: :math:`s_i = 1`, the baseline.

    ``p=None`` is the loss of the estimator: its own ``p`` parameter if it has
    one (:class:`randla.sklearn.LpRegressor`), 1 if it has a ``quantile``
    parameter (pinball loss, an asymmetric :math:`\ell_1` loss), and 2
    otherwise (squared loss: ``LinearRegression``, ``Ridge``, ``Lasso``,
    ``ElasticNet``...). Give ``p`` for any other loss (e.g. ``p=1`` for
    ``HuberRegressor``, whose loss grows linearly).

    **Classification** (``estimator`` is a classifier). The rows of
    :math:`X` (with the column of ones when the estimator fits an
    intercept), scaled by :math:`u_i`, are scored by their :math:`\ell_1`
    Lewis weights plus a uniform share (Mai, Musco & Rao, 2021):

    .. math::

        s_i = w_i(UX) + \frac{u_i}{\sum_j u_j},

    the Lewis weights summing to :math:`d = \operatorname{rank}(X)`, so that
    :math:`1/(d+1)` of the expected sample is spread uniformly (in
    proportion to the user's weights). The paper bounds the sensitivity of a
    row by its Lewis weight plus a uniform term, with constants (and the
    factor :math:`\mu` below) that are not explicit; equal unit weights on
    the two terms are our reading, not a tuned mixture. ``scores="leverage"`` and
    ``"root-leverage"`` replace :math:`w_i` by :math:`\tau_i` or
    :math:`\sqrt{\tau_i}` (the latter is the sensitivity bound of Munteanu et
    al., 2018), ``"uniform"`` is :math:`s_i = 1`; ``p`` (default 1) sets the
    Lewis weights' exponent. The labels do not enter the scores: the same
    sample serves any loss.

    Parameters
    ----------
    estimator : estimator object
        Any scikit-learn estimator whose ``fit`` takes ``sample_weight``.
        It is cloned; the fitted clone is ``estimator_``.
    k : int
        Expected number of rows of the sample, ``k >= 1``. With ``k`` at
        least the number of rows, every row is kept with weight :math:`u_i`
        and no score is computed: the fit is that of ``estimator`` on all the
        data (``sample_.scores == "all rows"``).
    scores : {"lewis", "leverage", "root-leverage", "uniform"}, default="lewis"
        The importance scores, as above.
    p : float, default=None
        The :math:`\ell_p` loss the sample is for, ``p >= 1``; ``None`` as
        above. ``"root-leverage"`` needs ``p <= 2``.
    random_state : int, RandomState instance or None, default=None
        Seeds the ``numpy.random.Generator`` randla draws the sample (and the
        sketches of coarse scores) with: the same integer gives the same
        sample and fit, bit for bit. Not passed to ``estimator``.

    Attributes
    ----------
    sample_ : randla.RowSample
        The sample: ``indices`` of the rows kept, their inclusion
        ``probabilities`` :math:`q`, ``scales`` :math:`q_i^{-1/p}` and the
        ``scores`` label (``"coarse lewis + uniform"``, ``"exact leverage"``,
        ...). The weights the clone was fitted with are
        ``u[sample_.indices] / sample_.probabilities[sample_.indices]``.
    estimator_ : estimator object
        The clone of ``estimator`` fitted on the sample.
    p_ : float
        The ``p`` the sample was drawn for.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of str
        Names of features seen during ``fit``, when ``X`` has string column names.
    classes_ : ndarray
        The classes of ``estimator_`` (classifiers only). A class absent from
        the sample is absent here, with a :class:`randla.RandlaWarning` at fit.

    Notes
    -----
    Guarantees, and where there are none:

    * :math:`\ell_p` regression (least squares, least absolute deviations,
      :math:`\ell_p` loss, quantile regression with ``p=1``, the pinball
      loss being within a factor :math:`\max(q, 1-q)/\min(q, 1-q)` of the
      :math:`\ell_1` loss): Lewis or sensitivity sampling with
      :math:`\tilde O(d/\varepsilon^2)` rows for :math:`p \le 2`
      (:math:`\tilde O(d^{p/2}/\varepsilon^2)` for :math:`p > 2`) is an
      :math:`\varepsilon` subspace embedding of the span of :math:`[X\ 1\ y]`
      with high probability, so every model's sampled loss is within
      :math:`1 \pm \varepsilon` of its full loss, and the sample's minimizer
      is within :math:`(1+\varepsilon)/(1-\varepsilon)` of the optimum.
      Penalties (``Ridge``'s ``alpha``, ``Lasso``'s) are not sampled: the
      weights sum to :math:`n` in expectation, so a penalty on the sum of
      the losses keeps its meaning.
    * Logistic loss, hinge loss (linear SVMs) and ReLU-type losses
      :math:`\max(0, t)`: Mai, Musco & Rao (2021, Corollary 9) show that
      sampling by :math:`\ell_1` Lewis weights plus a uniform term gives a
      :math:`(1 \pm \varepsilon)` coreset for all :math:`\beta` with
      :math:`\tilde O(d\,\mu_y(X)^2/\varepsilon^2)` rows, :math:`\mu_y(X)`
      the complexity measure of Munteanu et al. (2018): the largest ratio,
      over :math:`\beta`, of the mass of the correctly to the wrongly
      classified margins. It is unbounded on separable data, where no
      small coreset exists. The result is for binary labels; multiclass
      (multinomial) losses are sums of such terms and have no stated bound.
    * Anything else (trees, nearest neighbours, kernel machines, losses that
      are not functions of :math:`X\beta`, or regressors with other losses):
      a heuristic. The estimate of the loss stays unbiased for every fixed
      model, but no uniform bound over the models is known.

    :math:`k` is the expected size. The scores are computed to a constant
    factor on input large enough for a sketch to pay (``"coarse"`` in the
    label; randla's samplers would grow the sample by
    :data:`randla.OVERSAMPLING` to make up for it, here ``k`` is the budget)
    and exactly otherwise. Cost: the scores (for ``"lewis"``, at most six
    passes over :math:`A` for :math:`p < 4`; two for the leverage scores), a
    copy of :math:`A` when a column is appended or rows are scaled, and the
    fit on about ``k`` rows. The scores dominate: for ``LogisticRegression``
    on :math:`10^6 \times 50` with ``k=5000`` (one BLAS thread), the coarse
    :math:`\ell_1` Lewis weights took 2.3 to 2.7 s, 90% of the sampled fit
    and as long as the fit on all rows (12 to 26 L-BFGS iterations), the fit
    on the sample 0.03 s; ``scores="root-leverage"`` (:math:`\sqrt{\tau_i}`,
    the first Lewis iteration from uniform weights) took 0.4 s, at a
    full-data log-loss as close to the full fit's at the median
    (``bench/test_bench_sklearn_sampled.py``).

    References
    ----------
    Cohen, M. & Peng, R. (2015). l_p row sampling by Lewis weights. STOC.
    Munteanu, A., Schwiegelshohn, C., Sohler, C. & Woodruff, D. (2018). On
    coresets for logistic regression. NeurIPS.
    Mai, T., Musco, C. & Rao, A. (2021). Coresets for classification --
    simplified and strengthened. NeurIPS.
    Woodruff, D. & Yasuda, T. (2023). Sharper bounds for l_p sensitivity
    sampling. ICML.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.preprocessing import StandardScaler
    >>> from randla.sklearn import SampledEstimator
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> model = SampledEstimator(LogisticRegression(), k=200, random_state=0).fit(X, y)
    >>> model.sample_.scores, len(model.sample_) < len(X)
    ('exact lewis + uniform', True)
    >>> bool(model.score(X, y) > 0.9)
    True
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit"])],
        "k": [Interval(Integral, 1, None, closed="left")],
        "scores": [StrOptions(set(SCORES))],
        "p": [Interval(Real, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, k, scores="lewis", p=None, random_state=None):
        self.estimator = estimator
        self.k = k
        self.scores = scores
        self.p = p
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=False)  # the clone validates its own
    def fit(self, X, y, sample_weight=None):
        """Draw the sample of the rows of ``X`` (and ``y``) and fit the clone on it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Dense training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets (labels, for a classifier).
        sample_weight : array-like of shape (n_samples,), default=None
            Nonnegative weights :math:`u_i` of the rows' losses; they enter
            the scores (rows scaled by :math:`u_i^{1/p}`) and the fit
            (:math:`u_i / q_i`).

        Returns
        -------
        self : SampledEstimator
        """
        if not has_fit_parameter(self.estimator, "sample_weight"):
            raise TypeError(
                f"estimator must take sample_weight in fit, the weights of the sampled rows; "
                f"{type(self.estimator).__name__}.fit does not"
            )
        classifier = is_classifier(self.estimator)
        X, y = validated(
            self,
            X,
            y,
            dtype=np.float64,
            multi_output=not classifier or get_tags(self.estimator).target_tags.multi_output,
            y_numeric=not classifier,
        )
        u = _check_sample_weight(sample_weight, X, ensure_non_negative=True)
        p = self._loss_p(classifier)
        rng = generator(self.random_state)
        n = len(X)
        if self.k >= n:
            sample = sample_rows_unchecked(np.ones(n), n, p, "bernoulli", rng, "all rows")
        else:
            s, label = self._scores(X, y, u, p, classifier, rng)
            sample = sample_rows_unchecked(s, self.k, p, "bernoulli", rng, label)
        rows = sample.indices
        if len(rows) == 0:  # possible only when the rows with positive scores are very few
            raise ValueError(f"the sample of k={self.k} rows came out empty; raise k")
        weight = u[rows] / sample.probabilities[rows]
        self.estimator_ = clone(self.estimator).fit(X[rows], y[rows], sample_weight=weight)
        self.sample_ = sample
        self.p_ = p
        if classifier:
            missing = np.setdiff1d(np.unique(y), self.estimator_.classes_)
            if missing.size:
                warn(
                    f"the sample of {len(rows)} rows misses the classes {missing.tolist()}: "
                    f"estimator_ does not know them; raise k",
                    RandlaWarning,
                )
        return self

    def _loss_p(self, classifier):
        """The p of the sample: the user's, else the estimator's loss (see the class docstring)."""
        if self.p is not None:
            p = float(self.p)
        else:
            params = self.estimator.get_params(deep=False)
            if classifier:
                p = 1.0
            elif isinstance(params.get("p"), Real):
                p = float(params["p"])
            else:
                p = 1.0 if "quantile" in params else 2.0
        if self.scores == "root-leverage" and p > 2:
            raise ValueError(f"scores='root-leverage' needs p <= 2, got p={p:g}")
        return p

    def _scores(self, X, y, u, p, classifier, rng):
        """(scores, label) of the rows: see the class docstring."""
        if self.scores == "uniform":
            return np.ones(len(X)), "uniform"
        columns = [X]
        if self.estimator.get_params(deep=False).get("fit_intercept", False):
            columns.append(np.ones((len(X), 1)))
        if not classifier:
            columns.append(y.reshape(len(y), -1))
        A = np.hstack(columns) if len(columns) > 1 else X
        if not np.all(u == 1):
            A = A * (u if classifier else u ** (1 / p))[:, None]
        s, label = self._importance(A, p, rng)
        if classifier:
            return s + u / u.sum(), f"{label} + uniform"
        return s, label

    def _importance(self, A, p, rng):
        """(scores of A's rows, label) for scores 'lewis', 'leverage' and 'root-leverage'."""
        if self.scores == "lewis" and p != 2:
            coarse = coarse_lewis_applies(A.shape, p)
            # A rank-deficient A (one-hot or constant features) is no trouble
            # here: its weights are those of its column space, which is what
            # the sample must preserve.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RankWarning)
                s = lewis_weights_unchecked(A, p, rng, method="coarse" if coarse else "exact")
        else:
            coarse = coarse_applies(A.shape)
            s = leverage_scores_unchecked(A, "coarse" if coarse else "qr", None, 0.5, rng)[0]
            if self.scores == "root-leverage":
                s = root_of(s, p)
        kind = "lewis" if self.scores == "lewis" else self.scores
        return s, f"{'coarse' if coarse else 'exact'} {kind}"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = copy.deepcopy(inner.classifier_tags)
        tags.regressor_tags = copy.deepcopy(inner.regressor_tags)
        tags.target_tags.required = True
        tags.target_tags.multi_output = inner.target_tags.multi_output
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    @property
    def classes_(self):
        """The classes of the fitted classifier ``estimator_``."""
        check_is_fitted(self)
        return self.estimator_.classes_

    @available_if(_delegates("predict"))
    def predict(self, X):
        """``estimator_.predict(X)``."""
        check_is_fitted(self)
        return self.estimator_.predict(validated(self, X, reset=False))

    @available_if(_delegates("predict_proba"))
    def predict_proba(self, X):
        """``estimator_.predict_proba(X)``."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(validated(self, X, reset=False))

    @available_if(_delegates("predict_log_proba"))
    def predict_log_proba(self, X):
        """``estimator_.predict_log_proba(X)``."""
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(validated(self, X, reset=False))

    @available_if(_delegates("decision_function"))
    def decision_function(self, X):
        """``estimator_.decision_function(X)``."""
        check_is_fitted(self)
        return self.estimator_.decision_function(validated(self, X, reset=False))

    @available_if(_delegates("score"))
    def score(self, X, y, sample_weight=None):
        """``estimator_.score(X, y, sample_weight)``, as the estimator defines it."""
        check_is_fitted(self)
        X = validated(self, X, reset=False)
        return self.estimator_.score(X, y, sample_weight=sample_weight)
