"""``randla demo``: a tour of randla that checks its own results as it goes.

Seven parts (sketching, leverage scores and least squares, l_p regression,
DPPs, self-calibration, weighted least squares, scikit-learn estimators),
each announced when it starts, printed line by line as it computes
(flushed, so ``randla demo | tee`` shows progress) and closed by its
checks: numbers a working install must reach, such as a distortion below
0.9 or an agreement with scipy to 1e-10.
The last line sums up: parts run, seconds, passed or failed. The default
sizes take under a minute on two cores; ``full=True`` runs the matrices
with 10^6 rows, a few minutes.
"""

import sys
import time
from functools import partial

import numpy as np
import scipy.linalg

from . import bases, dpp
from ._calibration import self_calibrate
from ._cli_io import error_line, origin
from ._distortion import subspace_distortion
from ._leverage import leverage_scores
from ._lewis import lewis_weights
from ._lp_regression import lp_regression
from ._lstsq import lstsq
from ._sampling import leverage_sample, uniform_sample, volume_lstsq
from ._sketch import KINDS, SketchDistribution
from ._version import __version__
from ._wls import dpp_wls


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


def _sketch_table(title, A, R, k, repeat, say):
    """Print one row per sketch kind as it is measured; return the distortions."""
    n, d = A.shape
    say(f"  {title}: {n} x {d}, sketch size k = {k}")
    say(f"  {'kind':<12} {'distortion':>10} {'time':>10}")
    distortions = []
    for kind in KINDS:
        S = SketchDistribution(kind, k).draw(n, rng=0)
        seconds, SA = _timed(partial(S.__matmul__, A), repeat)
        distortions.append(_distortion(SA, R))
        say(f"  {kind:<12} {distortions[-1]:>10.3f} {seconds * 1e3:>8.1f} ms")
    return distortions


def _sketching(full, say):
    from sklearn.datasets import load_digits

    say("  the distortion max |sigma_i(SQ) - 1| of the column space (0 is a perfect")
    say("  embedding) and the median time of S @ A")
    # The digits images have constant-zero pixels, so the data is rank
    # deficient: embed the basis of its column space.
    digits = load_digits().data
    Q, R, _ = scipy.linalg.qr(digits, mode="economic", pivoting=True)
    rank = int(np.sum(np.abs(np.diag(R)) > 1e-10 * np.abs(R[0, 0])))
    Q = Q[:, :rank]
    distortions = _sketch_table(
        f"scikit-learn digits (column space, rank {rank})", Q, np.eye(rank), 4 * rank, 3, say
    )

    n, d = (1_000_000, 50) if full else (100_000, 50)
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, d)) * np.geomspace(1, 1e-3, d)
    # R from the Gram matrix: fine for this well-conditioned matrix
    # (cond 1e3), and far cheaper than a QR of A.
    R = scipy.linalg.cholesky(A.T @ A)
    distortions += _sketch_table("synthetic Gaussian, cond 1e3", A, R, 4 * d, 3, say)
    worst = max(distortions)
    return [(worst < 0.9, f"every distortion below 0.9 at k = 4d (worst {worst:.3f})")]


