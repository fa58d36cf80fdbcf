"""SampledEstimator(LogisticRegression(), k=5000) beside the full fit and uniform sampling.

Issue 17. Two problems of 10^6 x 50, labels from a logistic model with 5% of them
flipped (without noise the heavy-tailed problem is nearly separable, and no
small coreset exists for separable data):

* "rare": Gaussian features, but five of them are nonzero on 0.1% of the
  rows each, with large values and large coefficients: directions a uniform
  sample of 5000 rows sees about five times.
* "heavy": Student-t features with 1.5 degrees of freedom.

For each problem, one full fit (``LogisticRegression()`` on all rows), then
20 seeds of ``SampledEstimator(LogisticRegression(), k=5000)`` by l1 Lewis
weights plus the uniform share (the issue's choice), by root-leverage and by
leverage scores plus the uniform share, and by uniform sampling: the
full-data log-loss of each fit over the full fit's. The issue's targets: the sampled
fit at least 10x faster than the full fit, its median ratio within 1.05 and
its 90th percentile below uniform sampling's. The medians and quantiles go
to ``extra_info``, beside the times (one timed round each, the full fit and
a sampled fit of seed 0, on top of the 20 seeds' own median time), and
the seconds of the parts of a sampled fit: the copy of X with the column of
ones appended, and its coarse scores.

Under CI (CI=true) the problems shrink to 2 x 10^4 rows, k = 500 and
3 seeds: CI only checks that the benchmarks run. Run the full size with
``OPENBLAS_NUM_THREADS=1 python -m pytest bench/test_bench_sklearn_sampled.py``.
"""

import os
import time
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

import randla
from randla.sklearn import SampledEstimator

CI = os.environ.get("CI") == "true"
N, K, SEEDS = (20_000, 500, 3) if CI else (1_000_000, 5000, 20)
D = 50


def _labels(rng, X, beta, flip=0.05):
    margin = np.clip(X @ beta, -50, 50)
    y = rng.random(len(X)) < 1 / (1 + np.exp(-margin))
    return (y ^ (rng.random(len(X)) < flip)).astype(np.int64)


def _rare(n, seed=0, n_rare=5, fraction=1e-3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D))
    beta = rng.standard_normal(D) * 0.3
    for j in range(n_rare):
        X[:, j] = 0.0
        rows = rng.choice(n, max(1, int(fraction * n)), replace=False)
        X[rows, j] = rng.standard_normal(len(rows)) * 10
        beta[j] = 2.0 * (-1) ** j
    return X, _labels(rng, X, beta)


def _heavy(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_t(1.5, size=(n, D))
    return X, _labels(rng, X, rng.standard_normal(D) * 0.3)


PROBLEMS = {"rare": _rare, "heavy": _heavy}
# The l1 Lewis weights, uniform sampling, and two cheaper scores from
# the coarse leverage scores (two passes over X against the Lewis weights'
# six), each plus the uniform share: sqrt(tau) (Munteanu et al. 2018; the
# first Cohen-Peng step from uniform weights at p = 1) and tau itself.
SAMPLERS = ("lewis", "root-leverage", "leverage", "uniform")


def _fit(model, X, y):
    # lbfgs may stop at its default 100 iterations on the full heavy-tailed
    # problem: that is the reference a user gets, warned or not.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _loss(model, X, y):
    return log_loss(y, model.predict_proba(X))


@pytest.fixture(scope="module", params=sorted(PROBLEMS))
def experiment(request):
    """The problem, its full fit's loss and time, and the ratios of SEEDS sampled fits."""
    X, y = PROBLEMS[request.param](N)
    start = time.perf_counter()
    full = _fit(LogisticRegression(), X, y)
    result = {
        "name": request.param,
        "X": X,
        "y": y,
        "full_seconds": time.perf_counter() - start,
        "full_iterations": int(full.n_iter_.max()),
    }
    full_loss = _loss(full, X, y)
    result["full_loss"] = full_loss
    for scores in SAMPLERS:
        ratios, seconds = [], []
        for seed in range(SEEDS):
            model = SampledEstimator(LogisticRegression(), k=K, scores=scores, random_state=seed)
            start = time.perf_counter()
            _fit(model, X, y)
            seconds.append(time.perf_counter() - start)
            ratios.append(_loss(model, X, y) / full_loss)
        result[scores] = {
            "loss_ratio_median": float(np.median(ratios)),
            "loss_ratio_q90": float(np.quantile(ratios, 0.9)),
            "loss_ratio_max": float(np.max(ratios)),
            "seconds_median": float(np.median(seconds)),
        }
    result["breakdown"] = _breakdown(X)
    return result


def _breakdown(X):
    """Seconds of the parts of a sampled fit: the copy of [X 1], its coarse scores."""
    start = time.perf_counter()
    A = np.hstack([X, np.ones((len(X), 1))])
    seconds = {"append_ones_seconds": time.perf_counter() - start}
    start = time.perf_counter()
    randla.lewis_weights(A, 1, method="coarse", rng=0)
    seconds["coarse_l1_lewis_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    randla.leverage_scores(A, method="coarse", rng=0)
    seconds["coarse_leverage_seconds"] = time.perf_counter() - start
    return seconds


def _group(experiment):
    return f"LogisticRegression {experiment['name']} {N}x{D}, k={K}"


def _record(bench, experiment):
    bench.extra(
        full_loss=experiment["full_loss"],
        full_seconds_untimed_run=experiment["full_seconds"],
        full_iterations=experiment["full_iterations"],
        seeds=SEEDS,
        load_average=os.getloadavg()[0],
        **{f"{s}_{key}": value for s in SAMPLERS for key, value in experiment[s].items()},
        **experiment["breakdown"],
    )


def test_full_fit(bench, experiment):
    X, y = experiment["X"], experiment["y"]
    bench("scikit-learn full", _group(experiment), _fit, LogisticRegression(), X, y, heavy="once")
    _record(bench, experiment)


@pytest.mark.parametrize("scores", SAMPLERS)
def test_sampled_fit(bench, experiment, scores):
    X, y = experiment["X"], experiment["y"]
    model = SampledEstimator(LogisticRegression(), k=K, scores=scores, random_state=0)
    tool = "randla" if scores == "lewis" else f"randla {scores}"
    bench(tool, _group(experiment), _fit, model, X, y, heavy="once")
    _record(bench, experiment)
    # Not the targets (bench/README.md reports those): the sampled fits are sane.
    assert experiment[scores]["loss_ratio_median"] < 1.5
