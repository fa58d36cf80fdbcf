"""randla: randomized numerical linear algebra by sampling.

Every public name lives here; ``randla.dpp`` and ``randla.bases`` are the two
public namespaces below it. The implementation modules start with an
underscore (``randla._sketch``, ``randla._lstsq``, ...): import from
``randla``, not from them.
"""

import importlib

from ._version import __version__

# Public name -> the internal module that defines it. Imported on first use
# (PEP 562), so that `import randla` and `randla --help` cost no more than
# Python itself; the numerical modules load when a function is first asked
# for, and the name is then an ordinary attribute.
_HOME = {
    "CalibrationResult": "_calibration",
    "DeconvolutionResult": "_calibration",
    "OVERSAMPLING": "_coarse",
    "blind_deconvolve": "_calibration",
    "self_calibrate": "_calibration",
    "lp_distortion": "_distortion",
    "subspace_distortion": "_distortion",
    "leverage_scores": "_leverage",
    "orthonormal_basis": "_leverage",
    "ridge_leverage_scores": "_leverage",
    "root_leverage_scores": "_leverage",
    "lewis_residual": "_lewis",
    "lewis_weights": "_lewis",
    "lp_sensitivities": "_lewis",
    "total_sensitivity": "_lewis",
    "LpRegressionResult": "_lp_regression",
    "lp_regression": "_lp_regression",
    "LstsqResult": "_lstsq",
    "lstsq": "_lstsq",
    "RowSample": "_sampling",
    "augmented_sample": "_sampling",
    "hybrid_sample": "_sampling",
    "leverage_sample": "_sampling",
    "lewis_sample": "_sampling",
    "root_leverage_sample": "_sampling",
    "sample_rows": "_sampling",
    "sensitivity_sample": "_sampling",
    "uniform_sample": "_sampling",
    "volume_lstsq": "_sampling",
    "volume_sample": "_sampling",
    "SketchDistribution": "_sketch",
    "SketchOperator": "_sketch",
    "sketch": "_sketch",
    "sketch_size": "_sketch",
    "ConvergenceWarning": "_validation",
    "RandlaWarning": "_validation",
    "RankWarning": "_validation",
    "PointSample": "_wls",
    "WLSResult": "_wls",
    "dpp_wls": "_wls",
    "fit_wls": "_wls",
    "optimal_sample": "_wls",
    "projection_dpp_sample": "_wls",
    "repeated_dpp_sample": "_wls",
    "volume_rescaled_sample": "_wls",
}
_NAMESPACES = ("bases", "dpp", "cli")


def __getattr__(name):
    if name in _NAMESPACES:
        return importlib.import_module(f"{__name__}.{name}")
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "__version__",
    "bases",
    "dpp",
    "RandlaWarning",
    "ConvergenceWarning",
    "RankWarning",
    # sketching
    "SketchDistribution",
    "SketchOperator",
    "sketch",
    "sketch_size",
    # leverage scores
    "leverage_scores",
    "ridge_leverage_scores",
    "root_leverage_scores",
    "orthonormal_basis",
    # l_p importance scores
    "lewis_weights",
    "lewis_residual",
    "lp_sensitivities",
    "total_sensitivity",
    # row sampling
    "RowSample",
    "OVERSAMPLING",
    "sample_rows",
    "leverage_sample",
    "uniform_sample",
    "sensitivity_sample",
    "root_leverage_sample",
    "lewis_sample",
    "hybrid_sample",
    "augmented_sample",
    "volume_sample",
    "subspace_distortion",
    "lp_distortion",
    # least squares
    "LstsqResult",
    "lstsq",
    "volume_lstsq",
    "LpRegressionResult",
    "lp_regression",
    # weighted least squares
    "PointSample",
    "optimal_sample",
    "projection_dpp_sample",
    "volume_rescaled_sample",
    "repeated_dpp_sample",
    "WLSResult",
    "fit_wls",
    "dpp_wls",
    # self-calibration
    "CalibrationResult",
    "self_calibrate",
    "DeconvolutionResult",
    "blind_deconvolve",
]
