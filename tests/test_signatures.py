"""The descriptions of the public API agree: the pure twin's signatures (what the API reference
documents and type checkers see: the stub ``_core.pyi`` is the twin's) and the compiled core."""

from __future__ import annotations

import ast
import inspect
import os
from typing import Any

import pytest
from conftest import IMPLEMENTATIONS

import framekit._pure as pure
from framekit import _kinds

STUB = os.path.join(os.path.dirname(pure.__file__), "_core.pyi")
CLASSES = list(_kinds.CLASSES)  # every public class of both builds (the registry's)


def _twin_params(fn: Any) -> list[tuple[str, str, bool]]:
    sig = inspect.signature(fn)
    return [
        (p.name, p.kind.name, p.default is not inspect.Parameter.empty)
        for p in list(sig.parameters.values())[1:]
    ]


def _public(cls: type) -> set[str]:
    return {m for m in dir(cls) if not m.startswith("_") and m not in dir(object)}


def test_the_stub_is_the_twins_api() -> None:
    """The stub declares nothing of its own, so it cannot drift from the twin: it imports the
    twin's API, and every public class is in it."""
    with open(STUB) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # its docstring
        assert isinstance(node, ast.ImportFrom) and node.level == 1
        assert node.module in ("_pure", "_protocol_decoders")
    assert set(CLASSES) <= set(pure.__all__)


@pytest.mark.skipif("cython" not in IMPLEMENTATIONS, reason="the compiled core is not under test")
@pytest.mark.parametrize("name", CLASSES)
def test_core_takes_the_same_keywords(name: str) -> None:
    """The core refuses positionally what the twin makes keyword-only, and has every method."""
    core = IMPLEMENTATIONS["cython"]
    cls = getattr(core, name)
    assert _public(cls) == _public(getattr(pure, name)), name
    params = _twin_params(getattr(pure, name).__init__)
    required = [p for p in params if p[1] == "POSITIONAL_OR_KEYWORD" and not p[2]]
    known: dict[str, list[Any]] = {
        "FixedLengthDecoder": [4], "DelimiterDecoder": [b"\n"], "DelimiterEncoder": [b"\n"],
        "Slab": [[("a", "B")], 4], "RuleDecoder": [len],
    }  # fmt: skip
    args = known.get(name, [])
    assert len(args) == len(required)
    positional = [p for p in params if p[1] == "POSITIONAL_OR_KEYWORD"]
    extra = len(positional) - len(args)
    filler: dict[str, list[Any]] = {
        "LengthFieldDecoder": [2],
        "LengthFieldEncoder": [2],
        "BufferPool": [(64,)],
    }
    cls(*args, *filler.get(name, [])[:extra])  # every positional parameter, positionally
    if any(p[1] == "KEYWORD_ONLY" for p in params):
        with pytest.raises(TypeError):
            cls(*args, *filler.get(name, [])[:extra], 0)  # one more is refused


@pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))
@pytest.mark.parametrize("name", CLASSES)
def test_signature_and_help_show_the_constructor(impl: str, name: str) -> None:
    """inspect.signature() and help() show every public class's constructor parameters, on the
    compiled core as on the pure build."""
    import pydoc

    cls = getattr(IMPLEMENTATIONS[impl], name)
    expected = inspect.signature(getattr(pure, name))
    assert inspect.signature(cls) == expected
    text = pydoc.render_doc(cls)
    assert all(p in text for p in expected.parameters)

    if not cls.__flags__ & (1 << 10):  # Py_TPFLAGS_BASETYPE: the core's pools are final
        return

    class Mine(cls):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, extra: int = 0, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)

    assert "extra" in inspect.signature(Mine).parameters  # a subclass has its own


REPRS = [
    ("LengthFieldDecoder", (), {}, "LengthFieldDecoder()"),
    (
        "LengthFieldDecoder",
        (2,),
        {"max_frame_length": 100, "byteorder": "little"},
        "LengthFieldDecoder(length_field_length=2, byteorder='little', max_frame_length=100)",
    ),
    ("VarintLengthDecoder", (), {"copy": True}, "VarintLengthDecoder(copy=True)"),
    ("FixedLengthDecoder", (3,), {}, "FixedLengthDecoder(3)"),
    ("DelimiterDecoder", (bytearray(b";"),), {}, "DelimiterDecoder(b';')"),
    ("DelimiterDecoder", ([b"\r\n", b"\n"],), {}, "DelimiterDecoder((b'\\r\\n', b'\\n'))"),
    ("LineDecoder", (), {"strip_delimiter": False}, "LineDecoder(strip_delimiter=False)"),
    ("DelimiterEncoder", (b"\n",), {"check": False}, "DelimiterEncoder(b'\\n', check=False)"),
    ("LengthFieldEncoder", (2,), {}, "LengthFieldEncoder(length_field_length=2)"),
    ("VarintLengthEncoder", (), {}, "VarintLengthEncoder()"),
]


@pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))
@pytest.mark.parametrize(("name", "args", "kwargs", "shown"), REPRS)
def test_repr_shows_the_configuration(
    impl: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], shown: str
) -> None:
    """repr() is the call that makes the same object: the arguments that differ from their
    defaults (the required ones always)."""
    fk = IMPLEMENTATIONS[impl]
    obj = getattr(fk, name)(*args, **kwargs)
    assert repr(obj) == shown
    again = eval(shown, {name: getattr(fk, name)})  # our own repr, in a test
    assert repr(again) == shown
