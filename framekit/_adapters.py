"""What the I/O adapters share: turning payloads into the buffers that go on the wire."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from itertools import islice
from typing import Any, Optional

from . import _pure
from ._contract import BytesLike, Frame, check_max_frames
from .errors import FrameError

#: A payload this large is sent from its own buffer after a separate header, never copied.
LARGE_PAYLOAD = 16 * 1024
#: Streams that send one buffer per call get encoded frames smaller than this joined up to it.
COALESCE_SIZE = 65536


def gather(encoder: Any, payloads: Iterable[BytesLike]) -> list[BytesLike]:
    """The buffers that put ``payloads`` on the wire through ``encoder``, in order: runs of
    small payloads encoded into one contiguous buffer, large ones behind their own header.
    Every payload is checked before anything is returned, so a refused one sends nothing."""
    if encoder is None:
        raise ValueError(
            "sending frames needs an encoder, and none was given: pass encoder= (a server: "
            "encoder_factory=), such as framekit.LengthFieldEncoder(), a preset's encoder, or "
            "any object with encode(payload) and encode_many(payloads) (framekit.Encoder); "
            "raw bytes go out with write()"
        )
    if not callable(getattr(encoder, "encode_many", None)):
        raise TypeError(
            f"{type(encoder).__name__} is not an encoder: it needs encode(payload) and "
            "encode_many(payloads) returning bytes (see framekit.Encoder)"
        )
    header = getattr(encoder, "encode_header", None)
    out: list[BytesLike] = []
    small: list[BytesLike] = []
    for payload in payloads:
        view = memoryview(payload)
        if header is not None and view.nbytes >= LARGE_PAYLOAD and view.c_contiguous:
            if small:
                out.append(encoder.encode_many(small))
                small = []
            out.append(header(view.nbytes))
            out.append(view.cast("B") if view.format != "B" or view.ndim != 1 else view)
        else:
            small.append(payload)
    if small:
        out.append(encoder.encode_many(small))
    return out


def write_through_buffer(decoder: Any, data: BytesLike, sizehint: int = -1) -> None:
    """Put ``data`` into ``decoder`` the way ``recv_into`` would: written into the regions
    ``get_buffer(sizehint)`` hands out (``len(data)`` when ``sizehint`` is -1)."""
    view = memoryview(data).cast("B")
    while view:
        buf = decoder.get_buffer(len(view) if sizehint == -1 else sizehint)
        n = min(len(buf), len(view))
        buf[:n] = view[:n]
        decoder.buffer_updated(n)
        view = view[n:]


def coalesced(encoder: Any, payloads: Iterable[BytesLike]) -> list[BytesLike]:
    """gather()'s buffers for a stream that sends one buffer per call (trio, anyio): small ones
    joined, up to COALESCE_SIZE each; large payloads as they are."""
    out: list[BytesLike] = []
    small: list[BytesLike] = []
    size = 0
    for buffer in gather(encoder, payloads):
        length = memoryview(buffer).nbytes
        if length >= COALESCE_SIZE:
            if small:
                out.append(b"".join(small))
                small, size = [], 0
            out.append(buffer)
            continue
        small.append(buffer)
        size += length
        if size >= COALESCE_SIZE:
            out.append(b"".join(small))
            small, size = [], 0
    if small:
        out.append(b"".join(small))
    return out


def adopt_pool(decoder: Any, pool: Any) -> None:
    """Give a decoder that keeps its storage in no pool the adapter's ``pool``, by default the
    process's shared one (SPEC §9: receive memory then follows the connections with bytes in
    flight). A decoder with a pool of its own keeps it; one of the user's own making, without
    a ``pool`` attribute, is left as it is."""
    if getattr(decoder, "pool", False) is not None:
        return
    if pool is None:
        for module in (sys.modules.get("framekit._core"), _pure):
            if module is not None and isinstance(decoder, module._FrameDecoder):
                pool = module.shared_pool()
                break
        else:
            return
    decoder.pool = pool


def hand_over(old: Any, new: Any, eof: bool, pool: Any) -> Optional[FrameError]:
    """Switch decoders mid-stream: ``new`` gets the adapter's ``pool`` (``adopt_pool``), what
    ``old`` held after the last frame it returned (``detach()``), and the end of stream if it
    came; the error that end causes, if any, is returned (it comes after the frames ``new``
    holds)."""
    adopt_pool(new, pool)
    rest = old.detach()
    if rest:
        new.feed(rest)
    if eof:
        try:
            new.feed_eof()
        except FrameError as exc:
            return exc
    return None


def ready_frames(decoder: Any, most: Optional[int]) -> tuple[list[Frame], Optional[FrameError]]:
    """Every frame ``decoder`` has ready (at most ``most``), taken in one C-level loop, and the
    error met after at least one of them (for the next call to raise; one met first is raised)."""
    frames: list[Frame] = []
    try:
        frames.extend(decoder if most is None else islice(decoder, most))
    except FrameError as exc:
        if not frames:
            raise
        return frames, exc
    return frames, None


class BatchReceiver:
    """``receive_many()`` for the trio and anyio channels: the frames ready in ``decoder``, one
    receive of bytes (``_receive_some``) when none is; an error comes from the call after the
    one that returns the frames before it."""

    decoder: Any
    _pool: Any = None
    _eof = False
    _pending: Optional[FrameError] = None

    async def receive_many(self, max_frames: Optional[int] = None) -> list[Frame]:
        """Every frame ready now (at most ``max_frames``): at least one, receiving when none
        is; ``[]`` at a clean end of stream. A ``FrameError`` for bad input is raised by the
        call after the one that returns the frames before it."""
        if max_frames is not None:
            max_frames = check_max_frames(max_frames)
        if self._pending is not None:
            error, self._pending = self._pending, None
            raise error
        while True:
            frames = self._ready(max_frames)
            if frames or self._eof:
                return frames
            await self._receive_some()

    async def _receive_some(self) -> None:
        """Receive bytes into the decoder, or call ``_end()`` at the end of stream."""
        raise NotImplementedError

    def _end(self) -> None:
        self._eof = True
        self.decoder.feed_eof()  # raises what the end cuts short, unless frames come first

    def set_decoder(self, decoder: Any) -> None:
        """Frame the rest of the stream with ``decoder``: from the byte after the last frame
        received (bytes already received included). Switch after ``receive()``: a
        ``receive_many()`` takes every frame ready, and so reads on with the old decoder."""
        error = hand_over(self.decoder, decoder, self._eof, self._pool)
        self.decoder = decoder
        if error is not None and self._pending is None:
            self._pending = error

    def _ready(self, most: Optional[int]) -> list[Frame]:
        frames, error = ready_frames(self.decoder, most)
        if error is not None:
            self._pending = error
        return frames
