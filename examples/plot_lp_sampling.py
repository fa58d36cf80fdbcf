r"""
ℓp row sampling: distortion against sample size
===============================================

A small version of two tables that ``bench/wy_tables.py`` prints. Left: the
coherent matrix :math:`[I_d;\ 0.01\,G]` (``n = 4000``, ``d = 5``), where
uniform sampling misses the identity rows; the median estimated
:math:`\ell_p` distortion (:func:`randla.lp_distortion`, a lower bound) over
10 draws against the expected number of rows over ``d``, for each sampler,
at ``p = 1`` and ``p = 3``. Right: the total :math:`\ell_p` sensitivity of
Gaussian matrices against ``d``, with the bounds ``d`` and :math:`d^{p/2}`.

At ``p = 1`` the identity rows matter little (the many small rows add up in
the 1-norm) and uniform sampling does as well as the rest; at ``p = 3``
they carry almost all of :math:`\|Ax\|_3^3` and uniform sampling misses them.
Sensitivity sampling with the Lewis bounds (the default) draws the very
same rows as Lewis sampling for :math:`p \le 2`, so their curves coincide.
"""

import matplotlib.pyplot as plt
import numpy as np

import randla

rng = np.random.default_rng(0)
n, d = 4000, 5
A = np.vstack([np.eye(d), 0.01 * rng.standard_normal((n - d, d))])
tau = randla.leverage_scores(A)


def samplers(p):
    """name -> sampler(k, seed), every one scaled for p; scores computed once."""
    sigma = randla.lp_sensitivities(A, p, method="lewis")
    out = {
        "uniform": lambda k, s: randla.uniform_sample(A, k, p=p, rng=s),
        "leverage": lambda k, s: randla.sample_rows(tau, k, p=p, rng=s),
        "Lewis": lambda k, s: randla.lewis_sample(A, k, p=p, rng=s),
        "sensitivity": lambda k, s: randla.sample_rows(sigma, k, p=p, rng=s),
    }
    if p <= 2:
        out["root-leverage"] = lambda k, s: randla.root_leverage_sample(A, k, p=p, rng=s)
        out["augmented"] = lambda k, s: randla.sample_rows(sigma + tau, k, p=p, rng=s)
    else:
        mixed = tau / tau.sum() + sigma / sigma.sum()  # = hybrid_sample
        out["hybrid"] = lambda k, s: randla.sample_rows(mixed, k, p=p, rng=s)
    return out


ratios = [2, 4, 8, 16, 32]
fig, axes = plt.subplots(1, 3, figsize=(14, 4))
for ax, p in zip(axes[:2], (1.0, 3.0), strict=True):
    w = randla.lewis_weights(A, p)  # for lp_distortion's Lewis basis, reused over draws
    for name, draw in samplers(p).items():
        medians = []
        for ratio in ratios:
            values = [
                randla.lp_distortion(
                    A, draw(ratio * d, seed), lewis_weights=w, directions=32, ascent_steps=10, rng=0
                )
                for seed in range(10)
            ]
            medians.append(np.median(values))
        ax.loglog(ratios, medians, "o-", label=name)
    ax.set_title(f"p = {p:g}, coherent {n} x {d}")
    ax.set_xticks(ratios, [str(r) for r in ratios])
    ax.minorticks_off()
    ax.set_xlabel("expected rows / d")
    ax.set_ylabel("median distortion (lower bound)")
    ax.legend(fontsize=8)

dims = [2, 4, 8]
for p in (1.0, 3.0):
    totals = [
        randla.total_sensitivity(rng.standard_normal((200, k)), p, progress=False) for k in dims
    ]
    axes[2].plot(dims, totals, "o-", label=f"p = {p:g}")
axes[2].plot(dims, dims, "k--", label="d")
axes[2].plot(dims, np.array(dims) ** 1.5, "k:", label="d^(3/2)")
axes[2].set_xlabel("d")
axes[2].set_ylabel("total sensitivity, Gaussian 200 x d")
axes[2].legend(fontsize=8)
fig.tight_layout()
plt.show()
