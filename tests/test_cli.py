"""The `randla` command, run for real in a subprocess: --help, --version and the demo."""

import io
import itertools
import os
import re
import signal
import subprocess
import sys
import textwrap

import pytest

import randla
from randla import _demo, cli

PACKAGE = os.path.dirname(os.path.abspath(randla.__file__))

# What answering --help or --version must not import.
HEAVY = ("numpy", "scipy", "numba", "sklearn", "tqdm")


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "randla", *args], capture_output=True, text=True, timeout=600
    )


def test_version():
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"randla {randla.__version__}"


# Runs randla.cli.main(argv) in a fresh interpreter whose `randla` package is
# an empty stand-in for the real one (same directory, __init__ not run), and
# prints the modules imported by then: what the command itself imports.
_IMPORTS_OF_THE_COMMAND = """
import sys, types

package = types.ModuleType("randla")
package.__path__ = [sys.argv[1]]
sys.modules["randla"] = package
from randla import cli

try:
    cli.main(sys.argv[2:])
except SystemExit:
    pass
print("\\nMODULES", *sorted(sys.modules))
"""


def _imported(*argv):
    result = subprocess.run(
        [sys.executable, "-c", _IMPORTS_OF_THE_COMMAND, PACKAGE, *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, set(result.stdout.rsplit("MODULES", 1)[1].split())


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["demo", "--help"], ["lstsq", "--help"], ["sample", "--help"]],
)
def test_help_and_version_import_no_numerical_module(argv):
    out, modules = _imported(*argv)
    assert "randla" in out  # the answer was printed
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert not heavy, f"randla {' '.join(argv)} imported {heavy}"
    ours = {m for m in modules if m.startswith("randla.")}
    assert ours == {"randla.cli", "randla._version"}, ours


