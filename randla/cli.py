"""The ``randla`` command: ``randla --version``, ``randla demo`` and file-based jobs.

The jobs (``leverage``, ``sample``, ``lstsq``, ``lp-regress``) read matrices
from ``.npy`` (memory-mapped), ``.npz``, ``.csv`` or Matrix Market ``.mtx``
files, run one randla function and write its arrays to an ``.npz`` file; see
``docs/command_line.rst``.
"""

import argparse
import contextlib
import errno
import io
import json
import math
import os
import secrets
import stat
import sys
import threading
import time
import tokenize
import traceback
import warnings
import zipfile
import zlib
from functools import partial

import numpy as np
import scipy.io
import scipy.linalg
import scipy.sparse as sp
from tqdm import tqdm

from . import bases, dpp
from ._calibration import self_calibrate
from ._distortion import subspace_distortion
from ._leverage import leverage_scores
from ._lewis import lewis_weights
from ._lp_regression import lp_regression
from ._lstsq import METHODS as LSTSQ_METHODS
from ._lstsq import lstsq, volume_lstsq
from ._sampling import (
    SCHEMES,
    leverage_sample,
    lewis_sample,
    root_leverage_sample,
    sensitivity_sample,
    uniform_sample,
)
from ._sketch import KINDS, SketchDistribution
from ._version import __version__
from ._wls import dpp_wls

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


# File-based jobs: load, run one randla function, write an .npz, summarise.

# What reading a damaged file can raise, reported as the file's fault.
_READ_ERRORS = (OSError, ValueError, TypeError, EOFError, zipfile.BadZipFile, zlib.error)

# The exit status of a job that failed in the computation rather than on its
# input (EX_SOFTWARE of sysexits.h), of one stopped by Ctrl-C (128 + SIGINT),
# and of one whose standard output was closed.
_EXIT_INTERNAL = 70
_EXIT_INTERRUPTED = 130
_EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE

_PACKAGE = os.path.dirname(os.path.abspath(__file__))

_FORMATS = (".npy", ".npz", ".csv", ".mtx")

_SAMPLE_METHODS = ("leverage", "sensitivity", "root-leverage", "lewis", "uniform")


def _check_npy_header(f, what, size):
    """Check the .npy header at the start of the open file f of `size` bytes.

    Reading the header ourselves tells a file that is not .npy at all (which
    numpy.load would take for a pickle) from an array of Python objects, and
    compares the bytes the header's shape needs with the bytes that follow
    it, so that a damaged header is refused before memory is reserved for it.
    """
    try:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise ValueError(f"unknown format version {version[0]}.{version[1]}")
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    except ValueError as exc:
        raise ValueError(f"{what} is not a .npy array ({_error_line(exc)})") from None
    except tokenize.TokenError:  # numpy lets it through for an unclosed header dict
        raise ValueError(
            f"{what} is not a .npy array (its header ends in an unclosed bracket or string)"
        ) from None
    if dtype.hasobject:
        raise ValueError(
            f"{what} holds pickled Python objects (dtype {dtype}), which are refused; "
            "save a numeric array"
        )
    needed, held = math.prod(shape) * dtype.itemsize, size - f.tell()
    if needed > held:
        raise ValueError(
            f"{what} is damaged: its header claims shape {shape} of {dtype} "
            f"({needed} bytes), but {held} bytes of data follow it"
        )


