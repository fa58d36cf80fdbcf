"""Keeps bench/calibration_experiments.py running: its quick tables, checked for sense."""

import importlib.util
import pathlib
import re


def test_quick_experiments_run():
    path = pathlib.Path(__file__).with_name("calibration_experiments.py")
    spec = importlib.util.spec_from_file_location("calibration_experiments", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = []
    module.main(quick=True, out=lines.append)
    text = "\n".join(lines)
    repeated, snapshots = "Success rate, repeated model", "Success rate, snapshots model"
    for name in (repeated, snapshots, "Error against SNR", "Speed"):
        assert name in text
    # Above the count threshold every noiseless trial succeeds; below it none does.
    ls1 = text.split(repeated)[1].split(snapshots)[0]
    assert re.search(r"^\s+4\s+0\.00\s+1\.00\s+1\.00$", ls1, re.MULTILINE), ls1
