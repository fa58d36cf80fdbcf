"""The `randla` command when things go wrong.

An output that would overwrite an input, a write cut short, damaged files,
Ctrl-C, a failure inside the computation, and numbers that JSON cannot hold.
"""

import dataclasses
import errno
import io
import json
import math
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import tracemalloc
import zipfile

import numpy as np
import pytest
import scipy.optimize

import randla
from randla import _cli_io

from .test_cli_jobs import _main, _one_error_line, _run


@pytest.fixture
def problem(tmp_path):
    """A 200 x 4 A and b = A 1 + heavy-tailed noise, saved as A.npy and b.npy."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((200, 4))
    b = A @ np.ones(4) + rng.standard_t(1.5, size=200)
    np.save(tmp_path / "A.npy", A)
    np.save(tmp_path / "b.npy", b)
    return A, b


def _contents(path):
    """{name: bytes} of the files in a directory (links followed)."""
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


# --- an output that is an input ---------------------------------------------


@pytest.mark.parametrize(
    "command, output",
    [
        ("leverage A.npy", "A.npy"),
        ("leverage A.npy", "./A.npy"),
        ("leverage A.npy", "link.npy"),  # a symbolic link to A.npy
        ("sample A.npy -k 20", "hard.npy"),  # a hard link to A.npy
        ("lstsq A.npy b.npy", "b.npy"),
        ("lp-regress A.npy b.npy --p 1", "link.npy"),
    ],
)
def test_an_output_that_is_an_input_is_refused_before_any_work(
    tmp_path, problem, monkeypatch, capsys, command, output
):
    os.symlink("A.npy", tmp_path / "link.npy")
    os.link(tmp_path / "A.npy", tmp_path / "hard.npy")
    before = _contents(tmp_path)

    def no_reading(*args):
        raise AssertionError("an input was read")

    monkeypatch.setattr(_cli_io, "read", no_reading)
    status, out, err = _main(tmp_path, monkeypatch, capsys, f"{command} -o {output}")
    _one_error_line(status, out, err, f"-o {output} is the input file ")
    assert "writing it would destroy the input" in err
    assert _contents(tmp_path) == before


def test_an_output_that_is_an_input_fails_the_command(tmp_path, problem):
    before = _contents(tmp_path)
    result = _run(tmp_path, "leverage A.npy -o A.npy")
    _one_error_line(
        result.returncode, result.stdout, result.stderr, "-o A.npy is the input file A.npy of A"
    )
    assert _contents(tmp_path) == before


# --- atomic writes ----------------------------------------------------------


def test_outputs_are_whole_files_with_the_usual_modes(tmp_path, problem, monkeypatch, capsys):
    A, _ = problem
    scores = randla.leverage_scores(A)
    umask = os.umask(0o027)
    try:
        assert _main(tmp_path, monkeypatch, capsys, "leverage A.npy -o new.npz")[0] == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "new.npz").st_mode) == 0o640  # 0o666 less the umask
    np.testing.assert_array_equal(np.load(tmp_path / "new.npz")["scores"], scores)
    # A file replaced keeps its mode; a link is followed and stays a link.
    (tmp_path / "old.npz").write_bytes(b"old")
    os.chmod(tmp_path / "old.npz", 0o604)
    os.symlink("old.npz", tmp_path / "link.npz")
    assert _main(tmp_path, monkeypatch, capsys, "leverage A.npy -o link.npz")[0] == 0
    assert stat.S_IMODE(os.stat(tmp_path / "old.npz").st_mode) == 0o604
    assert os.readlink(tmp_path / "link.npz") == "old.npz"
    np.testing.assert_array_equal(np.load(tmp_path / "old.npz")["scores"], scores)
    assert sorted(_contents(tmp_path)) == ["A.npy", "b.npy", "link.npz", "new.npz", "old.npz"]


@pytest.mark.parametrize(
    "failure, status, message",
    [
        (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), 1, "randla: error: s.npz: "),
        (KeyboardInterrupt(), 130, "randla: interrupted"),
    ],
)
def test_a_write_that_fails_halfway_keeps_the_old_output(
    tmp_path, problem, monkeypatch, capsys, failure, status, message
):
    (tmp_path / "s.npz").write_bytes(b"the previous scores")
    before = _contents(tmp_path)
    savez, seen = np.savez, []

    def half_then_fail(f, **arrays):
        whole = io.BytesIO()
        savez(whole, **arrays)
        f.write(whole.getvalue()[: whole.tell() // 2])
        f.flush()
        seen.append((tmp_path / "s.npz").read_bytes())  # s.npz while it is written
        raise failure

    monkeypatch.setattr(np, "savez", half_then_fail)
    result = _main(tmp_path, monkeypatch, capsys, "leverage A.npy -o s.npz")
    assert result[:2] == (status, "")
    assert result[2].startswith(message) and result[2].count("\n") == 1
    assert seen == [b"the previous scores"]
    assert _contents(tmp_path) == before  # the old output, and no temporary file left


# Kill a real process with SIGKILL half way through writing its output.
_KILLED_WHILE_WRITING = r"""
import io
import os
import signal
import sys

