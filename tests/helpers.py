"""Drive a decoder over a split stream and record what comes out, in order."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Callable

from framekit import CorruptFrameError, FrameError
from framekit._adapters import write_through_buffer
from framekit.testing import Event, describe, drain, finish, frames_and_errors, split


def run_feed(
    dec: Any, chunks: Sequence[bytes], *, mutable: bool = False, iterate: bool = False
) -> list[Event]:
    return frames_and_errors(dec, chunks, mutable=mutable, iterate=iterate)


def run_recv(
    dec: Any, chunks: Sequence[bytes], sizehints: Sequence[int] = (-1,), *, iterate: bool = False
) -> list[Event]:
    """Each chunk written through get_buffer()/buffer_updated(), as recv_into would, with the
    size hints taken in turn."""
    out: list[Event] = []
    hint = 0
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            try:
                buf = dec.get_buffer(sizehints[hint % len(sizehints)])
            except CorruptFrameError as err:
                out.append(describe(err))
                return out
            hint += 1
            n = min(len(buf), len(view))
            buf[:n] = view[:n]
            dec.buffer_updated(n)
            view = view[n:]
        if not drain(dec, out, iterate=iterate):
            return out
    return finish(dec, out)


def run_lazy(
    dec: Any, chunks: Sequence[bytes], takes: Sequence[bool], *, recv: bool = False
) -> list[Event]:
    """Frames taken only after the chunks that ``takes`` marks, in turn; after the others,
    they wait while more is fed (fed whole, or written through get_buffer)."""
    out: list[Event] = []
    for i, chunk in enumerate(chunks):
        try:
            if recv:
                write_through_buffer(dec, chunk)
            else:
                dec.feed(chunk)
        except CorruptFrameError as err:
            out.append(describe(err))
            return out
        if takes[i % len(takes)] and not drain(dec, out):
            return out
    return finish(dec, out)


def run_decode(dec: Any, chunks: Sequence[bytes]) -> list[Event]:
    """decode() per chunk: an error after k >= 1 frames comes from the next call."""
    out: list[Event] = []
    for chunk in [*chunks, b""]:
        data = chunk
        while True:
            try:
                frames = dec.decode(data)
            except FrameError as err:
                out.append(describe(err))
                if isinstance(err, CorruptFrameError):
                    return out
                data = b""
                continue
            out.extend(bytes(f) for f in frames)
            if not frames:
                break
            data = b""
    return finish(dec, out)


def varint(value: int) -> bytes:
    """The test's own LEB128 encoder (an oracle independent of framekit's)."""
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def run_bytewise(dec: Any, data: bytes) -> list[Event]:
    return run_feed(dec, [data[i : i + 1] for i in range(len(data))])


def random_chunks(data: bytes, rng: random.Random, max_piece: int = 64) -> list[bytes]:
    cuts = []
    pos = 0
    while pos < len(data):
        pos += rng.randint(1, max_piece)
        cuts.append(pos)
    return split(data, cuts)


Factory = Callable[[], Any]


NO_TRACEMALLOC = "PyPy has no tracemalloc; CPython checks these bounds on the same pure code"
