"""Build randla's C extension; everything else is in pyproject.toml."""
import numpy as np
from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "randla._csketch",
            sources=["csrc/_csketch.c", "csrc/fwht.c", "csrc/sparse_sign.c"],
            depends=["csrc/kernels.h", "csrc/hash.h"],
            include_dirs=["csrc", np.get_include()],
            define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            # -O3 lets gcc vectorise the butterfly and scatter loops; no
            # -march=native, so a built wheel runs on any x86-64 / aarch64.
            extra_compile_args=["-O3", "-std=c99"],
        )
    ]
)
