"""The ``randla`` command: ``randla --version``, ``randla demo`` and file-based jobs.

The jobs (``leverage``, ``sample``, ``lstsq``, ``lp-regress``) read matrices
from ``.npy`` (memory-mapped), ``.npz``, ``.csv`` or Matrix Market ``.mtx``
files, run one randla function and write its arrays to an ``.npz`` file; see
``docs/command_line.rst``. File input and output live in ``_cli_io``, the
tour in ``_demo``.

Only the standard library is imported here: numpy, scipy and randla's
numerical modules are imported by the job (or the demo) that runs, so that
``randla --help`` and ``randla --version`` answer at once.
"""

import argparse
import contextlib
import os
import sys
import threading
import time
import warnings

from ._version import __version__

__all__ = ["main"]

# The exit status of a job that failed in the computation rather than on its
# input (EX_SOFTWARE of sysexits.h), of one stopped by Ctrl-C (128 + SIGINT),
# and of one whose standard output was closed.
_EXIT_INTERNAL = 70
_EXIT_INTERRUPTED = 130
_EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE

_SAMPLE_METHODS = ("leverage", "sensitivity", "root-leverage", "lewis", "uniform")

# randla._sampling.SCHEMES and ACCURACIES and randla._lstsq.METHODS, written out so that
# building the parser imports neither (tests/test_cli_jobs.py checks them).
_SCHEMES = ("bernoulli", "iid")
_ACCURACIES = ("coarse", "exact")
_LSTSQ_METHODS = ("auto", "precondition", "lsqr", "sketch", "direct")


class _Progress:
    """Timed stages of a job, shown as one tqdm status line on standard error.

    The line names the stage that is running and the time since the job
    started; a daemon thread redraws it twice a second (the passes over A
    report no fraction done, so the clock is what moves), and it is erased
    at the end.
    """

    def __init__(self, command, show):
        from tqdm import tqdm

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


def _where(path):
    return f"wrote {path}" if path else "nothing written (no -o)"


def _leverage_job(args, progress):
    import numpy as np

    from ._cli_io import input_summary, load_matrix, number, write_npz
    from ._leverage import leverage_scores

    with progress.stage("loading"):
        A = load_matrix(args.file, "A")
    with progress.stage("scores"):
        scores = leverage_scores(A, method=args.method, rng=args.rng)
    if args.output:
        with progress.stage("writing"):
            write_npz(args.output, scores=scores)
    top = int(np.argmax(scores))
    summary = {
        **input_summary(A, args.file),
        "method": args.method,
        "sum": number(scores.sum()),
        "max": number(scores[top]),
        "argmax": top,
    }
    text = (
        f"leverage scores of {args.file} ({A.shape[0]} x {A.shape[1]}, {args.method}): "
        f"sum {summary['sum']:.6g}, largest {summary['max']:.3g} (row {top}); "
        f"{_where(args.output)}"
    )
    return summary, text


def _draw_sample(A, method, k, p, scheme, accuracy, rng):
    from ._sampling import (
        leverage_sample,
        lewis_sample,
        root_leverage_sample,
        sensitivity_sample,
        uniform_sample,
    )

    if method == "leverage":
        if p != 2:
            raise ValueError(
                f"method 'leverage' samples for p = 2, got --p {p:g}; use sensitivity, "
                "root-leverage or lewis"
            )
        return leverage_sample(A, k, scheme=scheme, accuracy=accuracy, rng=rng)
    if method == "sensitivity":
        return sensitivity_sample(A, k, p=p, scheme=scheme, accuracy=accuracy, rng=rng)
    if method == "root-leverage":
        return root_leverage_sample(A, k, p=p, scheme=scheme, accuracy=accuracy, rng=rng)
    if method == "lewis":
        return lewis_sample(A, k, p=p, scheme=scheme, accuracy=accuracy, rng=rng)
    return uniform_sample(A, k, p=p, scheme=scheme, rng=rng)


def _sample_job(args, progress):
    import scipy.sparse as sp

    from ._cli_io import input_summary, load_matrix, number, write_npz

    method = args.method or ("leverage" if args.p == 2 else "sensitivity")
    with progress.stage("loading"):
        A = load_matrix(args.file, "A")
    with progress.stage("sampling"):
        sample = _draw_sample(A, method, args.k, args.p, args.scheme, args.accuracy, args.rng)
    with progress.stage("rows"):
        rows = sample.apply(A)
        rows = rows.toarray() if sp.issparse(rows) else rows
    with progress.stage("writing"):
        write_npz(
            args.output,
            indices=sample.indices,
            scales=sample.scales,
            probabilities=sample.probabilities,
            rows=rows,
        )
    summary = {
        **input_summary(A, args.file),
        "method": method,
        "scores": sample.scores,
        "p": number(sample.p),
        "scheme": sample.scheme,
        "k": sample.k,
        "rows": len(sample),
    }
    target = "expected" if sample.scheme == "bernoulli" else "draws"
    text = (
        f"sampled {len(sample)} of {A.shape[0]} rows of {args.file} ({sample.scores} scores, "
        f"p = {sample.p:g}, {sample.scheme}, {target} {sample.k}); {_where(args.output)}"
    )
    return summary, text