def _read_npz(path, name):
    """The array called `name` in an .npz archive, or its only array."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise ValueError(f"the file is not an .npz archive ({exc})") from None
    with archive:
        members = {member.removesuffix(".npy"): member for member in archive.namelist()}
        if name in members:
            key = name
        elif len(members) == 1:
            (key,) = members
        else:
            raise ValueError(
                f"the archive holds {len(members)} arrays ({', '.join(sorted(members))}); "
                f"it must hold exactly one, or one named {name!r}"
            )
        with archive.open(members[key]) as f:
            _check_npy_header(f, f"array {key!r}", archive.getinfo(members[key]).file_size)
            f.seek(0)
            return np.lib.format.read_array(f, allow_pickle=False)


def _physical_memory():
    """The bytes of memory of this machine, or None when the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _read_mtx(path):
    """A Matrix Market file, its header checked first: coordinate gives CSR."""
    rows, cols, entries, form, _, _ = scipy.io.mminfo(path)
    size = os.path.getsize(path)
    # An array entry takes 2 bytes or more ("0\n"; a symmetric array stores
    # half of them), a coordinate entry 4 or more ("1 1\n").
    if (entries if form == "array" else 4 * entries) > size:
        raise ValueError(
            f"the file is damaged: its header claims a {rows} x {cols} matrix with "
            f"{entries} entries, more than its {size} bytes can hold"
        )
    memory = _physical_memory()
    if form == "coordinate" and memory is not None and 8 * (rows + 1) > memory:
        raise ValueError(
            f"its header claims {rows} rows, whose CSR row pointers alone would take "
            f"{8 * (rows + 1)} bytes, more than the {memory} bytes of memory of this machine"
        )
    # scipy's reader (fast_matrix_market, in scipy 1.17.1) crashes the process
    # on a number cut short at the very end of a file without a final newline,
    # as a truncated file has: such a file is read from memory, newline added.
    source = path
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) != b"\n":
            f.seek(0)
            source = io.BytesIO(f.read() + b"\n")
    matrix = scipy.io.mmread(source)
    return sp.csr_array(matrix) if sp.issparse(matrix) else matrix


def _read_array(path, name):
    """The array stored in a file, read according to its extension."""
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        with open(path, "rb") as f:
            _check_npy_header(f, "the file", os.fstat(f.fileno()).st_size)
        # Memory-mapped: randla reads it block by block, out of core.
        return np.load(path, mmap_mode="r", allow_pickle=False)
    if ext == ".npz":
        return _read_npz(path, name)
    if ext == ".csv":
        try:
            with open(path) as f:
                return np.loadtxt(f, delimiter=",", ndmin=2)
        except ValueError as exc:
            raise ValueError(
                f"not a numeric CSV file (numbers separated by commas, no header line): {exc}"
            ) from None
    return _read_mtx(path)


def _read(path, name):
    """_read_array with every failure as one ValueError naming the argument and the file."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in _FORMATS:
        raise ValueError(
            f"{name} file {path} has an unknown extension {ext!r}; use one of {', '.join(_FORMATS)}"
        )
    try:
        return _read_array(path, name)
    except _READ_ERRORS as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else _error_line(exc)
        raise ValueError(f"cannot read {name} from {path}: {reason}") from exc


def _load_matrix(path, name):
    """A 2-D matrix from a .npy, .npz, .csv or .mtx file (.mtx coordinate: CSR)."""
    A = _read(path, name)
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-D matrix, got an array of shape {A.shape} in {path}")
    return A


def _load_vector(path, name):
    """A vector from a .npy, .npz, .csv or .mtx file holding shape (n,) or (n, 1)."""
    v = _read(path, name)
    if sp.issparse(v):
        v = v.toarray()
    if v.ndim == 2 and v.shape[1] == 1:
        v = v[:, 0]
    if v.ndim != 1:
        raise ValueError(
            f"{name} must be a vector of shape (n,) or (n, 1), got shape {v.shape} in {path}"
        )
    return v


def _error_line(exc):
    """An exception as one line, for ``randla: error: ...``."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return " ".join(str(exc).split()) or type(exc).__name__


def _check_output(args):
    """Refuse an output that is one of the input files, under any name or link."""
    if not args.output:
        return
    inputs = [("A", args.a_file), ("b", args.b_file)] if "a_file" in args else [("A", args.file)]
    for name, path in inputs:
        try:
            same = os.path.samefile(args.output, path)
        except OSError:
            continue  # no output yet, or no input (which reading reports)
        if same:
            raise ValueError(
                f"-o {args.output} is the input file {path} of {name}; writing it would "
                "destroy the input, so choose another output name"
            )


def _write_npz(path, **arrays):
    """Write the arrays to `path` (exactly that name; numpy.savez would add .npz).

    The write is atomic: the archive goes to a temporary file in the same
    directory, which is synced to disk and then renamed over `path`
    (os.replace), so `path` holds either its old content or all of the new,
    even if the process is killed; the directory is synced for the rename to
    last. A symbolic link is followed and the file it names replaced; a new
    file gets the mode of the one it replaces, or 0o666 less the umask. A
    device or a pipe (``-o /dev/null``, ``-o /dev/stdout``) is written in place.
    """
    try:
        before = os.stat(path)
    except FileNotFoundError:
        before = None
    try:
        if before is not None and not stat.S_ISREG(before.st_mode):
            # Built in memory: zipfile seeks back, which /dev/null accepts and ignores.
            archive = io.BytesIO()
            np.savez(archive, **arrays)
            with open(path, "wb") as f:
                f.write(archive.getbuffer())
            return
        if before is not None and not os.access(path, os.W_OK):
            raise PermissionError(errno.EACCES, "Permission denied")  # as open(path, "wb")
        _replace(os.path.realpath(path), before, partial(np.savez, **arrays))
    except OSError as exc:
        # Name the output, not a temporary file.
        raise OSError(exc.errno, exc.strerror or str(exc), path) from exc


