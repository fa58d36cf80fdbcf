r"""
Leverage scores and leverage-score sampling
===========================================

A coherent matrix: a smooth polynomial design on a grid that is dense on
the left and sparse on the right, so that the few isolated points carry
most of the information. The left panel shows the exact leverage scores
against the row index, with the sketched estimates (``method="sketch"``,
``eps=0.5``: every one within 50%) and the coarse ones the samplers use by
default (``method="coarse"``: to a factor, at a fraction of the cost). The
right panel fits a least-squares model on a sample of the rows and compares
the error of the fitted values, :math:`\|A(x_S - x)\| / \|Ax\|`, for
uniform sampling and leverage-score sampling by exact and by coarse scores,
against the number of rows drawn: asked for ``k`` rows, the coarse sampler
draws 3.5 k (:data:`randla.OVERSAMPLING`) to keep the guarantee of exact
scores at ``k``.
"""

import matplotlib.pyplot as plt
import numpy as np

import randla

rng = np.random.default_rng(0)
n, d = 20_000, 8
# Points crowd near 0; a handful lie far out on [0, 1].
t = np.sort(rng.beta(0.3, 6.0, size=n))
A = np.polynomial.legendre.legvander(2 * t - 1, d - 1)
b = np.sin(6 * t) + 0.01 * rng.standard_normal(n)

tau = randla.leverage_scores(A)
tau_hat = randla.leverage_scores(A, method="sketch", eps=0.5, rng=0)
tau_coarse = randla.leverage_scores(A, method="coarse", rng=0)
x_full = randla.lstsq(A, b, rng=0).x

sizes = [40, 80, 160, 320, 640, 1280]
samplers = {
    "uniform": lambda k, seed: randla.uniform_sample(A, k, rng=seed),
    "leverage, exact scores": lambda k, seed: randla.leverage_sample(
        A, k, accuracy="exact", rng=seed
    ),
    "leverage, coarse scores": lambda k, seed: randla.leverage_sample(A, k, rng=seed),
}
errors = {name: [] for name in samplers}
drawn = {name: [] for name in samplers}
for k in sizes:
    for name, sampler in samplers.items():
        trials = []
        for seed in range(20):
            s = sampler(k, seed)
            x = randla.lstsq(s.apply(A), s.apply(b), method="direct").x
            trials.append(np.linalg.norm(A @ (x - x_full)) / np.linalg.norm(A @ x_full))
        errors[name].append(np.median(trials))
        drawn[name].append(s.k)

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.semilogy(tau, lw=1, label="exact")
left.semilogy(tau_hat, ".", ms=1, alpha=0.4, label="sketched, eps = 0.5")
left.semilogy(tau_coarse, ".", ms=1, alpha=0.4, label="coarse")
left.set_xlabel("row index (sorted by t)")
left.set_ylabel("leverage score")
left.legend()
for name, err in errors.items():
    right.loglog(drawn[name], err, "o-", label=name)
right.set_xlabel("rows drawn (expected)")
right.set_ylabel("median relative error of Ax (20 draws)")
right.legend()
fig.tight_layout()
plt.show()