def _least_squares(full, say):
    n, d = (1_000_000, 50) if full else (100_000, 50)
    rng = np.random.default_rng(1)
    # Coherent: a few rows carry much of the column space (leverage near 1).
    A = rng.standard_normal((n, d)) * np.geomspace(1, 1e-6, d)
    A[:d] *= 1e3
    b = A @ rng.standard_normal(d) + 1e-3 * rng.standard_normal(n)
    say(f"  {n} x {d}, cond about 1e6, coherent")

    t_exact, tau = _timed(partial(leverage_scores, A, rng=0), 1)
    t_qr, Q = _timed(partial(scipy.linalg.qr, A, mode="economic"), 1)
    ref = np.einsum("ij,ij->i", Q[0], Q[0])
    exact = np.max(np.abs(tau - ref) / ref)
    t_sketch, tau_hat = _timed(partial(leverage_scores, A, method="sketch", eps=0.5, rng=0), 1)
    low, high = np.min(tau_hat / tau), np.max(tau_hat / tau)
    say(
        f"  exact scores     {t_exact:7.2f} s   (scipy QR route {t_qr:.2f} s), "
        f"max relative difference {exact:.1e}"
    )
    say(f"  sketched, eps=.5 {t_sketch:7.2f} s   worst ratio to exact {low:.2f} to {high:.2f}")
    t_coarse, tau_c = _timed(partial(leverage_scores, A, method="coarse", rng=0), 1)
    spread = np.quantile(tau_c / tau, [0.01, 0.99])
    say(
        f"  coarse, to sample {t_coarse:6.2f} s   98% of rows within "
        f"{spread[0]:.2f} to {spread[1]:.2f} of exact"
    )
    k = 40 * d
    sample = leverage_sample(A, k, rng=0)  # coarse scores: 3.5 k rows
    by_exact = leverage_sample(A, k, accuracy="exact", rng=0)
    lev, lev_exact = (subspace_distortion(A, s, rng=0) for s in (sample, by_exact))
    uni = subspace_distortion(A, uniform_sample(A, sample.k, rng=0), rng=0)
    say(
        f"  distortion of a leverage sample: {sample.k} rows by coarse scores {lev:.2f} "
        f"(uniform {uni:.2f}), {k} rows by exact scores {lev_exact:.2f}"
    )

    t_ours, res = _timed(partial(lstsq, A, b, rng=0), 1)
    t_numpy, ref_x = _timed(partial(np.linalg.lstsq, A, b, rcond=None), 1)
    diff = np.linalg.norm(res.x - ref_x[0]) / np.linalg.norm(ref_x[0])
    say(
        f"  lstsq            {t_ours:7.2f} s   (numpy.linalg.lstsq {t_numpy:.2f} s), "
        f"relative difference {diff:.1e}"
    )
    return [
        (exact < 1e-10, f"exact scores within 1e-10 of scipy's QR ({exact:.1e})"),
        (0.5 <= low and high <= 1.5, f"sketched scores within 1 +- 0.5 ({low:.2f} to {high:.2f})"),
        (lev < 0.5, f"coarse leverage sample distortion below 0.5 ({lev:.2f})"),
        (lev <= lev_exact, f"coarse at 3.5 k beats exact at k ({lev:.2f}, {lev_exact:.2f})"),
        (diff < 1e-6, f"lstsq within 1e-6 of numpy's ({diff:.1e})"),
    ]


def _lp(full, say):
    n, d = (300_000, 20) if full else (50_000, 20)
    rng = np.random.default_rng(2)
    A = rng.standard_t(1.5, size=(n, d))
    b = A @ rng.standard_normal(d) + rng.standard_t(1.5, size=n)
    say(f"  {n} x {d}, Student-t(1.5) rows and noise")
    t_lewis, w = _timed(partial(lewis_weights, A, 1.5, rng=0), 1)
    say(f"  Lewis weights, p = 1.5  {t_lewis:6.2f} s   (sum {w.sum():.6f} = d)")
    checks = [(abs(w.sum() - d) < 1e-6 * d, f"Lewis weights sum to d = {d} ({w.sum():.9g})")]
    k = 100 * d
    for p in (1.0, 1.5, 3.0):
        t_full, full_fit = _timed(partial(lp_regression, A, b, p), 1)
        t_sample, sampled = _timed(partial(lp_regression, A, b, p, k=k, rng=0), 1)
        ratio = sampled.objective / full_fit.objective
        say(
            f"  p = {p:<3g} full {t_full:6.2f} s (certified gap {full_fit.gap:.0e}); "
            f"on {sampled.rows_used} sampled rows {t_sample:5.2f} s, "
            f"objective {ratio:.4f} x optimum"
        )
        checks += [
            (full_fit.gap < 1e-6, f"p = {p:g}: certified gap below 1e-6 ({full_fit.gap:.0e})"),
            (ratio < 1.05, f"p = {p:g}: sampled objective within 5% of optimum ({ratio:.4f})"),
        ]
    return checks


