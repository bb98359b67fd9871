"""Memory that follows the work in flight (SPEC §9): a decoder holding no partial frame gives its
storage back, held frames keep only their own storage alive, and ``get_buffer(-1)`` sizes its
region from recent reads. Both builds, the same sizes (a differential test of the policy)."""

from __future__ import annotations

import gc
import struct
import sys
from types import ModuleType
from typing import Any

import pytest
from helpers import NO_TRACEMALLOC

from framekit import _contract as C

KiB = 1024


def frames_of(*payloads: bytes) -> bytes:
    return b"".join(struct.pack(">I", len(p)) + p for p in payloads)


def receive(dec: Any, data: bytes) -> list[bytes]:
    """``data`` through get_buffer()/buffer_updated(), as recv_into would; the frames it
    completes, copied (so that no view of the storage stays alive)."""
    view = memoryview(data)
    while view:
        region = dec.get_buffer(-1)  # (the adaptive size: write_through_buffer hints len(data))
        n = min(len(region), len(view))
        region[:n] = view[:n]
        del region
        dec.buffer_updated(n)
        view = view[n:]
    return [bytes(frame) for frame in dec]


@pytest.mark.parametrize("via", ["recv", "bytes", "bytearray"])
def test_a_decoder_with_nothing_held_gives_its_storage_back_to_its_pool(
    fk: ModuleType, via: str
) -> None:
    pool = fk.BufferPool()
    dec = fk.LengthFieldDecoder(4, pool=pool)
    wire = frames_of(b"a" * 3000, b"b" * 5) * 20
    half = len(wire) - 3
    if via == "recv":
        assert receive(dec, wire[:half])[-1] == b"a" * 3000
    else:
        dec.feed(wire[:half] if via == "bytes" else bytearray(wire[:half]))
        assert [bytes(f) for f in dec][-1] == b"a" * 3000
    gc.collect()  # (the twin's pooled buffers go back once collected where there is no refcount)
    assert dec.buffered == 5 + 4 - 3
    if via != "bytes":  # (bytes are framed in place: the tail may stay in the fed object)
        assert pool.stats.in_use_bytes > 0, "a partial frame is held in pooled storage"
    rest = receive(dec, wire[half:]) if via == "recv" else None
    if via != "recv":
        dec.feed(wire[half:] if via == "bytes" else bytearray(wire[half:]))
        rest = [bytes(f) for f in dec]
    assert rest == [b"b" * 5]
    gc.collect()
    assert dec.buffered == 0
    assert pool.stats.in_use_bytes == 0, "nothing held: the storage went back to the pool"
    assert receive(dec, frames_of(b"again")) == [b"again"]  # and the decoder goes on


def test_held_frames_keep_only_their_own_storage(fk: ModuleType) -> None:
    pool = fk.BufferPool((1024, 4096, 16384, 65536))
    dec = fk.LengthFieldDecoder(4, pool=pool)
    dec.feed(bytearray(frames_of(b"kept" * 100)))
    kept = dec.next_frame()
    assert dec.next_frame() is None
    held = pool.stats.in_use_bytes
    assert held > 0, "the frame views pooled storage"
    for i in range(50):
        assert receive(dec, frames_of(bytes([i]) * 2000)) == [bytes([i]) * 2000]
        gc.collect()
        assert pool.stats.in_use_bytes == held, "later reads took storage and gave it back"
    assert bytes(kept) == b"kept" * 100
    del kept
    gc.collect()
    assert pool.stats.in_use_bytes == 0


@pytest.mark.parametrize("kind", ["length", "line"])
def test_an_idle_decoder_holds_no_storage_after_a_burst(fk: ModuleType, kind: str) -> None:
    tracemalloc = pytest.importorskip("tracemalloc", reason=NO_TRACEMALLOC)

    def make() -> Any:
        if kind == "length":
            return fk.LengthFieldDecoder(4)
        return fk.LineDecoder()

    payload = b"x" * 1000
    wire = frames_of(*[payload] * 60) if kind == "length" else (payload + b"\r\n") * 60
    decoders = [make() for _ in range(20)]
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for dec in decoders:
            assert receive(dec, wire) == [payload] * 60
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # 60 KB went through each; what stays is small objects, not a read's worth of storage
    assert grown / len(decoders) < 2 * KiB, f"{grown / len(decoders):.0f} bytes per idle decoder"


