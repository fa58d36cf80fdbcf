r"""
randla inside scikit-learn: quantile regression and Nyström features
====================================================================

Two scikit-learn workflows with :mod:`randla.sklearn` in them.

**Quantile regression in a pipeline.** Disease progression against body
mass index in scikit-learn's diabetes data (442 patients): a pipeline of
:class:`~sklearn.preprocessing.StandardScaler` and
:class:`randla.sklearn.QuantileRegressor`, with
:class:`~sklearn.model_selection.GridSearchCV` choosing the quantile
``q`` and the penalty ``alpha``, scored by the mean pinball loss of the
0.9 quantile: the search should land on ``q = 0.9``, the loss it is scored
by, which it does. The three lines are the 0.1, 0.5 and 0.9 conditional
quantiles; randla's fit equals scikit-learn's objective to the last
digits, with a certified duality gap.

**Nyström features.** The rbf kernel on scikit-learn's digits (1797
images): the relative Frobenius error :math:`\|K - \hat K\|_F / \|K\|_F`
of the Nyström approximation with landmarks by ridge leverage scores
(``sampling="rls"``) against scikit-learn's uniform landmarks, median of
5 seeds at each number of components; and the accuracy of a
:class:`~sklearn.linear_model.RidgeClassifier` on each set of features.
The digits fill their space evenly: the ridge leverage scores of this
kernel are nearly uniform, and the two curves nearly coincide. The scores
pay where uniform landmarks miss something, as small clusters beside large
ones (the benchmarks measure such a set).
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import sklearn.kernel_approximation
import sklearn.linear_model
from sklearn.datasets import load_diabetes, load_digits
from sklearn.metrics import make_scorer, mean_pinball_loss
from sklearn.metrics.pairwise import rbf_kernel
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from randla.sklearn import Nystroem, QuantileRegressor

# %%
# Quantile regression, chosen by cross-validation
# -----------------------------------------------

data = load_diabetes(scaled=False)
X, y = data.data[:, [2]], data.target  # body mass index
pipe = make_pipeline(StandardScaler(), QuantileRegressor())
search = GridSearchCV(
    pipe,
    {"quantileregressor__quantile": [0.5, 0.7, 0.9], "quantileregressor__alpha": [0.0, 1.0]},
    scoring=make_scorer(mean_pinball_loss, alpha=0.9, greater_is_better=False),
    cv=5,
).fit(X, y)
print("chosen by the 0.9 pinball loss:", search.best_params_)

grid = np.linspace(X.min(), X.max(), 100)[:, None]
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
left.scatter(X[:, 0], y, s=6, color="0.6")
for q in (0.1, 0.5, 0.9):
    ours = QuantileRegressor(quantile=q, alpha=0.0).fit(X, y)
    theirs = sklearn.linear_model.QuantileRegressor(quantile=q, alpha=0.0).fit(X, y)
    loss = [mean_pinball_loss(y, m.predict(X), alpha=q) for m in (ours, theirs)]
    print(
        f"q = {q}: mean pinball loss randla {loss[0]:.10f}, scikit-learn {loss[1]:.10f}, "
        f"certified gap {ours.duality_gap_:.1e}"
    )
    left.plot(grid[:, 0], ours.predict(grid), label=f"q = {q}")
left.set(xlabel="body mass index", ylabel="disease progression after a year")
left.set_title("QuantileRegressor on load_diabetes")
left.legend()

# %%
# Nyström features: ridge leverage landmarks against uniform ones
# ----------------------------------------------------------------

X, y = load_digits(return_X_y=True)
X = X / 16
gamma = 0.05
K = rbf_kernel(X, gamma=gamma)
norm = np.linalg.norm(K)


def kernel_error(features):
    F = features.transform(X)
    return np.linalg.norm(K - F @ F.T) / norm


sizes = [25, 50, 100, 200, 400]
samplers = {
    "rls (randla)": Nystroem,
    "uniform (scikit-learn)": sklearn.kernel_approximation.Nystroem,
}
errors = {name: [] for name in samplers}
for s in sizes:
    for name, sampler in samplers.items():
        runs = [sampler(gamma=gamma, n_components=s, random_state=seed) for seed in range(5)]
        errors[name].append(np.median([kernel_error(run.fit(X)) for run in runs]))
for name, values in errors.items():
    print(f"{name}: median relative error " + ", ".join(f"{e:.3f}" for e in values))
    right.semilogy(sizes, values, "o-", label=name)
right.set(xlabel="n_components", ylabel="relative Frobenius error of the kernel")
right.set_title("Nyström on load_digits, rbf kernel")
right.legend()
fig.tight_layout()

X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
for name, sampler in samplers.items():
    features = sampler(gamma=gamma, n_components=100, random_state=0)
    model = make_pipeline(features, sklearn.linear_model.RidgeClassifier(alpha=1e-3))
    t0 = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - t0
    print(f"{name}: test accuracy {model.score(X_test, y_test):.3f}, fit {seconds:.2f} s")
plt.show()
