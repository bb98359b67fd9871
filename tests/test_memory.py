"""Bounded memory (SPEC §2, invariant 3): a decoder never holds more than max_frame_length plus
one read, whatever a header claims; an oversized frame is discarded as it arrives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import pytest
from helpers import NO_TRACEMALLOC

from framekit import FrameTooLongError

tracemalloc = pytest.importorskip(
    "tracemalloc",
    reason=NO_TRACEMALLOC,
)

MiB = 1 << 20


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    result: list[int] = []
    tracemalloc.start()
    try:
        yield result
    finally:
        result.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


@pytest.mark.parametrize("fail_fast", [True, False])
def test_huge_claim_allocates_nothing_large(fk: ModuleType, fail_fast: bool) -> None:
    dec = fk.LengthFieldDecoder(4, max_frame_length=MiB, fail_fast=fail_fast)
    with peak_memory() as peak:
        dec.feed((2**31).to_bytes(4, "big") + b"x" * 100)
        if fail_fast:
            with pytest.raises(FrameTooLongError):
                dec.next_frame()
        else:
            assert dec.next_frame() is None
        buf = dec.get_buffer(-1)
        buf[:10] = b"y" * 10
        dec.buffer_updated(10)
    assert peak[0] < 512 * 1024
    assert dec.buffered == 0


@pytest.mark.parametrize("fail_fast", [True, False])
@pytest.mark.parametrize("via", ["feed", "mutable", "recv"])
def test_oversized_trickle_is_discarded(fk: ModuleType, fail_fast: bool, via: str) -> None:
    size = 8 * MiB
    dec = fk.LengthFieldDecoder(4, max_frame_length=MiB, fail_fast=fail_fast)
    piece = b"z" * 4096
    errors = 0
    with peak_memory() as peak:
        chunks = [size.to_bytes(4, "big")] + [piece] * (size // len(piece)) + [b"\0\0\0\1k"]
        frames: list[bytes] = []
        for chunk in chunks:
            if via == "recv":
                buf = dec.get_buffer(len(chunk))
                buf[: len(chunk)] = chunk
                dec.buffer_updated(len(chunk))
            else:
                dec.feed(bytearray(chunk) if via == "mutable" else chunk)
            try:
                frames.extend(bytes(f) for f in dec)
            except FrameTooLongError:
                errors += 1
                frames.extend(bytes(f) for f in dec)
            assert dec.buffered <= len(chunk)
    assert errors == 1
    assert frames == [b"k"]
    assert peak[0] < 512 * 1024


def test_varint_huge_claim(fk: ModuleType) -> None:
    dec = fk.VarintLengthDecoder(max_frame_length=MiB)
    with peak_memory() as peak, pytest.raises(FrameTooLongError):
        dec.decode(b"\xff\xff\xff\xff\x0f" + b"x" * 1000)
    assert peak[0] < 256 * 1024


def test_legit_large_frame_is_not_preallocated_past_its_length(fk: ModuleType) -> None:
    size = 4 * MiB
    dec = fk.LengthFieldDecoder(4, max_frame_length=size + 4)
    with peak_memory() as peak:
        dec.feed(size.to_bytes(4, "big") + b"a" * 1000)
        assert dec.next_frame() is None
    # holds what arrived (and may reserve room for the declared, checked frame), no more
    assert peak[0] < size + 2 * MiB
