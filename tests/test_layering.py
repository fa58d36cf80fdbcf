"""The import layering of DESIGN.md, checked: no module imports one above it."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "randla"

# DESIGN.md's order, bottom first; a module may import only from lower layers.
# Modules whose names start with "_" are internal; `dpp`, `bases` and `cli`
# are the public modules (``randla.dpp`` re-exports ``_dpp``; ``randla.sklearn``
# is a subpackage, one layer, whose files import each other freely). A new
# module must be placed here.
LAYERS = [
    {"_version", "_blocks", "_kernels", "_csketch"},
    {"_validation"},
    {"_sketch"},
    {"_linalg", "_newton"},
    {"_coarse"},
    {"_leverage", "bases", "_lstsq"},
    {"_lewis", "_dpp"},
    {"_sampling", "_distortion", "dpp", "_nystrom"},
    {"_lp_regression", "_wls", "_calibration"},
    {"sklearn"},
    {"_cli_io"},
    {"_demo"},
    {"cli"},
    {"__init__", "__main__"},
]
LEVEL = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def _depth(path):
    """0 for randla/x.py, 1 for randla/sub/x.py: how many packages below randla."""
    try:
        return len(path.relative_to(PACKAGE).parts) - 1
    except ValueError:  # a file outside the package, as in the checks' own tests
        return 0


def _randla_imports(path):
    """Names of the randla modules (top-level modules or subpackages) a source file imports."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    depth = _depth(path)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if 0 < node.level <= depth:  # from .x import y inside a subpackage: itself
                found.add(path.relative_to(PACKAGE).parts[0])
            elif node.level == depth + 1:  # from .x import y / from . import x
                if node.module:
                    found.add(node.module.split(".")[0])
                else:
                    found.update(alias.name for alias in node.names)
            elif node.level == 0 and node.module and node.module.split(".")[0] == "randla":
                parts = node.module.split(".")
                found.add(parts[1] if len(parts) > 1 else "__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "randla":
                    found.add(parts[1] if len(parts) > 1 else "__init__")
    return found


def _private_imports(path):
    """(module, name) for every private name a source file imports from a randla module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level >= 1 and node.module:
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append((node.module, alias.name))
    return found


def _modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _name(path):
    rel = path.relative_to(PACKAGE).with_suffix("")
    return rel.parts[0]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_lower_layers(path):
    name = _name(path)
    assert name in LEVEL, (
        f"randla/{name} is not placed in the layers of DESIGN.md (tests/test_layering.py)"
    )
    for imported in _randla_imports(path):
        if imported == name:
            continue  # inside a subpackage
        assert imported in LEVEL, f"{name} imports unknown module {imported}"
        assert LEVEL[imported] < LEVEL[name], (
            f"randla/{name} (layer {LEVEL[name]}) imports randla.{imported} "
            f"(layer {LEVEL[imported]}): a module never imports one above or beside it"
        )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_name_crosses_a_module(path):
    """What two modules share lives in an internal module, under a name without "_"."""
    assert not _private_imports(path), (
        f"randla/{_name(path)} imports private names {_private_imports(path)}: move what is "
        "shared into an internal module (name starting with '_') and drop the underscore"
    )


def test_no_public_name_shadows_a_module():
    """``import randla.x as m`` binds the module x, never a function named x."""
    import randla

    for path in _modules():
        name = _name(path)
        if not name.startswith("_"):
            assert isinstance(getattr(randla, name, None), (type(randla), type(None))), name


def test_the_private_check_detects_a_crossing(tmp_path):
    bad = tmp_path / "_sampling.py"
    bad.write_text("from ._leverage import _basis, leverage_scores\nfrom . import _kernels\n")
    assert _private_imports(bad) == [("_leverage", "_basis")]


def test_the_check_detects_an_upward_import(tmp_path):
    bad = tmp_path / "sketch.py"
    bad.write_text("from .lstsq import lstsq\nimport randla.cli\nfrom . import leverage\n")
    assert _randla_imports(bad) == {"lstsq", "cli", "leverage"}


def test_the_package_exports_every_name_and_imports_nothing_heavy():
    """``import randla`` is cheap (names load on first use) and ``__all__`` resolves."""
    import subprocess
    import sys

    code = (
        "import sys, randla; "
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy', 'numba')]; "
        "print(len(heavy)); "
        "missing = [n for n in randla.__all__ + ['cli'] if getattr(randla, n, None) is None]; "
        "print(missing); print(sorted(set(randla.__all__) - set(dir(randla))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:3] == ["0", "[]", "[]"], out.stdout
