"""framekit: split byte streams into frames, zero-copy and fast.

The Cython core (``framekit._core``) is used when it is built; ``framekit._pure`` is its
pure-Python twin with the same API. ``framekit.implementation`` says which one is in use.

Environment switches:

- ``FRAMEKIT_PURE=1`` uses the pure-Python twin even when the extension is built.
- ``FRAMEKIT_REQUIRE_EXTENSION=1`` makes ``import framekit`` fail when the extension cannot be
  imported, so that a broken build never passes unnoticed as the fallback.
"""

from __future__ import annotations

import os
import sysconfig
import warnings
from types import ModuleType
from typing import TYPE_CHECKING

from . import _kinds
from ._contract import BytesLike, Decoder, Encoder, Frame, PoolStats, SlabRecord
from ._protocols import ProxyHeader, ProxyProtocolDecoder
from .errors import (
    CorruptFrameError,
    DoubleFreeError,
    FrameError,
    FrameTooLongError,
    IncompleteFrameError,
    PoolError,
    PoolExhaustedError,
    StaleHandleError,
)

__version__ = "0.1.0"


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def _select() -> tuple[ModuleType, str]:
    if sysconfig.get_config_var("Py_GIL_DISABLED") and not _flag("FRAMEKIT_PURE"):
        # the compiled core relies on the GIL (docs/guarantees.md): it is not built here
        warnings.warn(
            "framekit's compiled core does not support free-threaded CPython; the pure-Python "
            "build is used (set FRAMEKIT_PURE=1 to say so and silence this warning)",
            RuntimeWarning,
            stacklevel=3,
        )
    if not _flag("FRAMEKIT_PURE"):
        try:
            from . import _core

            return _core, "cython"
        except ImportError as exc:
            if _flag("FRAMEKIT_REQUIRE_EXTENSION"):
                raise ImportError(
                    "FRAMEKIT_REQUIRE_EXTENSION is set but the compiled core framekit._core "
                    f"cannot be imported: {exc}"
                ) from exc
    from . import _pure

    return _pure, "python"


if TYPE_CHECKING:
    from . import _pure as _impl
    from ._protocol_decoders import *  # noqa: F403  (the protocols' decoders and encoders)

    implementation: str
else:
    _impl, implementation = _select()
    # the protocols' decoders and encoders, by the names the registry gives them
    globals().update({name: getattr(_impl, name) for name in _kinds.PROTOCOL_CLASSES})

BufferPool = _impl.BufferPool
DelimiterDecoder = _impl.DelimiterDecoder
DelimiterEncoder = _impl.DelimiterEncoder
FixedLengthDecoder = _impl.FixedLengthDecoder
LengthFieldDecoder = _impl.LengthFieldDecoder
LengthFieldEncoder = _impl.LengthFieldEncoder
LineDecoder = _impl.LineDecoder
PooledBuffer = _impl.PooledBuffer
RuleDecoder = _impl.RuleDecoder
Slab = _impl.Slab
VarintLengthDecoder = _impl.VarintLengthDecoder
VarintLengthEncoder = _impl.VarintLengthEncoder
WebSocketFrame = _impl.WebSocketFrame
shared_pool = _impl.shared_pool

__all__ = [
    "BufferPool",
    "BytesLike",
    "CorruptFrameError",
    "Decoder",
    "DelimiterDecoder",
    "DelimiterEncoder",
    "DoubleFreeError",
    "Encoder",
    "FixedLengthDecoder",
    "Frame",
    "FrameError",
    "FrameTooLongError",
    "IncompleteFrameError",
    "LengthFieldDecoder",
    "LengthFieldEncoder",
    "LineDecoder",
    "PoolError",
    "PoolExhaustedError",
    "PoolStats",
    "PooledBuffer",
    "ProxyHeader",
    "ProxyProtocolDecoder",
    "RuleDecoder",
    "Slab",
    "SlabRecord",
    "StaleHandleError",
    "VarintLengthDecoder",
    "VarintLengthEncoder",
    "WebSocketFrame",
    "implementation",
    "shared_pool",
    *_kinds.PROTOCOL_CLASSES,
]