def _grid_spread(points, side):
    """Mean distance from each point of a side x side grid to its nearest neighbour."""
    xy = np.column_stack([points // side, points % side]).astype(float)
    d2 = np.sum((xy[:, None] - xy[None]) ** 2, axis=-1)
    np.fill_diagonal(d2, np.inf)
    return float(np.mean(np.sqrt(d2.min(axis=1))))


def _dpps(full, say):
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
    say(
        f"  {modes**2} points on a {side} x {side} grid: mean nearest-neighbour distance "
        f"{spread_dpp:.2f} (DPP) vs {spread_iid:.2f} (uniform)"
    )
    n, r = (100_000, 100) if full else (20_000, 100)
    V = np.linalg.qr(rng.standard_normal((n, r)))[0]
    dpp.sample_projection_dpp(V, rng=0)  # the first call compiles the kernel
    seconds, S = _timed(partial(dpp.sample_projection_dpp, V, rng=0), 5)
    items = len(set(S))
    say(f"  projection DPP, N = {n}, r = {r}: {seconds * 1e3:.1f} ms, {items} items")
    B = rng.standard_normal((10_000, 200)) * np.geomspace(1e-6, 1e4, 200)
    seconds, K = _timed(partial(dpp.sample_kdpp, 100, factor=B, rng=0), 1)
    say(
        f"  k-DPP, k = 100, of L = B B^T, B 10^4 x 200 with column scales 1e-6..1e4: "
        f"{seconds:.2f} s"
    )
    A = rng.standard_normal((2000, 5))
    b = A @ np.ones(5) + rng.standard_normal(2000)
    x = np.linalg.lstsq(A, b, rcond=None)[0]
    estimates = np.array([volume_lstsq(A, b, 10, rng=s).x for s in range(2000)])
    one, mean = (
        np.linalg.norm(e - x) / np.linalg.norm(x) for e in (estimates[0], estimates.mean(0))
    )
    say(
        f"  volume-sampled least squares, 10 of 2000 rows: one estimate {one:.3f} from the full\n"
        f"  solution (relative), the mean of 2000 (unbiased) {mean:.4f}"
    )
    return [
        (spread_dpp > spread_iid, "DPP points spread more than uniform ones"),
        (items == r, f"a projection DPP of rank {r} draws {r} items ({items})"),
        (len(set(K)) == 100, f"a 100-DPP draws 100 items ({len(set(K))})"),
        (mean < 0.03, f"the mean of 2000 volume-sampled solutions within 0.03 ({mean:.4f})"),
    ]


def _cosine_basis(size, modes):
    t = (np.arange(size) + 0.5) / size
    return np.linalg.qr(np.cos(np.pi * np.outer(t, np.arange(modes))))[0]


def _calibration(full, say):
    from sklearn.datasets import load_sample_image

    say("  unknown per-pixel gains and a scene from coded exposures")
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
    say(
        f"  scikit-learn's china.jpg at {rows} x {cols}, {p} exposures, noise 1e-3: "
        f"{seconds:.2f} s\n  relative error of the gains {error_gains:.1e}, "
        f"of the scene {error_scene:.1e}"
    )
    if full:
        m, n, p = 4096, 1024, 8
        A = rng.standard_normal((p, m, n))
        d = 1 + 0.5 * rng.random(m)
        y = d * np.einsum("lmn,n->lm", A, rng.standard_normal(n))
        seconds, res = _timed(partial(self_calibrate, y, A), 1)
        say(f"  repeated model, m = {m}, n = {n}, p = {p}: {seconds:.2f} s")
    worst = max(error_gains, error_scene)
    return [(worst < 1e-2, f"gains and scene within 1e-2 (worst {worst:.1e})")]


def _wls(full, say):
    import scipy.special

    m = 20
    basis = bases.legendre(m - 1)

    def runge(x):
        return 1 / (1 + 25 * x[:, 0] ** 2)

    t, w = scipy.special.roots_legendre(400)
    Phi, values = basis(t[:, None]), runge(t[:, None])
    e_m = np.sqrt(np.sum(w / 2 * (values - Phi @ ((Phi * (w / 2)[:, None]).T @ values)) ** 2))
    say(
        f"  Runge's function, Legendre m = {m}; mean error ratio ||f - f_hat|| / e_m over 30 trials"
    )
    ratios = {}
    for n in (m, 2 * m):
        for method in ("iid", "volume") if n > m else ("iid", "dpp"):
            errors = [
                np.sqrt(np.sum(w / 2 * (values - Phi @ res.coef) ** 2)) / e_m
                for res in (dpp_wls(runge, basis, n, method=method, rng=s) for s in range(30))
            ]
            ratios[n, method] = np.mean(errors)
        say(f"  n = {n}: " + ", ".join(f"{k[1]} {v:.3g}" for k, v in ratios.items() if k[0] == n))
    basis5 = bases.tensor("legendre", 5, degree=3)
    dpp_wls(runge, basis5, 100, rng=0)
    seconds, _ = _timed(partial(dpp_wls, runge, basis5, 100, rng=1), 3)
    say(f"  5-D total degree 3 (m = 56), volume sampling of 100 points: {seconds * 1e3:.1f} ms")
    dpp_ratio, volume_ratio = ratios[m, "dpp"], ratios[2 * m, "volume"]
    return [
        (dpp_ratio < 10, f"DPP at n = m within 10 e_m ({dpp_ratio:.3g})"),
        (volume_ratio < ratios[2 * m, "iid"], "volume sampling beats i.i.d. at n = 2m"),
    ]


def _sklearn(full, say):
    # Imported here: scikit-learn's import costs about a second, and only
    # this part needs it.
    import sklearn.linear_model

    from .sklearn import QuantileRegressor

    n, d = (5000, 20) if full else (2000, 10)
    rng = np.random.default_rng(4)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + rng.standard_t(1.5, size=n)
    say(f"  QuantileRegressor beside scikit-learn's (HiGHS), {n} x {d}, Student-t(1.5) noise")
    checks = []
    for q in (0.5, 0.9):
        # Median of 3: the first fit also pays for imports.
        t_ours, ours = _timed(partial(QuantileRegressor(quantile=q, alpha=0.0).fit, X, y), 3)
        reference = sklearn.linear_model.QuantileRegressor(quantile=q, alpha=0.0)
        t_theirs, theirs = _timed(partial(reference.fit, X, y), 1)
        losses = [_pinball(y - m.predict(X), q) for m in (ours, theirs)]
        excess = (losses[0] - losses[1]) / losses[1]
        say(
            f"  q = {q}: randla {t_ours:5.2f} s, scikit-learn {t_theirs:5.2f} s "
            f"({t_theirs / t_ours:.0f}x); mean pinball loss {losses[0]:.10f} vs "
            f"{losses[1]:.10f}, certified gap {ours.duality_gap_:.0e}"
        )
        checks += [
            (excess <= 1e-8, f"q = {q}: loss within 1e-8 of scikit-learn's ({excess:.1e})"),
            (ours.duality_gap_ <= 1e-10, f"q = {q}: certified gap {ours.duality_gap_:.0e}"),
        ]
    return checks


def _pinball(u, q):
    """The mean pinball loss of residuals u = y - prediction."""
    return float(np.mean(np.maximum(q * u, (q - 1) * u)))


# (title, part): a part prints as it goes and returns its checks, (passed, what) pairs.
_PARTS = (
    ("Sketching", _sketching),
    ("Leverage scores and least squares", _least_squares),
    ("l_p regression", _lp),
    ("Determinantal point processes", _dpps),
    ("Self-calibration", _calibration),
    ("Weighted least squares", _wls),
    ("scikit-learn estimators", _sklearn),
)


def demo(full=False, out=None):
    """Print a tour of what randla does, with its checks; return whether all passed.

    Parameters
    ----------
    full : bool, default False
        Run the larger matrices (10^6 x 50 instead of 10^5 x 50, ...): a few
        minutes instead of under one.
    out : file, optional
        Where to print; default standard output. Every line is flushed.

    Returns
    -------
    bool
        Whether every part ran and passed its checks. A part that raises is
        reported as failed (one line: the error and where randla raised it)
        and the tour goes on; an error writing to `out` stops it.
    """
    say = partial(print, file=sys.stdout if out is None else out, flush=True)
    size = "full size, a few minutes" if full else "under a minute; --full for 10^6 rows"
    say(f"randla {__version__} demo: {len(_PARTS)} parts ({size})")
    start, failed = time.perf_counter(), []
    for i, (title, part) in enumerate(_PARTS, 1):
        say(f"\n[{i}/{len(_PARTS)}] {title}")
        t0 = time.perf_counter()
        try:
            checks = part(full, say)
        except BrokenPipeError:
            raise  # the reader left: main stops quietly
        except Exception as exc:
            checks = [(False, f"{type(exc).__name__}: {error_line(exc)} (raised at {origin(exc)})")]
        missed = [what for passed, what in checks if not passed]
        seconds = time.perf_counter() - t0
        if missed:
            failed.append(title)
            say(f"  FAILED ({seconds:.1f} s): " + "; ".join(missed))
        else:
            say(f"  passed {len(checks)} check{'s' * (len(checks) > 1)} ({seconds:.1f} s)")
    total = time.perf_counter() - start
    verdict = "all passed" if not failed else f"FAILED: {', '.join(failed)}"
    say(f"\nrandla demo: {len(_PARTS)} parts in {total:.1f} s, {verdict}")
    return not failed
