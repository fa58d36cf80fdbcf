"""randla: randomized numerical linear algebra by sampling.

The public API is re-exported here; see the modules for the implementations.
Note that ``randla.sketch`` is the function :func:`randla.sketch.sketch`;
import the operator classes with ``from randla.sketch import ...`` or use
their top-level names.
"""

from ._version import __version__
from .sketch import SketchDistribution, SketchOperator, sketch, sketch_size

__all__ = [
    "__version__",
    "SketchDistribution",
    "SketchOperator",
    "sketch",
    "sketch_size",
]
