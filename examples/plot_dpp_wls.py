r"""
Weighted least squares: i.i.d. against DPP and volume-rescaled samples
======================================================================

A small version of one table that ``bench/wls_experiments.py`` prints:
approximate the Runge function :math:`1/(1+25x^2)` on :math:`[-1, 1]` by
orthonormal Legendre polynomials of degree below ``m = 20``, from ``n``
evaluations, with the optimal weights :math:`w = m/k_m`
(:func:`randla.dpp_wls`). Left: the median error ratio
:math:`\|f - \hat f\|/e_m(f)` (1 is the best approximation), with the 10-90%
band, over 40 trials per point; right: the probability that
:math:`\|G - I\| \le 1/2`. At ``n = m``, i.i.d. optimal sampling is unstable
(huge error ratios), while one projection DPP already interpolates with a
ratio of a few units; volume-rescaled sampling keeps that advantage as ``n``
grows.
"""

import matplotlib.pyplot as plt
import numpy as np
import scipy.special

import randla

m = 20
basis = randla.bases.legendre(m - 1)


def runge(x):
    return 1 / (1 + 25 * x[:, 0] ** 2)


t, w = scipy.special.roots_legendre(400)
Phi, values = basis(t[:, None]), runge(t[:, None])
best = (Phi * (w / 2)[:, None]).T @ values
e_m = np.sqrt(np.sum(w / 2 * (values - Phi @ best) ** 2))

ratios = [1, 1.5, 2, 3, 4]
fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
for method in ("iid", "volume", "repeated-dpp"):
    xs, medians, low, high, stable = [], [], [], [], []
    for ratio in ratios:
        n = int(ratio * m)
        if method == "repeated-dpp" and n % m:
            continue
        results = [randla.dpp_wls(runge, basis, n, method=method, rng=s) for s in range(40)]
        errors = [np.sqrt(np.sum(w / 2 * (values - Phi @ r.coef) ** 2)) / e_m for r in results]
        xs.append(ratio)
        medians.append(np.median(errors))
        low.append(np.percentile(errors, 10))
        high.append(np.percentile(errors, 90))
        stable.append(np.mean([r.gram_error <= 0.5 for r in results]))
    label = {
        "iid": "i.i.d. optimal",
        "volume": "volume-rescaled (n = m: one DPP)",
        "repeated-dpp": "repeated DPPs",
    }[method]
    axes[0].loglog(xs, medians, "o-", label=label)
    axes[0].fill_between(xs, low, high, alpha=0.15)
    axes[1].plot(xs, stable, "o-", label=label)
axes[0].set_xlabel("n / m")
axes[0].set_ylabel("error ratio ||f - f_hat|| / e_m(f)")
axes[0].set_xticks(ratios, [str(r) for r in ratios])
axes[0].minorticks_off()
axes[0].legend()
axes[1].set_xlabel("n / m")
axes[1].set_ylabel("P(||G - I|| <= 1/2)")
axes[1].legend()
fig.suptitle(f"Runge function, Legendre, m = {m}")
fig.tight_layout()
plt.show()
