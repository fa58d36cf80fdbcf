"""The ``randla`` command: ``randla --version`` and ``randla demo``."""

import argparse
import sys
import time
from functools import partial

import numpy as np
import scipy.linalg

from . import bases, dpp
from ._version import __version__
from .calibration import self_calibrate
from .distortion import subspace_distortion
from .leverage import leverage_scores
from .lewis import lewis_weights
from .lstsq import lp_regression, lstsq, volume_lstsq
from .sampling import leverage_sample, uniform_sample
from .sketch import KINDS, SketchDistribution
from .wls import dpp_wls

__all__ = ["main"]


def _timed(f, repeat):
    """Median wall time of `repeat` calls of f, and the last result."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), result


def _distortion(SA, R):
    """max |sigma_i(S Q) - 1| for Q = A R^{-1} with orthonormal columns."""
    SQ = scipy.linalg.solve_triangular(R, SA.T, trans="T").T
    sv = np.linalg.svd(SQ, compute_uv=False)
    return float(np.max(np.abs(sv - 1)))


def _sketch_table(title, A, R, k, repeat, out):
    n, d = A.shape
    out.write(f"\n{title}: {n} x {d}, sketch size k = {k}\n")
    out.write(f"  {'kind':<12} {'distortion':>10} {'time':>10}\n")
    for kind in KINDS:
        S = SketchDistribution(kind, k).draw(n, rng=0)
        seconds, SA = _timed(partial(S.__matmul__, A), repeat)
        out.write(f"  {kind:<12} {_distortion(SA, R):>10.3f} {seconds * 1e3:>8.1f} ms\n")


def _sketching_demo(quick, out):
    from sklearn.datasets import load_digits

    out.write("Sketching: the distortion max |sigma_i(SQ) - 1| of the column space\n")
    out.write("(0 is a perfect embedding) and the median time of S @ A.\n")
    # The digits images have constant-zero pixels, so the data is rank
    # deficient: embed the basis of its column space.
    digits = load_digits().data
    Q, R, _ = scipy.linalg.qr(digits, mode="economic", pivoting=True)
    rank = int(np.sum(np.abs(np.diag(R)) > 1e-10 * np.abs(R[0, 0])))
    Q = Q[:, :rank]
    _sketch_table(
        f"scikit-learn digits (column space, rank {rank})", Q, np.eye(rank), 4 * rank, 3, out
    )

    n, d = (100_000, 50) if quick else (1_000_000, 50)
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, d)) * np.geomspace(1, 1e-3, d)
    # R from the Gram matrix: fine for this well-conditioned matrix
    # (cond 1e3), and far cheaper than a QR of A.
    R = scipy.linalg.cholesky(A.T @ A)
    _sketch_table("synthetic Gaussian, cond 1e3", A, R, 4 * d, 3, out)


def _least_squares_demo(quick, out):
    n, d = (100_000, 50) if quick else (1_000_000, 50)
    rng = np.random.default_rng(1)
    # Coherent: a few rows carry much of the column space (leverage near 1).
    A = rng.standard_normal((n, d)) * np.geomspace(1, 1e-6, d)
    A[:d] *= 1e3
    b = A @ rng.standard_normal(d) + 1e-3 * rng.standard_normal(n)
    out.write(f"\nLeverage scores and least squares: {n} x {d}, cond about 1e6, coherent\n")

    t_exact, tau = _timed(partial(leverage_scores, A, rng=0), 1)
    t_qr, Q = _timed(partial(scipy.linalg.qr, A, mode="economic"), 1)
    ref = np.einsum("ij,ij->i", Q[0], Q[0])
    t_sketch, tau_hat = _timed(partial(leverage_scores, A, method="sketch", eps=0.5, rng=0), 1)
    out.write(
        f"  exact scores     {t_exact:7.2f} s   (scipy QR route {t_qr:.2f} s), "
        f"max relative difference {np.max(np.abs(tau - ref) / ref):.1e}\n"
    )
    out.write(
        f"  sketched, eps=.5 {t_sketch:7.2f} s   worst ratio to exact "
        f"{np.min(tau_hat / tau):.2f} to {np.max(tau_hat / tau):.2f}\n"
    )
    k = 40 * d
    lev = subspace_distortion(A, leverage_sample(A, k, rng=0), rng=0)
    uni = subspace_distortion(A, uniform_sample(A, k, rng=0), rng=0)
    out.write(f"  distortion of a {k}-row sample: leverage {lev:.2f}, uniform {uni:.2f}\n")

    t_ours, res = _timed(partial(lstsq, A, b, rng=0), 1)
    t_numpy, ref_x = _timed(partial(np.linalg.lstsq, A, b, rcond=None), 1)
    diff = np.linalg.norm(res.x - ref_x[0]) / np.linalg.norm(ref_x[0])
    out.write(
        f"  lstsq            {t_ours:7.2f} s   (numpy.linalg.lstsq {t_numpy:.2f} s), "
        f"relative difference {diff:.1e}\n"
    )


def _lp_demo(quick, out):
    n, d = (50_000, 20) if quick else (300_000, 20)
    rng = np.random.default_rng(2)
    A = rng.standard_t(1.5, size=(n, d))
    b = A @ rng.standard_normal(d) + rng.standard_t(1.5, size=n)
    out.write(f"\nl_p regression: {n} x {d}, Student-t(1.5) rows and noise\n")
    t_lewis, w = _timed(partial(lewis_weights, A, 1.5, rng=0), 1)
    out.write(f"  Lewis weights, p = 1.5  {t_lewis:6.2f} s   (sum {w.sum():.6f} = d)\n")
    k = 100 * d
    for p in (1.0, 1.5, 3.0):
        t_full, full = _timed(partial(lp_regression, A, b, p), 1)
        t_sample, sampled = _timed(partial(lp_regression, A, b, p, sample_size=k, rng=0), 1)
        out.write(
            f"  p = {p:<3g} full {t_full:6.2f} s (certified gap {full.gap:.0e}); "
            f"on {sampled.rows_used} sampled rows {t_sample:5.2f} s, "
            f"objective {sampled.objective / full.objective:.4f} x optimum\n"
        )


def _grid_spread(points, side):
    """Mean distance from each point of a side x side grid to its nearest neighbour."""
    xy = np.column_stack([points // side, points % side]).astype(float)
    d2 = np.sum((xy[:, None] - xy[None]) ** 2, axis=-1)
    np.fill_diagonal(d2, np.inf)
    return float(np.mean(np.sqrt(d2.min(axis=1))))


def _dpp_demo(quick, out):
    out.write("\nDeterminantal point processes\n")
    # Repulsion: the projection DPP onto the 10 x 10 lowest cosine modes of
    # a 60 x 60 grid, against as many points drawn uniformly.
    side, modes = 60, 10
    t = (np.arange(side) + 0.5) / side
    cosines = np.cos(np.pi * np.outer(t, np.arange(modes)))
    V = np.linalg.qr(np.kron(cosines, cosines))[0]
    rng = np.random.default_rng(3)
    spread_dpp = np.mean(
        [_grid_spread(dpp.sample_projection_dpp(V, rng=rng), side) for _ in range(20)]
    )
    spread_iid = np.mean(
        [_grid_spread(rng.choice(side * side, modes**2, replace=False), side) for _ in range(20)]
    )
    out.write(
        f"  {modes**2} points on a {side} x {side} grid: mean nearest-neighbour distance "
        f"{spread_dpp:.2f} (DPP) vs {spread_iid:.2f} (uniform)\n"
    )
    n, r = (20_000, 100) if quick else (100_000, 100)
    V = np.linalg.qr(rng.standard_normal((n, r)))[0]
    dpp.sample_projection_dpp(V, rng=0)  # the first call compiles the kernel
    seconds, S = _timed(partial(dpp.sample_projection_dpp, V, rng=0), 5)
    out.write(f"  projection DPP, N = {n}, r = {r}: {seconds * 1e3:.1f} ms, {len(set(S))} items\n")
    B = rng.standard_normal((10_000, 200)) * np.geomspace(1e-6, 1e4, 200)
    seconds, S = _timed(partial(dpp.sample_kdpp, 100, factor=B, rng=0), 1)
    out.write(
        f"  k-DPP, k = 100, of L = B B^T, B 10^4 x 200 with column scales 1e-6..1e4: "
        f"{seconds:.2f} s\n"
    )
    A = rng.standard_normal((2000, 5))
    b = A @ np.ones(5) + rng.standard_normal(2000)
    x = np.linalg.lstsq(A, b, rcond=None)[0]
    estimates = np.array([volume_lstsq(A, b, 10, rng=s).x for s in range(2000)])
    one, mean = (
        np.linalg.norm(e - x) / np.linalg.norm(x) for e in (estimates[0], estimates.mean(0))
    )
    out.write(
        f"  volume-sampled least squares, 10 of 2000 rows: one estimate {one:.3f} from the full\n"
        f"  solution (relative), the mean of 2000 (unbiased) {mean:.4f}\n"
    )


def _wls_demo(quick, out):
    import scipy.special

    m = 20
    basis = bases.legendre(m - 1)

    def runge(x):
        return 1 / (1 + 25 * x[:, 0] ** 2)

    t, w = scipy.special.roots_legendre(400)
    Phi, values = basis(t[:, None]), runge(t[:, None])
    e_m = np.sqrt(np.sum(w / 2 * (values - Phi @ ((Phi * (w / 2)[:, None]).T @ values)) ** 2))
    out.write(
        f"\nWeighted least squares: Runge's function, Legendre m = {m}; mean error ratio "
        "||f - f_hat|| / e_m over 30 trials\n"
    )
    for n in (m, 2 * m):
        cells = []
        for method in ("iid", "volume") if n > m else ("iid", "dpp"):
            errors = [
                np.sqrt(np.sum(w / 2 * (values - Phi @ res.coef) ** 2)) / e_m
                for res in (dpp_wls(runge, basis, n, method=method, rng=s) for s in range(30))
            ]
            cells.append(f"{method} {np.mean(errors):.3g}")
        out.write(f"  n = {n}: " + ", ".join(cells) + "\n")
    basis5 = bases.tensor("legendre", 5, 3)
    dpp_wls(runge, basis5, 100, rng=0)
    seconds, _ = _timed(partial(dpp_wls, runge, basis5, 100, rng=1), 3)
    out.write(
        f"  5-D total degree 3 (m = 56), volume sampling of 100 points: {seconds * 1e3:.1f} ms\n"
    )


def _cosine_basis(size, modes):
    t = (np.arange(size) + 0.5) / size
    return np.linalg.qr(np.cos(np.pi * np.outer(t, np.arange(modes))))[0]


def _calibration_demo(quick, out):
    from sklearn.datasets import load_sample_image

    out.write("\nSelf-calibration: unknown per-pixel gains and a scene from coded exposures\n")
    rows, cols, block, p = 30, 45, 14, 3
    photo = load_sample_image("china.jpg").mean(axis=2)[: rows * block, : cols * block]
    photo = photo.reshape(rows, block, cols, block).mean(axis=(1, 3)).ravel() / 255
    Psi = np.kron(_cosine_basis(rows, 10), _cosine_basis(cols, 15))  # the scene's subspace
    scene = Psi @ (Psi.T @ photo)
    rng = np.random.default_rng(4)
    yy, xx = np.divmod(np.arange(rows * cols), cols)
    vignetting = 1 - 0.8 * (((yy - rows / 2) / rows) ** 2 + ((xx - cols / 2) / cols) ** 2)
    gains = vignetting * (1 + 0.05 * rng.standard_normal(rows * cols))
    # Exposure l: the scene's cosine coefficients times a known random code.
    A = Psi[None] * rng.uniform(-1.5, 1.5, size=(p, 1, Psi.shape[1]))
    y = gains * np.einsum("lmn,n->lm", A, Psi.T @ scene)
    y += 1e-3 * np.linalg.norm(y) / np.sqrt(y.size) * rng.standard_normal(y.shape)
    seconds, res = _timed(partial(self_calibrate, y, A), 1)
    alpha = np.vdot(res.d, gains) / np.vdot(res.d, res.d)  # the one free scale
    error_gains = np.linalg.norm(alpha * res.d - gains) / np.linalg.norm(gains)
    error_scene = np.linalg.norm(Psi @ res.x / alpha - scene) / np.linalg.norm(scene)
    out.write(
        f"  scikit-learn's china.jpg at {rows} x {cols}, {p} exposures, noise 1e-3: "
        f"{seconds:.2f} s\n  relative error of the gains {error_gains:.1e}, "
        f"of the scene {error_scene:.1e}\n"
    )
    if not quick:
        m, n, p = 4096, 1024, 8
        A = rng.standard_normal((p, m, n))
        d = 1 + 0.5 * rng.random(m)
        y = d * np.einsum("lmn,n->lm", A, rng.standard_normal(n))
        seconds, res = _timed(partial(self_calibrate, y, A), 1)
        out.write(f"  repeated model, m = {m}, n = {n}, p = {p}: {seconds:.2f} s\n")


def demo(quick=False, out=None):
    """Print a short tour of what randla does, with distortions and timings."""
    out = sys.stdout if out is None else out
    out.write(f"randla {__version__} demo\n\n")
    _sketching_demo(quick, out)
    _least_squares_demo(quick, out)
    _lp_demo(quick, out)
    _dpp_demo(quick, out)
    _calibration_demo(quick, out)
    _wls_demo(quick, out)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="randla",
        description="Randomized numerical linear algebra by sampling.",
    )
    parser.add_argument("--version", action="version", version=f"randla {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")
    demo_parser = sub.add_parser("demo", help="a short tour with distortions and timings")
    demo_parser.add_argument(
        "--quick", action="store_true", help="smaller synthetic data (seconds)"
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(quick=args.quick)
        return 0
    parser.print_help()
    return 2
