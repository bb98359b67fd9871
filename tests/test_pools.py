"""BufferPool (SPEC §4): sizes and classes, accounting, limits, misuse, threads."""

from __future__ import annotations

import platform
import threading
from types import ModuleType
from typing import Any, Optional

import pytest
from helpers import NO_TRACEMALLOC

from framekit.errors import DoubleFreeError, PoolError, PoolExhaustedError


def test_exact_size_from_smallest_class(fk: ModuleType) -> None:
    pool = fk.BufferPool((16, 64, 256))
    for size, capacity in ((0, 16), (1, 16), (16, 16), (17, 64), (200, 256), (257, 257)):
        buf = pool.acquire(size)
        view = memoryview(buf)
        assert view.nbytes == len(buf) == size and not view.readonly
        assert buf.capacity == capacity
        view.release()
        buf.release()


def test_accounting(fk: ModuleType) -> None:
    pool = fk.BufferPool((16, 64))
    a = pool.acquire(10)
    b = pool.acquire(50)
    assert pool.stats == (80, 0, 80, 0, 2)
    a.release()
    assert pool.stats.in_use_bytes == 64 and pool.stats.retained_bytes == 16
    c = pool.acquire(16)  # served from the cache
    assert pool.stats.hits == 1 and pool.stats.retained_bytes == 0
    big = pool.acquire(1000)  # unpooled
    assert pool.stats.in_use_bytes == 64 + 16 + 1000 and pool.stats.peak_in_use_bytes == 1080
    big.release()
    b.release()
    c.release()
    stats = pool.stats
    assert stats.in_use_bytes == 0 and stats.retained_bytes == 80  # the big one was not kept
    assert stats.peak_in_use_bytes == 1080 and (stats.hits, stats.misses) == (1, 3)
    assert pool.trim() == 80 and pool.stats.retained_bytes == 0
    assert pool.trim() == 0


def test_context_manager_and_pool_release(fk: ModuleType) -> None:
    pool = fk.BufferPool()
    with pool.acquire(100) as buf:
        with memoryview(buf) as view:
            view[:3] = b"abc"
        assert not buf.released
    assert buf.released and pool.stats.in_use_bytes == 0
    other = pool.acquire(5)
    pool.release(other)
    assert other.released


def test_release_with_live_view_is_refused(fk: ModuleType) -> None:
    pool = fk.BufferPool()
    buf = pool.acquire(64)
    view = memoryview(buf)[8:16]
    if fk.__name__ == "framekit._pure" and platform.python_implementation() == "PyPy":
        # PyPy does not track a bytearray's views, so the twin cannot refuse; the buffer is
        # emptied all the same, and the stale view sees nothing, never another acquisition's
        buf.release()
        assert len(view) == 0 and bytes(view) == b"" and pool.stats.in_use_bytes == 0
        return
    with pytest.raises(BufferError):
        buf.release()
    assert not buf.released and pool.stats.in_use_bytes == 256
    view.release()
    buf.release()
    assert pool.stats.in_use_bytes == 0


def test_double_free(fk: ModuleType) -> None:
    pool = fk.BufferPool()
    buf = pool.acquire(10)
    buf.release()
    with pytest.raises(DoubleFreeError):
        buf.release()
    with pytest.raises(DoubleFreeError):
        pool.release(buf)
    assert issubclass(DoubleFreeError, PoolError) and issubclass(PoolError, RuntimeError)


def test_released_buffer_cannot_reach_memory(fk: ModuleType) -> None:
    pool = fk.BufferPool((64,))
    old = pool.acquire(64)
    old.release()
    new = pool.acquire(64)  # may reuse the memory old had
    with memoryview(new) as view:
        view[:] = b"n" * 64
    try:
        view = memoryview(old)
    except ValueError:
        pass  # the compiled core refuses
    else:
        assert view.nbytes == 0  # the pure twin hands back an empty buffer
    assert bytes(new) == b"n" * 64
    new.release()


