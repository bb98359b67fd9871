"""Receiving frames over loopback TCP: framekit's FramedProtocol and streams API
(``read_frames()``, ``async for``) beside an asyncio StreamReader.readexactly server, on asyncio
and on uvloop.

    python benchmarks/adapters.py [--frames N] [--payload BYTES]

A separate process connects and sends N frames (4-byte length + payload) as fast as it can; the
server counts frames from the connection to the last one. Figures are million frames/s.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from typing import Any, Callable

import framekit
from framekit.asyncio import FramedProtocol, FrameReader, FrameWriter, start_server

SENDER = """
import socket, struct, sys
host, port, frames, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
stream = (struct.pack(">I", payload) + b"x" * payload) * frames
with socket.create_connection((host, port)) as sock:
    sock.sendall(stream)
"""


async def _serve(
    make_server: Callable[[asyncio.Future[float]], Any], frames: int, payload: int
) -> float:
    done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    server = await make_server(done)
    port = server.sockets[0].getsockname()[1]
    sender = subprocess.Popen(
        [sys.executable, "-c", SENDER, "127.0.0.1", str(port), str(frames), str(payload)]
    )
    try:
        elapsed = await asyncio.wait_for(done, 120)
    finally:
        sender.wait()
        server.close()
        await server.wait_closed()
    return frames / elapsed


def framed_protocol_server(frames: int) -> Callable[[asyncio.Future[float]], Any]:
    class Count(FramedProtocol):
        def __init__(self, done: asyncio.Future[float]) -> None:
            super().__init__(framekit.LengthFieldDecoder(4))
            self.done = done
            self.count = 0
            self.start = 0.0

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self.start = time.perf_counter()

        def frame_received(self, frame: Any) -> None:
            self.count += 1
            if self.count == frames:
                self.done.set_result(time.perf_counter() - self.start)

    def make(done: asyncio.Future[float]) -> Any:
        return asyncio.get_running_loop().create_server(lambda: Count(done), "127.0.0.1", 0)

    return make


def stream_reader_server(frames: int) -> Callable[[asyncio.Future[float]], Any]:
    def make(done: asyncio.Future[float]) -> Any:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            start = time.perf_counter()
            for _ in range(frames):
                header = await reader.readexactly(4)
                await reader.readexactly(int.from_bytes(header, "big"))
            done.set_result(time.perf_counter() - start)
            writer.close()

        return asyncio.start_server(handle, "127.0.0.1", 0)

    return make


def framekit_streams_server(batched: bool) -> Callable[[int], Callable[[Any], Any]]:
    """framekit's streams API: ``read_frames()`` (one await per batch) or ``async for``."""

    def server(frames: int) -> Callable[[asyncio.Future[float]], Any]:
        def make(done: asyncio.Future[float]) -> Any:
            async def handle(reader: FrameReader, writer: FrameWriter) -> None:
                start = time.perf_counter()
                count = 0
                if batched:
                    while count < frames:
                        count += len(await reader.read_frames())
                else:
                    async for _frame in reader:
                        count += 1
                        if count == frames:
                            break
                done.set_result(time.perf_counter() - start)
                writer.close()

            return start_server(
                handle, "127.0.0.1", 0, decoder_factory=lambda: framekit.LengthFieldDecoder(4)
            )

        return make

    return server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1_000_000)
    ap.add_argument("--payload", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    loops: list[tuple[str, Callable[[], asyncio.AbstractEventLoop]]] = [
        ("asyncio", asyncio.new_event_loop)
    ]
    try:
        import uvloop

        loops.append(("uvloop", uvloop.new_event_loop))
    except ImportError:
        print("(uvloop not installed)")
    print(f"framekit implementation: {framekit.implementation}; {args.payload} B payloads")
    for name, factory in loops:
        rates = {}
        for label, server in (
            ("StreamReader.readexactly", stream_reader_server),
            ("framekit FramedProtocol", framed_protocol_server),
            ("framekit read_frames()", framekit_streams_server(True)),
            ("framekit async for", framekit_streams_server(False)),
        ):
            best = 0.0
            for _ in range(args.repeats):
                loop = factory()
                try:
                    rate = loop.run_until_complete(
                        _serve(server(args.frames), args.frames, args.payload)
                    )
                finally:
                    loop.close()
                best = max(best, rate)
            rates[label] = best
            print(f"  {name:8s} {label:26s} {best / 1e6:6.2f} M frames/s")
        base = rates["StreamReader.readexactly"]
        for label in ("framekit FramedProtocol", "framekit read_frames()", "framekit async for"):
            print(f"  {name:8s} {label[9:]} / readexactly = x{rates[label] / base:.2f}")


if __name__ == "__main__":
    main()