def _replace(target, before, write):
    """Call write(f) on a temporary file, sync it and rename it to target."""
    directory, name = os.path.split(target)
    temporary = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(fd, "wb") as f:
            if before is not None:
                os.fchmod(f.fileno(), stat.S_IMODE(before.st_mode))
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException:
        os.unlink(temporary)
        raise
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _number(x):
    """A float for JSON; "inf", "-inf" or "nan" when not finite (strict JSON has none)."""
    x = float(x)
    return x if math.isfinite(x) else str(x)


class _Progress:
    """Timed stages of a job, shown as one tqdm status line on standard error.

    The line names the stage that is running and the time since the job
    started; a daemon thread redraws it twice a second (the passes over A
    report no fraction done, so the clock is what moves), and it is erased
    at the end.
    """

    def __init__(self, command, show):
        self.seconds = {}
        self._bar = tqdm(
            desc="starting",
            file=sys.stderr,
            disable=not show,
            leave=False,
            bar_format=f"randla {command}: {{desc}} [{{elapsed}}]",
        )
        self._done = threading.Event()
        if show:
            threading.Thread(target=self._tick, daemon=True).start()

    def _tick(self):
        while not self._done.wait(0.5):
            self._bar.refresh()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._done.set()
        self._bar.close()

    @contextlib.contextmanager
    def stage(self, name):
        self._bar.set_description_str(name)
        t0 = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - t0, 6)


def _input_summary(A, path):
    summary = {"A": path, "shape": list(A.shape), "sparse": sp.issparse(A)}
    if sp.issparse(A):
        summary["nnz"] = int(A.nnz)
    return summary


def _where(path):
    return f"wrote {path}" if path else "nothing written (no -o)"


def _leverage_job(args, progress):
    with progress.stage("loading"):
        A = _load_matrix(args.file, "A")
    with progress.stage("scores"):
        scores = leverage_scores(A, method=args.method, rng=args.rng)
    if args.output:
        with progress.stage("writing"):
            _write_npz(args.output, scores=scores)
    top = int(np.argmax(scores))
    summary = {
        **_input_summary(A, args.file),
        "method": args.method,
        "sum": _number(scores.sum()),
        "max": _number(scores[top]),
        "argmax": top,
    }
    text = (
        f"leverage scores of {args.file} ({A.shape[0]} x {A.shape[1]}, {args.method}): "
        f"sum {summary['sum']:.6g}, largest {summary['max']:.3g} (row {top}); "
        f"{_where(args.output)}"
    )
    return summary, text


def _draw_sample(A, method, k, p, scheme, rng):
    if method == "leverage":
        if p != 2:
            raise ValueError(
                f"method 'leverage' samples for p = 2, got --p {p:g}; use sensitivity, "
                "root-leverage or lewis"
            )
        return leverage_sample(A, k, scheme=scheme, rng=rng)
    if method == "sensitivity":
        return sensitivity_sample(A, p, k, scheme=scheme, rng=rng)
    if method == "root-leverage":
        return root_leverage_sample(A, k, p, scheme=scheme, rng=rng)
    if method == "lewis":
        return lewis_sample(A, k, p, scheme=scheme, rng=rng)
    return uniform_sample(A, k, p=p, scheme=scheme, rng=rng)


