"""Sphinx configuration: ``sphinx-build -W -b html docs build/docs`` (and ``-b doctest``)."""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import inspect  # noqa: E402
from typing import Any, Optional  # noqa: E402

from make_chart import (  # noqa: E402
    describe_run,
    make_chart,
    make_connections_chart,
    make_connections_table,
    make_table,
)

import framekit  # noqa: E402
import framekit._pure  # noqa: E402

project = "framekit"
author = "framekit developers"
copyright = "2026, framekit developers"
version = release = framekit.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.doctest",
    "sphinx.ext.napoleon",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_generated"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "furo"
html_title = f"framekit {release}"

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "undoc-members": False}

doctest_global_setup = "import framekit"

# The performance page's chart, drawn at build time from a committed `framekit bench --json` run.
BENCH = os.path.join(HERE, "_data", "bench.json")
make_chart(BENCH, os.path.join(HERE, "_generated", "perf.png"))
with open(os.path.join(HERE, "_generated", "perf-table.md"), "w") as _f:
    _f.write(f"Measured with {describe_run(BENCH)}.\n\n{make_table(BENCH)}")
# The many connections page's, from a committed `benchmarks/connections.py --json` run.
CONNECTIONS = os.path.join(HERE, "_data", "connections.json")
make_connections_chart(CONNECTIONS, os.path.join(HERE, "_generated", "connections.png"))
with open(os.path.join(HERE, "_generated", "connections-table.md"), "w") as _f:
    _f.write(make_connections_table(CONNECTIONS))


def _format(sig: inspect.Signature, skip_self: bool) -> tuple[str, Optional[str]]:
    parts, star = [], False
    params = list(sig.parameters.values())[1 if skip_self else 0 :]
    for p in params:
        if p.kind is p.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        if p.kind is p.VAR_POSITIONAL:
            star = True
        stars = "*" if p.kind is p.VAR_POSITIONAL else "**" if p.kind is p.VAR_KEYWORD else ""
        text = stars + p.name
        if p.annotation is not p.empty:
            text += f": {str(p.annotation).replace('C.', '')}"
        if p.default is not p.empty:
            text += f" = {p.default!r}" if p.annotation is not p.empty else f"={p.default!r}"
        parts.append(text)
    ret = sig.return_annotation
    shown = None if ret is sig.empty or ret == "None" else str(ret).replace("C.", "")
    return f"({', '.join(parts)})", shown


def twin_signature(
    app: Any, what: str, name: str, obj: Any, options: Any, signature: Any, ret: Any
) -> Optional[tuple[str, Optional[str]]]:
    """The compiled core's classes carry the docstrings; their signatures come from the pure
    twin, which tests/test_signatures.py holds to the stub ``_core.pyi``."""
    if not name.startswith("framekit.") or what not in ("class", "method"):
        return None
    twin: Any = framekit._pure
    for part in name.split(".")[1:]:
        twin = getattr(twin, part, None)
        if twin is None:
            return None
    try:
        if what == "class":
            if "__init__" not in vars(twin) or not name.startswith("framekit."):
                return "", None  # made by framekit, not by users: no signature to show
            return _format(inspect.signature(twin.__init__), skip_self=True)[0], None
        return _format(inspect.signature(twin), skip_self=True)
    except (TypeError, ValueError):
        return None


def setup(app: Any) -> None:
    app.connect("autodoc-process-signature", twin_signature)
