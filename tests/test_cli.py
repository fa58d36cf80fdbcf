"""The `randla` command, run for real in a subprocess."""

import re
import subprocess
import sys

import pytest

import randla


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "randla", *args], capture_output=True, text=True, timeout=600
    )


def test_version():
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"randla {randla.__version__}"


@pytest.fixture(scope="module")
def quick_demo():
    result = _run("demo", "--quick")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_demo_quick_reports_every_sketch_kind(quick_demo):
    for kind in ("countsketch", "sparse_sign", "srht", "gaussian"):
        rows = re.findall(rf"^\s+{kind}\s+(\d+\.\d+)\s+[\d.]+ ms$", quick_demo, re.MULTILINE)
        assert len(rows) == 2, quick_demo  # digits and the synthetic matrix
        # At k = 4d the distortion of every kind is well below 1.
        assert all(float(r) < 0.9 for r in rows), quick_demo


def test_demo_quick_reports_leverage_and_least_squares(quick_demo):
    out = quick_demo
    exact = re.search(r"exact scores .* max relative difference (\S+)", out)
    assert exact and float(exact.group(1)) < 1e-10, out
    sample = re.search(r"sample: leverage (\S+), uniform (\S+)", out)
    assert sample and float(sample.group(1)) < 0.5 < float(sample.group(2)), out
    solve = re.search(r"lstsq .* relative difference (\S+)", out)
    assert solve and float(solve.group(1)) < 1e-6, out


def test_demo_quick_reports_dpps(quick_demo):
    out = quick_demo
    spread = re.search(r"nearest-neighbour distance (\S+) \(DPP\) vs (\S+) \(uniform\)", out)
    assert spread and float(spread.group(1)) > float(spread.group(2)), out  # repulsion
    assert re.search(r"projection DPP, N = 20000, r = 100: \S+ ms, 100 items", out), out
    mean = re.search(r"the mean of 2000 \(unbiased\) (\S+)", out)
    assert mean and float(mean.group(1)) < 0.03, out


def test_demo_quick_reports_calibration_and_wls(quick_demo):
    out = quick_demo
    errors = re.search(r"relative error of the gains (\S+), of the scene (\S+)", out)
    assert errors and float(errors.group(1)) < 1e-2 and float(errors.group(2)) < 1e-2, out
    ratios = re.search(r"n = 20: iid (\S+), dpp (\S+)", out)
    assert ratios and float(ratios.group(2)) < 10 < float(ratios.group(1)), out


def test_no_command_prints_help_and_fails():
    result = _run()
    assert result.returncode == 2
    assert "demo" in result.stdout


def test_unknown_command_is_one_clear_error():
    result = _run("demmo")
    assert result.returncode == 2
    assert "invalid choice: 'demmo'" in result.stderr
    assert "Traceback" not in result.stderr