def _solve(args, progress, solver):
    """Load A and b, run solver(A, b), write its x: (A, the result, the summary's start)."""
    from ._cli_io import input_summary, load_matrix, load_vector, write_npz

    with progress.stage("loading"):
        A = load_matrix(args.a_file, "A")
        b = load_vector(args.b_file, "b")
    with progress.stage("solving"):
        res = solver(A, b)
    if args.output:
        with progress.stage("writing"):
            write_npz(args.output, x=res.x)
    n, d = A.shape
    return A, res, {**input_summary(A, args.a_file), "b": args.b_file, "n": n, "d": d}


def _lstsq_job(args, progress):
    from ._cli_io import number
    from ._lstsq import lstsq

    A, res, summary = _solve(
        args, progress, lambda A, b: lstsq(A, b, method=args.method, rng=args.rng)
    )
    summary.update(
        method=res.method,
        residual_norm=number(res.residual_norm),
        iterations=res.iterations,
        converged=res.converged,
        rank=res.rank,
        cond=number(res.condition_estimate),
        k=res.k,
    )
    text = (
        f"least squares {A.shape[0]} x {A.shape[1]} ({res.method}): residual norm "
        f"{res.residual_norm:.6g}, rank {res.rank}, condition estimate "
        f"{res.condition_estimate:.3g}; {_where(args.output)}"
    )
    return summary, text


def _lp_regress_job(args, progress):
    from ._cli_io import number
    from ._lp_regression import lp_regression

    A, res, summary = _solve(
        args,
        progress,
        lambda A, b: lp_regression(A, b, args.p, k=args.k, accuracy=args.accuracy, rng=args.rng),
    )
    summary.update(
        p=number(res.p),
        objective=number(res.objective),
        gap=number(res.gap),
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
    from ._cli_io import check_output, error_line, input_error, print_json

    show = not args.quiet and sys.stderr.isatty()
    inputs = [("A", args.a_file), ("b", args.b_file)] if "a_file" in args else [("A", args.file)]
    try:
        check_output(args.output, inputs)
        # The progress line is erased before anything else is printed.
        with (
            _Progress(args.command, show) as progress,
            warnings.catch_warnings(record=True) as caught,
        ):
            summary, text = job(args, progress)
    except MemoryError as exc:
        print(f"randla: error: out of memory ({error_line(exc)})", file=sys.stderr)
        return 1
    except (OSError, ValueError, TypeError) as exc:
        if not input_error(exc):
            raise
        print(f"randla: error: {error_line(exc)}", file=sys.stderr)
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
        print_json(summary)
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
    leverage.add_argument("--method", choices=("qr", "sketch", "coarse"), default="qr")
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
    sample.add_argument("--scheme", choices=_SCHEMES, default="bernoulli")
    sample.add_argument(
        "--accuracy",
        choices=_ACCURACIES,
        default="coarse",
        help="coarse scores and 3.5 times the rows (default), or exact scores and K rows",
    )
    sample.add_argument(
        "-o",
        dest="output",
        metavar="OUT.npz",
        required=True,
        help="write `indices`, `scales`, `probabilities` and `rows` here",
    )

    solve = _problem_parser(sub, "lstsq", "least squares min ||Ax - b||_2", _lstsq_job)
    solve.add_argument("--method", choices=_LSTSQ_METHODS, default="auto")

    regress = _problem_parser(sub, "lp-regress", "l_p regression min ||Ax - b||_p", _lp_regress_job)
    regress.add_argument("--p", type=float, required=True, help="the l_p norm, p >= 1")
    regress.add_argument(
        "-k", type=int, metavar="K", help="solve on a sensitivity sample of about K rows of [A b]"
    )
    regress.add_argument("--sample-size", action=_Renamed, new="-k", help=argparse.SUPPRESS)
    regress.add_argument(
        "--accuracy",
        choices=_ACCURACIES,
        default="coarse",
        help="with -k: coarse scores and 3.5 times the rows (default), or exact scores and K rows",
    )


class _Renamed(argparse.Action):
    """An option that was renamed: a usage error (exit 2) that names the new one."""

    def __init__(self, *args, new, **kwargs):
        super().__init__(*args, nargs="?", **kwargs)
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(f"{option_string} is now {self.new}")


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
        ``randla: internal error: ...``) or a check of the demo fails (its
        last line says which part); 130 when interrupted by Ctrl-C (one line
        ``randla: interrupted``); 141 when standard output was closed.
    """
    parser = argparse.ArgumentParser(
        prog="randla",
        description="Randomized numerical linear algebra by sampling.",
    )
    parser.add_argument("--version", action="version", version=f"randla {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="command")
    demo_parser = sub.add_parser(
        "demo",
        help="a tour with distortions and timings that checks itself (under a minute)",
        description="A tour of randla with distortions and timings, each part checked.",
    )
    demo_parser.add_argument(
        "--full", action="store_true", help="matrices with 10^6 rows (a few minutes)"
    )
    # The old flag for what is now the default size, accepted so that scripts
    # written for it still run.
    demo_parser.add_argument("--quick", action="store_true", help=argparse.SUPPRESS)
    _add_jobs(sub)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        if args.command == "demo":
            from ._demo import demo

            return 0 if demo(full=args.full) else _EXIT_INTERNAL
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
        from ._cli_io import error_line, origin

        print(
            f"randla: internal error: {type(exc).__name__}: {error_line(exc)} "
            f"(raised at {origin(exc)}); please report it",
            file=sys.stderr,
        )
        return _EXIT_INTERNAL