def _sample_job(args, progress):
    method = args.method or ("leverage" if args.p == 2 else "sensitivity")
    with progress.stage("loading"):
        A = _load_matrix(args.file, "A")
    with progress.stage("sampling"):
        sample = _draw_sample(A, method, args.k, args.p, args.scheme, args.rng)
    with progress.stage("rows"):
        rows = sample.apply(A)
        rows = rows.toarray() if sp.issparse(rows) else rows
    with progress.stage("writing"):
        _write_npz(
            args.output,
            indices=sample.indices,
            weights=sample.weights,
            probabilities=sample.probabilities,
            rows=rows,
        )
    summary = {
        **_input_summary(A, args.file),
        "method": method,
        "p": _number(sample.p),
        "scheme": sample.scheme,
        "k": sample.k,
        "rows": len(sample),
    }
    target = "expected" if sample.scheme == "bernoulli" else "draws"
    text = (
        f"sampled {len(sample)} of {A.shape[0]} rows of {args.file} ({method}, p = {sample.p:g}, "
        f"{sample.scheme}, {target} {sample.k}); {_where(args.output)}"
    )
    return summary, text


def _load_problem(args):
    A = _load_matrix(args.a_file, "A")
    b = _load_vector(args.b_file, "b")
    return A, b


def _solve(args, progress, solver):
    """Load A and b, run solver(A, b), write its x: (A, the result, the summary's start)."""
    with progress.stage("loading"):
        A, b = _load_problem(args)
    with progress.stage("solving"):
        res = solver(A, b)
    if args.output:
        with progress.stage("writing"):
            _write_npz(args.output, x=res.x)
    n, d = A.shape
    return A, res, {**_input_summary(A, args.a_file), "b": args.b_file, "n": n, "d": d}


def _lstsq_job(args, progress):
    A, res, summary = _solve(
        args, progress, lambda A, b: lstsq(A, b, method=args.method, rng=args.rng)
    )
    summary.update(
        method=res.method,
        residual_norm=_number(res.residual_norm),
        iterations=res.iterations,
        converged=res.converged,
        rank=res.rank,
        cond=_number(res.condition_estimate),
        sketch_size=res.sketch_size,
    )
    text = (
        f"least squares {A.shape[0]} x {A.shape[1]} ({res.method}): residual norm "
        f"{res.residual_norm:.6g}, rank {res.rank}, condition estimate "
        f"{res.condition_estimate:.3g}; {_where(args.output)}"
    )
    return summary, text


def _lp_regress_job(args, progress):
    A, res, summary = _solve(
        args,
        progress,
        lambda A, b: lp_regression(A, b, args.p, sample_size=args.sample_size, rng=args.rng),
    )
    summary.update(
        p=_number(res.p),
        objective=_number(res.objective),
        gap=_number(res.gap),
        method=res.method,
        rows=res.rows_used,
        iterations=res.iterations,
        converged=res.converged,
    )
    text = (
        f"l_{res.p:g} regression {A.shape[0]} x {A.shape[1]} ({res.method} on "
        f"{res.rows_used} rows): objective {res.objective:.8g}, gap {res.gap:.2g}; "
        f"{_where(args.output)}"
    )
    return summary, text


def _run_job(job, args):
    """Run a job: its summary on stdout; warnings and errors one line each on stderr.

    Errors of the input, the files or the system are ``randla: error: ...``,
    status 1; other exceptions go up to main as internal errors.
    """
    show = not args.quiet and sys.stderr.isatty()
    try:
        _check_output(args)
        # The progress line is erased before anything else is printed.
        with (
            _Progress(args.command, show) as progress,
            warnings.catch_warnings(record=True) as caught,
        ):
            summary, text = job(args, progress)
    except MemoryError as exc:
        print(f"randla: error: out of memory ({_error_line(exc)})", file=sys.stderr)
        return 1
    except (OSError, ValueError, TypeError) as exc:
        if not _input_error(exc):
            raise
        print(f"randla: error: {_error_line(exc)}", file=sys.stderr)
        return 1
    messages = [" ".join(str(w.message).split()) for w in caught]
    for message in messages:
        print(f"randla: warning: {message}", file=sys.stderr)
    seconds = progress.seconds
    if args.json:
        summary = {
            "command": args.command,
            **summary,
            "output": args.output,
            "seconds": {**seconds, "total": round(sum(seconds.values()), 6)},
            "warnings": messages,
        }
        print(json.dumps(summary, allow_nan=False))
    elif not args.quiet:
        print(f"{text} ({sum(seconds.values()):.2f} s)")
    return 0


def _job_parser(sub, name, description, job):
    """A subparser with the options every job shares."""
    parser = sub.add_parser(name, help=description, description=description)
    parser.set_defaults(job=job)
    parser.add_argument(
        "--rng", type=int, metavar="SEED", help="seed of the random number generator"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="no progress line and no summary line (--json still prints its summary)",
    )
    return parser


