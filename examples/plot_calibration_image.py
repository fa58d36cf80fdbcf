r"""
Per-pixel sensor gains from a few modulated exposures
=====================================================

A camera whose pixels have unknown gains :math:`d_i` (vignetting and
per-pixel variation) records ``p = 3`` exposures of a scene through a
coded aperture that multiplies the scene's spatial frequencies by known
random codes :math:`m_l`:
:math:`y_l = \operatorname{diag}(d)\, \Psi \operatorname{diag}(m_l) c + \varepsilon_l`,
with the scene :math:`\Psi c` in a known subspace (its lowest 20 x 30
cosine modes). (A modulation pixel by pixel would not do: each pixel would
see its own gain times its own value in every exposure, and the two could
not be told apart.) This is the repeated-measurement model of
:func:`randla.self_calibrate` with :math:`A_l = \Psi\operatorname{diag}(m_l)`: linear least
squares recovers the gains and the scene together, up to one common scale
(fixed here by the mean of :math:`1/d`), from 3 x 5400 measurements of
5400 + 600 unknowns. The scene is a photograph shipped with scikit-learn.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_sample_image

import randla

rows, cols, n_rows, n_cols, p = 60, 90, 20, 30, 3
photo = load_sample_image("china.jpg").mean(axis=2)
# Block averages: a 60 x 90 gray image.
photo = photo[: rows * 7, : cols * 7].reshape(rows, 7, cols, 7).mean(axis=(1, 3)) / 255


def cosines(size, modes):
    t = (np.arange(size) + 0.5) / size
    return np.linalg.qr(np.cos(np.pi * np.outer(t, np.arange(modes))))[0]


Psi = np.kron(cosines(rows, n_rows), cosines(cols, n_cols))  # 5400 x 600, orthonormal
scene = Psi @ (Psi.T @ photo.ravel())  # the photograph's projection on the subspace

rng = np.random.default_rng(0)
yy, xx = np.mgrid[:rows, :cols]
radius = np.hypot((yy - rows / 2) / rows, (xx - cols / 2) / cols)
gains = (1 - 0.8 * radius**2) * (1 + 0.05 * rng.standard_normal(rows * cols).reshape(rows, cols))
codes = rng.uniform(-1.5, 1.5, size=(p, n_rows * n_cols))
A = Psi[None, :, :] * codes[:, None, :]  # A_l = Psi diag(code_l)
coefficients = Psi.T @ scene
clean = gains.ravel() * np.einsum("lmn,n->lm", A, coefficients)
y = clean + 1e-3 * np.linalg.norm(clean) / np.sqrt(clean.size) * rng.standard_normal(clean.shape)

start = time.perf_counter()
res = randla.self_calibrate(y, A)
seconds = time.perf_counter() - start

# Undo the scalar ambiguity for display: the best common scale.
alpha = np.vdot(res.d, gains.ravel()) / np.vdot(res.d, res.d)
gains_hat, scene_hat = alpha * res.d, (Psi @ res.x) / alpha
print(
    f"solved in {seconds:.2f} s; relative errors: gains "
    f"{np.linalg.norm(gains_hat - gains.ravel()) / np.linalg.norm(gains):.1e}, scene "
    f"{np.linalg.norm(scene_hat - scene) / np.linalg.norm(scene):.1e}"
)

fig, axes = plt.subplots(2, 3, figsize=(12, 6))
panels = [
    (scene, "scene (in the cosine subspace)"),
    (y[0], "exposure 1 (coded, with the gains)"),
    (y[0] / gains_hat, "exposure 1 with the recovered gains removed"),
    (gains.ravel(), "true gains"),
    (gains_hat, "recovered gains"),
    (scene_hat, "recovered scene"),
]
for ax, (image, title) in zip(axes.ravel(), panels, strict=True):
    ax.imshow(image.reshape(rows, cols), cmap="gray")
    ax.set_title(title, fontsize=9)
    ax.axis("off")
fig.tight_layout()
plt.show()
