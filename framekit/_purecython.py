"""What Cython's pure-Python mode means when framekit's engine runs as plain Python.

``framekit/_engine.py`` and ``framekit/_protocol_decoders.py`` are each one source for both
builds: ``_core.pyx`` includes them, and Cython reads their decorators and annotations
(``cython.cfunc``, ``cython.Py_ssize_t``...) as C declarations; the pure twin imports them, and
these names then do nothing. Only what those files use is here. Cython itself is not needed at
run time.
"""

from __future__ import annotations

import builtins
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

#: Compiled by Cython? (Cython reads ``cython.compiled`` as True and drops what it guards.)
compiled = False

#: C types, as the Python types that stand for them.
Py_ssize_t = builtins.int
bint = builtins.bool
int = builtins.int


def cfunc(func: F) -> F:
    """A C function when compiled; here, the function itself."""
    return func


def inline(func: F) -> F:
    """Inlined when compiled; here, the function itself."""
    return func


def exceptval(value: object = None, *, check: bool = True) -> Callable[[F], F]:
    """How a compiled C function reports an exception; here, nothing."""
    return cfunc


def cclass(cls: T) -> T:
    """An extension type when compiled; here, the class itself."""
    return cls


def annotation_typing(on: builtins.bool) -> Callable[[F], F]:
    """Whether a compiled function's annotations are C types; here, nothing."""
    return cfunc


def declare(ctype: object, value: T) -> T:
    """A typed module variable when compiled; here, the value."""
    return value
