"""Server memory per idle connection: framekit's FramedProtocol and streams beside an asyncio
streams server (and on uvloop; trio's FramedStream beside plain trio), each server in its own
process, the connections from this one.

    python benchmarks/connections.py [--connections N] [--servers NAME ...]
                                     [--active N] [--frames F]

Each server frames 4-byte length-prefixed messages and answers each with one byte. The client
opens N connections, sends a 5-byte message on each (a 1-byte payload) and waits for every
answer; the server's resident memory (VmRSS) growth divided by N is the first figure. Then a
60 KB message on each, and the same again: memory a connection keeps after a burst.

Then the same servers under load: ``--active`` connections (2 000) each send ``--frames`` frames
of 16 bytes at once, and the server answers one byte after a connection's last frame; frames per
second from the first byte sent to the last answer read. (The client shares this machine's
cores.)

    python benchmarks/connections.py --hold N [--servers NAME ...]

holds N connections at once on one server process (RLIMIT_NOFILE raised to its hard limit) from
client processes of their own, each connection from one of the 127.0.x.y source addresses (so
that no address runs out of ephemeral ports); when all are open, a 5-byte message goes out on
every one and every answer is read, twice. It reports the time to open them, each round's time,
and the server's memory. A server whose file limit cannot hold N connections is reported, not
run (and the exit status is 1).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import struct
import subprocess
import sys
import time
from typing import Any, Optional

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


def serve(name: str, every: int) -> None:
    _raise_nofile()
    if name.startswith("trio"):
        _serve_trio(name, every)
        return
    import asyncio

    if name.startswith("uvloop-"):
        import uvloop

        uvloop.install()
        name = name[len("uvloop-") :]
    asyncio.run(_serve_asyncio(name, every))


def _announce(port: int) -> None:
    print(port, flush=True)


async def _serve_asyncio(name: str, every: int) -> None:
    import asyncio

    import framekit
    from framekit import asyncio as fk_asyncio

    if name == "asyncio-streams":

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            count = 0
            try:
                while True:
                    header = await reader.readexactly(4)
                    await reader.readexactly(int.from_bytes(header, "big"))
                    count += 1
                    if count % every == 0:
                        writer.write(b"k")
            except (asyncio.IncompleteReadError, ConnectionError):
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    elif name == "framekit-protocol":

        class Answer(fk_asyncio.FramedProtocol):
            count = 0

            def frame_received(self, frame: Any) -> None:
                self.count += 1
                if self.count % every == 0:
                    assert self.transport is not None
                    self.transport.write(b"k")

        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: Answer(framekit.LengthFieldDecoder()), "127.0.0.1", 0, backlog=4096
        )
    else:

        async def answer(reader: fk_asyncio.FrameReader, writer: fk_asyncio.FrameWriter) -> None:
            # as the asyncio server, no message is kept while waiting for the next (``async for
            # frame in reader`` would keep the last one, and the storage it views, in ``frame``)
            count = 0
            while taken := len(await reader.read_frames()):
                for _ in range(taken):
                    count += 1
                    if count % every == 0:
                        writer.write(b"k")
            writer.close()

        server = await fk_asyncio.start_server(
            answer, "127.0.0.1", 0, decoder_factory=framekit.LengthFieldDecoder, backlog=4096
        )
    _announce(server.sockets[0].getsockname()[1])
    await asyncio.Event().wait()


def _serve_trio(name: str, every: int) -> None:
    import trio

    import framekit
    from framekit import trio as fk_trio

    async def plain(stream: trio.SocketStream) -> None:
        buf = bytearray()
        count = 0
        while True:
            data = await stream.receive_some(65536)
            if not data:
                return
            buf += data
            pos = 0
            while len(buf) - pos >= 4 and len(buf) - pos >= 4 + int.from_bytes(
                buf[pos : pos + 4], "big"
            ):
                pos += 4 + int.from_bytes(buf[pos : pos + 4], "big")
                count += 1
                if count % every == 0:
                    await stream.send_all(b"k")
            del buf[:pos]

    async def framed(stream: trio.SocketStream) -> None:
        channel = fk_trio.FramedStream(stream, framekit.LengthFieldDecoder())
        count = 0
        while taken := len(await channel.receive_many()):  # (no frame kept: see answer())
            for _ in range(taken):
                count += 1
                if count % every == 0:
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


def _abort(sock: socket.socket) -> None:
    """Close with a reset: no TIME_WAIT left behind to hold this address's ports (a run opens
    tens of thousands of connections, and the next would find the ports taken)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def _send_all_and_wait(socks: list[socket.socket], message: bytes) -> None:
    for sock in socks:
        sock.sendall(message)
    for sock in socks:
        if sock.recv(1) != b"k":
            raise RuntimeError("no answer")


