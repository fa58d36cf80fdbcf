r"""
DPP against independent points on a grid
========================================

The projection DPP onto the :math:`10 \times 10` lowest-frequency cosine
modes of a :math:`60 \times 60` grid draws exactly 100 points, which repel
each other: where a point falls, the kernel :math:`K = VV^\top` makes its
neighbours unlikely. Left: one DPP sample; middle: 100 points drawn uniformly
without replacement, which clump and leave holes; right: the distances from
each point to its nearest neighbour over 200 samples of each.
"""

import matplotlib.pyplot as plt
import numpy as np

import randla

side, modes = 60, 10
t = (np.arange(side) + 0.5) / side
cosines = np.cos(np.pi * np.outer(t, np.arange(modes)))
V = np.linalg.qr(np.kron(cosines, cosines))[0]  # orthonormal, 3600 x 100
rng = np.random.default_rng(0)


def nearest_distances(items):
    xy = np.column_stack([items // side, items % side]).astype(float)
    d2 = np.sum((xy[:, None] - xy[None]) ** 2, axis=-1)
    np.fill_diagonal(d2, np.inf)
    return np.sqrt(d2.min(axis=1))


dpp_sample = randla.dpp.sample_projection_dpp(V, rng=rng)
iid_sample = rng.choice(side * side, modes**2, replace=False)

fig, axes = plt.subplots(1, 3, figsize=(13, 4))
for ax, items, title in (
    (axes[0], dpp_sample, "projection DPP"),
    (axes[1], iid_sample, "uniform, independent"),
):
    ax.scatter(items % side, items // side, s=12)
    ax.set_title(f"{title}: {len(items)} points")
    ax.set_aspect("equal")
    ax.set_xlim(-1, side)
    ax.set_ylim(-1, side)

dpp_d = np.concatenate(
    [nearest_distances(randla.dpp.sample_projection_dpp(V, rng=rng)) for _ in range(200)]
)
iid_d = np.concatenate(
    [nearest_distances(rng.choice(side * side, modes**2, replace=False)) for _ in range(200)]
)
bins = np.arange(0.5, 12, 0.5)
axes[2].hist(iid_d, bins=bins, alpha=0.6, label=f"uniform (mean {iid_d.mean():.2f})")
axes[2].hist(dpp_d, bins=bins, alpha=0.6, label=f"DPP (mean {dpp_d.mean():.2f})")
axes[2].set_xlabel("distance to the nearest other point")
axes[2].legend()
fig.tight_layout()
plt.show()
