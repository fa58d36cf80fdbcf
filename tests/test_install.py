"""The README's first ten minutes, end to end: a fresh venv, the README's commands, an import.

``pip install . && randla demo`` once let numba write its cache into
``site-packages/randla/__pycache__``; the ``pip install -e ".[test,dask]"``
that followed left that folder behind, and ``import randla`` from another
directory found it (a namespace package with nothing in it) instead of the
editable checkout. This test replays the README in that order, in a plain
venv (no system site-packages: everything comes from the package index, and
pip's cache makes that fast) on a clone of the repository's committed HEAD.
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _readme_commands():
    """README's install-and-demo command and its full test command."""
    text = (ROOT / "README.md").read_text()
    commands = [c.strip() for c in re.findall(r"```bash\n(.*?)```", text, re.DOTALL)]
    demo = [c for c in commands if c.endswith("randla demo")]
    full_tests = [c for c in commands if c.startswith("pip install -e") and "pytest" in c]
    assert len(demo) == 1 and len(full_tests) == 1, commands
    return demo[0], full_tests[0]


def _run(command, cwd, env):
    """Run a shell command; its output on failure."""
    result = subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=1500
    )
    assert result.returncode == 0, f"{command}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.mark.slow
def test_the_readme_commands_in_a_fresh_venv(tmp_path):
    install_and_demo, install_and_test = _readme_commands()
    clone, venv = tmp_path / "randla", tmp_path / "venv"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP")
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}",
        VIRTUAL_ENV=str(venv),
        # numba's cache (in the user's cache directory) stays in tmp_path;
        # pip keeps its own cache, which is what makes the installs fast.
        PIP_CACHE_DIR=env.get("PIP_CACHE_DIR")
        or os.path.join(env.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "pip"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )

    demo = _run(install_and_demo, clone, env)
    (installed,) = (venv / "lib").glob("python3*/site-packages/randla")
    cached = [p.name for p in installed.rglob("*") if p.suffix in (".nbi", ".nbc")]
    assert not cached, f"numba cached kernels inside the installed package: {cached}"

    # The test command's installation; its pytest is the suite this test is in.
    install = install_and_test.split(" && ")[0]
    assert install.startswith("pip install -e "), install_and_test
    _run(install, clone, env)
    assert not installed.exists(), f"{installed} was left behind by {install}"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = _run(
        "python -c 'import randla; print(randla.__file__, randla.__version__, randla.lstsq)'",
        elsewhere,
        env,
    )
    where, version, _ = out.split(maxsplit=2)
    assert where == str(clone / "randla" / "__init__.py")
    assert f'__version__ = "{version}"' in (clone / "randla" / "_version.py").read_text()
    assert re.search(r"^randla demo: \d+ parts in [\d.]+ s, all passed$", demo, re.MULTILINE), demo


def test_every_subpackage_is_installed():
    # pyproject.toml lists the packages by hand: a subpackage left out of the
    # list works in an editable checkout and is missing from `pip install .`
    # (randla.sklearn was, and the demo's last part failed on import).
    import tomllib

    declared = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "randla").rglob("__init__.py")
    }
    assert declared == found
