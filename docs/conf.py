"""Sphinx configuration for randla's documentation."""

import importlib.util
import pathlib
import shutil

import randla

HERE = pathlib.Path(__file__).parent

# autosummary rewrites the pages of the names it finds but never deletes the
# page of a name that left the API (a renamed module), and a stale page fails
# the build under -W: generate them afresh.
shutil.rmtree(HERE / "generated", ignore_errors=True)

project = "randla"
author = "randla developers"
copyright = "2026, randla developers"
release = version = randla.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Documentation builds run offline: no intersphinx, no link checks.

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    # The execution-times page loads jQuery and DataTables from CDNs.
    "write_computation_times": False,
}

# The pages must read offline: MathJax is served from _static, not a CDN. The
# sphinx-mathjax-offline package (docs extra) ships MathJax 3.2.2 (Apache-2.0)
# in its static/mathjax folder; html_static_path copies that folder to
# _build/html/_static/mathjax. Only the files are used, not the extension.
_mathjax = importlib.util.find_spec("sphinx-mathjax-offline")
if _mathjax is None:
    raise RuntimeError(
        "the docs need the MathJax files of sphinx-mathjax-offline: pip install -e '.[docs]'"
    )
html_static_path = ["_static", str(pathlib.Path(_mathjax.origin).parent / "static")]
mathjax_path = "mathjax/tex-chtml.js"
html_css_files = ["randla.css"]

html_theme = "pydata_sphinx_theme"
html_title = f"randla {version}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    # An API page's "On this page" lists only the page's own name: drop that
    # sidebar there, so signatures and examples get its width.
    "secondary_sidebar_items": {
        "*": ["page-toc", "sourcelink"],
        "auto_examples/*": ["page-toc", "sourcelink"],
        "generated/*": [],
    },
}
exclude_patterns = ["_build"]


def _skip_scikit_learn_members(app, what, name, obj, skip, options):
    """Leave out the methods randla.sklearn's estimators take from scikit-learn.

    ``set_fit_request``, ``score`` and the like are scikit-learn's, documented
    there; their docstrings refer to scikit-learn's glossary, which these
    pages do not have.
    """
    if (getattr(obj, "__module__", None) or "").startswith("sklearn."):
        return True
    return None


def setup(app):
    app.connect("autodoc-skip-member", _skip_scikit_learn_members)
