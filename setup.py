"""Cythonizes framekit/_core.pyx at build time; everything else lives in pyproject.toml."""
import os

from Cython.Build import cythonize
from setuptools import Extension, setup

extra_compile_args = ["-O3"] if os.name != "nt" else []

setup(
    ext_modules=cythonize(
        [Extension("framekit._core", ["framekit/_core.pyx"], extra_compile_args=extra_compile_args)],
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "embedsignature": True,
        },
    ),
)
