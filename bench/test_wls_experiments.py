"""Keeps bench/wls_experiments.py running: its quick tables, checked for sense."""

import importlib.util
import pathlib


def test_quick_experiments_run():
    path = pathlib.Path(__file__).with_name("wls_experiments.py")
    spec = importlib.util.spec_from_file_location("wls_experiments", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = []
    module.main(quick=True, out=lines.append)
    text = "\n".join(lines)
    assert "Legendre on [-1, 1], Runge" in text and "Legendre total degree 2 on [-1, 1]^2" in text
    for method in ("iid", "dpp", "volume", "repeated-dpp"):
        assert f"\n  {method} " in text
