"""randla: randomized numerical linear algebra by sampling.

Every public name lives here; ``randla.dpp`` and ``randla.bases`` are the two
public namespaces below it. The implementation modules start with an
underscore (``randla._sketch``, ``randla._lstsq``, ...): import from
``randla``, not from them.
"""

from . import bases, dpp
from ._calibration import (
    CalibrationResult,
    DeconvolutionResult,
    blind_deconvolve,
    self_calibrate,
)
from ._distortion import lp_distortion, subspace_distortion
from ._leverage import (
    leverage_scores,
    orthonormal_basis,
    ridge_leverage_scores,
    root_leverage_scores,
)
from ._lewis import lewis_residual, lewis_weights, lp_sensitivities, total_sensitivity
from ._lp_regression import LpRegressionResult, lp_regression
from ._lstsq import LstsqResult, lstsq
from ._sampling import (
    RowSample,
    augmented_sample,
    hybrid_sample,
    leverage_sample,
    lewis_sample,
    root_leverage_sample,
    sample_rows,
    sensitivity_sample,
    uniform_sample,
    volume_lstsq,
    volume_sample,
)
from ._sketch import SketchDistribution, SketchOperator, sketch, sketch_size
from ._validation import ConvergenceWarning, RandlaWarning, RankWarning
from ._version import __version__
from ._wls import (
    PointSample,
    WLSResult,
    dpp_wls,
    fit_wls,
    optimal_sample,
    projection_dpp_sample,
    repeated_dpp_sample,
    volume_rescaled_sample,
)

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
