"""Cythonizes framekit/_core.pyx at build time; everything else lives in pyproject.toml.

On PyPy the extension is not built: the pure-Python twin is the implementation there.
"""

import os
import platform

from setuptools import Extension, setup

ext_modules = []
if platform.python_implementation() == "CPython":
    from Cython.Build import cythonize

    ext_modules = cythonize(
        [
            Extension(
                "framekit._core",
                ["framekit/_core.pyx"],
                extra_compile_args=["-O3"] if os.name != "nt" else [],
            )
        ],
        language_level=3,
        compiler_directives={"embedsignature": True},
    )

setup(ext_modules=ext_modules)
