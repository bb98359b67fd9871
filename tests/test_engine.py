"""The engine's decisions are written once (SPEC §7): framekit/_engine.py, which the compiled core
includes and the pure twin imports. These tests keep them from being written twice again; what
they decide is tested through the decoders of both builds everywhere else."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from framekit import _engine, _pure, _purecython

FRAMEKIT = Path(_engine.__file__).parent


def engine_functions() -> list[str]:
    tree = ast.parse(Path(_engine.__file__).read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]


def test_the_engine_holds_the_decisions() -> None:
    names = engine_functions()
    decisions = ["drop_ahead", "too_long", "oversized", "end_discarding", "end_of_stream"]
    decisions += ["end_of_stream_error", "starve", "region_written", "record_read", "grown"]
    decisions += ["cut_next", "not_a_frame", "take", "complete_frame", "region_size"]
    decisions += ["settle_delimited", "rule_answered", "reset_state", "decode_all"]
    assert set(decisions) <= set(names)


@pytest.mark.parametrize("source", ["_core.pyx", "_pools.pxi", "_slab.pxi", "_pure.py"])
def test_no_build_writes_an_engine_decision_again(source: str) -> None:
    """Neither build defines a function or method of an engine function's name (with or without
    a leading underscore): a second copy is what the engine replaced."""
    text = (FRAMEKIT / source).read_text()
    for name in engine_functions():
        again = re.search(rf"^[ \t]*(?:c?p?def|cdef inline)\b[^(=\n]*\b_?{name}\(", text, re.M)
        assert again is None, f"{source} defines {again.group(0).strip()!r} again"


def test_the_core_includes_the_engine() -> None:
    text = (FRAMEKIT / "_core.pyx").read_text()
    assert re.search(r'^include "_engine\.py"$', text, re.MULTILINE)


def test_the_twin_runs_the_engine_itself() -> None:
    """The twin calls the engine's functions, not copies of them."""
    for name in engine_functions():
        if hasattr(_pure, name):
            assert getattr(_pure, name) is getattr(_engine, name), name
    assert vars(_pure)["take"] is _engine.take  # (feed())


def test_plain_python_reads_the_cython_declarations_as_nothing() -> None:
    """Without Cython, the decorators and types the engine is declared with change nothing."""

    def f(x: int) -> int:
        return x

    assert _purecython.cfunc(f) is f
    assert _purecython.inline(f) is f
    assert _purecython.exceptval(-1)(f) is f
    assert _purecython.exceptval(check=False)(f) is f
    assert _purecython.declare(_purecython.Py_ssize_t, 7) == 7
    assert _purecython.compiled is False
    assert vars(_engine)["cython"] is _purecython
    assert inspect.isfunction(_engine.drop_ahead)
