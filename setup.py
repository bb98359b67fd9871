"""Cythonizes framekit/_core.pyx at build time; everything else lives in pyproject.toml.

The extension is not built where the pure-Python twin is the implementation: on PyPy, on 32-bit
platforms (the core needs a 64-bit Py_ssize_t) and on free-threaded CPython (the core relies on
the GIL; docs/guarantees.md). framekit/_compat.h refuses the last two at compile time as well.
FRAMEKIT_SANITIZE=1 builds it with AddressSanitizer and UndefinedBehaviorSanitizer.
"""

import os
import platform
import struct
import sysconfig

from setuptools import Extension, setup

compile_args = ["-O3"] if os.name != "nt" else []
link_args = []
options = {}
if os.environ.get("FRAMEKIT_SANITIZE", "") not in ("", "0"):
    # AddressSanitizer and UndefinedBehaviorSanitizer, every finding fatal (scripts/sanitize.sh);
    # built apart and always recompiled, so no uninstrumented object is reused
    sanitize = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"]
    compile_args = [*sanitize, "-O1", "-g", "-fno-omit-frame-pointer"]
    link_args = sanitize
    options = {"build": {"build_base": "build/sanitize"}, "build_ext": {"force": True}}

ext_modules = []
if (
    platform.python_implementation() == "CPython"
    and struct.calcsize("P") == 8
    and not sysconfig.get_config_var("Py_GIL_DISABLED")
):
    from Cython.Build import cythonize

    ext_modules = cythonize(
        [
            Extension(
                "framekit._core",
                ["framekit/_core.pyx"],
                include_dirs=["framekit"],
                depends=[
                    "framekit/_compat.h",
                    "framekit/_memory.h",
                    "framekit/_pools.pxi",
                    "framekit/_slab.pxi",
                    "framekit/_engine.py",
                    "framekit/_protocol_decoders.py",
                ],
                extra_compile_args=compile_args,
                extra_link_args=link_args,
            )
        ],
        language_level=3,
        compiler_directives={"embedsignature": True, "embedsignature.format": "python"},
    )

setup(ext_modules=ext_modules, options=options)
