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
from typing import TYPE_CHECKING

from ._common import BytesLike, Decoder, Frame
from .errors import CorruptFrameError, FrameError, FrameTooLongError, IncompleteFrameError

__version__ = "0.1.0"

if TYPE_CHECKING:
    from ._pure import (
        DelimiterDecoder,
        DelimiterEncoder,
        FixedLengthDecoder,
        LengthFieldDecoder,
        LengthFieldEncoder,
        LineDecoder,
        VarintLengthDecoder,
        VarintLengthEncoder,
    )

    implementation: str
elif os.environ.get("FRAMEKIT_PURE", "") not in ("", "0"):
    from ._pure import (
        DelimiterDecoder,
        DelimiterEncoder,
        FixedLengthDecoder,
        LengthFieldDecoder,
        LengthFieldEncoder,
        LineDecoder,
        VarintLengthDecoder,
        VarintLengthEncoder,
    )

    implementation = "python"
else:
    try:
        from ._core import (
            DelimiterDecoder,
            DelimiterEncoder,
            FixedLengthDecoder,
            LengthFieldDecoder,
            LengthFieldEncoder,
            LineDecoder,
            VarintLengthDecoder,
            VarintLengthEncoder,
        )

        implementation = "cython"
    except ImportError as exc:
        if os.environ.get("FRAMEKIT_REQUIRE_EXTENSION", "") not in ("", "0"):
            raise ImportError(
                "FRAMEKIT_REQUIRE_EXTENSION is set but the compiled core framekit._core "
                f"cannot be imported: {exc}"
            ) from exc
        from ._pure import (
            DelimiterDecoder,
            DelimiterEncoder,
            FixedLengthDecoder,
            LengthFieldDecoder,
            LengthFieldEncoder,
            LineDecoder,
            VarintLengthDecoder,
            VarintLengthEncoder,
        )

        implementation = "python"

__all__ = [
    "BytesLike",
    "CorruptFrameError",
    "Decoder",
    "DelimiterDecoder",
    "DelimiterEncoder",
    "FixedLengthDecoder",
    "Frame",
    "FrameError",
    "FrameTooLongError",
    "IncompleteFrameError",
    "LengthFieldDecoder",
    "LengthFieldEncoder",
    "LineDecoder",
    "VarintLengthDecoder",
    "VarintLengthEncoder",
    "implementation",
]
