"""One framekit server process per core, all on one port behind SO_REUSEPORT: the kernel spreads
the connections among them. Measured against a single process with many connections sending
at once.

    python examples/multicore.py [--connections N] [--frames F] [--processes P]

Each server process is an asyncio ``FramedProtocol`` counting 4-byte length-prefixed frames,
answering one byte when a connection's last frame has arrived. The load comes from this process:
N connections each send F frames of 16 bytes at once.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import time
from typing import Any

import framekit
from framekit.asyncio import FramedProtocol


class Counter(FramedProtocol):
    """Counts frames; answers b"k" after ``expected`` of them."""

    def __init__(self, expected: int) -> None:
        super().__init__(framekit.LengthFieldDecoder())
        self.expected = expected
        self.count = 0

    def frame_received(self, frame: Any) -> None:
        self.count += 1
        if self.count == self.expected:
            assert self.transport is not None
            self.transport.write(b"k")


def serve(port: int, expected: int, ready: Any) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        await loop.create_server(
            lambda: Counter(expected), "127.0.0.1", port, reuse_port=True, backlog=4096
        )
        ready.release()
        await asyncio.Event().wait()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def load(port: int, connections: int, frames: int) -> float:
    """Frames per second the servers take in from ``connections`` sending at once."""
    payload = (16).to_bytes(4, "big") + b"x" * 16
    burst = payload * frames
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(connections)]
    for sock in socks:
        sock.setblocking(False)
    start = time.perf_counter()
    pending = {sock: memoryview(burst) for sock in socks}
    while pending:  # write every connection's burst, as fast as the servers take it
        for sock, view in list(pending.items()):
            try:
                sent = sock.send(view)
            except BlockingIOError:
                continue
            if sent == len(view):
                del pending[sock]
            else:
                pending[sock] = view[sent:]
    for sock in socks:
        sock.setblocking(True)
        if sock.recv(1) != b"k":
            raise RuntimeError("a server did not count every frame")
    seconds = time.perf_counter() - start
    for sock in socks:
        sock.close()
    return connections * frames / seconds


def run(processes: int, connections: int, frames: int) -> float:
    port = free_port()
    ready = multiprocessing.Semaphore(0)
    servers = [
        multiprocessing.Process(target=serve, args=(port, frames, ready), daemon=True)
        for _ in range(processes)
    ]
    for server in servers:
        server.start()
    for _ in servers:
        ready.acquire()
    try:
        return load(port, connections, frames)
    finally:
        for server in servers:
            server.terminate()
            server.join()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=200)
    ap.add_argument("--frames", type=int, default=20_000)
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    one = run(1, args.connections, args.frames)
    many = run(args.processes, args.connections, args.frames)
    print(f"{args.connections} connections, {args.frames} frames of 16 B each")
    print(f"1 process:   {one / 1e6:6.2f} M frames/s")
    print(f"{args.processes} processes: {many / 1e6:6.2f} M frames/s  (x{many / one:.2f})")


if __name__ == "__main__":
    main()
