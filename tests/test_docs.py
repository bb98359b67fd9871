"""Documentation that is generated from the code stays in step with it."""

from __future__ import annotations

import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_presets_page_matches_docstrings() -> None:
    spec = importlib.util.spec_from_file_location("make_presets", f"{ROOT}/docs/make_presets.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with open(f"{ROOT}/docs/presets.md") as f:
        assert f.read() == module.page(), "run: python docs/make_presets.py"
