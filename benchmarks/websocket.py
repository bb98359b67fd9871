"""WebSocketDecoder, parse only, beside the Python WebSocket readers (SPEC §8).

    python benchmarks/websocket.py [--frames N] [--repeats R]

Each reader gets the same stream of binary frames in 64 KiB chunks and hands out every payload:
framekit's WebSocketDecoder; websockets' frame parser (``Frame.parse`` over its StreamReader,
with its C mask speedup, as its Protocol runs it); aiohttp's reader (its Cython build, as its
client and server run it: it also gathers each message); wsproto's FrameProtocol. Payloads of
125 B, 1 KiB and 64 KiB, masked (what a server reads) and not (what a client reads). The
figures are frames per second.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from functools import partial
from typing import Any, Optional

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from rules import best

import framekit

CHUNK = 65536


def ours(chunks: list[bytes], masked: bool) -> int:
    decoder: Any = framekit.WebSocketDecoder(role="server" if masked else "client")
    count = 0
    for chunk in chunks:
        decoder.feed(chunk)
        for frame in decoder:
            count += len(frame.payload)
    return count


def websockets_parser(chunks: list[bytes], masked: bool) -> int:
    from websockets.frames import Frame
    from websockets.streams import StreamReader

    reader = StreamReader()
    count = 0
    parser = Frame.parse(reader.read_exact, mask=masked)
    for chunk in chunks:
        reader.feed_data(chunk)
        while True:
            try:
                parser.send(None)
            except StopIteration as done:
                count += len(done.value.data)
                parser = Frame.parse(reader.read_exact, mask=masked)
            else:
                break
    return count


class _Protocol:
    _reading_paused = False

    def pause_reading(self) -> None:
        self._reading_paused = True

    def resume_reading(self) -> None:
        self._reading_paused = False


def aiohttp_reader(chunks: list[bytes], masked: bool) -> int:
    from aiohttp._websocket.reader import WebSocketDataQueue, WebSocketReader

    loop = asyncio.new_event_loop()
    try:
        queue = WebSocketDataQueue(_Protocol(), 1 << 30, loop=loop)  # type: ignore[arg-type]
        reader = WebSocketReader(queue, 0, compress=False, decode_text=False)
        buffer = queue._buffer
        count = 0
        for chunk in chunks:
            reader.feed_data(chunk)
            while buffer:
                count += len(buffer.popleft()[0].data)
        return count
    finally:
        loop.close()


def wsproto_reader(chunks: list[bytes], masked: bool) -> int:
    from wsproto.frame_protocol import FrameProtocol

    protocol = FrameProtocol(client=not masked, extensions=[])
    count = 0
    for chunk in chunks:
        protocol.receive_bytes(chunk)
        for frame in protocol.received_frames():
            count += len(frame.payload)
    return count


READERS: dict[str, Callable[[list[bytes], bool], int]] = {
    "framekit": ours,
    "websockets": websockets_parser,
    "aiohttp": aiohttp_reader,
    "wsproto": wsproto_reader,
}


def main(argv: Optional[list[str]] = None) -> dict[str, dict[str, float]]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=100_000, help="of 125 B (fewer when larger)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    print(f"framekit implementation: {framekit.implementation}")
    results: dict[str, dict[str, float]] = {}
    for size in (125, 1024, 65536):
        frames = max(2000, args.frames * 125 // size)  # a 64 KiB run takes ms, not 0.4 ms
        payload = os.urandom(size)
        for masked in (True, False):
            encoder = framekit.WebSocketEncoder(role="client" if masked else "server")
            data = encoder.encode(payload) * frames
            chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
            name = f"{size} B {'masked' if masked else 'unmasked'}"
            row = results[name] = {}
            for who, reader in READERS.items():
                try:
                    seconds, count = best(partial(reader, chunks, masked), args.repeats)
                except ImportError:
                    continue  # (pip install websockets aiohttp wsproto)
                assert count == size * frames, (name, who, count)
                row[who] = frames / seconds
            mine = row["framekit"]
            shown = "  ".join(
                f"{who} {rate / 1e6:6.3f} M/s"
                + ("" if who == "framekit" else f" (x{mine / rate:.2f})")
                for who, rate in row.items()
            )
            print(f"  {name:<18} {shown}")
    return results


if __name__ == "__main__":
    main()
