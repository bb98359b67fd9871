"""What the benchmark files share: each runs against every implementation that imports (the
twin alone where the core is not built), and streams are fed in 64 KiB chunks."""

from __future__ import annotations

import contextlib
import importlib
from types import ModuleType
from typing import Any

import pytest

CHUNK = 65536
MiB = 1 << 20


def _available() -> dict[str, ModuleType]:
    found = {}
    for name, module in (("cython", "framekit._core"), ("python", "framekit._pure")):
        with contextlib.suppress(ImportError):
            found[name] = importlib.import_module(module)
    return found


IMPLEMENTATIONS = _available()


def implementation_fixture() -> Any:
    """The ``fk`` fixture: the module of one implementation."""

    @pytest.fixture(params=sorted(IMPLEMENTATIONS), name="fk")
    def fixture(request: pytest.FixtureRequest) -> ModuleType:
        return IMPLEMENTATIONS[request.param]

    return fixture
