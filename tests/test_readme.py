"""The promises of README.md: its commands are the ones CI runs."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _bash_blocks(text):
    return re.findall(r"```bash\n(.*?)```", text, re.DOTALL)


def test_ci_runs_the_readme_test_command_exactly():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [c.strip() for c in _bash_blocks(readme) if "pytest" in c]
    assert len(commands) == 1, "README.md must show one test command"
    assert commands[0] in ci


def test_readme_installs_and_runs_the_demo():
    readme = (ROOT / "README.md").read_text()
    assert any(c.strip() == "pip install . && randla demo" for c in _bash_blocks(readme))