def test_a_job_imports_what_it_needs(tmp_path):
    # The check above can fail: a job run through the same stand-in imports
    # numpy and randla's modules.
    _, modules = _imported("leverage", str(tmp_path / "missing.npy"))
    assert {"numpy", "randla._cli_io", "randla._leverage"} <= modules


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_the_installed_command_imports_no_numerical_module(argv):
    code = textwrap.dedent(f"""
        import sys
        from randla.cli import main
        try:
            main({argv!r})
        except SystemExit:
            pass
        print(*sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r}))
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == ""


def test_the_lstsq_and_scheme_choices_are_the_library_s():
    # The parser spells them out so as not to import the library.
    from randla._lstsq import METHODS
    from randla._sampling import ACCURACIES, SCHEMES

    assert cli._LSTSQ_METHODS == METHODS
    assert cli._SCHEMES == SCHEMES
    assert cli._ACCURACIES == ACCURACIES


# --- the demo ------------------------------------------------------------------

PARTS = [title for title, _ in _demo._PARTS]
SUMMARY = re.compile(rf"^randla demo: {len(PARTS)} parts in (\d+\.\d) s, all passed$")


@pytest.fixture(scope="module")
def demo_run():
    """The standard output of the default demo."""
    result = _run("demo")
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_demo_announces_each_part_and_ends_with_a_summary(demo_run):
    lines = demo_run.splitlines()
    assert lines[0].startswith(f"randla {randla.__version__} demo: {len(PARTS)} parts")
    headers = [line for line in lines if re.match(rf"^\[\d/{len(PARTS)}\] ", line)]
    assert headers == [f"[{i}/{len(PARTS)}] {title}" for i, title in enumerate(PARTS, 1)]
    verdicts = [line for line in lines if re.match(r"^  (passed \d+ checks?|FAILED)", line)]
    assert len(verdicts) == len(PARTS) and all(v.startswith("  passed") for v in verdicts), verdicts
    assert SUMMARY.match(lines[-1]), lines[-1]
    # Each part's verdict comes after its header and before the next one.
    positions = [lines.index(h) for h in headers] + [len(lines) - 1]
    for start, end in itertools.pairwise(positions):
        assert sum(line in verdicts for line in lines[start:end]) == 1


def test_demo_prints_as_it_goes_and_stops_on_ctrl_c():
    # Ctrl-C as soon as the first part is announced. Printed without a flush,
    # into a pipe, nothing would arrive before the demo had finished (summary
    # line included) and exited 0.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    process = subprocess.Popen(
        [sys.executable, "-m", "randla", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line == f"[1/{len(PARTS)}] Sketching\n":
            process.send_signal(signal.SIGINT)
    assert process.wait(timeout=600) == 130
    assert process.stderr.read() == "randla: interrupted\n"
    assert f"[1/{len(PARTS)}] Sketching\n" in lines
    assert not any(line.startswith((f"[2/{len(PARTS)}]", "randla demo:")) for line in lines), lines


@pytest.mark.slow
def test_demo_reports_every_sketch_kind(demo_run):
    out = demo_run
    for kind in ("countsketch", "sparse_sign", "srht", "gaussian"):
        rows = re.findall(rf"^\s+{kind}\s+(\d+\.\d+)\s+[\d.]+ ms$", out, re.MULTILINE)
        assert len(rows) == 2, out  # digits and the synthetic matrix
        # At k = 4d the distortion of every kind is well below 1.
        assert all(float(r) < 0.9 for r in rows), out


@pytest.mark.slow
def test_demo_reports_leverage_and_least_squares(demo_run):
    out = demo_run
    exact = re.search(r"exact scores .* max relative difference (\S+)", out)
    assert exact and float(exact.group(1)) < 1e-10, out
    sample = re.search(
        r"sample: (\d+) rows by coarse scores (\S+) \(uniform (\S+)\), (\d+) rows by exact "
        r"scores (\S+)",
        out,
    )
    assert sample, out
    rows, coarse, uniform, k, exact = (float(g) for g in sample.groups())
    assert rows == 3.5 * k and coarse < 0.5 < uniform and coarse <= exact, out
    assert re.search(r"coarse, to sample .* 98% of rows within \S+ to \S+ of exact", out), out
    solve = re.search(r"lstsq .* relative difference (\S+)", out)
    assert solve and float(solve.group(1)) < 1e-6, out


@pytest.mark.slow
def test_demo_reports_dpps(demo_run):
    out = demo_run
    spread = re.search(r"nearest-neighbour distance (\S+) \(DPP\) vs (\S+) \(uniform\)", out)
    assert spread and float(spread.group(1)) > float(spread.group(2)), out  # repulsion
    assert re.search(r"projection DPP, N = 20000, r = 100: \S+ ms, 100 items", out), out
    mean = re.search(r"the mean of 2000 \(unbiased\) (\S+)", out)
    assert mean and float(mean.group(1)) < 0.03, out


@pytest.mark.slow
def test_demo_reports_calibration_and_wls(demo_run):
    out = demo_run
    errors = re.search(r"relative error of the gains (\S+), of the scene (\S+)", out)
    assert errors and float(errors.group(1)) < 1e-2 and float(errors.group(2)) < 1e-2, out
    ratios = re.search(r"n = 20: iid (\S+), dpp (\S+)", out)
    assert ratios and float(ratios.group(2)) < 10 < float(ratios.group(1)), out


def _passing(full, say):
    say("  all good")
    return [(True, "one is one")]


def _missing(full, say):
    return [(True, "fine"), (False, "distortion below 0.9 (worst 1.700)")]


def _raising(full, say):
    say("  about to fail")
    raise RuntimeError("LAPACK returned info = -7")


def test_a_failing_part_is_reported_and_the_tour_goes_on(monkeypatch):
    parts = (("First", _passing), ("Second", _missing), ("Third", _raising), ("Last", _passing))
    monkeypatch.setattr(_demo, "_PARTS", parts)
    out = io.StringIO()
    assert _demo.demo(out=out) is False
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"randla {randla.__version__} demo: 4 parts")
    assert [line for line in lines if line.startswith("[")] == [
        "[1/4] First",
        "[2/4] Second",
        "[3/4] Third",
        "[4/4] Last",
    ]
    verdicts = [line for line in lines if re.match(r"^  (passed|FAILED)", line)]
    assert re.fullmatch(r"  passed 1 check \(\d+\.\d s\)", verdicts[0])
    assert re.fullmatch(
        r"  FAILED \(\d+\.\d s\): distortion below 0\.9 \(worst 1\.700\)", verdicts[1]
    )
    assert re.fullmatch(
        r"  FAILED \(\d+\.\d s\): RuntimeError: LAPACK returned info = -7 "
        r"\(raised at randla/_demo\.py:\d+\)",  # the innermost frame in randla
        verdicts[2],
    ), verdicts[2]
    assert verdicts[3].startswith("  passed")
    assert re.fullmatch(r"randla demo: 4 parts in \d+\.\d s, FAILED: Second, Third", lines[-1])


def test_a_failed_demo_is_status_70(monkeypatch, capsys):
    monkeypatch.setattr(_demo, "_PARTS", (("Second", _missing),))
    assert cli.main(["demo"]) == 70
    assert capsys.readouterr().out.splitlines()[-1].endswith("FAILED: Second")
    monkeypatch.setattr(_demo, "_PARTS", (("First", _passing),))
    assert cli.main(["demo", "--quick"]) == 0  # the old flag still runs


def test_no_command_prints_help_and_fails():
    result = _run()
    assert result.returncode == 2
    assert "demo" in result.stdout


def test_unknown_command_is_one_clear_error():
    result = _run("demmo")
    assert result.returncode == 2
    assert "invalid choice: 'demmo'" in result.stderr
    assert "Traceback" not in result.stderr
