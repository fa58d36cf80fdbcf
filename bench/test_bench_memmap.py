"""Out of core: an 8 GB .npy file, memory-mapped, beside loading it (issue 8).

A is 2*10^7 x 50 float64 (8 GB), written block by block to a .npy file in a
temporary directory (by a child process, so that this one stays small). Each
job runs in a fresh process and reports its own peak resident set size,
``VmHWM`` of ``/proc/self/status``: ``ru_maxrss`` would not do, Linux carries
it across fork and exec from the parent. The time is the whole process
(interpreter start, about 1 s, included).
``randla`` opens the file with ``np.load(path, mmap_mode="r")``; the
reference loads it into memory with ``np.load(path)`` and runs the same
randla call. The file stays in the page cache between jobs, so the jobs read
memory, not disk. The target: peak RSS under 2 GB for the memory-mapped jobs.

Two more jobs run on the memory-mapped file only (issue 16): the command
``randla sample FILE -k 20000 --p 1.5 -o OUT.npz`` (through
``randla.cli.main`` in the child, as ``python -m randla`` runs it), and, as
its reference, one read of the file: a sum of the memory-mapped array block
by block (4 MB blocks, as randla's passes read it); three rounds each.
The target: the command within 4 times one read.
"""

import json
import os
import subprocess
import sys

import pytest

# Under CI (CI=true) n shrinks a thousandfold: CI only checks that the benchmarks run.
SCALE = 1000 if os.environ.get("CI") == "true" else 1
N, D = 20_000_000 // SCALE, 50

JOBS = {
    "leverage": "randla.leverage_scores(A, rng=0)",
    "sketch": "randla.sketch(A, 2000, kind='sparse_sign', rng=0)",
    "leverage sample": "randla.leverage_sample(A, 20_000, rng=0).apply(A)",
    "sensitivity sample p=1.5": "randla.sensitivity_sample(A, 20_000, p=1.5, rng=0).apply(A)",
}

# Jobs on the memory-mapped file only: tool -> job (the group is CLI_GROUP).
_BLOCK_ROWS = (4 << 20) // (8 * D)
CLI_JOBS = {
    "one read of the file": f"""
total = 0.0
for i in range(0, len(A), {_BLOCK_ROWS}):
    total += float(A[i : i + {_BLOCK_ROWS}].sum())
""",
    "randla": """
from randla.cli import main
assert main(["sample", sys.argv[1], "-k", "20000", "--p", "1.5", "--quiet", "-o", sys.argv[3]]) == 0
""",
}
CLI_GROUP = f"randla sample -k 20000 --p 1.5 {N}x{D} .npy"

_CHILD = """
import json, sys, time
import numpy as np
import randla
t0 = time.perf_counter()
A = np.load(sys.argv[1], mmap_mode=None if sys.argv[2] == "load" else "r")
{job}
seconds = time.perf_counter() - t0
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({{"seconds": seconds, "peak_rss_mb": int(status["VmHWM"].split()[0]) / 1024}}))
"""

_WRITE = """
import sys
import numpy as np
n, d = int(sys.argv[2]), int(sys.argv[3])
A = np.lib.format.open_memmap(sys.argv[1], mode="w+", dtype=np.float64, shape=(n, d))
rng = np.random.default_rng(0)
for i in range(0, n, 500_000):
    A[i : i + 500_000] = rng.standard_normal((min(500_000, n - i), d))
A.flush()
"""


@pytest.fixture(scope="module")
def path(tmp_path_factory):
    path = tmp_path_factory.mktemp("memmap") / "A.npy"
    subprocess.run([sys.executable, "-c", _WRITE, str(path), str(N), str(D)], check=True)
    return path


def _run(path, mode, job):
    out_path = path.with_name("sample.npz")
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(job=job), str(path), mode, str(out_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.parametrize("job", list(JOBS))
@pytest.mark.parametrize("mode", ["memmap", "load"])
def test_out_of_core(bench, path, mode, job):
    tool = "randla" if mode == "memmap" else "np.load + randla"
    report = bench(tool, f"{job} {N}x{D} .npy", _run, path, mode, JOBS[job], heavy="once")
    _record(bench, path, report)


@pytest.mark.parametrize("tool", list(CLI_JOBS))
def test_cli_sample(bench, path, tool):
    # Three rounds: a read of a file that the other jobs may have pushed
    # partly out of the page cache is slower the first time.
    report = bench(tool, CLI_GROUP, _run, path, "memmap", CLI_JOBS[tool], heavy=True)
    _record(bench, path, report)


def _record(bench, path, report):
    bench.extra(
        peak_rss_mb=round(report["peak_rss_mb"]), file_mb=round(path.stat().st_size / 2**20)
    )
