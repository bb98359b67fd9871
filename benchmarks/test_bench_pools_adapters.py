"""pytest-benchmark suite, continued: the pools, a pooled decoder, and every I/O adapter.

    pytest benchmarks/ --benchmark-only [-k pools | -k adapters]

The adapter benchmarks receive ~1 MiB of 64-byte frames over a real loopback connection (a
socketpair; a sender thread writes while the adapter reads) and check every frame arrived.
``python benchmarks/adapters.py`` and ``python benchmarks/pools.py`` set the same measures beside
asyncio's streams, bytearray and dataclasses, as ratios.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from types import ModuleType
from typing import Any, Callable

import pytest
import trio
from implementations import CHUNK, MiB, implementation_fixture

import framekit.asyncio as fk_asyncio
import framekit.sockets as fk_sockets
import framekit.trio as fk_trio
from framekit._bench import via_feed

fk = implementation_fixture()
PAYLOAD = 64
FRAMES = MiB // (PAYLOAD + 4)
STREAM = ((PAYLOAD).to_bytes(4, "big") + b"m" * PAYLOAD) * FRAMES


# --- pools ---------------------------------------------------------------------------------------


def test_buffer_pool_acquire_release(benchmark: Any, fk: ModuleType) -> None:
    pool = fk.BufferPool()

    def cycle() -> None:
        for _ in range(1000):
            pool.acquire(4096).release()

    benchmark(cycle)
    assert pool.stats.in_use_bytes == 0 and pool.stats.hits > 0


def test_slab_alloc_free(benchmark: Any, fk: ModuleType) -> None:
    slab = fk.Slab([("id", "Q"), ("price", "d"), ("qty", "I"), ("side", "B")], 4096)

    def cycle() -> None:
        for _ in range(1000):
            slab.free(slab.alloc())

    benchmark(cycle)
    assert len(slab) == 0


def test_slab_alloc_with_values_free(benchmark: Any, fk: ModuleType) -> None:
    slab = fk.Slab([("id", "Q"), ("price", "d"), ("qty", "I"), ("side", "B")], 4096)

    def cycle() -> None:
        for i in range(1000):
            slab.free(slab.alloc(id=i, price=1.5, qty=10, side=1))

    benchmark(cycle)
    assert len(slab) == 0


def test_slab_get_set(benchmark: Any, fk: ModuleType) -> None:
    slab = fk.Slab([("id", "Q"), ("price", "d"), ("qty", "I"), ("side", "B")], 16)
    handle = slab.alloc()

    def cycle() -> None:
        for i in range(1000):
            slab.set(handle, "qty", i)
            slab.get(handle, "qty")

    benchmark(cycle)
    assert slab.get(handle, "qty") == 999


def test_pooled_decoder(benchmark: Any, fk: ModuleType) -> None:
    pool = fk.BufferPool((4096, 65536, 262144))
    chunks = [STREAM[i : i + CHUNK] for i in range(0, len(STREAM), CHUNK)]
    drive = via_feed(lambda: fk.LengthFieldDecoder(4, pool=pool))
    assert benchmark(drive, chunks) == FRAMES


# --- adapters over a loopback socketpair ----------------------------------------------------------


def _with_sender(receive: Callable[[socket.socket], int]) -> int:
    """Sends STREAM on one end of a socketpair from a thread while ``receive`` reads the other
    end; returns what ``receive`` counted."""
    a, b = socket.socketpair()

    def send() -> None:
        try:
            a.sendall(STREAM)
        finally:
            a.shutdown(socket.SHUT_WR)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        return receive(b)
    finally:
        sender.join()
        a.close()
        b.close()


def _loops() -> list[Any]:
    found: list[Any] = [pytest.param(asyncio.new_event_loop, id="asyncio")]
    try:
        import uvloop
    except ImportError:  # pragma: no cover - where the test extras do not install it
        return found
    return [*found, pytest.param(uvloop.new_event_loop, id="uvloop")]


@pytest.mark.parametrize("new_loop", _loops())
def test_framed_protocol(benchmark: Any, fk: ModuleType, new_loop: Callable[[], Any]) -> None:
    def receive(sock: socket.socket) -> int:
        loop = new_loop()
        try:
            done: asyncio.Future[int] = loop.create_future()

            class Count(fk_asyncio.FramedProtocol):
                count = 0

                def frame_received(self, frame: Any) -> None:
                    self.count += 1

                def eof_received(self) -> bool:
                    super().eof_received()
                    done.set_result(self.count)
                    return False

            async def run() -> int:
                await loop.connect_accepted_socket(lambda: Count(fk.LengthFieldDecoder(4)), sock)
                return await done

            count: int = loop.run_until_complete(run())
            return count
        finally:
            loop.close()

    assert benchmark.pedantic(_with_sender, (receive,), rounds=5) == FRAMES


def test_asyncio_streams(benchmark: Any, fk: ModuleType) -> None:
    def receive(sock: socket.socket) -> int:
        async def run() -> int:
            reader, writer = await fk_asyncio.open_connection(
                sock=sock, decoder=fk.LengthFieldDecoder(4)
            )  # (an accepted or paired socket, as asyncio.open_connection(sock=...) takes)
            count = 0
            async for _frame in reader:
                count += 1
            writer.close()
            return count

        return asyncio.run(run())

    assert benchmark.pedantic(_with_sender, (receive,), rounds=5) == FRAMES


def test_trio_framed_stream(benchmark: Any, fk: ModuleType) -> None:
    def receive(sock: socket.socket) -> int:
        async def run() -> int:
            stream = trio.SocketStream(trio.socket.from_stdlib_socket(sock))
            channel = fk_trio.FramedStream(stream, fk.LengthFieldDecoder(4))
            count = 0
            async for _frame in channel:
                count += 1
            return count

        return trio.run(run)

    assert benchmark.pedantic(_with_sender, (receive,), rounds=5) == FRAMES


def test_sockets_iter_frames(benchmark: Any, fk: ModuleType) -> None:
    def receive(sock: socket.socket) -> int:
        return sum(1 for _ in fk_sockets.iter_frames(sock, fk.LengthFieldDecoder(4)))

    assert benchmark.pedantic(_with_sender, (receive,), rounds=5) == FRAMES


def test_sockets_send_frames(benchmark: Any, fk: ModuleType) -> None:
    encoder = fk.LengthFieldEncoder(4)
    payloads = [b"s" * PAYLOAD] * FRAMES

    def send_and_count() -> int:
        a, b = socket.socketpair()
        counted: list[int] = []
        reader = threading.Thread(
            target=lambda: counted.append(
                sum(1 for _ in fk_sockets.iter_frames(b, fk.LengthFieldDecoder(4)))
            )
        )
        reader.start()
        try:
            fk_sockets.send_frames(a, encoder, payloads)
            a.shutdown(socket.SHUT_WR)
        finally:
            reader.join()
            a.close()
            b.close()
        return counted[0]

    assert benchmark.pedantic(send_and_count, rounds=5) == FRAMES
