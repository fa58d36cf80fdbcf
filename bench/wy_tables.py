"""l_p sampling tables: the distortion of each sampler, and the total sensitivity.

Woodruff & Yasuda (2023) has no experiments; these tables were designed for
randla. For each matrix family (Gaussian, coherent and Student-t rows) and
p, the median and 90th percentile over `draws` samples of the estimated l_p
distortion (randla.lp_distortion, a lower bound on the true one) against the
expected number of rows over d, for every sampler; and the total l_p
sensitivity of Gaussian matrices against d.

    python bench/wy_tables.py            # 20000 x 20, 30 draws; sensitivity at 400 x d (an hour)
    python bench/wy_tables.py --quick    # 2000 x 5, 5 draws (a minute)
"""

import argparse
import time

import numpy as np

import randla

FAMILIES = {
    "Gaussian rows": lambda n, d, rng: rng.standard_normal((n, d)),
    "Coherent rows [I; 0.01 G]": lambda n, d, rng: np.vstack(
        [np.eye(d), 0.01 * rng.standard_normal((n - d, d))]
    ),
    "Student-t(1.5) rows": lambda n, d, rng: rng.standard_t(1.5, size=(n, d)),
}


def _samplers(A, p, w):
    """name -> sampler(k, seed); scores computed once, as the samplers would."""
    tau = randla.leverage_scores(A)
    sigma = randla.lp_sensitivities(A, p, method="lewis")
    out = {
        "uniform": lambda k, s: randla.uniform_sample(A, k, p=p, rng=s),
        "leverage": lambda k, s: randla.sample_rows(tau, k, p=p, rng=s),
        "Lewis": lambda k, s: randla.sample_rows(w, k, p=p, rng=s),  # = lewis_sample
        "sensitivity": lambda k, s: randla.sample_rows(sigma, k, p=p, rng=s),
    }
    if p < 2:
        out["root-leverage"] = lambda k, s: randla.root_leverage_sample(A, k, p=p, rng=s)
        out["augmented"] = lambda k, s: randla.sample_rows(sigma + tau, k, p=p, rng=s)
    else:
        mixed = tau / tau.sum() + sigma / sigma.sum()  # = hybrid_sample
        out["hybrid"] = lambda k, s: randla.sample_rows(mixed, k, p=p, rng=s)
    return out


def distortion_tables(n, d, draws, ratios, ps, directions, out=print):
    rng = np.random.default_rng(0)
    for family, make in FAMILIES.items():
        A = make(n, d, rng)
        for p in ps:
            w = randla.lewis_weights(A, p)
            out(f"\nl_p distortion, {family}, {n} x {d}, p = {p:g}: median / 90th percentile")
            out("  " + "sampler".ljust(14) + "".join(f"{f'k={r}d':>16}" for r in ratios))
            for name, draw in _samplers(A, p, w).items():
                cells = []
                for ratio in ratios:
                    values = [
                        randla.lp_distortion(
                            A,
                            draw(ratio * d, seed),
                            lewis_weights=w,
                            directions=directions,
                            rng=seed,
                        )
                        for seed in range(draws)
                    ]
                    cells.append(f"{np.median(values):7.3f} / {np.percentile(values, 90):6.3f}")
                out("  " + name.ljust(14) + "".join(f"{c:>16}" for c in cells))


def sensitivity_table(n, dims, ps, out=print):
    rng = np.random.default_rng(1)
    out(f"\nTotal l_p sensitivity of Gaussian {n} x d: S, S/d, S/d^(p/2)")
    for p in ps:
        for d in dims:
            total = randla.total_sensitivity(rng.standard_normal((n, d)), p, progress=False)
            out(
                f"  p = {p:<4g} d = {d:<3d} S = {total:8.3f}  S/d = {total / d:6.3f}  "
                f"S/d^(p/2) = {total / d ** (p / 2):6.3f}"
            )


def main(quick=False, out=print):
    start = time.perf_counter()
    if quick:
        distortion_tables(2000, 5, 5, [2, 8], [1.0, 3.0], 32, out)
        sensitivity_table(100, [2, 4], [1.0, 3.0], out)
    else:
        distortion_tables(20_000, 20, 30, [2, 4, 8, 16, 32], [1.0, 1.5, 3.0, 4.0], 64, out)
        sensitivity_table(400, [5, 10, 20], [1.0, 1.5, 3.0, 4.0], out)
    out(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a minute")
    main(quick=parser.parse_args().quick)
