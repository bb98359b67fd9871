"""The protocol decoders against real peers nobody here wrote (SPEC §8): Debian's redis-server
(RESP2, then RESP3 after HELLO 3) and util-linux' logger (syslog over TCP, octet counting)."""

from __future__ import annotations

import random
import socket
import subprocess
import threading
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
            check=True, timeout=60,
        )  # fmt: skip
        server.join(60)
    assert len(got) == len(lines)
    for frame, line in zip(got, lines):
        assert frame.startswith(b"<13>"), frame[:40]  # user.notice
        assert frame.endswith(line.encode()), (frame[-60:], line[-60:])
