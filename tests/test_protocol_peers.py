"""The protocol decoders against real peers nobody here wrote (SPEC §8): Debian's redis-server
(RESP2, then RESP3 after HELLO 3), util-linux' logger (syslog over TCP, octet counting),
Debian's Neovim (its msgpack-RPC API)."""

from __future__ import annotations

import random
import socket
import subprocess
import threading
from functools import partial
from types import ModuleType
from typing import Any, Callable, Union

import pytest
import servers

Expected = Union[bytes, Callable[[bytes], bool]]


def command(*args: Union[str, bytes]) -> bytes:
    """A Redis command, as clients send it: an array of bulk strings."""
    parts = [a.encode() if isinstance(a, str) else a for a in args]
    return b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)


def bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def receive(decoder: Any, sock: socket.socket, count: int) -> list[bytes]:
    """``count`` frames, read with recv_into() through the decoder's get_buffer()."""
    frames: list[bytes] = []
    while len(frames) < count:
        n = sock.recv_into(decoder.get_buffer())
        assert n, f"the server closed the connection after {len(frames)} frames"
        decoder.buffer_updated(n)
        frames += [bytes(frame) for frame in decoder]
    return frames


def conversation(rng: random.Random) -> tuple[list[bytes], list[Expected]]:
    """20 000+ pipelined commands, and the reply each must get."""
    sent: list[bytes] = []
    expected: list[Expected] = []

    def ask(request: bytes, reply: Expected) -> None:
        sent.append(request)
        expected.append(reply)

    nested = b"*3\r\n:1\r\n*2\r\n:2\r\n*2\r\n:3\r\n$1\r\nx\r\n$1\r\ny\r\n"
    for i in range(4200):
        size = rng.choice([0, 1, 2, 10, 100, 1000])
        if i % 700 == 0:
            size = 1 << 20  # up to 1 MiB
        value = bytes(rng.choice(b"ab\r\n$*:+-") for _ in range(min(size, 64))) * (
            max(1, size // 64)
        )
        key = b"key:%d" % i
        ask(command(b"SET", key, value), b"+OK\r\n")
        ask(command(b"GET", key), bulk(value))
        ask(command(b"GET", b"missing:%d" % i), b"$-1\r\n")
        ask(command(b"MGET", key, b"missing"), b"*2\r\n" + bulk(value) + b"$-1\r\n")
        ask(command(b"NOSUCHCOMMAND", key), lambda r: r.startswith(b"-ERR unknown command"))
        if i % 20 == 0:
            ask(command(b"EVAL", b"return {1,{2,{3,'x'}},'y'}", b"0"), nested)
    return sent, expected


def check(frames: list[bytes], expected: list[Expected]) -> None:
    assert len(frames) == len(expected)
    for i, (frame, want) in enumerate(zip(frames, expected)):
        ok = want(frame) if callable(want) else frame == want
        assert ok, (i, frame[:80], want if not callable(want) else "a predicate")


@pytest.mark.server
def test_resp_on_redis_server(fk: ModuleType) -> None:
    sent, expected = conversation(random.Random(7))
    assert len(sent) >= 20_000
    resp3: list[tuple[bytes, Expected]] = [
        (command("HELLO", "3"), lambda r: r.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n")),
        (command("HSET", "h", "f", "v"), b":1\r\n"),
        (command("HGETALL", "h"), b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"),
        (command("SADD", "s", "a"), b":1\r\n"),
        (command("SMEMBERS", "s"), b"~1\r\n$1\r\na\r\n"),
        (command("ZADD", "z", "1.5", "m"), b":1\r\n"),
        (command("ZSCORE", "z", "m"), b",1.5\r\n"),
        (command("GET", "nothing"), b"_\r\n"),
        (
            command("EVAL", "redis.setresp(3); return {big_number='1234567890123456789012'}", "0"),
            b"(1234567890123456789012\r\n",
        ),
        (command("EVAL", "redis.setresp(3); return true", "0"), b"#t\r\n"),
        (command("SUBSCRIBE", "chan"), b">3\r\n$9\r\nsubscribe\r\n$4\r\nchan\r\n:1\r\n"),
    ]
    with servers.redis() as port, socket.create_connection(("127.0.0.1", port), 60) as sock:
        decoder = fk.RespDecoder()
        writer = threading.Thread(target=sock.sendall, args=(b"".join(sent),))
        writer.start()  # (pipelined: the replies are read while the commands are sent)
        check(receive(decoder, sock, len(expected)), expected)
        writer.join()
        assert decoder.buffered == 0

        sock.sendall(b"".join(request for request, _ in resp3))
        check(receive(decoder, sock, len(resp3)), [reply for _, reply in resp3])
        with socket.create_connection(("127.0.0.1", port), 30) as other:
            other.sendall(command("PUBLISH", "chan", "hello\r\nworld"))
            assert other.recv(100) == b":1\r\n"
        push = b">3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$12\r\nhello\r\nworld\r\n"
        assert receive(decoder, sock, 1) == [push]


def _serve_once(fk: ModuleType, listener: socket.socket, out: list[Any]) -> None:
    conn, _ = listener.accept()
    with conn:
        decoder = fk.OctetCountingDecoder()
        while True:
            n = conn.recv_into(decoder.get_buffer())
            decoder.buffer_updated(n)
            if not n:
                decoder.feed_eof()
                break
            out.extend(bytes(frame) for frame in decoder)


@pytest.mark.server
def test_octet_counting_from_logger(fk: ModuleType, tmp_path: Any) -> None:
    binary = servers.logger()
    rng = random.Random(3)
    lines = [f"message {i} " + "x" * rng.choice([0, 1, 50, 500, 3000]) + " é" for i in range(500)]
    (tmp_path / "messages").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        got: list[Any] = []
        server = threading.Thread(target=_serve_once, args=(fk, listener, got))
        server.start()
        subprocess.run(
            [binary, "--tcp", "--octet-count", "-n", "127.0.0.1", "-P", str(port),
             "-t", "framekit", "--size", "8192", "-f", str(tmp_path / "messages")],
            check=True, timeout=60, env=servers._env(),  # (not the sanitizers' preloads)
        )  # fmt: skip
        server.join(60)
    assert len(got) == len(lines)
    for frame, line in zip(got, lines):
        assert frame.startswith(b"<13>"), frame[:40]  # user.notice
        assert frame.endswith(line.encode()), (frame[-60:], line[-60:])


# --- WebSocket, with the websockets library as the peer ------------------------------------------

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3


def accept_key(key: bytes) -> bytes:
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def messages(rng: random.Random) -> list[tuple[int, bytes]]:
    """(opcode, payload): text and binary, 0 B to 1 MiB."""
    out = []
    for size in [0, 1, 125, 126, 65535, 65536, 1 << 20, *[rng.randrange(5000) for _ in range(20)]]:
        payload = bytes(rng.randrange(256) for _ in range(min(size, 4096)))
        payload = (payload * (size // 4096 + 1))[:size]
        if rng.random() < 0.5:
            out.append((1, bytes(b % 95 + 32 for b in payload)))  # text: ASCII
        else:
            out.append((2, payload))
    return out


async def _write_split(writer: Any, data: bytes, rng: random.Random) -> None:
    """``data`` written in pieces cut at random points (each piece drained)."""
    pos = 0
    while pos < len(data):
        step = rng.choice([1, 2, 7, 100, 5000, 70000])
        writer.write(data[pos : pos + step])
        await writer.drain()
        pos += step


@pytest.mark.parametrize("split", [False, True])
def test_websocket_client_against_websockets_server(fk: ModuleType, split: bool) -> None:
    import asyncio

    from websockets.asyncio.server import serve

    import framekit.asyncio as fk_asyncio

    rng = random.Random(11 + split)
    sent = messages(rng)

    async def echo(ws: Any) -> None:
        async for message in ws:
            await ws.send(message)

    async def main() -> None:
        async with serve(echo, "127.0.0.1", 0, max_size=None, compression=None) as server:
            port = server.sockets[0].getsockname()[1]
            reader, writer = await fk_asyncio.open_connection(
                "127.0.0.1", port, decoder=fk.DelimiterDecoder([b"\r\n\r\n"])
            )
            key = b"dGhlIHNhbXBsZSBub25jZQ=="
            writer.write(
                b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Key: " + key + b"\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            head = bytes(await reader.read_frame())
            assert head.startswith(b"HTTP/1.1 101"), head
            assert b"Sec-WebSocket-Accept: " + accept_key(key) in head
            reader.set_decoder(fk.WebSocketDecoder(role="client"))
            encoder = fk.WebSocketEncoder(role="client")
            wire = b"".join(encoder.encode(p, opcode=o) for o, p in sent)
            # a message in three fragments, with a ping between them
            wire += encoder.encode(b"frag", opcode=1, fin=False)
            wire += encoder.encode(b"ping!", opcode=9)
            wire += encoder.encode(b"men", opcode=0, fin=False)
            wire += encoder.encode(b"ted", opcode=0)
            if split:
                sender = asyncio.ensure_future(_write_split(writer, wire, rng))
            else:
                writer.write(wire)
                sender = asyncio.ensure_future(writer.drain())
            got: list[tuple[int, bytes, bool]] = []
            while len(got) < len(sent) + 2:
                frame: Any = await reader.read_frame()
                got.append((frame.opcode, bytes(frame.payload), frame.fin))
            await sender
            # the echoes in order; the pong among them wherever the server sent it
            assert [g for g in got if g[0] != 10] == [(o, p, True) for o, p in sent] + [
                (1, b"fragmented", True)
            ]
            assert [g for g in got if g[0] == 10] == [(10, b"ping!", True)]
            writer.write(encoder.encode(b"\x03\xe8done", opcode=8))
            close: Any = await reader.read_frame()
            assert (close.opcode, bytes(close.payload)) == (8, b"\x03\xe8done")
            writer.close()

    asyncio.run(main())


@pytest.mark.parametrize("split", [False, True])
def test_websocket_server_against_websockets_client(fk: ModuleType, split: bool) -> None:
    import asyncio

    from websockets.asyncio.client import connect

    import framekit.asyncio as fk_asyncio

    rng = random.Random(21 + split)
    sent = messages(rng)
    seen: list[tuple[int, bytes]] = []

    async def serve_one(reader: Any, writer: Any) -> None:
        head = bytes(await reader.read_frame())
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept_key(key) + b"\r\n\r\n"
        )
        reader.set_decoder(fk.WebSocketDecoder(role="server"))
        encoder = fk.WebSocketEncoder(role="server")
        async for frame in reader:
            seen.append((frame.opcode, bytes(frame.payload)))
            if frame.opcode == 9:  # ping: pong
                reply = encoder.encode(frame.payload, opcode=10)
            else:  # data echoed, close answered
                reply = encoder.encode(frame.payload, opcode=frame.opcode)
            if split:
                await _write_split(writer, reply, rng)
            else:
                writer.write(reply)
                await writer.drain()
            if frame.opcode == 8:
                writer.close()
                return

    async def main() -> None:
        server = await fk_asyncio.start_server(
            serve_one, "127.0.0.1", 0, decoder_factory=lambda: fk.DelimiterDecoder([b"\r\n\r\n"])
        )
        port = server.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}/", max_size=None, compression=None) as ws:
            for opcode, payload in sent:
                await ws.send(payload.decode() if opcode == 1 else payload)
                echoed = await ws.recv()
                assert echoed == (payload.decode() if opcode == 1 else payload)
            pong = await ws.ping(b"are you there")
            await asyncio.wait_for(pong, 30)
        server.close()
        await server.wait_closed()

    asyncio.run(main())
    assert seen[: len(sent)] == sent
    assert seen[len(sent)] == (9, b"are you there")
    assert seen[-1][0] == 8  # the client's close, answered


# --- PROXY protocol, behind Debian's haproxy ------------------------------------------------------


async def _ask_through(port: int) -> tuple[int, bytes]:
    """Connect (to haproxy), say a line, return (our source port, the server's answer)."""
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    source = writer.get_extra_info("sockname")[1]
    writer.write(b"hello\n")
    answer = await reader.readline()
    writer.close()
    return source, answer


@pytest.mark.server
def test_proxy_protocol_asyncio_behind_haproxy(fk: ModuleType) -> None:
    import asyncio

    import framekit.asyncio as fk_asyncio

    async def answer(reader: Any, writer: Any) -> None:
        try:
            line = bytes(await reader.read_frame())
        except EOFError:  # (haproxy relaying the connect that checked it listens)
            return
        header = reader.proxy_header
        host, port = writer.get_extra_info("peername")
        writer.write(b"%s %d v%d %s\n" % (host.encode(), port, header.version, line))
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await fk_asyncio.start_server(
            answer, "127.0.0.1", 0, decoder_factory=fk.LineDecoder, proxy_protocol=True
        )
        backend = server.sockets[0].getsockname()[1]
        with servers.haproxy(backend) as (v1, v2):
            for port, version in ((v1, 1), (v2, 2)):
                source, got = await _ask_through(port)
                assert got == b"127.0.0.1 %d v%d hello\n" % (source, version)
        # a connection that does not begin with a header is closed, unanswered
        reader, writer = await asyncio.open_connection("127.0.0.1", backend)
        writer.write(b"hello\n")
        assert await reader.read() == b""
        server.close()
        await server.wait_closed()

    asyncio.run(main())


@pytest.mark.server
def test_proxy_protocol_trio_behind_haproxy(fk: ModuleType) -> None:
    import trio

    from framekit.trio import serve_tcp_framed

    async def answer(stream: Any) -> None:
        try:
            line = bytes(await stream.receive())
        except (trio.EndOfChannel, trio.BrokenResourceError):  # (haproxy relaying the connect
            return  # that checked it listens: closed, or reset)
        header = stream.proxy_header
        host, port = header.source
        await stream.stream.send_all(
            b"%s %d v%d %s\n" % (host.encode(), port, header.version, line)
        )

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(
                partial(
                    serve_tcp_framed, answer, 0, host="127.0.0.1",
                    decoder_factory=fk.LineDecoder, proxy_protocol=True,
                )
            )  # fmt: skip
            backend = listeners[0].socket.getsockname()[1]
            with servers.haproxy(backend) as (v1, v2):
                for port, version in ((v1, 1), (v2, 2)):
                    stream = await trio.open_tcp_stream("127.0.0.1", port)
                    source = stream.socket.getsockname()[1]
                    await stream.send_all(b"hello\n")
                    got = b""
                    while not got.endswith(b"\n"):
                        chunk = await stream.receive_some()
                        if not chunk:
                            break
                        got += chunk
                    await stream.aclose()
                    assert got == b"127.0.0.1 %d v%d hello\n" % (source, version)
            nursery.cancel_scope.cancel()

    trio.run(main)


# --- chunked bodies from nginx, over keep-alive ---------------------------------------------------


def os_chmod_tree(path: Any) -> None:
    """Let nginx's worker (another user, when we are root) read the files."""
    import os

    for root, _dirs, names in os.walk(path):
        os.chmod(root, 0o755)
        for name in names:
            os.chmod(os.path.join(root, name), 0o644)


def _recv_until(sock: socket.socket, decoder: Any, want: Callable[[], Any]) -> Any:
    """Read into ``decoder`` until ``want()`` gives something."""
    while True:
        got = want()
        if got is not None:
            return got
        n = sock.recv_into(decoder.get_buffer())
        assert n, "the server closed the connection"
        decoder.buffer_updated(n)


@pytest.mark.server
def test_chunked_bodies_from_nginx_over_keep_alive(fk: ModuleType, tmp_path: Any) -> None:
    import gzip

    rng = random.Random(5)
    files = {
        "empty.txt": b"",
        "small.txt": b"hello, chunked world\n",
        "large.txt": b"".join(
            b"line %d %s\n" % (i, b"x" * rng.randrange(80)) for i in range(20000)
        ),
    }
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    os_chmod_tree(tmp_path)
    with (
        servers.nginx(str(tmp_path)) as port,
        socket.create_connection(("127.0.0.1", port), 30) as sock,
    ):
        names = [*files, "large.txt", "small.txt"]
        sock.sendall(
            b"".join(
                b"GET /%s HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n" % n.encode()
                for n in names
            )
        )  # pipelined: the responses follow each other on the connection
        head_decoder = fk.DelimiterDecoder([b"\r\n\r\n"])
        for name in names:
            head = bytes(_recv_until(sock, head_decoder, head_decoder.next_frame))
            assert head.startswith(b"HTTP/1.1 200"), head
            assert b"\r\nTransfer-Encoding: chunked" in head, head
            body = fk.ChunkedDecoder()
            body.feed(head_decoder.detach())  # what came after the head
            chunks: list[bytes] = []

            def more(body: Any = body, chunks: list[bytes] = chunks) -> Any:
                chunks.extend(bytes(c) for c in body)
                return True if body.done else None

            _recv_until(sock, body, more)
            assert body.trailers == []
            assert gzip.decompress(b"".join(chunks)) == files[name]
            assert len(chunks) > 1 or name != "large.txt"  # the body came in many chunks
            head_decoder.feed(body.detach())  # the next response's first bytes
        assert head_decoder.buffered == 0


def result(value: Any) -> Callable[[Any], bool]:
    """The check of a response without error whose result is ``value``."""
    return lambda response: bool(response == [None, value])


def nvim_requests(rng: random.Random) -> list[tuple[list[Any], Callable[[Any], bool]]]:
    """msgpack-RPC requests to Neovim's API, and a check of each response: results of every
    MessagePack family (strings and arrays past 16 and 32-bit lengths, nested maps, floats,
    negative numbers, the ext types of buffer handles, errors)."""
    calls: list[tuple[str, list[Any], Callable[[Any], bool]]] = [
        ("nvim_eval", ["1+1"], result(2)),
        ("nvim_eval", ["nosuchfunction()"], lambda r: "E117" in r[0][1] and r[1] is None),
        ("nvim_eval", ["[1.5, v:true, v:false, v:null, -123456789012, {'a': [1]}]"],
         result([1.5, True, False, None, -123456789012, {"a": [1]}])),
        ("nvim_list_bufs", [], lambda r: bool(r[1]) and all(b.code == 0 for b in r[1])),
        ("nvim_get_api_info", [], lambda r: bool(r[1][1]["version"]["major"] == 0)),
    ]  # fmt: skip
    for n in (0, 31, 32, 255, 256, 65535, 65536, 300000):
        calls.append(("nvim_eval", [f"repeat('x', {n})"], result("x" * n)))
    for n in (0, 15, 16, 65535, 65536):
        calls.append(("nvim_eval", [f"range({n})"], result(list(range(n)))))
    for _ in range(400):
        depth = rng.randint(0, 6)
        number = rng.randint(-(2**40), 2**40)
        nested: Any = number
        for _ in range(depth):
            nested = [nested]
        calls.append(("nvim_eval", ["[" * depth + str(number) + "]" * depth], result(nested)))
        key = "".join(rng.choice("abc") for _ in range(rng.randint(1, 40)))
        calls.append(("nvim_eval", [f"{{'{key}': '{key}'}}"], result({key: key})))
    rng.shuffle(calls)
    return [([0, msgid, method, params], ok) for msgid, (method, params, ok) in enumerate(calls)]


@pytest.mark.server
@pytest.mark.parametrize("split", [False, True])
def test_msgpack_rpc_with_neovim(fk: ModuleType, split: bool) -> None:
    """Pipelined requests to Neovim's msgpack-RPC API over TCP; its responses (in an order of
    its own) framed one object each, read through get_buffer() or in pieces of 1-64 bytes."""
    import msgpack

    rng = random.Random(11)
    requests = nvim_requests(rng)
    checks = {request[1]: ok for request, ok in requests}
    with servers.neovim() as port, socket.create_connection(("127.0.0.1", port), 60) as sock:
        decoder = fk.MessagePackDecoder()
        wire = b"".join(msgpack.packb(request) for request, _ in requests)
        writer = threading.Thread(target=sock.sendall, args=(wire,))
        writer.start()
        received = bytearray()
        frames: list[bytes] = []
        while len(frames) < len(requests):
            if split:
                data = sock.recv(rng.randint(1, 64))
                assert data, "Neovim closed the connection"
                received += data
                decoder.feed(data)
            else:
                n = sock.recv_into(decoder.get_buffer())
                assert n, "Neovim closed the connection"
                decoder.buffer_updated(n)
            frames += [bytes(frame) for frame in decoder]
        writer.join()
    assert decoder.buffered == 0
    if split:
        assert b"".join(frames) == received
    answered = set()
    for frame in frames:
        kind, msgid, error, result = msgpack.unpackb(frame, strict_map_key=False)
        assert kind == 1 and msgid not in answered
        answered.add(msgid)
        assert checks[msgid]([error, result]), (msgid, frame[:100])
    assert answered == set(checks)
