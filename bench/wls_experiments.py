"""Weighted least-squares tables: error ratio and stability of each sampling method.

The experiments of Nouy & Michel (2023) in kind, with parameters chosen for
randla (not the paper's own): Legendre polynomials in one variable (Runge and
|x|^3), Hermite polynomials in one variable (Gaussian measure), and
total-degree Legendre bases in 2, 5 and 10 variables. For each basis and
function, the error ratio
||f - f_hat|| / e_m(f) (median and 90th percentile over trials; e_m the best
approximation error) and the probability that ||G - I|| <= 1/2, against
n/m, for i.i.d. optimal sampling, one projection DPP (n = m),
volume-rescaled sampling and repeated DPPs. L2 norms by Gauss quadrature
in one variable, by Monte Carlo on 20000 points from mu in several.

    python bench/wls_experiments.py            # every table (several minutes)
    python bench/wls_experiments.py --quick    # small sizes (seconds)
"""

import argparse
import time

import numpy as np
import scipy.special

import randla
from randla import bases

FUNCTIONS = {
    "Runge 1/(1+25x^2)": lambda x: 1 / (1 + 25 * x[:, 0] ** 2),
    "C2 |x|^3": lambda x: np.abs(x[:, 0]) ** 3,
    "sin(2x) exp(-x^2/4)": lambda x: np.sin(2 * x[:, 0]) * np.exp(-(x[:, 0] ** 2) / 4),
    # c_k = 0.4 / 2^k: sum c_k < 0.8, so the pole stays outside [-1, 1]^D.
    "anisotropic 1/(1 + sum c_k x_k)": lambda x: 1 / (1 + x @ (0.4 / 2 ** np.arange(x.shape[1]))),
}


def _norm_points(basis, rng):
    """Points and weights of a rule for L2(mu): Gauss in one variable, Monte Carlo in several."""
    if basis.dim == 1 and basis.family == "legendre":
        x, w = scipy.special.roots_legendre(400)
        return x[:, None], w / 2
    if basis.dim == 1 and basis.family == "hermite":
        x, w = scipy.special.roots_hermitenorm(400)
        return x[:, None], w / np.sqrt(2 * np.pi)
    x = basis.sample_measure(20_000, rng=rng)
    return x, np.full(len(x), 1 / len(x))


def ratio_table(title, basis, f, ratios, trials, out, rng):
    x, w = _norm_points(basis, rng)
    Phi, values = basis(x), f(x)
    best = np.linalg.lstsq(Phi * np.sqrt(w)[:, None], values * np.sqrt(w), rcond=None)[0]
    e_m = np.sqrt(np.sum(w * (values - Phi @ best) ** 2))
    m = basis.m
    out(f"\n{title}, m = {m}, {trials} trials:")
    out("  error ratio median / 90th percentile, and P(||G - I|| <= 1/2)")
    out("  " + "method".ljust(14) + "".join(f"{f'n={r:g}m':>24}" for r in ratios))
    for method in ("iid", "dpp", "volume", "repeated-dpp"):
        cells = []
        for ratio in ratios:
            n = int(round(ratio * m))
            if (method == "dpp" and n != m) or (method == "repeated-dpp" and n % m):
                cells.append("-")
                continue
            errors, stable = [], 0
            for _ in range(trials):
                res = randla.dpp_wls(f, basis, n, method=method, rng=rng)
                errors.append(np.sqrt(np.sum(w * (values - Phi @ res.coef) ** 2)) / e_m)
                stable += res.gram_error <= 0.5
            quantiles = f"{np.median(errors):8.3g} / {np.percentile(errors, 90):8.3g}"
            cells.append(f"{quantiles}, {stable / trials:4.2f}")
        out("  " + method.ljust(14) + "".join(f"{c:>24}" for c in cells))


def main(quick=False, out=print):
    start = time.perf_counter()
    rng = np.random.default_rng(0)
    if quick:
        ratio_table(
            "Legendre on [-1, 1], Runge 1/(1+25x^2)",
            bases.legendre(4),
            FUNCTIONS["Runge 1/(1+25x^2)"],
            [1, 2],
            3,
            out,
            rng,
        )
        ratio_table(
            "Legendre total degree 2 on [-1, 1]^2, anisotropic 1/(1 + sum c_k x_k)",
            bases.tensor("legendre", 2, degree=2),
            FUNCTIONS["anisotropic 1/(1 + sum c_k x_k)"],
            [1, 2],
            3,
            out,
            rng,
        )
    else:
        ratios = [1, 1.5, 2, 3, 5]
        for m in (5, 10, 20, 40):
            for name in ("Runge 1/(1+25x^2)", "C2 |x|^3"):
                ratio_table(
                    f"Legendre on [-1, 1], {name}",
                    bases.legendre(m - 1),
                    FUNCTIONS[name],
                    ratios,
                    50,
                    out,
                    rng,
                )
        for m in (5, 10, 20):
            name = "sin(2x) exp(-x^2/4)"
            ratio_table(
                f"Hermite (Gaussian measure), {name}",
                bases.hermite(m - 1),
                FUNCTIONS[name],
                ratios,
                50,
                out,
                rng,
            )
        for dim, degree in ((2, 9), (5, 3), (10, 2)):
            basis = bases.tensor("legendre", dim, degree=degree)
            name = "anisotropic 1/(1 + sum c_k x_k)"
            ratio_table(
                f"Legendre total degree {degree} on [-1, 1]^{dim}, {name}",
                basis,
                FUNCTIONS[name],
                ratios,
                20,
                out,
                rng,
            )
    out(f"\n({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds")
    main(quick=parser.parse_args().quick)
