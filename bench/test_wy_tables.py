"""Keeps bench/wy_tables.py running: its quick tables, checked for sense."""

import importlib.util
import pathlib


def test_quick_tables_run():
    path = pathlib.Path(__file__).with_name("wy_tables.py")
    spec = importlib.util.spec_from_file_location("wy_tables", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    lines = []
    module.main(quick=True, out=lines.append)
    text = "\n".join(lines)
    for title in ("Gaussian rows", "Coherent rows", "Student-t(1.5) rows", "Total l_p sensitivity"):
        assert title in text
    assert "Lewis" in text and "hybrid" in text and "augmented" in text