def active(name: str, count: int, frames: int) -> float:
    """Frames per second a server takes in (and answers) from ``count`` connections at once."""
    import selectors

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", name, "--every", str(frames)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        burst = ((16).to_bytes(4, "big") + b"x" * 16) * frames
        selector = selectors.DefaultSelector()
        for sock in socks:
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, [burst, 0])
        start = time.perf_counter()
        left = count
        while left:
            for key, events in selector.select():
                conn, state = key.fileobj, key.data
                assert isinstance(conn, socket.socket)
                if events & selectors.EVENT_WRITE and state[0]:
                    sent = conn.send(state[0])
                    state[0] = state[0][sent:]
                    if not state[0]:
                        selector.modify(conn, selectors.EVENT_READ, state)
                if events & selectors.EVENT_READ:
                    state[1] += len(conn.recv(65536))
                    if state[1] == 1:  # the answer after the last frame
                        selector.unregister(conn)
                        left -= 1
        seconds = time.perf_counter() - start
        for sock in socks:
            _abort(sock)
        return count * frames / seconds
    finally:
        server.kill()
        server.wait()


def measure(name: str, count: int) -> tuple[float, float]:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", name, "--every", "1"],
        stdout=subprocess.PIPE,
        text=True,
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
            _abort(sock)
        return small, burst
    finally:
        server.kill()
        server.wait()


# --- many connections held at once ----------------------------------------------------------

PER_ADDRESS = 5_000  # connections from one source address (ephemeral ports: 28 000 here)
#: Linux: a bound socket takes its port at connect(), unique per peer (not at bind())
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)
PER_CLIENT = 10_000  # connections per client process (each has the same file limit)
MESSAGE = (1).to_bytes(4, "big") + b"x"


def client(port: int, count: int, first: int) -> None:
    """A client process: ``count`` connections, the ``first``-th on, each from its 127.0.x.y
    source address; a round of messages for each line on stdin, until stdin ends."""
    _raise_nofile()
    socks = []
    for i in range(first, first + count):
        block = i // PER_ADDRESS
        address = f"127.0.{1 + block // 250}.{2 + block % 250}"
        sock = socket.socket()
        # (closed with a reset however the process ends: see _abort)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if sys.platform == "linux":
            sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        sock.bind((address, 0))
        sock.connect(("127.0.0.1", port))
        socks.append(sock)
    print("open", flush=True)
    while sys.stdin.readline():
        _send_all_and_wait(socks, MESSAGE)
        print("served", flush=True)
    for sock in socks:
        _abort(sock)


