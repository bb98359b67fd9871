"""Every test runs against each implementation: the Cython core and the pure-Python twin.

``FRAMEKIT_PURE=1`` restricts the run to the twin. Without it, the compiled core must import when
``FRAMEKIT_REQUIRE_EXTENSION=1`` (CI sets it), so a broken build fails instead of being skipped.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "fuzz", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def _implementations() -> dict[str, ModuleType]:
    found = {"python": importlib.import_module("framekit._pure")}
    if _flag("FRAMEKIT_PURE"):
        return found
    try:
        found["cython"] = importlib.import_module("framekit._core")
    except ImportError:
        if _flag("FRAMEKIT_REQUIRE_EXTENSION"):
            raise
    return found


IMPLEMENTATIONS = _implementations()


def pytest_report_header() -> str:
    import framekit

    return (
        f"framekit {framekit.__file__} ({framekit.implementation}); "
        f"implementations under test: {', '.join(IMPLEMENTATIONS)}"
    )


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def fk(request: pytest.FixtureRequest) -> ModuleType:
    """The module of one implementation (``framekit._core`` or ``framekit._pure``)."""
    return IMPLEMENTATIONS[request.param]
