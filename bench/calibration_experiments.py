"""Self-calibration tables: success rates, error against noise, and speed.

The experiments of Ling & Strohmer (2018) in kind, with parameters chosen for
randla (not the paper's own). Success rate of the repeated-measurement model:
the fraction of noiseless trials with relative error < 1e-4 over (m, p) for
fixed n; the boundary is the count mp = m + n - 1. Success rate of the
snapshot model: the same, boundary p(m - n) = m - 1. Error against SNR: the
relative error of d, least squares against the spectral method (slope -1 in
dB). Speed: the repeated-measurement model at n = 1024, p = 8 and growing m,
with the log-log slope of time against m p.

    python bench/calibration_experiments.py            # the sizes below (a few minutes)
    python bench/calibration_experiments.py --quick    # small sizes (seconds)
"""

import argparse
import time
import warnings

import numpy as np

import randla


def _gaussian(rng, shape, complex_=True):
    G = rng.standard_normal(shape)
    return (G + 1j * rng.standard_normal(shape)) / np.sqrt(2) if complex_ else G


def error_up_to_scale(estimate, truth):
    estimate, truth = np.ravel(estimate), np.ravel(truth)
    alpha = np.vdot(estimate, truth) / np.vdot(estimate, estimate)
    return float(np.linalg.norm(alpha * estimate - truth) / np.linalg.norm(truth))


def instance(model, p, m, n, rng, snr_db=None, complex_=True):
    """(y, A, d, x): complex Gaussian A and x, d = 1 + 0.5 N(0, 1)."""
    d = 1 + 0.5 * _gaussian(rng, m, complex_)
    if model == "repeated":
        A, x = _gaussian(rng, (p, m, n), complex_), _gaussian(rng, n, complex_)
        clean = d * np.einsum("lmn,n->lm", A, x)
    else:
        A, x = _gaussian(rng, (m, n), complex_), _gaussian(rng, (p, n), complex_)
        clean = d * (x @ A.T)
    if snr_db is not None:
        sigma = np.linalg.norm(clean) / np.sqrt(clean.size) * 10 ** (-snr_db / 20)
        clean = clean + sigma * _gaussian(rng, clean.shape, complex_)
    return clean, A, d, x


def success_rate(model, p, m, n, trials, rng):
    wins = 0
    for _ in range(trials):
        y, A, d, _ = instance(model, p, m, n, rng)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", randla.RandlaWarning)
                res = randla.self_calibrate(y, A, model=model, constraint="random", rng=rng)
        except ValueError:  # below the count threshold: refused, a failure
            continue
        wins += error_up_to_scale(res.d, d) < 1e-4
    return wins / trials


def phase_table(model, n, ms, ps, trials, out):
    bound = "mp >= m + n - 1" if model == "repeated" else "p(m - n) >= m - 1"
    out(f"\nSuccess rate, {model} model, n = {n}, {trials} noiseless trials (boundary {bound})")
    out("  " + "m \\ p".ljust(8) + "".join(f"{p:>6}" for p in ps))
    rng = np.random.default_rng(0)
    for m in ms:
        rates = [success_rate(model, p, m, n, trials, rng) for p in ps]
        out("  " + f"{m:<8}" + "".join(f"{r:6.2f}" for r in rates))


def noise_table(m, n, p, snrs, trials, out):
    out(
        f"\nError against SNR, repeated model, m = {m}, n = {n}, p = {p}: "
        "median relative error of d in dB"
    )
    out("  " + "SNR dB".ljust(8) + f"{'lstsq':>10}{'spectral':>10}")
    rng = np.random.default_rng(1)
    for snr in snrs:
        errors = {"lstsq": [], "spectral": []}
        for _ in range(trials):
            y, A, d, _ = instance("repeated", p, m, n, rng, snr_db=snr)
            for method in errors:
                res = randla.self_calibrate(y, A, method=method)
                errors[method].append(error_up_to_scale(res.d, d))
        cells = "".join(f"{20 * np.log10(np.median(e)):10.1f}" for e in errors.values())
        out("  " + f"{snr:<8}" + cells)


def speed_table(n, p, ms, out):
    out(f"\nSpeed, repeated model (real), n = {n}, p = {p}: median of 3")
    rng = np.random.default_rng(2)
    sizes, times = [], []
    randla.self_calibrate(*instance("repeated", p, ms[0], n, rng, complex_=False)[:2])  # warm-up
    for m in ms:
        y, A, d, _ = instance("repeated", p, m, n, rng, complex_=False)
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            res = randla.self_calibrate(y, A)
            runs.append(time.perf_counter() - start)
        sizes.append(m * p)
        times.append(np.median(runs))
        error = error_up_to_scale(res.d, d)
        out(f"  m = {m:<6} mp = {m * p:<7} {times[-1]:7.2f} s   error {error:.1e}")
    slope = np.polyfit(np.log(sizes), np.log(times), 1)[0]
    out(f"  log-log slope of time against mp: {slope:.2f}")


def main(quick=False, out=print):
    start = time.perf_counter()
    if quick:
        phase_table("repeated", 5, [4, 8], [1, 2, 3], 3, out)
        phase_table("snapshots", 4, [6, 10], [1, 2, 4], 3, out)
        noise_table(16, 4, 3, [20, 60], 3, out)
        speed_table(64, 4, [256, 512], out)
    else:
        phase_table("repeated", 20, [5, 10, 15, 20, 30, 40, 60], [1, 2, 3, 4, 5, 6, 8], 20, out)
        phase_table("snapshots", 10, [11, 12, 15, 20, 30, 40], [1, 2, 3, 4, 6, 8, 12], 20, out)
        noise_table(64, 16, 4, [0, 10, 20, 30, 40, 50, 60, 70, 80], 20, out)
        speed_table(1024, 8, [1024, 2048, 4096], out)
    out(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    main(quick=parser.parse_args().quick)
