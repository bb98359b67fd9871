"""The I/O adapters over real loopback TCP and socketpairs: asyncio and uvloop, trio, blocking
sockets. Frames both ways (many small, some of 1 MiB), clean and cut ends of stream, bad input,
flow control, cancellation."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import socket
import ssl
import sys
import threading
from collections.abc import Awaitable, Iterator
from types import ModuleType
from typing import Any, Callable

import pytest
import trio
import trio.testing

import framekit
from framekit import CorruptFrameError, FrameTooLongError, IncompleteFrameError
from framekit import asyncio as fk_asyncio
from framekit import sockets as fk_sockets
from framekit import trio as fk_trio

MiB = 1 << 20
PAYLOADS = [os.urandom(i % 300) for i in range(2000)] + [os.urandom(MiB), b"", os.urandom(MiB)]


def _loop_factories() -> list[Any]:
    found: list[Any] = [pytest.param(asyncio.new_event_loop, id="asyncio")]
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is in the test extras where it installs
        # (the extras' marker: CPython, not Windows; a missing uvloop elsewhere is a broken install)
        if sys.platform != "win32" and platform.python_implementation() == "CPython":
            raise
    else:
        found.append(pytest.param(uvloop.new_event_loop, id="uvloop"))
    return found


@pytest.fixture(params=_loop_factories())
def run(request: pytest.FixtureRequest) -> Iterator[Callable[[Awaitable[Any]], Any]]:
    """Runs a coroutine on a fresh event loop of each kind, failing on tasks left running."""

    def runner(coro: Awaitable[Any]) -> Any:
        async def checked() -> Any:
            result = await asyncio.wait_for(coro, 60)
            await asyncio.sleep(0.05)  # let closing transports finish
            others = asyncio.all_tasks() - {asyncio.current_task()}
            assert not others, f"tasks left running: {others}"
            return result

        loop = request.param()
        try:
            return loop.run_until_complete(checked())
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    yield runner


def _replier(wire: bytes) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], None]:
    """A plain asyncio server callback that writes ``wire`` and closes."""

    def reply(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(wire)
        writer.close()

    return reply


def _codec() -> tuple[Any, Any]:
    return framekit.LengthFieldDecoder(4, max_frame_length=2 * MiB), framekit.LengthFieldEncoder(4)


async def _echo_server(**kwargs: Any) -> tuple[asyncio.Server, int]:
    async def echo(reader: fk_asyncio.FrameReader, writer: fk_asyncio.FrameWriter) -> None:
        async for frame in reader:
            writer.write_frame(frame)
            await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await fk_asyncio.start_server(
        echo,
        "127.0.0.1",
        0,
        decoder_factory=lambda: _codec()[0],
        encoder_factory=lambda: _codec()[1],
        **kwargs,
    )
    return server, server.sockets[0].getsockname()[1]


def test_asyncio_echo_both_directions(run: Callable[[Awaitable[Any]], Any]) -> None:
    async def main() -> list[bytes]:
        server, port = await _echo_server()
        decoder, encoder = _codec()
        reader, writer = await fk_asyncio.open_connection(
            "127.0.0.1", port, decoder=decoder, encoder=encoder
        )

        async def send() -> None:
            for i in range(0, len(PAYLOADS), 100):
                writer.write_frames(PAYLOADS[i : i + 100])
                await writer.drain()
            writer.write_eof()  # half-close: the server still answers

        sender = asyncio.create_task(send())
        got = [bytes(frame) async for frame in reader]
        await sender
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return got

    assert run(main()) == PAYLOADS


def test_asyncio_read_frames_takes_every_ready_frame(run: Callable[[Awaitable[Any]], Any]) -> None:
    """read_frames(): one await per batch, every frame in order, [] at a clean end of stream
    (and again after it); max_frames caps a batch; async for and read_frame() share what a
    batch took."""

    async def main() -> tuple[list[list[bytes]], list[bytes]]:
        wire = b"".join(framekit.LengthFieldEncoder(4).encode(p) for p in PAYLOADS)
        server = await asyncio.start_server(_replier(wire), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await fk_asyncio.open_connection("127.0.0.1", port, decoder=_codec()[0])
        batches: list[list[bytes]] = []
        first = await reader.read_frame()
        async for frame in reader:  # takes a batch, gives one frame
            second = frame
            break
        mixed = [bytes(first), bytes(second), bytes(await reader.read_frame())]
        capped = await reader.read_frames(max_frames=2)
        assert len(capped) == 2
        mixed += [bytes(f) for f in capped]
        while True:
            batch = await reader.read_frames()
            if not batch:
                break
            batches.append([bytes(f) for f in batch])
        assert await reader.read_frames() == []
        with pytest.raises(EOFError):
            await reader.read_frame()
        assert reader.buffered == 0
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return batches, mixed

    batches, mixed = run(main())
    assert mixed + [f for b in batches for f in b] == PAYLOADS
    assert max(len(b) for b in batches) > 1  # a batch per await, not a frame


def test_asyncio_read_frames_errors_in_place(run: Callable[[Awaitable[Any]], Any]) -> None:
    async def main() -> list[Any]:
        wire = b"\x01a\x01b\x09123456789\x01c"
        server = await asyncio.start_server(_replier(wire), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await fk_asyncio.open_connection(
            "127.0.0.1", port, decoder=framekit.LengthFieldDecoder(1, max_frame_length=5)
        )
        got: list[Any] = []
        while True:
            try:
                batch = await reader.read_frames()
            except FrameTooLongError as exc:
                got.append(exc.frame_length)
                continue
            if not batch:
                break
            got.append([bytes(f) for f in batch])
        for bad, error in [(0, ValueError), (-1, ValueError), (True, TypeError), (1.0, TypeError)]:
            with pytest.raises(error, match="max_frames"):
                await reader.read_frames(bad)  # type: ignore[arg-type]
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return got

    got = run(main())
    # frames before the error come first, whatever the reads' boundaries were
    flat = [x for item in got for x in (item if isinstance(item, list) else [item])]
    assert flat == [b"a", b"b", 10, b"c"]


def test_asyncio_writer_writes_raw_bytes_beside_frames(
    run: Callable[[Awaitable[Any]], Any],
) -> None:
    async def main() -> bytes:
        received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        async def collect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            received.set_result(await reader.read())
            writer.close()

        server = await asyncio.start_server(collect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _reader, writer = await fk_asyncio.open_connection(
            "127.0.0.1", port, decoder=_codec()[0], encoder=_codec()[1]
        )
        writer.write(b"HELLO")  # a protocol header, not framed
        writer.write_frame(b"x")
        writer.writelines([b"ra", memoryview(b"w")])
        writer.write_frames([b"yz"])
        await writer.drain()
        writer.write_eof()
        data = await received
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return data

    assert run(main()) == b"HELLO\x00\x00\x00\x01xraw\x00\x00\x00\x02yz"


class _Tagged:
    """A user's encoder: a type byte and a 2-byte length (framekit.Encoder, nothing more)."""

    def encode(self, payload: Any) -> bytes:
        return b"T" + len(payload).to_bytes(2, "big") + bytes(payload)

    def encode_many(self, payloads: Any) -> bytes:
        return b"".join(self.encode(p) for p in payloads)