def _problem_parser(sub, name, description, job):
    """A subparser for a job that solves for x given A and b."""
    parser = _job_parser(sub, name, description, job)
    parser.add_argument("a_file", metavar="A_FILE", help="the matrix A")
    parser.add_argument("b_file", metavar="B_FILE", help="the vector b, shape (n,) or (n, 1)")
    parser.add_argument("-o", dest="output", metavar="OUT.npz", help="write `x` here")
    return parser


def _add_jobs(sub):
    leverage = _job_parser(
        sub, "leverage", "leverage scores of the rows of a matrix", _leverage_job
    )
    leverage.add_argument("file", metavar="FILE", help="the matrix A (.npy, .npz, .csv, .mtx)")
    leverage.add_argument("--method", choices=("qr", "sketch"), default="qr")
    leverage.add_argument("-o", dest="output", metavar="OUT.npz", help="write `scores` here")

    sample = _job_parser(sub, "sample", "sample and rescale rows of a matrix", _sample_job)
    sample.add_argument("file", metavar="FILE", help="the matrix A (.npy, .npz, .csv, .mtx)")
    sample.add_argument(
        "-k", type=int, required=True, help="expected number of rows (bernoulli) or draws (iid)"
    )
    sample.add_argument("--p", type=float, default=2.0, help="the l_p norm (default 2)")
    sample.add_argument(
        "--method",
        choices=_SAMPLE_METHODS,
        help="the scores (default: leverage for p = 2, sensitivity otherwise)",
    )
    sample.add_argument("--scheme", choices=SCHEMES, default="bernoulli")
    sample.add_argument(
        "-o",
        dest="output",
        metavar="OUT.npz",
        required=True,
        help="write `indices`, `weights`, `probabilities` and `rows` here",
    )

    solve = _problem_parser(sub, "lstsq", "least squares min ||Ax - b||_2", _lstsq_job)
    solve.add_argument("--method", choices=LSTSQ_METHODS, default="auto")

    regress = _problem_parser(sub, "lp-regress", "l_p regression min ||Ax - b||_p", _lp_regress_job)
    regress.add_argument("--p", type=float, required=True, help="the l_p norm, p >= 1")
    regress.add_argument(
        "--sample-size",
        type=int,
        metavar="K",
        help="solve on a sensitivity sample of about K rows of [A b]",
    )


def main(argv=None):
    """Run the ``randla`` command.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 on success; 1 when a job fails on its input, its
        output or the system (one line ``randla: error: ...`` on standard
        error); 2 without a command; 70 when the computation fails (one line
        ``randla: internal error: ...``); 130 when interrupted by Ctrl-C (one
        line ``randla: interrupted``); 141 when standard output was closed.
    """
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
    _add_jobs(sub)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "demo":
            demo(quick=args.quick)
            return 0
        return _run_job(args.job, args)
    except KeyboardInterrupt:
        print("randla: interrupted", file=sys.stderr)
        return _EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of standard output left (randla ... | head): stop quietly as
        # a command killed by SIGPIPE does, and keep Python's last flush from failing.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _EXIT_BROKEN_PIPE
    except Exception as exc:
        print(
            f"randla: internal error: {type(exc).__name__}: {_error_line(exc)} "
            f"(raised at {_origin(exc)}); please report it",
            file=sys.stderr,
        )
        return _EXIT_INTERNAL


def _in_randla(frame):
    return os.path.abspath(frame.filename).startswith(_PACKAGE + os.sep)


def _input_error(exc):
    """Whether exc is the fault of the input, the files or the system, not of the computation.

    An OSError is. A ValueError or TypeError is when a raise statement of
    randla raised it (one of its checks, with a message for the user); raised
    in numpy or scipy, or a LinAlgError, it is a failure of the computation.
    """
    if isinstance(exc, OSError):
        return True
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return (
        not isinstance(exc, np.linalg.LinAlgError)
        and _in_randla(frame)
        and frame.line.startswith("raise")
    )


def _origin(exc):
    """file:line of the innermost frame in randla of exc's traceback, for a report."""
    frames = traceback.extract_tb(exc.__traceback__)
    frame = ([f for f in frames if _in_randla(f)] or frames)[-1]
    return f"{os.path.relpath(frame.filename, os.path.dirname(_PACKAGE))}:{frame.lineno}"
