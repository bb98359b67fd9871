"""No leaks: after a warm-up, pushing frames through every decoder (views, copies, pooled,
oversized, corrupt) and the pools leaves memory (tracemalloc and RSS) and the interpreter's
allocated blocks where they were. CI runs a reduced size; ``FRAMEKIT_LEAK_FRAMES=5000000``
runs millions."""

from __future__ import annotations

import gc
import os
import sys
from types import ModuleType
from typing import Any, Callable

import pytest
from helpers import NO_TRACEMALLOC

from framekit._adapters import write_through_buffer

tracemalloc = pytest.importorskip(
    "tracemalloc",
    reason=NO_TRACEMALLOC,
)

FRAMES = int(os.environ.get("FRAMEKIT_LEAK_FRAMES", "60000"))


def _rss() -> int:
    """Resident memory (Linux); 0 elsewhere, where tracemalloc and the allocated blocks are
    the measures (wheels for macOS and Windows are tested there)."""
    if not os.path.exists("/proc/self/statm"):
        return 0
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _no_growth(work: Callable[[], None]) -> None:
    work()  # warm up: caches, pools, interned objects
    gc.collect()
    tracemalloc.start()
    blocks, rss = sys.getallocatedblocks(), _rss()
    traced = tracemalloc.get_traced_memory()[0]
    for _ in range(3):
        work()
    gc.collect()
    traced_growth = tracemalloc.get_traced_memory()[0] - traced
    tracemalloc.stop()
    assert traced_growth < 64 * 1024, f"tracemalloc grew {traced_growth} bytes"
    assert sys.getallocatedblocks() - blocks < 500, "objects leaked"
    assert _rss() - rss < 8 * 1024 * 1024, "RSS grew"


def _stream(fk: ModuleType, mode: str) -> tuple[Callable[[], Any], list[bytes]]:
    if mode == "lines":
        line = b"y" * 30 + b"\r\n"
        return (lambda: fk.LineDecoder()), [line * 2000] * (FRAMES // 2000)
    enc = fk.LengthFieldEncoder(2)
    if mode == "oversized":
        wire = enc.encode_many([b"x" * 20] * 50) + (500).to_bytes(2, "big") + b"z" * 500
        return (lambda: fk.LengthFieldDecoder(2, max_frame_length=100)), [wire] * (FRAMES // 50)
    if mode == "corrupt":
        wire = enc.encode_many([b"c" * 10] * 20) + b"\x00\x00"
        return (lambda: fk.LengthFieldDecoder(2, length_adjustment=-5)), [wire]
    pool = fk.BufferPool((4096, 65536, 262144)) if mode == "pooled" else None
    copy = mode == "copies"
    chunk = enc.encode_many([bytes([i % 256]) * (i % 40) for i in range(1000)])
    make = lambda: fk.LengthFieldDecoder(2, copy=copy, pool=pool)  # noqa: E731
    return make, [chunk] * (FRAMES // 1000)


@pytest.mark.parametrize("mode", ["views", "copies", "pooled", "lines", "oversized", "corrupt"])
def test_decoders_do_not_leak(fk: ModuleType, mode: str) -> None:
    from framekit import FrameError

    make, chunks = _stream(fk, mode)

    def work() -> None:
        repeats = FRAMES // 20 if mode == "corrupt" else 1
        for _ in range(repeats):
            decoder = make()
            try:
                for i, chunk in enumerate(chunks):
                    if i % 2:
                        decoder.feed(chunk)
                    else:
                        write_through_buffer(decoder, chunk)
                    while True:
                        try:
                            for _frame in decoder:
                                pass
                            break
                        except FrameError as exc:
                            if type(exc).__name__ == "CorruptFrameError":
                                raise
                decoder.feed_eof()
            except FrameError:
                pass

    _no_growth(work)


def test_pools_do_not_leak(fk: ModuleType) -> None:
    pool = fk.BufferPool()
    slab = fk.Slab([("a", "Q"), ("b", "8s")], 1024, growable=True)

    def work() -> None:
        for i in range(FRAMES):
            with pool.acquire(i % 70000):
                pass
            handle = slab.alloc(a=i, b=b"leak")
            slab.free(handle)

    _no_growth(work)
