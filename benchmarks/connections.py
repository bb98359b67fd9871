"""Server memory per idle connection: framekit's FramedProtocol and streams beside an asyncio
streams server (and on uvloop; trio's FramedStream beside plain trio), each server in its own
process, the connections from this one.

    python benchmarks/connections.py [--connections N] [--servers NAME ...]

Each server frames 4-byte length-prefixed messages and answers each with one byte. The client
opens N connections, sends a 5-byte message on each (a 1-byte payload) and waits for every
answer; the server's resident memory (VmRSS) growth divided by N is the first figure. Then a
60 KB message on each, and the same again: memory a connection keeps after a burst.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import time
from typing import Any

SERVERS = [
    "asyncio-streams",
    "framekit-protocol",
    "framekit-streams",
    "uvloop-asyncio-streams",
    "uvloop-framekit-protocol",
    "uvloop-framekit-streams",
    "trio-plain",
    "trio-framekit",
]
BURST = 60_000


def _raise_nofile() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- the servers (run in a child process: python connections.py --serve NAME) ---------------


def serve(name: str) -> None:
    _raise_nofile()
    if name.startswith("trio"):
        _serve_trio(name)
        return
    import asyncio

    if name.startswith("uvloop-"):
        import uvloop

        uvloop.install()
        name = name[len("uvloop-") :]
    asyncio.run(_serve_asyncio(name))


def _announce(port: int) -> None:
    print(port, flush=True)


async def _serve_asyncio(name: str) -> None:
    import asyncio

    import framekit
    from framekit import asyncio as fk_asyncio

    if name == "asyncio-streams":

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    header = await reader.readexactly(4)
                    await reader.readexactly(int.from_bytes(header, "big"))
                    writer.write(b"k")
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    elif name == "framekit-protocol":

        class Answer(fk_asyncio.FramedProtocol):
            def frame_received(self, frame: Any) -> None:
                assert self.transport is not None
                self.transport.write(b"k")

        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: Answer(framekit.LengthFieldDecoder()), "127.0.0.1", 0, backlog=4096
        )
    else:

        async def answer(reader: fk_asyncio.FrameReader, writer: fk_asyncio.FrameWriter) -> None:
            async for _frame in reader:
                writer.write(b"k")
            writer.close()

        server = await fk_asyncio.start_server(
            answer, "127.0.0.1", 0, decoder_factory=framekit.LengthFieldDecoder, backlog=4096
        )
    _announce(server.sockets[0].getsockname()[1])
    await asyncio.Event().wait()


def _serve_trio(name: str) -> None:
    import trio

    import framekit
    from framekit import trio as fk_trio

    async def plain(stream: trio.SocketStream) -> None:
        buf = bytearray()
        while True:
            data = await stream.receive_some(65536)
            if not data:
                return
            buf += data
            while len(buf) >= 4 and len(buf) >= 4 + int.from_bytes(buf[:4], "big"):
                del buf[: 4 + int.from_bytes(buf[:4], "big")]
                await stream.send_all(b"k")

    async def framed(stream: trio.SocketStream) -> None:
        channel = fk_trio.FramedStream(stream, framekit.LengthFieldDecoder())
        async for _frame in channel:
            await stream.send_all(b"k")

    async def main() -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1", backlog=4096)
        _announce(listeners[0].socket.getsockname()[1])
        await trio.serve_listeners(plain if name == "trio-plain" else framed, listeners)

    trio.run(main)


# --- the client ------------------------------------------------------------------------------


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def _send_all_and_wait(socks: list[socket.socket], message: bytes) -> None:
    for sock in socks:
        sock.sendall(message)
    for sock in socks:
        if sock.recv(1) != b"k":
            raise RuntimeError("no answer")


def measure(name: str, count: int) -> tuple[float, float]:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", name], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        time.sleep(0.3)
        base = rss(server.pid)
        socks = []
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port))
            socks.append(sock)
        _send_all_and_wait(socks, (1).to_bytes(4, "big") + b"x")
        time.sleep(0.3)
        small = (rss(server.pid) - base) / count
        _send_all_and_wait(socks, BURST.to_bytes(4, "big") + bytes(BURST))
        time.sleep(0.3)
        burst = (rss(server.pid) - base) / count
        for sock in socks:
            sock.close()
        return small, burst
    finally:
        server.kill()
        server.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--servers", nargs="*", default=SERVERS, choices=SERVERS)
    ap.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve)
        return
    _raise_nofile()
    print(f"server RSS growth per connection, {args.connections} connections")
    print(f"{'server':<26} {'after 5 B':>10} {'after 60 KB':>12}")
    for name in args.servers:
        small, burst = measure(name, args.connections)
        print(f"{name:<26} {small / 1024:8.1f} KiB {burst / 1024:10.1f} KiB", flush=True)


if __name__ == "__main__":
    os.environ.setdefault("FRAMEKIT_REQUIRE_EXTENSION", "0")
    main()
