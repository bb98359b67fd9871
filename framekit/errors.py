"""Exceptions shared by the Cython core and the pure-Python twin.

Every decoding error derives from :class:`FrameError` (itself a :class:`ValueError`), so one
``except FrameError`` catches all bad input. Both implementations raise these same classes.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "CorruptFrameError",
    "DoubleFreeError",
    "FrameError",
    "FrameTooLongError",
    "IncompleteFrameError",
    "PoolError",
    "PoolExhaustedError",
    "StaleHandleError",
]


class FrameError(ValueError):
    """Base class of every error about the bytes of a stream."""


class FrameTooLongError(FrameError):
    """A frame is longer than ``max_frame_length``.

    Recoverable: the oversized frame is discarded (its bytes never accumulate) and decoding
    resumes with the next frame. ``frame_length`` is the whole frame's length on the wire when
    it is known (``None`` when it is not known yet).
    """

    def __init__(self, frame_length: Optional[int], max_frame_length: int) -> None:
        self.frame_length = frame_length
        self.max_frame_length = max_frame_length
        if frame_length is None:
            msg = f"frame longer than max_frame_length={max_frame_length}"
        else:
            msg = f"frame of {frame_length} bytes exceeds max_frame_length={max_frame_length}"
        super().__init__(msg)

    def __reduce__(self) -> tuple[type[FrameTooLongError], tuple[Optional[int], int]]:
        return (type(self), (self.frame_length, self.max_frame_length))


class CorruptFrameError(FrameError):
    """The stream cannot be framed any more (an impossible length, an over-long varint).

    Sticky: every later call on the decoder but ``reset()`` raises it again.
    """


class IncompleteFrameError(FrameError):
    """The stream ended inside a frame; ``partial`` holds that frame's bytes received so far."""

    def __init__(self, partial: bytes) -> None:
        self.partial = partial
        n = len(partial)
        super().__init__(f"end of stream inside a frame ({n} byte{'s' * (n != 1)} received)")

    def __reduce__(self) -> tuple[type[IncompleteFrameError], tuple[bytes]]:
        return (type(self), (self.partial,))


class PoolError(RuntimeError):
    """Base class of the memory pools' errors."""


class DoubleFreeError(PoolError):
    """A buffer or record was released (freed) a second time."""


class PoolExhaustedError(PoolError):
    """The pool's limit (``max_in_use_bytes``, or a full non-growable slab) was reached."""


class StaleHandleError(PoolError):
    """A slab handle that was freed, or that belongs to another slab."""
