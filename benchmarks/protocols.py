"""The protocol decoders (SPEC §8), parse only, beside the Python peers for the same framing.

    python benchmarks/protocols.py [--frames N] [--repeats R]

Each contender gets the same stream in 64 KiB chunks and hands out every frame (consumed: its
length summed). Netstrings, octet-counted syslog and chunked bodies: framekit against careful
hand-written Python (and Twisted's NetstringReceiver). RESP (pipelined replies: +OK,
integers, 100 B bulk strings, 3-element arrays): framekit's RespDecoder against hiredis' Reader
(C), redis-py's pure-Python parser and a careful Python splitter. hiredis and redis-py also
build a Python object per value; RespDecoder hands out each value's wire bytes as a zero-copy
view, for the caller to forward or parse.
JSON texts (newline-separated objects of about 60 bytes): JsonStreamDecoder against
``json.JSONDecoder.raw_decode`` splitting, which parses each text to find its end.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from collections.abc import Callable
from functools import partial
from typing import Any, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rules import best, twisted_netstrings
from rules import careful as careful_netstrings

import framekit

CHUNK = 65536


def framekit_count(make: Callable[[], Any]) -> Callable[[list[bytes]], int]:
    def run(chunks: list[bytes]) -> int:
        decoder = make()
        count = 0
        for chunk in chunks:
            decoder.feed(chunk)
            for frame in decoder:
                count += len(frame)
        return count

    return run


def careful_octets(chunks: list[bytes]) -> int:
    """A careful hand-written octet-counting decoder: find(), int(), memoryview slices."""
    count = 0
    buf = b""
    for chunk in chunks:
        buf = buf + chunk if buf else chunk
        view = memoryview(buf)
        pos = 0
        end = len(buf)
        while True:
            space = buf.find(b" ", pos, pos + 11)
            if space < 0:
                if end - pos > 10:
                    raise ValueError("bad octet count")
                break
            digits = buf[pos:space]
            if not digits.isdigit() or digits[:1] == b"0":
                raise ValueError("bad octet count")
            stop = space + 1 + int(digits)
            if stop > end:
                break
            count += len(view[space + 1 : stop])
            pos = stop
        buf = buf[pos:]
    return count


def careful_chunked(chunks: list[bytes]) -> int:
    """A careful hand-written chunked-body reader: find(), int(x, 16), memoryview slices."""
    count = 0
    buf = b""
    for chunk in chunks:
        buf = buf + chunk if buf else chunk
        view = memoryview(buf)
        pos = 0
        end = len(buf)
        while True:
            line = buf.find(b"\r\n", pos, pos + 8192)
            if line < 0:
                break
            size = int(buf[pos:line].split(b";", 1)[0], 16)
            stop = line + 2 + size
            if stop + 2 > end:
                break
            if buf[stop : stop + 2] != b"\r\n":
                raise ValueError("chunk data not followed by CRLF")
            count += len(view[line + 2 : stop])
            pos = stop + 2
        buf = buf[pos:]
    return count


def careful_json(chunks: list[bytes]) -> int:
    """JSON texts split with json.JSONDecoder.raw_decode, as careful Python does it (SPEC §8):
    it parses each text to find its end."""
    import json

    decoder = json.JSONDecoder()
    count = 0
    text = ""
    for chunk in chunks:
        text += chunk.decode()
        pos = 0
        end = len(text)
        while True:
            while pos < end and text[pos] in " \t\r\n\x1e":
                pos += 1
            if pos == end:
                break
            try:
                _, stop = decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                break  # not all there yet
            if stop == end and text[pos] in "-0123456789":
                break  # a number may go on in the next chunk
            count += stop - pos
            pos = stop
        text = text[pos:]
    return count


def careful_resp(chunks: list[bytes]) -> int:
    """A careful hand-written RESP splitter (whole values, wire bytes), as a proxy would."""
    count = 0
    buf = b""
    for chunk in chunks:
        buf = buf + chunk if buf else chunk
        view = memoryview(buf)
        pos = 0
        end = len(buf)
        while pos < end:
            i = pos
            pending = 1
            while pending:
                line = buf.find(b"\r\n", i)
                if line < 0:
                    break
                kind = buf[i]
                if kind in b"$!=":
                    size = int(buf[i + 1 : line])
                    i = line + 2 + (size + 2 if size >= 0 else 0)
                    if i > end:
                        break
                    pending -= 1
                elif kind in b"*~>%":
                    n = int(buf[i + 1 : line])
                    i = line + 2
                    pending += (n * 2 if kind == 37 else n) - 1 if n > 0 else -1
                else:
                    i = line + 2
                    pending -= 1
            if pending:
                break
            count += len(view[pos:i])
            pos = i
        buf = buf[pos:]
    return count


class _Chunks:
    """A socket that gives ``chunks``, for redis-py's parser to read from."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = iter(chunks)

    def recv(self, size: int) -> bytes:
        return next(self._chunks, b"")

    def settimeout(self, timeout: object) -> None:
        pass


