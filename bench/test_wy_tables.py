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
    for family in ("WY-1", "WY-2", "WY-3", "WY-6"):
        assert family in text
    assert "Lewis" in text and "hybrid" in text and "augmented" in text
