"""The three descriptions of the public API agree: the pure twin's signatures (what the API
reference documents), the stub ``_core.pyi`` (what type checkers see) and the compiled core."""

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


def _stub_methods() -> dict[str, dict[str, ast.FunctionDef]]:
    with open(STUB) as f:
        tree = ast.parse(f.read())
    found: dict[str, dict[str, ast.FunctionDef]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            methods = {n.name: n for n in node.body if isinstance(n, ast.FunctionDef)}
            for base in node.bases:  # inherited methods
                if isinstance(base, ast.Name):
                    methods = {**found.get(base.id, {}), **methods}
            found[node.name] = methods
    return found


def _stub_params(fn: ast.FunctionDef) -> list[tuple[str, str, bool]]:
    a = fn.args
    out = []
    positional = a.posonlyargs + a.args
    defaults = [False] * (len(positional) - len(a.defaults)) + [True] * len(a.defaults)
    for arg, has_default in zip(positional, defaults):
        kind = "POSITIONAL_ONLY" if arg in a.posonlyargs else "POSITIONAL_OR_KEYWORD"
        out.append((arg.arg, kind, has_default))
    if a.vararg:
        out.append((a.vararg.arg, "VAR_POSITIONAL", False))
    for arg, default in zip(a.kwonlyargs, a.kw_defaults):
        out.append((arg.arg, "KEYWORD_ONLY", default is not None))
    if a.kwarg:
        out.append((a.kwarg.arg, "VAR_KEYWORD", False))
    return out[1:]  # without self


def _twin_params(fn: Any) -> list[tuple[str, str, bool]]:
    sig = inspect.signature(fn)
    return [
        (p.name, p.kind.name, p.default is not inspect.Parameter.empty)
        for p in list(sig.parameters.values())[1:]
    ]


STUBS = _stub_methods()


@pytest.mark.parametrize("name", CLASSES)
def test_twin_and_stub_agree(name: str) -> None:
    cls = getattr(pure, name)
    stub = STUBS[name]
    public = {m for m in stub if not m.startswith("_") or m == "__init__"}
    for method in sorted(public):
        member = inspect.getattr_static(cls, method, None)
        assert member is not None, f"{name}.{method} is in the stub, not in the twin"
        if isinstance(member, property):
            continue
        assert _twin_params(getattr(cls, method)) == _stub_params(stub[method]), f"{name}.{method}"
    twin_public = {m for m in dir(cls) if not m.startswith("_") and m not in dir(object)}
    assert twin_public <= set(stub), f"public in the twin, missing from the stub: {name}"


@pytest.mark.skipif("cython" not in IMPLEMENTATIONS, reason="the compiled core is not under test")
@pytest.mark.parametrize("name", CLASSES)
def test_core_takes_the_same_keywords(name: str) -> None:
    """The core refuses positionally what the twin makes keyword-only, and has every method."""
    core = IMPLEMENTATIONS["cython"]
    cls = getattr(core, name)
    for method in STUBS[name]:
        if not method.startswith("_"):
            assert hasattr(cls, method), f"{name}.{method}"
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
