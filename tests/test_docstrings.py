"""Every public docstring is complete numpydoc, and cites its paper.

The public names are those of ``randla.__all__`` (less ``__version__`` and
the modules ``bases`` and ``dpp``) and of ``randla.dpp.__all__``,
``randla.bases.__all__`` and ``randla.sklearn.__all__``. numpydoc's validator must find no parameter
undocumented, unknown or without a description, a Returns section with
descriptions (functions), an Examples section (the doctests run with
``--doctest-modules``), and a docstring at all. A public function cites
its paper in References, or is in ``NO_REFERENCES`` with the reason.
"""

import inspect

import pytest
from numpydoc.docscrape import NumpyDocString
from numpydoc.validate import validate

import randla
import randla.sklearn as randla_sklearn

CODES = {
    "PR01",  # parameter not documented
    "PR02",  # unknown parameter documented
    "PR07",  # parameter without description
    "RT01",  # no Returns section
    "RT03",  # Returns without description
    "EX01",  # no Examples section
    "GL08",  # no docstring
}


# The version, the two namespaces, and a constant (documented in docs/api.rst).
NOT_DOCUMENTED_HERE = ("__version__", "bases", "dpp", "OVERSAMPLING")


def _public():
    """{dotted name for numpydoc: object} for every public function and class."""
    names = {}
    for name in randla.__all__:
        if name in NOT_DOCUMENTED_HERE:
            continue
        obj = getattr(randla, name)
        names[f"randla.{name}"] = obj
    for module in (randla.dpp, randla.bases, randla_sklearn):
        for name in module.__all__:
            names[f"{module.__name__}.{name}"] = getattr(module, name)
    return names


PUBLIC = _public()
FUNCTIONS = sorted(name for name, obj in PUBLIC.items() if inspect.isfunction(obj))

# Public functions without a References section, and why.
NO_REFERENCES = {
    "randla.uniform_sample": "the baseline sampler; no paper",
    "randla.sample_rows": "the sampling primitive: its unbiasedness is proved in its Notes, "
    "and the guarantees belong to the scores (the samplers cite them)",
    "randla.subspace_distortion": "a measurement: the extreme eigenvalues of Q^T S^T S Q",
    "randla.lp_distortion": "our own estimator, a lower bound (spec section 1.6); no paper",
    "randla.fit_wls": "a weighted solve on given points; the samplers and dpp_wls cite "
    "the sampling theory",
    "randla.bases.legendre": "classical orthogonal polynomials",
    "randla.bases.hermite": "classical orthogonal polynomials",
    "randla.bases.chebyshev": "classical orthogonal polynomials",
    "randla.bases.tensor": "tensor products of classical orthogonal polynomials",
    "randla.bases.custom": "a checked wrapper of a user's basis",
}


def test_the_list_is_the_api():
    assert len(PUBLIC) == len(randla.__all__) - len(NOT_DOCUMENTED_HERE) + len(
        randla.dpp.__all__
    ) + len(randla.bases.__all__) + len(randla_sklearn.__all__)
    assert {"randla.sketch", "randla.lstsq"} <= set(FUNCTIONS)
    for name, obj in PUBLIC.items():
        assert inspect.isfunction(obj) or inspect.isclass(obj), name


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_numpydoc_complete(name):
    result = validate(name)
    assert result["type"] in ("function", "type"), f"{name} resolved to a {result['type']}"
    errors = [(code, message) for code, message in result["errors"] if code in CODES]
    assert not errors, f"{name} ({result['file']}:{result['file_line']}):\n" + "\n".join(
        f"  {code}: {message}" for code, message in errors
    )


@pytest.mark.parametrize("name", FUNCTIONS)
def test_references_or_exempt(name):
    doc = NumpyDocString(inspect.getdoc(PUBLIC[name]) or "")
    cited = any(line.strip() for line in doc["References"])
    if name in NO_REFERENCES:
        assert not cited, f"{name} cites references now: drop it from NO_REFERENCES"
    else:
        assert cited, (
            f"{name} has no References section: cite the paper its method or guarantee "
            "comes from, or add it to NO_REFERENCES with the reason"
        )


def test_exemptions_are_public_functions():
    assert set(NO_REFERENCES) <= set(FUNCTIONS), set(NO_REFERENCES) - set(FUNCTIONS)