def hold(name: str, count: int) -> Optional[dict[str, float]]:
    """Hold ``count`` connections on one server; None when its file limit cannot."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if count + 64 > hard:
        return None
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", name, "--every", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    clients: list[subprocess.Popen[str]] = []
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        time.sleep(0.3)
        base = rss(server.pid)
        start = time.perf_counter()
        for first in range(0, count, PER_CLIENT):
            n = min(PER_CLIENT, count - first)
            clients.append(
                subprocess.Popen(
                    [sys.executable, __file__, "--client", str(port), str(n), str(first)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for process in clients:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "open":
                raise RuntimeError("a client could not open its connections")
        result = {"open": time.perf_counter() - start}
        for round_ in (1, 2):
            start = time.perf_counter()
            for process in clients:
                assert process.stdin is not None
                process.stdin.write("\n")
                process.stdin.flush()
            for process in clients:
                assert process.stdout is not None
                if process.stdout.readline().strip() != "served":
                    raise RuntimeError("a connection was not served")
            result[f"round {round_}"] = time.perf_counter() - start
        time.sleep(0.3)
        result["rss"] = rss(server.pid) - base
        return result
    finally:
        for process in clients:  # stdin ends: the client resets its connections and exits
            assert process.stdin is not None
            process.stdin.close()
        for process in clients:
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        server.kill()
        server.wait()


def report_hold(names: list[str], count: int) -> bool:
    """Print hold()'s figures for each server; False if a server could not be run."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    print(f"{count} connections held at once by one server process (file limit: {hard})")
    print(f"{'server':<26} {'open':>8} {'round 1':>9} {'round 2':>9} {'server RSS':>12}")
    held = True
    for name in names:
        result = hold(name, count)
        if result is None:
            print(
                f"{name:<26} not run: RLIMIT_NOFILE's hard limit here is {hard}, and only a "
                "process with CAP_SYS_RESOURCE may raise it"
            )
            held = False
            continue
        total = result["rss"]
        print(
            f"{name:<26} {result['open']:7.1f}s {result['round 1']:8.2f}s "
            f"{result['round 2']:8.2f}s {total / 2**20:8.1f} MiB "
            f"({total / count / 1024:.1f} KiB each)",
            flush=True,
        )
    return held


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--servers", nargs="*", default=SERVERS, choices=SERVERS)
    ap.add_argument("--active", type=int, default=2000)
    ap.add_argument("--frames", type=int, default=500)
    ap.add_argument("--hold", type=int, help="hold this many connections at once instead")
    ap.add_argument("--json", help="also write the figures to this file (for the docs' chart)")
    ap.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    ap.add_argument("--client", type=int, nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--every", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve, args.every)
        return
    if args.client:
        client(*args.client)
        return
    _raise_nofile()
    if args.hold:
        names = args.servers if args.servers != SERVERS else ["framekit-protocol"]
        sys.exit(0 if report_hold(names, args.hold) else 1)
    figures: dict[str, Any] = {"connections": args.connections, "active": args.active}
    print(f"server RSS growth per connection, {args.connections} connections")
    print(f"{'server':<26} {'after 5 B':>10} {'after 60 KB':>12}   (x the plain server)")
    idle: dict[str, tuple[float, float]] = figures.setdefault("idle", {})
    for name in args.servers:
        idle[name] = measure(name, args.connections)
        small, burst = idle[name]
        ref = idle.get(_reference(name))
        ratio = f"   x{small / ref[0]:.2f}  x{burst / ref[1]:.2f}" if ref and ref[0] > 0 else ""
        print(f"{name:<26} {small / 1024:8.1f} KiB {burst / 1024:10.1f} KiB{ratio}", flush=True)
    print(f"\n{args.active} connections sending {args.frames} frames of 16 B each at once")
    rates: dict[str, float] = figures.setdefault("frames_per_second", {})
    for name in args.servers:
        rates[name] = active(name, args.active, args.frames)
        ref_rate = rates.get(_reference(name))
        ratio = f"  x{rates[name] / ref_rate:.2f}" if ref_rate else ""
        print(f"{name:<26} {rates[name] / 1e6:8.2f} M frames/s{ratio}", flush=True)
    if args.json:
        figures["plain"] = {name: _reference(name) for name in args.servers}
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=1)


def _reference(name: str) -> str:
    """The plain server ``name`` is measured against: asyncio streams on its loop, or trio."""
    if name.startswith("trio"):
        return "trio-plain"
    return "uvloop-asyncio-streams" if name.startswith("uvloop") else "asyncio-streams"


if __name__ == "__main__":
    os.environ.setdefault("FRAMEKIT_REQUIRE_EXTENSION", "0")
    main()