def test_limits(fk: ModuleType) -> None:
    pool = fk.BufferPool((100,), max_in_use_bytes=250, max_retained_bytes=100)
    a, b = pool.acquire(100), pool.acquire(50)
    with pytest.raises(PoolExhaustedError):
        pool.acquire(1)
    assert pool.stats.in_use_bytes == 200
    a.release()
    b.release()
    assert pool.stats.retained_bytes == 100  # the second would exceed max_retained_bytes


def test_foreign_buffer(fk: ModuleType) -> None:
    one, two = fk.BufferPool(), fk.BufferPool()
    buf = one.acquire(10)
    with pytest.raises(ValueError):
        two.release(buf)
    with pytest.raises(ValueError):
        two.release(bytearray(10))
    buf.release()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size_classes": ()},
        {"size_classes": (64, 16)},
        {"size_classes": (0, 16)},
        {"max_retained_bytes": -1},
        {"max_in_use_bytes": -5},
    ],
)
def test_bad_config(fk: ModuleType, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        fk.BufferPool(**kwargs)


def test_bad_sizes(fk: ModuleType) -> None:
    pool = fk.BufferPool()
    with pytest.raises(ValueError):
        pool.acquire(-1)
    with pytest.raises(TypeError):
        pool.acquire("5")


def test_live_buffers_never_overlap(fk: ModuleType) -> None:
    pool = fk.BufferPool((8, 32, 128))
    live = []
    for i in range(300):
        buf = pool.acquire((i * 7) % 150)
        with memoryview(buf) as view:
            view[:] = bytes([i % 256]) * len(buf)
        live.append((buf, i % 256))
        if i % 3 == 0:
            old, _ = live.pop(0)
            old.release()
    for buf, mark in live:
        assert bytes(buf) == bytes([mark]) * len(buf)
        buf.release()
    assert pool.stats.in_use_bytes == 0


def test_threads_share_one_pool(fk: ModuleType) -> None:
    pool = fk.BufferPool((64, 256, 1024), max_retained_bytes=16 * 1024)
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        try:
            for i in range(2000):
                with pool.acquire((seed * 31 + i) % 1000) as buf:
                    mark = bytes([seed]) * len(buf)
                    with memoryview(buf) as view:
                        view[:] = mark
                    assert bytes(buf) == mark
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    stats = pool.stats
    assert stats.in_use_bytes == 0 and stats.retained_bytes <= 16 * 1024
    assert stats.hits + stats.misses == 8 * 2000


def _pooled_stream(
    fk: ModuleType, pool: object, frames: int, held: Optional[list[tuple[Any, bytes]]]
) -> int:
    """Decode ``frames`` length-prefixed frames through get_buffer with a pooled decoder,
    holding every 997th frame in ``held`` (if given); returns how many were decoded."""
    decoder = fk.LengthFieldDecoder(2, pool=pool)
    encoder = fk.LengthFieldEncoder(2)
    chunk = encoder.encode_many([bytes([i % 251]) * (i % 50) for i in range(997)])
    count = 0
    while count < frames:
        view = memoryview(chunk)
        while view:
            buf = decoder.get_buffer(4096)
            n = min(len(buf), len(view))
            buf[:n] = view[:n]
            decoder.buffer_updated(n)
            view = view[n:]
            for frame in decoder:
                if held is not None and count % 997 == 500:
                    held.append((frame, bytes(frame)))
                count += 1
    return count


def test_pooled_decoder_allocates_nothing_per_frame(fk: ModuleType) -> None:
    tracemalloc = pytest.importorskip(
        "tracemalloc",
        reason=NO_TRACEMALLOC,
    )
    pool = fk.BufferPool((4096, 16384, 65536, 262144))
    _pooled_stream(fk, pool, 20_000, None)  # warm up
    misses = pool.stats.misses
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    decoded = _pooled_stream(fk, pool, 100_000, None)
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert decoded >= 100_000
    assert grown < 64 * 1024, grown  # not per frame: 100 000 frames would need megabytes
    assert pool.stats.misses - misses <= 4  # storage came back from the pool
    assert pool.stats.hits > 0


def test_pooled_storage_keeps_held_frames_intact(fk: ModuleType) -> None:
    pool = fk.BufferPool((4096, 16384, 65536, 262144))
    held: list[tuple[Any, bytes]] = []
    _pooled_stream(fk, pool, 50_000, held)
    assert len(held) >= 50
    # storage recycled around them, never under them
    assert all(bytes(frame) == content for frame, content in held)
    assert pool.stats.in_use_bytes > 0
    held.clear()
    import gc

    for _ in range(3):  # PyPy finalizes an object with __del__ one collection after its owner's
        gc.collect()
    assert pool.stats.in_use_bytes == 0  # everything went back once nothing viewed it


def test_pool_must_match_the_implementation(fk: ModuleType) -> None:
    with pytest.raises(TypeError):
        fk.LengthFieldDecoder(pool=bytearray(10))
    for name in ("FixedLengthDecoder", "LineDecoder"):
        cls = getattr(fk, name)
        decoder = (
            cls(4, pool=fk.BufferPool())
            if name == "FixedLengthDecoder"
            else cls(pool=fk.BufferPool())
        )
        assert decoder.decode(b"abcd\n") in ([b"abcd"], [])


def test_what_pool_gives_on_each_receive_path(fk: ModuleType) -> None:
    """docs/pools.md: feed(bytes) in whole frames takes nothing from the pool, an incomplete
    tail is kept in pooled storage, other buffers are copied into it, get_buffer() is it."""
    pool = fk.BufferPool((4096, 65536))

    def taken() -> int:
        return int(pool.stats.hits + pool.stats.misses)

    whole = fk.LengthFieldDecoder(2, pool=pool)
    for _ in range(100):
        whole.feed(b"\x00\x02hi\x00\x01x")
        assert [bytes(f) for f in whole] == [b"hi", b"x"]
    assert taken() == 0
    split = fk.LengthFieldDecoder(2, pool=pool)
    split.feed(b"\x00\x02hi\x00\x03ab")
    assert [bytes(f) for f in split] == [b"hi"] and taken() == 1
    split.feed(b"c")
    assert [bytes(f) for f in split] == [b"abc"]
    copied = fk.LengthFieldDecoder(2, pool=pool)
    copied.feed(bytearray(b"\x00\x02hi"))
    assert [bytes(f) for f in copied] == [b"hi"] and taken() == 2
    received = fk.LengthFieldDecoder(2, pool=pool)
    received.get_buffer(16)[:4] = b"\x00\x02hi"
    received.buffer_updated(4)
    assert [bytes(f) for f in received] == [b"hi"] and taken() > 2  # (PyPy's twin: one more)


def test_twin_buffer_dropped_while_its_pool_is_busy(tmp_path: Any) -> None:
    """A collection can finalize a dropped pooled buffer inside any allocation, the pool's own
    under its lock included (PyPy did, and the server hung): the twin's buffer must give itself
    back without taking that lock. Run in a subprocess, so that a deadlock fails the test."""
    import subprocess
    import sys

    program = (
        "import gc\n"
        "from framekit import _pure\n"
        "pool = _pure.BufferPool()\n"
        "buf = pool.acquire(1000)\n"
        "with pool._lock:\n"
        "    del buf  # finalized here, while the pool holds its lock\n"
        "    gc.collect()  # (PyPy: by a collection)\n"
        "    gc.collect()\n"
        "assert pool.stats.in_use_bytes == 0, pool.stats\n"
        "assert pool.stats.retained_bytes == 1024, pool.stats\n"
    )
    done = subprocess.run(  # (from elsewhere than the checkout: framekit as installed)
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=30, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