import numpy as np

from randla import cli

savez = np.savez


def half_then_killed(f, **arrays):
    whole = io.BytesIO()
    savez(whole, **arrays)
    f.write(whole.getvalue()[: whole.tell() // 2])
    f.flush()
    os.kill(os.getpid(), signal.SIGKILL)


np.savez = half_then_killed
cli.main(sys.argv[1:])
"""


def test_a_write_killed_halfway_keeps_the_old_output(tmp_path):
    np.save(tmp_path / "A.npy", np.random.default_rng(1).standard_normal((100_000, 5)))
    np.savez(tmp_path / "s.npz", scores=np.arange(3.0))
    old = (tmp_path / "s.npz").read_bytes()
    result = subprocess.run(
        [sys.executable, "-c", _KILLED_WHILE_WRITING, "leverage", "A.npy", "-o", "s.npz"],
        cwd=tmp_path,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == -signal.SIGKILL, result.stderr
    assert (tmp_path / "s.npz").read_bytes() == old
    # The kill leaves the half-written temporary beside it, hidden.
    (left,) = set(_contents(tmp_path)) - {"A.npy", "s.npz"}
    assert re.fullmatch(r"\.s\.npz\.[0-9a-f]+\.tmp", left)


def test_a_read_only_output_is_not_replaced(tmp_path, problem, monkeypatch, capsys):
    (tmp_path / "s.npz").write_bytes(b"keep")
    # The test may run as root, which may write anything: say the file is not writable.
    writable = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: not p.endswith("s.npz") and writable(p, mode))
    status, out, err = _main(tmp_path, monkeypatch, capsys, "leverage A.npy -o s.npz")
    _one_error_line(status, out, err, "s.npz: Permission denied")
    assert (tmp_path / "s.npz").read_bytes() == b"keep"


def test_an_output_pipe_or_device_is_written_in_place(tmp_path, problem, monkeypatch, capsys):
    A, _ = problem
    os.mkfifo(tmp_path / "pipe.npz")
    received = []
    reader = threading.Thread(target=lambda: received.append((tmp_path / "pipe.npz").read_bytes()))
    reader.start()
    status = _main(tmp_path, monkeypatch, capsys, "leverage A.npy -o pipe.npz")[0]
    reader.join(timeout=60)
    assert status == 0
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe.npz").st_mode)  # not replaced by a file
    scores = np.load(io.BytesIO(received[0]))["scores"]
    np.testing.assert_array_equal(scores, randla.leverage_scores(A))
    # /dev/null lets zipfile seek and forgets the positions (only once the
    # pipe stayed a pipe: a regression must not replace the machine's /dev/null).
    status, _, err = _main(tmp_path, monkeypatch, capsys, "sample A.npy -k 20 -o /dev/null")
    assert (status, err) == (0, "")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


# --- damaged files -----------------------------------------------------------


def _npy(header, data=b"", version=b"\x01\x00"):
    """An .npy file (format 1.0 unless told) whose header is the text given."""
    text = header.encode("latin1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    return b"\x93NUMPY" + version + len(text).to_bytes(2, "little") + text + data


def _npz(member):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("A.npy", member)
    return archive.getvalue()


def _claim(shape):
    return f"{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}"


_DAMAGED = [
    (
        "open.npy",
        _npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1), ", bytes(16)),
        "the file is not a .npy array (its header ends in an unclosed bracket or string)",
    ),
    (
        "huge.npy",
        _npy(_claim((10**12, 5)), bytes(16)),
        "the file is damaged: its header claims shape (1000000000000, 5) of float64 "
        "(40000000000000 bytes), but 16 bytes of data follow it",
    ),
    (
        "overflow.npy",
        _npy(_claim((10**22, 5)), bytes(16)),
        "the file is damaged: its header claims shape (10000000000000000000000, 5) of float64",
    ),
    (
        "version.npy",
        _npy(_claim((2, 1)), bytes(16), version=b"\x07\x00"),
        "the file is not a .npy array (unknown format version 7.0)",
    ),
    (
        "huge.npz",
        _npz(_npy(_claim((10**12, 5)), bytes(16))),
        "array 'A' is damaged: its header claims shape (1000000000000, 5)",
    ),
    (
        "huge.mtx",
        b"%%MatrixMarket matrix coordinate real general\n1000000000000 5 2\n1 1 1.0\n2 2 2.0\n",
        "its header claims 1000000000000 rows, whose CSR row pointers alone would take "
        "8000000000008 bytes, more than the",
    ),
    (
        "dense.mtx",
        b"%%MatrixMarket matrix array real general\n1000000000000 5\n1.0\n2.0\n",
        "the file is damaged: its header claims a 1000000000000 x 5 matrix with "
        "5000000000000 entries, more than its 65 bytes can hold",
    ),
    (
        "entries.mtx",
        b"%%MatrixMarket matrix coordinate real general\n10 5 1000000000000\n1 1 1.0\n",
        "the file is damaged: its header claims a 10 x 5 matrix with 1000000000000 entries",
    ),
]


@pytest.mark.parametrize("name, content, message", _DAMAGED, ids=[case[0] for case in _DAMAGED])
def test_a_damaged_file_is_one_line_naming_it(
    tmp_path, monkeypatch, capsys, name, content, message
):
    (tmp_path / name).write_bytes(content)
    status, out, err = _main(tmp_path, monkeypatch, capsys, f"leverage {name}")
    _one_error_line(status, out, err, f"randla: error: cannot read A from {name}: {message}")


def test_a_damaged_file_fails_the_command(tmp_path):
    name, content, message = _DAMAGED[4]
    (tmp_path / name).write_bytes(content)
    result = _run(tmp_path, f"lstsq {name} {name}")
    _one_error_line(result.returncode, result.stdout, result.stderr, message)


def test_a_matrix_market_file_cut_short_is_one_line(tmp_path):
    # Cut in the middle of a number, with no final newline: scipy's reader
    # crashed the process (SIGSEGV) on it.
    (tmp_path / "cut.mtx").write_bytes(
        b"%%MatrixMarket matrix coordinate real general\n4 3 3\n1 1 1.5\n2 2 2.5e"
    )
    result = _run(tmp_path, "leverage cut.mtx")
    _one_error_line(
        result.returncode,
        result.stdout,
        result.stderr,
        "cannot read A from cut.mtx: Truncated file. Expected another 1 lines.",
    )


@pytest.mark.parametrize(
    "name, content",
    [
        ("A.npz", _npz(_npy(_claim((10**8, 5)), bytes(16)))),
        ("A.mtx", b"%%MatrixMarket matrix array real general\n100000000 5\n1.0\n2.0\n"),
    ],
    ids=["npz", "mtx"],
)
def test_a_damaged_header_reserves_nothing_for_its_claim(
    tmp_path, monkeypatch, capsys, name, content
):
    # 10^8 x 5 doubles are 4 GB, which the allocator would hand out lazily:
    # tracemalloc (which numpy informs) sees the reservation all the same.
    (tmp_path / name).write_bytes(content)
    tracemalloc.start()
    try:
        status = _main(tmp_path, monkeypatch, capsys, f"leverage {name}")[0]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert status == 1
    assert peak < 50e6


# --- Ctrl-C ------------------------------------------------------------------


def test_ctrl_c_is_one_line_and_status_130(tmp_path, problem, monkeypatch, capsys):
    def interrupted(A, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("randla._leverage.leverage_scores", interrupted)
    status, out, err = _main(tmp_path, monkeypatch, capsys, "leverage A.npy -o s.npz")
    assert (status, out, err) == (130, "", "randla: interrupted\n")
    assert sorted(_contents(tmp_path)) == ["A.npy", "b.npy"]


def test_sigint_stops_a_running_command(tmp_path):
    # The command reads A from a pipe that this test holds open: once the pipe
    # opens, the job is running, and it waits for the rest of the matrix.
    os.mkfifo(tmp_path / "A.csv")
    process = subprocess.Popen(
        [sys.executable, "-m", "randla", "leverage", "A.csv"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Python raises KeyboardInterrupt only if SIGINT was not ignored when it started.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    with open(tmp_path / "A.csv", "w") as pipe:
        pipe.write("1,2\n3,")
        pipe.flush()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    assert (process.returncode, out, err) == (130, "", "randla: interrupted\n")


def test_a_closed_standard_output_stops_quietly(tmp_path, problem):
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody reads what the command prints, as in `randla ... | head -0`
    try:
        result = subprocess.run(
            [sys.executable, "-m", "randla", "leverage", "A.npy", "--json"],
            cwd=tmp_path,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (141, "")


# --- failures of the computation -------------------------------------------


def _raising(exc):
    def f(*args, **kwargs):
        raise exc

    return f


def _linprog_refusing(*args, **kwargs):
    # A ValueError that scipy raises, not a check of randla's.
    scipy.optimize.linprog(np.ones((2, 2)))


@pytest.mark.parametrize(
    "command, name, solver, message",
    [
        (
            "lstsq A.npy b.npy -o x.npz",
            "randla._lstsq.lstsq",
            _raising(np.linalg.LinAlgError("SVD did not converge in Linear Least Squares")),
            "LinAlgError: SVD did not converge in Linear Least Squares",
        ),
        (
            "lp-regress A.npy b.npy --p 1.5 -o x.npz",
            "randla._lp_regression.lp_regression",
            _raising(RuntimeError("LAPACK returned info = -7")),
            "RuntimeError: LAPACK returned info = -7",
        ),
        (
            "lp-regress A.npy b.npy --p 1 -o x.npz",
            "randla._lp_regression.lp_regression",
            _linprog_refusing,
            "ValueError: Invalid input for linprog: c must be a 1-D array",
        ),
    ],
)
def test_a_failure_inside_the_computation_is_an_internal_error(
    tmp_path, problem, monkeypatch, capsys, command, name, solver, message
):
    monkeypatch.setattr(name, solver)  # where the job imports it from
    status, out, err = _main(tmp_path, monkeypatch, capsys, command)
    assert (status, out) == (70, "")
    assert err.startswith(f"randla: internal error: {message}") and err.count("\n") == 1, err
    assert re.search(r" \(raised at randla/\w+\.py:\d+\); please report it\n$", err), err
    assert sorted(_contents(tmp_path)) == ["A.npy", "b.npy"]


def test_a_check_of_randla_is_an_input_error(tmp_path, problem, monkeypatch, capsys):
    status, out, err = _main(tmp_path, monkeypatch, capsys, "lp-regress A.npy b.npy --p 0.5")
    _one_error_line(status, out, err, "randla: error: p must be >= 1")


# --- numbers in the JSON summary -----------------------------------------


def test_a_number_json_cannot_hold_is_a_string(tmp_path, problem, monkeypatch, capsys):
    np.save(tmp_path / "zero.npy", np.zeros((200, 3)))
    status, out, _ = _main(tmp_path, monkeypatch, capsys, "lstsq zero.npy b.npy --json")
    summary = json.loads(out)
    assert status == 0 and summary["rank"] == 0
    assert summary["cond"] == "inf"  # the condition number of rank 0

    def not_finite(A, b, p, **kwargs):
        return dataclasses.replace(randla.lp_regression(A, b, p), objective=math.inf, gap=math.nan)

    monkeypatch.setattr("randla._lp_regression.lp_regression", not_finite)
    status, out, _ = _main(tmp_path, monkeypatch, capsys, "lp-regress A.npy b.npy --p 1 --json")
    summary = json.loads(out)
    assert (summary["objective"], summary["gap"]) == ("inf", "nan")


@pytest.mark.parametrize("scale", [1e300, 1e-170])
def test_huge_and_tiny_numbers_round_trip(tmp_path, problem, monkeypatch, capsys, scale):
    A, b = problem
    np.save(tmp_path / "b.npy", scale * b)
    _, out, _ = _main(tmp_path, monkeypatch, capsys, "lstsq A.npy b.npy --json")
    residual_norm = json.loads(out)["residual_norm"]
    # Every digit survives the JSON: the same number as in Python...
    assert residual_norm == randla.lstsq(A, scale * b).residual_norm
    # ...which is the residual norm of the unscaled problem, scaled.
    reference = math.sqrt(np.linalg.lstsq(A, b, rcond=None)[1][0])
    assert residual_norm == pytest.approx(scale * reference, rel=1e-10)
    _, out, _ = _main(tmp_path, monkeypatch, capsys, "lp-regress A.npy b.npy --p 1.5 --json")
    objective = json.loads(out)["objective"]
    assert objective == randla.lp_regression(A, scale * b, 1.5).objective
    reference = randla.lp_regression(A, b, 1.5).objective
    assert objective == pytest.approx(scale * reference, rel=1e-9)
