"""The promises of README.md: its commands are the ones CI runs, its example prints what it says."""

import contextlib
import io
import pathlib
import re

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _blocks(language):
    return [b.strip() for b in re.findall(rf"```{language}\n(.*?)```", README, re.DOTALL)]


FAST = 'python -m pytest -m "not slow"'


def _test_commands():
    return [c for c in _blocks("bash") if "pytest" in c]


def test_ci_runs_the_readme_test_command_exactly():
    full = [c for c in _test_commands() if c != FAST]
    assert len(full) == 1, "README.md must show one full test command"
    assert full[0] in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_shows_a_fast_subset():
    assert FAST in _test_commands()
    # pytest knows the marker (an unknown one is only a warning, and selects nothing).
    assert re.search(r'^\s*"slow: ', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)


def test_readme_installs_and_runs_the_demo():
    assert "pip install . && randla demo" in _blocks("bash")


def test_the_example_prints_what_its_comments_say():
    (example,) = _blocks("python")
    out = io.StringIO()
    namespace = {}
    with contextlib.redirect_stdout(out):
        exec(example, namespace)
    printed = out.getvalue().splitlines()
    assert len(printed) == 4, printed
    assert namespace["SA"].shape == (200, 20)
    assert np.isclose(namespace["tau"].sum(), 20)
    assert 0.08 < float(printed[0]) < 0.14  # "about 0.11"
    assert namespace["s"].scores == "coarse leverage" and namespace["s"].k == 7000
    assert printed[1].startswith("LstsqResult(method='precondition', ")
    assert len(set(namespace["S"])) == 5
    # "about 0.37: below 1/2, stable", the bound the docs call stable.
    assert round(float(printed[2]), 2) == 0.37
    assert namespace["fit"].gram_error <= 0.5
    assert round(float(printed[3].strip("[]")), 2) == 0.98  # "f_hat(0) about 0.98"
