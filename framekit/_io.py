"""What the I/O adapters share: turning payloads into the buffers that go on the wire."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._common import BytesLike

#: A payload this large is sent from its own buffer after a separate header, never copied.
LARGE_PAYLOAD = 16 * 1024


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
