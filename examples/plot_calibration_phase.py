r"""
Self-calibration: phase transitions and noise
=============================================

A small version of the tables that ``bench/calibration_experiments.py``
prints. Left and middle: the fraction of noiseless trials in which
:func:`randla.self_calibrate` recovers the gains (relative error below 1e-4,
up to the scalar ambiguity), for the repeated-measurement model over
``(m, p)`` with ``n = 10``, and for the snapshot model over ``(m, p)`` with
``n = 8``; the white line is the count of equations against unknowns
(``mp = m + n - 1``, ``p(m - n) = m - 1``), below which the system cannot
identify the unknowns. Right: the relative error of the gains against the
SNR for least squares and the spectral method (complex Gaussian data,
``m = 64``, ``n = 16``, ``p = 4``, medians of 10 trials): both follow the
slope -1 in dB, the error proportional to the noise.
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np

import randla

rng = np.random.default_rng(0)


def gaussian(shape):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)


def instance(model, p, m, n, snr_db=None):
    d = 1 + 0.5 * gaussian(m)
    if model == "repeated":
        A, x = gaussian((p, m, n)), gaussian(n)
        y = d * np.einsum("lmn,n->lm", A, x)
    else:
        A, x = gaussian((m, n)), gaussian((p, n))
        y = d * (x @ A.T)
    if snr_db is not None:
        y = y + np.linalg.norm(y) / np.sqrt(y.size) * 10 ** (-snr_db / 20) * gaussian(y.shape)
    return y, A, d


def error(estimate, truth):
    alpha = np.vdot(estimate, truth) / np.vdot(estimate, estimate)
    return np.linalg.norm(alpha * estimate - truth) / np.linalg.norm(truth)


def success(model, p, m, n, trials=5):
    wins = 0
    for _ in range(trials):
        y, A, d = instance(model, p, m, n)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", randla.RandlaWarning)
                wins += error(randla.self_calibrate(y, A, model=model).d, d) < 1e-4
        except ValueError:  # fewer equations than unknowns - 1: refused
            pass
    return wins / trials


fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
ps = np.arange(1, 7)
for ax, model, n, ms in (
    (axes[0], "repeated", 10, np.arange(4, 41, 4)),
    (axes[1], "snapshots", 8, np.arange(9, 31, 2)),
):
    rates = np.array([[success(model, p, m, n) for p in ps] for m in ms])
    ax.imshow(
        rates,
        origin="lower",
        aspect="auto",
        cmap="viridis",
        vmin=0,
        vmax=1,
        extent=(ps[0] - 0.5, ps[-1] + 0.5, ms[0], ms[-1]),
    )
    grid = np.linspace(ms[0], ms[-1], 100)
    bound = (grid + n - 1) / grid if model == "repeated" else (grid - 1) / (grid - n)
    ax.plot(bound, grid, "w-")
    ax.set_xlim(ps[0] - 0.5, ps[-1] + 0.5)
    ax.set_xlabel("p (measurements)")
    ax.set_ylabel("m")
    ax.set_title(f"{model}, n = {n}: success rate")

snrs = np.arange(0, 81, 10)
for method in ("lstsq", "spectral"):
    medians = []
    for snr in snrs:
        errors = []
        for _ in range(10):
            y, A, d = instance("repeated", 4, 64, 16, snr_db=snr)
            errors.append(error(randla.self_calibrate(y, A, method=method).d, d))
        medians.append(20 * np.log10(np.median(errors)))
    axes[2].plot(snrs, medians, "o-", label=method)
axes[2].plot(snrs, -snrs, "k:", label="slope -1")
axes[2].set_xlabel("SNR (dB)")
axes[2].set_ylabel("relative error of d (dB)")
axes[2].set_title("repeated, m = 64, n = 16, p = 4")
axes[2].legend()
fig.tight_layout()
plt.show()
