"""scikit-learn estimators built on randla's functions.

``from randla.sklearn import LpRegressor`` and use it as any scikit-learn
estimator: in a ``Pipeline``, under ``GridSearchCV``, with ``clone`` and
``pickle``. Nothing else in randla imports this package: the functions in
:mod:`randla` stay NumPy-style and do not need scikit-learn's machinery.
"""

import importlib

# Public name -> the module of this package that defines it, imported on
# first use (PEP 562) like randla's own names.
_HOME = {
    "LpRegressor": "_linear",
    "QuantileRegressor": "_linear",
    "SampledEstimator": "_sampled",
    "Nystroem": "_nystroem",
}

__all__ = sorted(_HOME)


def __getattr__(name):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