def read_sizes(dec: Any, reads: list[int]) -> list[int]:
    """The size of each region get_buffer(-1) offers, filled with the next of ``reads`` bytes
    (newlines, so that every read completes its frames and nothing is held)."""
    sizes = []
    for n in reads:
        region = dec.get_buffer(-1)
        sizes.append(len(region))
        n = min(n, len(region))
        region[:n] = b"\n" * n
        del region
        dec.buffer_updated(n)
        assert all(bytes(f) == b"" for f in dec)
    return sizes


def test_get_buffer_sizes_its_region_from_recent_reads(fk: ModuleType) -> None:
    dec = fk.LineDecoder()
    first = read_sizes(dec, [1])[0]
    assert first == C.INITIAL_READ_SIZE
    # reads that fill the region make it grow, up to DEFAULT_READ_SIZE
    grown = read_sizes(dec, [1 << 30] * 6)
    assert grown[0] == C.INITIAL_READ_SIZE
    assert grown == sorted(grown) and grown[1] > grown[0]
    assert grown[-1] == C.DEFAULT_READ_SIZE
    # one small read changes nothing; several in a row make it shrink, down to MIN_READ_SIZE
    assert read_sizes(dec, [5, 5]) == [C.DEFAULT_READ_SIZE] * 2
    shrunk = read_sizes(dec, [5] * 20)
    assert shrunk == sorted(shrunk, reverse=True) and shrunk[-1] == C.MIN_READ_SIZE
    assert C.MIN_READ_SIZE < C.INITIAL_READ_SIZE < C.DEFAULT_READ_SIZE
    # reads of middling size keep it where it is
    dec = fk.LineDecoder()
    steady = read_sizes(dec, [C.INITIAL_READ_SIZE // 2] * 10)
    assert steady == [C.INITIAL_READ_SIZE] * 10


def test_both_builds_size_regions_alike(fk: ModuleType) -> None:
    """The sizing policy is a small kernel written for each build: the same reads give the same
    regions in both (a differential test; the pure twin's sizes are the reference)."""
    from framekit import _pure

    reads = [1, 4096, 70000, 70000, 3, 3, 3, 900, 20000, 20000, 20000, 7, 7, 7, 7, 7, 7, 65536]
    assert read_sizes(fk.LineDecoder(), reads) == read_sizes(_pure.LineDecoder(), reads)


def test_a_known_frame_length_or_a_hint_overrides_the_adaptive_size(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(4)
    read_sizes_of_small = [5] * 20
    for n in read_sizes_of_small:
        assert receive(dec, frames_of(b"x" * (n - 4))) == [b"x" * (n - 4)]
    assert len(dec.get_buffer(-1)) == C.MIN_READ_SIZE
    dec.buffer_updated(0)
    # the header of a 100 000-byte frame: the region is the rest of that frame
    dec.feed(bytearray(struct.pack(">I", 100_000) + b"y" * 10))
    assert len(dec.get_buffer(-1)) == 100_000 - 10
    dec.buffer_updated(0)
    assert len(dec.get_buffer(300_000)) == 300_000  # a hint above it is a hint
    dec.buffer_updated(0)


def test_with_a_partial_frame_held_the_block_stays_one_read_size(fk: ModuleType) -> None:
    """The region is what the read size leaves of the block, so that the block is one of the
    pool's size classes (and comes back to it)."""
    pool = fk.BufferPool()
    dec = fk.LineDecoder(pool=pool)
    assert read_sizes(dec, [1 << 30] * 5)[-1] == C.DEFAULT_READ_SIZE
    for held in (100, 3000, C.DEFAULT_READ_SIZE // 2):
        dec.feed(bytearray(b"y" * held))
        region = dec.get_buffer(-1)
        assert len(region) == C.DEFAULT_READ_SIZE - held
        region[:5] = b"zzzz\n"
        del region
        dec.buffer_updated(5)
        assert [bytes(f) for f in dec] == [b"y" * held + b"zzzz"]
        assert read_sizes(dec, [1 << 30])[0] == C.DEFAULT_READ_SIZE  # (the small read forgotten)
    gc.collect()
    assert pool.stats.in_use_bytes == 0
    if hasattr(sys, "getrefcount"):  # (PyPy's twin leaves its stores to the collector)
        assert pool.stats.hits >= 4, pool.stats
        assert pool.stats.peak_in_use_bytes <= 2 * C.DEFAULT_READ_SIZE, "no block past a class"
    # more than half held: a whole read's region after it
    dec.feed(bytearray(b"y" * (C.DEFAULT_READ_SIZE // 2 + 1)))
    assert len(dec.get_buffer(-1)) == C.DEFAULT_READ_SIZE
    dec.buffer_updated(0)


def test_pool_can_be_given_after_construction(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(4)
    assert dec.pool is None
    pool = fk.BufferPool()
    dec.pool = pool
    assert dec.pool is pool
    dec.feed(bytearray(frames_of(b"abc")[:-1]))
    gc.collect()
    assert pool.stats.in_use_bytes > 0
    assert receive(dec, b"c") == [b"abc"]
    gc.collect()
    assert pool.stats.in_use_bytes == 0
    with pytest.raises(TypeError, match="pool must be"):
        dec.pool = bytearray(10)
    dec.pool = None
    assert dec.pool is None


def test_shared_pool_is_one_per_process(fk: ModuleType) -> None:
    assert fk.shared_pool() is fk.shared_pool()
    assert isinstance(fk.shared_pool(), fk.BufferPool)


def test_pooled_storage_in_a_collected_cycle(fk: ModuleType) -> None:
    """A connection's objects often die in a reference cycle: the collector must not take a
    block's pool from it before the block gives its memory back (a crash once, in the core)."""
    for _ in range(200):
        pool = fk.BufferPool()
        dec = fk.LengthFieldDecoder(pool=pool)
        dec.feed(bytearray(frames_of(b"a" * 100, b"b" * 100) + b"\0\0"))
        frame = dec.next_frame()
        region = dec.get_buffer(-1)
        cycle: list[Any] = [pool, dec, frame, region, dec.next_frame()]
        cycle.append(cycle)
        del pool, dec, frame, region, cycle
        gc.collect()


def test_the_shared_pool_caches_little(fk: ModuleType) -> None:
    """A burst on many connections leaves at most SHARED_POOL_RETAINED cached behind it."""
    pool = fk.shared_pool()
    held = [
        pool.acquire(C.DEFAULT_READ_SIZE) for _ in range(2 * C.SHARED_POOL_RETAINED // KiB // 64)
    ]
    for buf in held:
        buf.release()
    assert pool.stats.retained_bytes <= C.SHARED_POOL_RETAINED


def test_a_read_of_nothing_into_an_empty_decoder_keeps_nothing(fk: ModuleType) -> None:
    """uvloop asks for a region again after a read that filled one, then finds nothing to read:
    buffer_updated(0) gives the storage under the region back."""
    pool = fk.BufferPool()
    dec = fk.LineDecoder(pool=pool)
    region = dec.get_buffer(-1)
    del region
    gc.collect()
    assert pool.stats.in_use_bytes > 0
    dec.buffer_updated(0)
    gc.collect()
    assert pool.stats.in_use_bytes == 0
    dec.feed(bytearray(b"partial"))
    dec.get_buffer(-1)
    dec.buffer_updated(0)
    gc.collect()
    assert pool.stats.in_use_bytes > 0, "a partial frame is kept"
    assert receive(dec, b"\n") == [b"partial"]


def test_taking_frames_ends_a_region_left_out(fk: ModuleType) -> None:
    """A get_buffer() region is valid until the next call on the decoder: next_frame() with
    nothing held gives it back with the storage (a stream reader taking its frames after uvloop
    asked for a region it did not use)."""
    pool = fk.BufferPool()
    dec = fk.LengthFieldDecoder(pool=pool)
    region = dec.get_buffer(-1)
    region[:7] = frames_of(b"abc")
    dec.buffer_updated(7)
    left = dec.get_buffer(-1)  # asked for, never used
    assert bytes(dec.next_frame() or b"") == b"abc"
    assert dec.next_frame() is None
    del region
    gc.collect()
    assert pool.stats.in_use_bytes == 0
    with pytest.raises(ValueError, match="without a preceding get_buffer"):
        dec.buffer_updated(1)
    with pytest.raises(ValueError, match="released"):
        left[:1] = b"x"  # the region ended with it
    del left
    assert receive(dec, frames_of(b"next")) == [b"next"]


def test_region_sizes_alike_with_frames_cut_and_not_taken(fk: ModuleType) -> None:
    """The twin cuts complete frames in batches; with some cut and not yet returned, its region
    must still be the core's, which holds them uncut (hypothesis' lockstep test found 1024
    against 1023)."""
    from framekit import _pure

    def region(impl: ModuleType) -> int:
        dec = impl.LengthFieldDecoder(1)
        dec.feed(b"\0\0\x05abc")  # two empty frames, then 3 bytes of a 5-byte one
        assert bytes(next(iter(dec))) == b""  # (the twin cuts both empty frames at once)
        size = len(dec.get_buffer(-1))
        dec.buffer_updated(0)
        return size

    assert region(fk) == region(_pure) == C.INITIAL_READ_SIZE - 5
