"""
Subspace embedding distortion against sketch size
==================================================

The distortion :math:`\\max_i |\\sigma_i(SQ) - 1|` of an orthonormal basis
:math:`Q` of a tall matrix's column space, for each sketch kind, as the sketch
size :math:`k` grows. The matrix is *coherent*: a few rows carry most of its
column space, the case that breaks uniform row sampling but not sketching.
"""

import matplotlib.pyplot as plt
import numpy as np

from randla import SketchDistribution

rng = np.random.default_rng(0)
n, d = 8192, 10
# The first d rows are an identity block; the rest are small Gaussian noise.
A = np.vstack([np.eye(d), 1e-2 * rng.standard_normal((n - d, d))])
Q, _ = np.linalg.qr(A)

sizes = [2 * d, 4 * d, 8 * d, 16 * d, 32 * d]
fig, ax = plt.subplots(figsize=(6, 4))
for kind in ("countsketch", "sparse_sign", "srht", "gaussian"):
    median = []
    for k in sizes:
        dist = SketchDistribution(kind, k)
        trials = [dist.draw(n, rng=rng) @ Q for _ in range(10)]
        median.append(
            np.median([np.abs(np.linalg.svd(SQ, compute_uv=False) - 1).max() for SQ in trials])
        )
    ax.loglog(sizes, median, "o-", label=kind)
ax.set_xlabel("sketch size k")
ax.set_ylabel("median distortion (10 draws)")
ax.set_title(f"{n} x {d} coherent matrix")
ax.legend()
fig.tight_layout()
plt.show()