def redis_py_count(chunks: list[bytes], frames: int) -> int:
    """redis-py's pure-Python RESP2 parser (``_RESP2Parser``, what it uses without hiredis),
    reading the stream as it reads a connection."""
    from redis._parsers.encoders import Encoder
    from redis._parsers.resp2 import _RESP2Parser
    from redis._parsers.socket import SocketBuffer

    parser = _RESP2Parser(socket_read_size=CHUNK)  # type: ignore[no-untyped-call]
    parser._buffer = SocketBuffer(_Chunks(chunks), CHUNK, None)  # type: ignore[arg-type]
    parser.encoder = Encoder("utf-8", "strict", decode_responses=False)  # type: ignore[no-untyped-call]
    for _ in range(frames):
        parser.read_response(disable_decoding=True)
    return frames


def hiredis_count(chunks: list[bytes]) -> int:
    import hiredis

    reader = hiredis.Reader()
    count = 0
    for chunk in chunks:
        reader.feed(chunk)
        while True:
            value = reader.gets()
            if value is False:
                break
            count += 1
    return count


def streams(frames: int) -> dict[str, tuple[bytes, int, int]]:
    """name -> (stream, frames, payload bytes)."""
    rng = random.Random(1)
    rnd = bytes(rng.randrange(256) for _ in range(2048))
    out = {}
    for size in (16, 100, 1000):
        payloads = [rnd[: size + i % 8] for i in range(frames)]
        total = sum(map(len, payloads))
        out[f"netstring {size} B"] = (
            b"".join(b"%d:%s," % (len(p), p) for p in payloads), frames, total
        )  # fmt: skip
        out[f"octet-counted {size} B"] = (
            b"".join(b"%d %s" % (len(p), p) for p in payloads), frames, total
        )  # fmt: skip
        out[f"chunked {size} B"] = (
            b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in payloads), frames, total
        )  # fmt: skip
    replies = [
        b"+OK\r\n",
        b":12345\r\n",
        b"$100\r\n" + rnd[:100] + b"\r\n",
        b"*3\r\n$5\r\nhello\r\n:1\r\n$3\r\nabc\r\n",
    ]
    wire = [replies[i % 4] for i in range(frames)]
    out["RESP replies"] = (b"".join(wire), frames, sum(map(len, wire)))
    texts = [
        b'{"id": %d, "name": "item %d", "tags": ["a", "b"], "ok": true}' % (i, i)
        for i in range(frames)
    ]
    out["JSON texts"] = (b"\n".join(texts) + b"\n", frames, sum(map(len, texts)))
    return out


def main(argv: Optional[list[str]] = None) -> dict[str, dict[str, float]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    print(f"framekit implementation: {framekit.implementation}; {args.frames:,} frames a stream")
    results: dict[str, dict[str, float]] = {}
    for name, (data, frames, payload) in streams(args.frames).items():
        chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
        if name.startswith("netstring"):
            contenders = {
                "framekit": (framekit_count(framekit.NetstringDecoder), payload),
                "careful Python": (careful_netstrings, payload),
            }
            try:
                import twisted  # noqa: F401
            except ImportError:
                pass
            else:
                contenders["Twisted"] = (twisted_netstrings, payload)
        elif name.startswith("JSON"):
            contenders = {
                "framekit": (framekit_count(framekit.JsonStreamDecoder), payload),
                "careful Python": (careful_json, payload),
            }
        elif name.startswith("chunked"):
            contenders = {
                "framekit": (framekit_count(framekit.ChunkedDecoder), payload),
                "careful Python": (careful_chunked, payload),
            }
        elif name.startswith("octet"):
            contenders = {
                "framekit": (framekit_count(framekit.OctetCountingDecoder), payload),
                "careful Python": (careful_octets, payload),
            }
        else:
            contenders = {
                "framekit": (framekit_count(framekit.RespDecoder), payload),
                "careful Python": (careful_resp, payload),
            }
            try:
                import hiredis  # noqa: F401
            except ImportError:
                print("  (hiredis is not installed: pip install hiredis)")
            else:
                contenders["hiredis"] = (hiredis_count, frames)
            try:
                import redis  # noqa: F401
            except ImportError:
                print("  (redis-py is not installed: pip install redis)")
            else:
                contenders["redis-py"] = (partial(redis_py_count, frames=frames), frames)
        row = results[name] = {}
        for who, (fn, expected) in contenders.items():
            seconds, count = best(partial(fn, chunks), args.repeats)
            assert count == expected, (name, who, count, expected)
            row[who] = frames / seconds
        ours = row["framekit"]
        shown = "  ".join(
            f"{who} {rate / 1e6:6.2f} M/s" + ("" if who == "framekit" else f" (x{ours / rate:.2f})")
            for who, rate in row.items()
        )
        print(f"  {name:<22} {shown}")
    return results


if __name__ == "__main__":
    main()