def test_a_users_encoder_plugs_in_and_a_missing_one_says_what_to_pass(
    run: Callable[[Awaitable[Any]], Any],
) -> None:
    assert isinstance(_Tagged(), framekit.Encoder)
    assert isinstance(framekit.LengthFieldEncoder(), framekit.Encoder)
    assert not isinstance(object(), framekit.Encoder)

    async def main() -> bytes:
        received: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        async def collect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            data = await reader.read()
            if data:  # (the connections that sent nothing close first)
                received.set_result(data)
            writer.close()

        server = await asyncio.start_server(collect, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _reader, plain = await fk_asyncio.open_connection("127.0.0.1", port, decoder=_codec()[0])
        with pytest.raises(ValueError, match=r"none was given: pass encoder= .*write\(\)"):
            plain.write_frame(b"x")
        plain.close()
        _reader, odd = await fk_asyncio.open_connection(
            "127.0.0.1", port, decoder=_codec()[0], encoder=object()
        )
        with pytest.raises(TypeError, match=r"object is not an encoder.*encode_many"):
            odd.write_frames([b"x"])
        odd.close()
        _reader, writer = await fk_asyncio.open_connection(
            "127.0.0.1", port, decoder=_codec()[0], encoder=_Tagged()
        )
        writer.write_frames([b"ab", b"c" * 20000])  # a large one too: no encode_header, copied
        writer.write_eof()
        data = await received
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return data

    assert run(main()) == b"T\x00\x02ab" + b"T" + (20000).to_bytes(2, "big") + b"c" * 20000


def test_asyncio_frame_cut_by_eof_and_bad_input(run: Callable[[Awaitable[Any]], Any]) -> None:
    async def main() -> list[Any]:
        results: list[Any] = []
        done = asyncio.get_running_loop().create_future()

        async def handler(reader: fk_asyncio.FrameReader, writer: fk_asyncio.FrameWriter) -> None:
            try:
                while True:
                    results.append(bytes(await reader.read_frame()))
            except (EOFError, framekit.FrameError) as exc:
                results.append(exc)
            writer.close()
            done.set_result(None)

        server = await fk_asyncio.start_server(
            handler, "127.0.0.1", 0, decoder_factory=lambda: framekit.LengthFieldDecoder(2)
        )
        port = server.sockets[0].getsockname()[1]
        for wire in (b"\x00\x01a\x00\x05abc", b"\x00\x01b", b"\x00\x02ok\x00\x01"):
            done = asyncio.get_running_loop().create_future()
            _r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(wire)
            w.write_eof()
            await done
            w.close()
            await w.wait_closed()
        server.close()
        await server.wait_closed()
        return results

    results = run(main())
    assert results[0] == b"a"
    assert isinstance(results[1], IncompleteFrameError) and results[1].partial == b"\x00\x05abc"
    assert results[2] == b"b" and isinstance(results[3], EOFError)
    assert results[4] == b"ok" and isinstance(results[5], IncompleteFrameError)


def test_asyncio_corrupt_input_closes(run: Callable[[Awaitable[Any]], Any]) -> None:
    async def main() -> list[Any]:
        got: list[Any] = []
        # with the field counting itself: an empty frame, then a length of 0 (impossible)
        server = await asyncio.start_server(_replier(b"\x01\x00\x01"), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await fk_asyncio.open_connection(
            "127.0.0.1", port, decoder=framekit.LengthFieldDecoder(1, length_adjustment=-1)
        )
        got.append(bytes(await reader.read_frame()))
        with pytest.raises(CorruptFrameError):
            await reader.read_frame()
        await writer.wait_closed()
        assert writer.is_closing()
        server.close()
        await server.wait_closed()
        return got

    assert run(main()) == [b""]


def test_asyncio_too_long_is_recoverable(run: Callable[[Awaitable[Any]], Any]) -> None:
    async def main() -> list[Any]:
        server = await asyncio.start_server(_replier(b"\x09123456789\x01a"), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await fk_asyncio.open_connection(
            "127.0.0.1", port, decoder=framekit.LengthFieldDecoder(1, max_frame_length=5)
        )
        got: list[Any] = []
        while True:
            try:
                got.append(bytes(await reader.read_frame()))
            except FrameTooLongError as exc:
                got.append(exc.frame_length)
            except EOFError:
                break
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return got

    assert run(main()) == [10, b"a"]


def test_asyncio_stalled_consumer_is_bounded(run: Callable[[Awaitable[Any]], Any]) -> None:
    high = 128 * 1024

    async def main() -> tuple[int, int]:
        total = 32 * MiB
        frame = b"z" * 4000

        async def flood(reader: fk_asyncio.FrameReader, writer: fk_asyncio.FrameWriter) -> None:
            sent = 0
            with contextlib.suppress(ConnectionError):
                while sent < total:
                    writer.write_frames([frame] * 64)
                    sent += 64 * len(frame)
                    await writer.drain()
            writer.close()

        server = await fk_asyncio.start_server(
            flood,
            "127.0.0.1",
            0,
            decoder_factory=framekit.LengthFieldDecoder,
            encoder_factory=framekit.LengthFieldEncoder,
        )
        port = server.sockets[0].getsockname()[1]
        decoder = framekit.LengthFieldDecoder()
        reader, writer = await fk_asyncio.open_connection(
            "127.0.0.1", port, decoder=decoder, high_water=high, low_water=high // 4
        )
        peak = 0
        for _ in range(40):  # a consumer that stalls: the receiving side must stop reading
            await asyncio.sleep(0.01)
            assert reader.buffered == decoder.buffered  # frames wait in the decoder
            peak = max(peak, decoder.buffered)
        count = 0
        async for _frame in reader:  # then it catches up, and everything arrives
            count += 1
            peak = max(peak, decoder.buffered)
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return peak, count

    peak, count = run(main())
    assert count == 32 * MiB // (64 * 4000) * 64 + 64
    assert peak <= high + 4004 + 256 * 1024  # the mark, the frame crossing it, one read


def test_asyncio_framed_protocol_subclass(run: Callable[[Awaitable[Any]], Any]) -> None:
    class Collect(fk_asyncio.FramedProtocol):
        def __init__(self) -> None:
            super().__init__(framekit.LineDecoder(max_frame_length=4))
            self.events: list[Any] = []
            self.closed = asyncio.get_running_loop().create_future()

        def frame_received(self, frame: Any) -> None:
            self.events.append(bytes(frame))

        def frame_error(self, exc: framekit.FrameError) -> None:
            self.events.append(type(exc).__name__)
            super().frame_error(exc)

        def connection_lost(self, exc: Exception | None) -> None:
            self.closed.set_result(None)

    async def main() -> list[Any]:
        loop = asyncio.get_running_loop()
        protocols: list[Collect] = []

        def make() -> Collect:
            protocols.append(Collect())
            return protocols[-1]

        server = await loop.create_server(make, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        _r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"ab\ncd\r\ntoolong\nnever")
        await protocols_closed(protocols)
        w.close()
        await w.wait_closed()
        server.close()
        await server.wait_closed()
        return protocols[0].events

    async def protocols_closed(protocols: list[Collect]) -> None:
        while not protocols:
            await asyncio.sleep(0.001)
        await protocols[0].closed

    assert run(main()) == [b"ab", b"cd", "FrameTooLongError"]


def test_asyncio_cancel_and_close_mid_frame(run: Callable[[Awaitable[Any]], Any]) -> None:
    async def main() -> None:
        started = asyncio.Event()

        async def slow(reader: fk_asyncio.FrameReader, writer: fk_asyncio.FrameWriter) -> None:
            writer.transport.write(b"\x00\x00\x10\x00" + b"p" * 100)  # a frame never finished
            started.set()
            await asyncio.sleep(0.2)
            writer.close()

        server = await fk_asyncio.start_server(
            slow, "127.0.0.1", 0, decoder_factory=framekit.LengthFieldDecoder
        )
        port = server.sockets[0].getsockname()[1]
        reader, writer = await fk_asyncio.open_connection(
            "127.0.0.1", port, decoder=framekit.LengthFieldDecoder()
        )
        await started.wait()
        task = asyncio.create_task(reader.read_frame())
        await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        await asyncio.sleep(0.3)  # the server's handler finishes; nothing may be left

    run(main())


# --- trio ----------------------------------------------------------------------------------------


def test_trio_echo_both_directions() -> None:
    async def handler(channel: fk_trio.FramedStream) -> None:
        async for frame in channel:
            await channel.send(frame)

    async def main() -> list[bytes]:
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(
                lambda task_status: fk_trio.serve_tcp_framed(
                    handler,
                    0,
                    host="127.0.0.1",
                    decoder_factory=lambda: _codec()[0],
                    encoder_factory=lambda: _codec()[1],
                    task_status=task_status,
                )
            )
            port = listeners[0].socket.getsockname()[1]
            decoder, encoder = _codec()
            channel = await fk_trio.open_tcp_framed_stream(
                "127.0.0.1", port, decoder=decoder, encoder=encoder
            )
            assert channel._socket is not None  # receives with recv_into

            async def send() -> None:
                for payload in PAYLOADS:
                    await channel.send(payload)
                await channel.stream.send_eof()  # type: ignore[attr-defined]

            nursery.start_soon(send)
            got = [bytes(frame) async for frame in channel]
            await channel.aclose()
            nursery.cancel_scope.cancel()
        return got

    assert trio.run(main) == PAYLOADS


async def _trio_pair(kind: str) -> tuple[Any, Any]:
    """A connected (writer, reader) pair of trio streams: in memory, or a real socketpair."""
    if kind == "memory":
        return trio.testing.memory_stream_pair()
    a, b = trio.socket.socketpair()
    return trio.SocketStream(a), trio.SocketStream(b)


@pytest.mark.parametrize("kind", ["memory", "socket"])
def test_trio_end_of_stream_and_errors(kind: str) -> None:
    async def main() -> list[Any]:
        events: list[Any] = []
        for wire in (b"\x01a\x01b", b"\x01a\x04xy", b"\x01a\x09123456789\x01c"):
            left, right = await _trio_pair(kind)
            channel = fk_trio.FramedStream(
                right, framekit.LengthFieldDecoder(1, max_frame_length=5)
            )
            assert (channel._socket is not None) == (kind == "socket")
            await left.send_all(wire)
            await left.send_eof()
            while True:
                try:
                    events.append(bytes(await channel.receive()))
                except trio.EndOfChannel:
                    events.append("end")
                    break
                except framekit.FrameError as exc:
                    events.append(type(exc).__name__)
                    if isinstance(exc, IncompleteFrameError):
                        break
            await channel.aclose()
            await left.aclose()
        return events

    assert trio.run(main) == [
        b"a", b"b", "end",
        b"a", "IncompleteFrameError",
        b"a", "FrameTooLongError", b"c", "end",
    ]  # fmt: skip


def test_trio_connection_reset_is_a_broken_resource() -> None:
    """A peer that resets the connection: trio.BrokenResourceError, as trio's own
    SocketStream says it (the adapter receives from the socket itself, into the decoder)."""
    import socket
    import struct

    async def main() -> None:
        with trio.socket.socket() as listener:
            await listener.bind(("127.0.0.1", 0))
            listener.listen()
            client = socket.create_connection(listener.getsockname())
            server, _ = await listener.accept()
            channel = fk_trio.FramedStream(trio.SocketStream(server), framekit.LineDecoder())
            assert channel._socket is not None
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()  # an RST, not a FIN
            with pytest.raises(trio.BrokenResourceError) as info:
                await channel.receive()
            assert isinstance(info.value.__cause__, ConnectionResetError)
            await channel.aclose()

    trio.run(main)


@pytest.mark.parametrize("kind", ["memory", "socket"])
def test_trio_receive_many_in_batches_with_errors_in_place(kind: str) -> None:
    async def main() -> tuple[list[Any], list[list[bytes]]]:
        left, right = await _trio_pair(kind)
        channel = fk_trio.FramedStream(right, framekit.LengthFieldDecoder(1, max_frame_length=5))
        await left.send_all(b"\x01a\x01b\x09123456789\x01c\x01d\x01e")
        await left.send_eof()
        events: list[Any] = []
        while True:
            try:
                batch = await channel.receive_many(max_frames=2)
            except FrameTooLongError as exc:
                events.append(exc.frame_length)
                continue
            if not batch:
                break
            events.append([bytes(f) for f in batch])
        assert await channel.receive_many() == []
        with pytest.raises(trio.EndOfChannel):
            await channel.receive()
        for bad, error in [(0, ValueError), (True, TypeError)]:
            with pytest.raises(error, match="max_frames"):
                await channel.receive_many(bad)
        await channel.aclose()
        # many frames in one receive: one batch, not a frame per await
        left, right = await _trio_pair(kind)
        channel = fk_trio.FramedStream(right, framekit.LengthFieldDecoder(1))
        await left.send_all(b"\x01x" * 100)
        await left.send_eof()
        batches = []
        while batch := await channel.receive_many():
            batches.append([bytes(f) for f in batch])
        await channel.aclose()
        return events, batches

    events, batches = trio.run(main)
    assert events == [[b"a", b"b"], 10, [b"c", b"d"], [b"e"]]
    assert [f for b in batches for f in b] == [b"x"] * 100 and len(batches) < 100


def test_trio_send_many_and_half_close() -> None:
    """send_many() frames a batch (small frames together, large ones as they are);
    send_eof() half-closes, and the answer still arrives; a stream that cannot half-close
    says so."""

    async def handler(channel: fk_trio.FramedStream) -> None:
        got = []
        while batch := await channel.receive_many():
            got += [bytes(f) for f in batch]
        await channel.send_many([b"%d" % len(got), b"".join(got)[:10]])

    async def main() -> list[bytes]:
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(
                lambda task_status: fk_trio.serve_tcp_framed(
                    handler,
                    0,
                    host="127.0.0.1",
                    decoder_factory=lambda: _codec()[0],
                    encoder_factory=lambda: _codec()[1],
                    task_status=task_status,
                )
            )
            port = listeners[0].socket.getsockname()[1]
            channel = await fk_trio.open_tcp_framed_stream(
                "127.0.0.1", port, decoder=_codec()[0], encoder=_codec()[1]
            )
            await channel.send_many(PAYLOADS)
            await channel.send_eof()
            answer = [bytes(f) async for f in channel]
            await channel.aclose()
            nursery.cancel_scope.cancel()
        tls = trio.SSLStream(trio.testing.memory_stream_pair()[0], ssl.create_default_context())
        with pytest.raises(NotImplementedError, match="SSLStream cannot half-close"):
            await fk_trio.FramedStream(tls, _codec()[0]).send_eof()
        return answer

    assert trio.run(main) == [b"%d" % len(PAYLOADS), b"".join(PAYLOADS)[:10]]


def test_trio_cancel_mid_frame() -> None:
    async def main() -> None:
        left, right = trio.testing.memory_stream_pair()
        channel = fk_trio.FramedStream(right, framekit.LengthFieldDecoder())
        await left.send_all(b"\x00\x00\x00\x09abc")
        with trio.move_on_after(0.05):
            await channel.receive()
        await left.send_all(b"defghi")
        assert bytes(await channel.receive()) == b"abcdefghi"
        await channel.aclose()

    trio.run(main)


# --- blocking sockets ----------------------------------------------------------------------------


def _in_thread(target: Callable[[], Any]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def test_sockets_both_directions_with_partial_sends() -> None:
    a, b = socket.socketpair()
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8192)  # forces partial sends
    with a, b:
        encoder = framekit.LengthFieldEncoder()

        def send() -> None:
            fk_sockets.send_frames(a, encoder, PAYLOADS[:1000])
            for payload in PAYLOADS[1000:]:
                fk_sockets.send_frame(a, encoder, payload)
            a.shutdown(socket.SHUT_WR)

        thread = _in_thread(send)
        decoder = framekit.LengthFieldDecoder(max_frame_length=2 * MiB)
        got = [bytes(f) for f in fk_sockets.iter_frames(b, decoder)]
        thread.join(10)

        # and the other way round
        def send_back() -> None:
            fk_sockets.send_frames(b, encoder, PAYLOADS[-3:])
            b.close()

        thread = _in_thread(send_back)
        back = [bytes(f) for f in fk_sockets.iter_frames(a, framekit.LengthFieldDecoder())]
        thread.join(10)
    assert got == PAYLOADS
    assert back == PAYLOADS[-3:]


def test_sockets_cut_and_bad_input() -> None:
    for wire, error in (
        (b"\x01a\x05ab", IncompleteFrameError),
        (b"\x01a\x02", IncompleteFrameError),
    ):
        a, b = socket.socketpair()
        with a, b:
            a.sendall(wire)
            a.shutdown(socket.SHUT_WR)
            frames = fk_sockets.iter_frames(b, framekit.LengthFieldDecoder(1))
            assert bytes(next(frames)) == b"a"
            with pytest.raises(error):
                next(frames)
    a, b = socket.socketpair()
    with a, b:
        a.sendall(b"\x01a\x00")
        frames = fk_sockets.iter_frames(b, framekit.LengthFieldDecoder(1, length_adjustment=-2))
        with pytest.raises(CorruptFrameError):
            list(frames)


def test_sending_refused_payload_sends_nothing() -> None:
    a, b = socket.socketpair()
    with a, b:
        with pytest.raises(FrameTooLongError):
            fk_sockets.send_frames(a, framekit.LengthFieldEncoder(1), [b"ok", b"x" * 300])
        a.shutdown(socket.SHUT_WR)
        assert b.recv(10) == b""
    with pytest.raises(ValueError, match="needs an encoder"):
        fk_sockets.send_frames(a, None, [b"x"])


def test_iter_frames_resumes_after_a_timeout(fk: ModuleType) -> None:
    """A socket timeout raises from iter_frames as from recv; the decoder keeps what it had,
    and a new iter_frames goes on where the last one stopped (as the sockets guide says)."""
    a, b = socket.socketpair()
    with a, b:
        b.settimeout(0.2)
        decoder = fk.LengthFieldDecoder(2)
        a.sendall(b"\x00\x05hel")
        with pytest.raises(socket.timeout):
            next(fk_sockets.iter_frames(b, decoder))
        assert decoder.buffered == 5
        a.sendall(b"lo\x00\x02hi")
        a.shutdown(socket.SHUT_WR)
        assert [bytes(f) for f in fk_sockets.iter_frames(b, decoder)] == [b"hello", b"hi"]


def test_send_frames_without_sendmsg(fk: ModuleType) -> None:
    """Windows sockets have no sendmsg: frames go out with sendall, one buffer at a time, large
    payloads still uncopied."""
    a, b = socket.socketpair()

    class NoSendmsg:  # what a Windows socket offers for sending
        def __init__(self) -> None:
            self.sent: list[object] = []

        def sendall(self, data: memoryview) -> None:
            self.sent.append(data)
            a.sendall(data)

    with a, b:
        big = os.urandom(MiB)
        sock = NoSendmsg()

        def send() -> None:
            try:
                fk_sockets.send_frames(sock, fk.LengthFieldEncoder(), [b"x", big, b"yz"])  # type: ignore[arg-type]
            finally:
                a.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send)
        sender.start()
        frames = [bytes(f) for f in fk_sockets.iter_frames(b, fk.LengthFieldDecoder())]
        sender.join()
        assert frames == [b"x", big, b"yz"]
        assert any(isinstance(s, memoryview) and s.obj is big for s in sock.sent)


def test_open_connection_takes_a_socket(fk: ModuleType, run: Callable[[Any], Any]) -> None:
    """As asyncio.open_connection(sock=...): a connected socket instead of host and port."""
    a, b = socket.socketpair()
    with a, b:
        b.sendall(b"\x00\x02hi")
        b.shutdown(socket.SHUT_WR)

        async def main() -> list[bytes]:
            reader, writer = await fk_asyncio.open_connection(
                sock=a, decoder=fk.LengthFieldDecoder(2), encoder=fk.LengthFieldEncoder(2)
            )
            frames = [bytes(f) async for f in reader]
            writer.write_frame(b"ok")
            await writer.drain()
            writer.close()
            await writer.wait_closed()
            return frames

        assert run(main()) == [b"hi"]
        assert b.recv(16) == b"\x00\x02ok"


# --- anyio, on both of its backends --------------------------------------------------------------

ANYIO_BACKENDS = ["asyncio", "trio"]


@pytest.mark.parametrize("backend", ANYIO_BACKENDS)
def test_anyio_echo_both_directions(backend: str) -> None:
    import anyio
    from anyio.abc import SocketAttribute

    from framekit import anyio as fk_anyio

    async def handler(stream: fk_anyio.FramedStream) -> None:
        while batch := await stream.receive_many():
            await stream.send_many(batch)

    async def main() -> list[bytes]:
        async with anyio.create_task_group() as tg:
            listener = await tg.start(
                lambda task_status: fk_anyio.serve_tcp_framed(
                    handler,
                    host="127.0.0.1",
                    decoder_factory=lambda: _codec()[0],
                    encoder_factory=lambda: _codec()[1],
                    task_status=task_status,
                )
            )
            port = listener.extra(SocketAttribute.local_port)
            stream = await fk_anyio.connect_tcp_framed(
                "127.0.0.1", port, decoder=_codec()[0], encoder=_codec()[1]
            )
            assert stream.extra(SocketAttribute.remote_port) == port

            async def send() -> None:
                for i in range(0, len(PAYLOADS), 100):
                    await stream.send_many(PAYLOADS[i : i + 100])
                await stream.send_eof()  # half-close: the echoes still come back

            tg.start_soon(send)
            got = [bytes(frame) async for frame in stream]
            await stream.aclose()
            tg.cancel_scope.cancel()
        return got

    assert anyio.run(main, backend=backend) == PAYLOADS


@pytest.mark.parametrize("backend", ANYIO_BACKENDS)
def test_anyio_receive_many_errors_and_end_of_stream(backend: str) -> None:
    import anyio

    from framekit import anyio as fk_anyio

    wires = [b"\x01a\x01b\x09123456789\x01c\x01d", b"\x01a\x04xy", b""]

    async def main() -> list[Any]:
        events: list[Any] = []

        async def reply(client: Any) -> None:
            async with client:
                await client.send(wires.pop(0) or b"\x00")
                await client.send_eof()

        async with anyio.create_task_group() as tg:
            listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
            port = listener.extra(anyio.abc.SocketAttribute.local_port)
            tg.start_soon(listener.serve, reply)
            for _ in range(3):
                stream = await fk_anyio.connect_tcp_framed(
                    "127.0.0.1", port, decoder=framekit.LengthFieldDecoder(1, max_frame_length=5)
                )
                while True:
                    try:
                        batch = await stream.receive_many(max_frames=2)
                    except framekit.FrameError as exc:
                        events.append(type(exc).__name__)
                        if isinstance(exc, IncompleteFrameError):
                            break
                        continue
                    if not batch:
                        events.append("end")
                        with pytest.raises(anyio.EndOfStream):
                            await stream.receive()
                        break
                    events.append([bytes(f) for f in batch])
                await stream.aclose()
            tg.cancel_scope.cancel()
        return events

    assert anyio.run(main, backend=backend) == [
        [b"a", b"b"], "FrameTooLongError", [b"c", b"d"], "end",
        [b"a"], "IncompleteFrameError",
        [b""], "end",
    ]  # fmt: skip


# --- switching decoders mid-stream (set_decoder) ------------------------------------------------

SWITCH_PAYLOADS = [b"", b"a", os.urandom(300), b"\r\n\n", os.urandom(70000 % 65535)]
SWITCH_WIRE = b"PROXY TCP4 127.0.0.1\r\n" + b"".join(
    len(p).to_bytes(2, "big") + p for p in SWITCH_PAYLOADS
)


async def _switch_server(how: str) -> tuple[asyncio.Server, int]:
    """A plain asyncio server writing SWITCH_WIRE in one write, or a byte at a time."""

    async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if how == "bytewise":
            writer.transport.get_extra_info("socket").setsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
            )
            for i in range(len(SWITCH_WIRE)):
                writer.write(SWITCH_WIRE[i : i + 1])
                if i < 400:
                    await asyncio.sleep(0)  # (the rest may go together)
        else:
            writer.write(SWITCH_WIRE)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(send, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.parametrize("how", ["one write", "bytewise"])
def test_asyncio_set_decoder_from_frame_received(
    run: Callable[[Awaitable[Any]], Any], how: str
) -> None:
    """A line, then length-prefixed frames: FramedProtocol.set_decoder() from frame_received()
    applies from the next frame, whatever already arrived."""

    class Switching(fk_asyncio.FramedProtocol):
        def __init__(self) -> None:
            super().__init__(framekit.LineDecoder())
            self.got: list[bytes] = []
            self.done = asyncio.get_running_loop().create_future()

        def frame_received(self, frame: Any) -> None:
            self.got.append(bytes(frame))
            if len(self.got) == 1:
                self.set_decoder(framekit.LengthFieldDecoder(2))

        def connection_lost(self, exc: Any) -> None:
            self.done.set_result(None)

    async def main() -> list[bytes]:
        server, port = await _switch_server(how)
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(Switching, "127.0.0.1", port)
        await protocol.done
        server.close()
        await server.wait_closed()
        return protocol.got

    assert run(main()) == [b"PROXY TCP4 127.0.0.1", *SWITCH_PAYLOADS]


@pytest.mark.parametrize("how", ["one write", "bytewise", "all received"])
@pytest.mark.parametrize("rest", ["async for", "read_frames"])
def test_asyncio_reader_set_decoder(
    run: Callable[[Awaitable[Any]], Any], how: str, rest: str
) -> None:
    """FrameReader.set_decoder() after read_frame(): the new decoder gets every byte after the
    line, also when the reader has already received the whole stream."""

    async def main() -> list[bytes]:
        server, port = await _switch_server("one write" if how == "all received" else how)
        reader, writer = await fk_asyncio.open_connection(
            "127.0.0.1", port, decoder=framekit.LineDecoder()
        )
        if how == "all received":
            while reader.buffered < len(SWITCH_WIRE):
                await asyncio.sleep(0.001)
        got = [bytes(await reader.read_frame())]
        reader.set_decoder(framekit.LengthFieldDecoder(2))
        assert isinstance(reader.decoder, framekit.LengthFieldDecoder)
        if rest == "async for":
            got += [bytes(f) async for f in reader]
        else:
            while frames := await reader.read_frames():
                got += [bytes(f) for f in frames]
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return got

    assert run(main()) == [b"PROXY TCP4 127.0.0.1", *SWITCH_PAYLOADS]


@pytest.mark.parametrize("how", ["one write", "bytewise"])
@pytest.mark.parametrize("kind", ["memory", "socket"])
def test_trio_set_decoder(kind: str, how: str) -> None:
    async def main() -> list[bytes]:
        a, b = await _trio_pair(kind)
        channel = fk_trio.FramedStream(b, framekit.LineDecoder())

        async def send() -> None:
            if how == "bytewise":
                for i in range(len(SWITCH_WIRE)):
                    await a.send_all(SWITCH_WIRE[i : i + 1])
            else:
                await a.send_all(SWITCH_WIRE)
            await a.aclose()

        got: list[bytes] = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(send)
            got.append(bytes(await channel.receive()))
            channel.set_decoder(framekit.LengthFieldDecoder(2))
            got += [bytes(f) async for f in channel]
        await channel.aclose()
        return got

    assert trio.run(main) == [b"PROXY TCP4 127.0.0.1", *SWITCH_PAYLOADS]


def test_a_rule_of_ones_own_through_the_adapters(run: Callable[[Awaitable[Any]], Any]) -> None:
    """RuleDecoder is a decoder like any other to the adapters: a netstring-like rule over
    loopback, with a pool, frames of 0 B to 60 KB, on asyncio, uvloop and trio."""
    from framekit.testing import PrefixedRule

    payloads = [os.urandom(n) for n in (0, 1, 200, 60000)] * 20
    wire = b"".join(len(p).to_bytes(2, "big") + p for p in payloads)
    pool = framekit.BufferPool()

    async def main() -> list[bytes]:
        server, port = await _wire_server(wire)
        reader, writer = await fk_asyncio.open_connection(
            "127.0.0.1", port, decoder=framekit.RuleDecoder(PrefixedRule(2), pool=pool)
        )
        got = [bytes(f) async for f in reader]
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        return got

    assert run(main()) == payloads

    async def trio_main() -> list[bytes]:
        a, b = await _trio_pair("socket")
        channel = fk_trio.FramedStream(b, framekit.RuleDecoder(PrefixedRule(2), pool=pool))
        got: list[bytes] = []
        async with trio.open_nursery() as nursery:

            async def send() -> None:
                await a.send_all(wire)
                await a.aclose()

            nursery.start_soon(send)
            got += [bytes(f) async for f in channel]
        await channel.aclose()
        return got

    assert trio.run(trio_main) == payloads


async def _wire_server(wire: bytes) -> tuple[asyncio.Server, int]:
    async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(wire)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(send, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="SO_REUSEPORT is Linux/BSD's")
def test_reuse_port_lets_two_servers_share_a_port(run: Callable[[Awaitable[Any]], Any]) -> None:
    """start_server(..., reuse_port=True) on asyncio, and serve_tcp_framed(..., reuse_port=True)
    on trio: two servers on one port (the multicore example's setup), both answering."""

    async def main() -> list[bytes]:
        async def echo(reader: fk_asyncio.FrameReader, writer: fk_asyncio.FrameWriter) -> None:
            async for frame in reader:
                writer.write_frame(frame)
            writer.close()

        first = await fk_asyncio.start_server(
            echo, "127.0.0.1", 0, decoder_factory=framekit.LengthFieldDecoder,
            encoder_factory=framekit.LengthFieldEncoder, reuse_port=True,
        )  # fmt: skip
        port = first.sockets[0].getsockname()[1]
        second = await fk_asyncio.start_server(
            echo, "127.0.0.1", port, decoder_factory=framekit.LengthFieldDecoder,
            encoder_factory=framekit.LengthFieldEncoder, reuse_port=True,
        )  # fmt: skip
        got = []
        for _ in range(8):
            reader, writer = await fk_asyncio.open_connection(
                "127.0.0.1", port, decoder=framekit.LengthFieldDecoder(),
                encoder=framekit.LengthFieldEncoder(),
            )  # fmt: skip
            writer.write_frame(b"hi")
            got.append(bytes(await reader.read_frame()))
            writer.close()
            await writer.wait_closed()
        for server in (first, second):
            server.close()
            await server.wait_closed()
        return got

    assert run(main()) == [b"hi"] * 8

    async def trio_main() -> list[bytes]:
        async def echo(channel: fk_trio.FramedStream) -> None:
            async for frame in channel:
                await channel.send(frame)

        got = []
        async with trio.open_nursery() as nursery:
            listeners = []
            port = 0
            for _ in range(2):
                listeners.append(
                    await nursery.start(
                        lambda task_status, port=port: fk_trio.serve_tcp_framed(
                            echo,
                            port,
                            host="127.0.0.1",
                            reuse_port=True,
                            decoder_factory=framekit.LengthFieldDecoder,
                            encoder_factory=framekit.LengthFieldEncoder,
                            task_status=task_status,
                        )
                    )
                )
                port = listeners[0][0].socket.getsockname()[1]
            assert listeners[1][0].socket.getsockname()[1] == port
            for _ in range(4):
                channel = await fk_trio.open_tcp_framed_stream(
                    "127.0.0.1", port, decoder=framekit.LengthFieldDecoder(),
                    encoder=framekit.LengthFieldEncoder(),
                )  # fmt: skip
                await channel.send(b"yo")
                got.append(bytes(await channel.receive()))
                await channel.aclose()
            nursery.cancel_scope.cancel()
        return got

    assert trio.run(trio_main) == [b"yo"] * 4


# --- one pool per process (SPEC §9) -----------------------------------------------------------


def _pool_checks(make_decoder: Callable[[Any], Any]) -> list[tuple[Any, Any]]:
    """(decoder, the pool it must have after an adapter took it): none of its own gets the
    adapter's ``pool=`` or else the process's shared pool; one of its own keeps it."""
    own = framekit.BufferPool()
    return [
        (make_decoder(None), framekit.shared_pool()),
        (make_decoder(own), own),
    ]


def test_asyncio_adapters_share_one_pool_per_process(run: Callable[[Awaitable[Any]], Any]) -> None:
    import gc

    chosen = framekit.BufferPool()

    async def main() -> None:
        received: list[bytes] = []
        done = asyncio.get_running_loop().create_future()

        class Sink(fk_asyncio.FramedProtocol):
            def frame_received(self, frame: Any) -> None:
                received.append(bytes(frame))
                if len(received) == 300:
                    done.set_result(None)

        protocols: list[Sink] = []

        def factory() -> Sink:
            protocols.append(Sink(framekit.LengthFieldDecoder(), pool=chosen))
            return protocols[-1]

        server = await asyncio.get_running_loop().create_server(factory, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        reader, writer = await fk_asyncio.open_connection(
            "127.0.0.1", port, decoder=framekit.LengthFieldDecoder(),
            encoder=framekit.LengthFieldEncoder(),
        )  # fmt: skip
        assert reader.decoder.pool is framekit.shared_pool()
        for decoder, pool in _pool_checks(lambda p: framekit.LengthFieldDecoder(pool=p)):
            assert fk_asyncio.FramedProtocol(decoder).decoder.pool is pool
        for i in range(3):
            writer.write_frames([bytes([i]) * 3000] * 100)  # a partial frame held between reads
            await writer.drain()
        await done
        assert protocols[0].decoder.pool is chosen
        gc.collect()
        assert chosen.stats.in_use_bytes == 0, "an idle connection holds no storage"
        assert chosen.stats.retained_bytes > 0, "the storage went back to the pool"
        # set_decoder(): the new decoder gets the pool too, on the streams' reader as well
        protocols[0].set_decoder(framekit.LineDecoder())
        assert protocols[0].decoder.pool is chosen
        reader.set_decoder(framekit.LineDecoder())
        assert reader.decoder.pool is framekit.shared_pool()
        writer.close()
        await writer.wait_closed()
        server.close()
        await server.wait_closed()
        assert received == [bytes([i]) * 3000 for i in range(3) for _ in range(100)]

    run(main())


def test_trio_anyio_and_sockets_adapters_share_one_pool_per_process() -> None:
    from framekit import anyio as fk_anyio

    a, b = socket.socketpair()
    with a, b:
        for decoder, pool in _pool_checks(lambda p: framekit.LineDecoder(pool=p)):
            stream = fk_trio.FramedStream(
                trio.SocketStream(trio.socket.from_stdlib_socket(a)), decoder
            )
            assert stream.decoder.pool is pool
            assert fk_anyio.FramedStream(None, decoder).decoder.pool is pool  # type: ignore[arg-type]
        chosen = framekit.BufferPool()
        stream = fk_trio.FramedStream(
            trio.SocketStream(trio.socket.from_stdlib_socket(b)),
            framekit.LineDecoder(),
            pool=chosen,
        )
        assert stream.decoder.pool is chosen
        stream.set_decoder(framekit.LengthFieldDecoder())
        assert stream.decoder.pool is chosen
        # iter_frames: the same, and it reads with the adaptive size
        decoder = framekit.LineDecoder()
        c, d = socket.socketpair()
        with c, d:
            c.sendall(b"one\ntwo\n")
            c.shutdown(socket.SHUT_WR)
            assert [bytes(f) for f in fk_sockets.iter_frames(d, decoder, pool=chosen)] == [
                b"one",
                b"two",
            ]
        assert decoder.pool is chosen


def test_a_region_the_transport_leaves_unused_is_given_back(
    run: Callable[[Awaitable[Any]], Any],
) -> None:
    """uvloop asks for a region after a read that filled the last one, finds nothing to read,
    and never calls buffer_updated(): once the loop moves on, the storage goes back."""
    import gc

    async def main() -> None:
        pool = framekit.BufferPool()
        protocol = fk_asyncio.FramedProtocol(framekit.LineDecoder(), pool=pool)
        region = protocol.get_buffer(65536)
        del region
        gc.collect()
        assert pool.stats.in_use_bytes > 0
        await asyncio.sleep(0)
        gc.collect()
        assert pool.stats.in_use_bytes == 0
        # a region that is used is not touched; nor is one of a decoder switched away from
        region = protocol.get_buffer(65536)
        region[:4] = b"ab\nc"
        del region
        protocol.buffer_updated(4)
        protocol.get_buffer(-1)
        protocol.set_decoder(framekit.LineDecoder())
        await asyncio.sleep(0)
        assert protocol.decoder.buffered == 1  # the "c" handed over

    run(main())
