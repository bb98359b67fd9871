"""Rows from a real PostgreSQL server: framekit's streams API beside asyncio's
``StreamReader.readexactly``, on asyncio and on uvloop.

    python benchmarks/postgres_rows.py [--queries 20] [--rows 100000] [--port PORT]

Without ``--port`` it starts a PostgreSQL server of its own (Debian's ``postgresql``, trust
authentication; the test suite's helper), and stops it at the end. Each client connects, starts
up, and runs ``SELECT generate_series(1, ROWS)`` QUERIES times, counting DataRow messages.
Figures are million rows/s, the best of three runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import struct
import sys
import time
from collections.abc import Awaitable, Iterator
from typing import Any, Callable

import framekit
from framekit import presets
from framekit.asyncio import open_connection

STARTUP = struct.pack(">I", 196608) + b"user\0postgres\0database\0postgres\0\0"


async def readexactly_client(port: int, queries: int, sql: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(struct.pack(">I", 4 + len(STARTUP)) + STARTUP)
    rows = 0

    async def until_ready() -> None:
        nonlocal rows
        while True:
            header = await reader.readexactly(5)
            body = await reader.readexactly(int.from_bytes(header[1:], "big") - 4)
            del body
            if header[0] == 0x44:  # D
                rows += 1
            elif header[0] == 0x5A:  # Z
                return

    await until_ready()
    for _ in range(queries):
        writer.write(b"Q" + struct.pack(">I", 4 + len(sql) + 1) + sql + b"\0")
        await until_ready()
    writer.close()
    return rows


async def framekit_client(port: int, queries: int, sql: bytes, batched: bool) -> int:
    reader, writer = await open_connection(
        "127.0.0.1", port, decoder=presets.postgres(), encoder=presets.postgres_encoder()
    )
    writer.write(presets.postgres_startup_encoder().encode(STARTUP))
    rows = 0

    async def until_ready() -> None:
        nonlocal rows
        if batched:
            while True:
                for message in await reader.read_frames():
                    kind = message[0]
                    if kind == 0x44:
                        rows += 1
                    elif kind == 0x5A:
                        return
        else:
            async for message in reader:
                kind = message[0]
                if kind == 0x44:
                    rows += 1
                elif kind == 0x5A:
                    return

    await until_ready()
    for _ in range(queries):
        writer.write_frame(b"Q" + sql + b"\0")
        await until_ready()
    writer.close()
    return rows


@contextlib.contextmanager
def server(port: int) -> Iterator[int]:
    if port:
        yield port
        return
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "tests"))
    import servers  # the test suite's helper: Debian's PostgreSQL, started and stopped by PID

    with servers.postgres() as started:
        yield started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--port", type=int, default=0, help="a running server (default: start one)")
    args = ap.parse_args()
    sql = f"SELECT generate_series(1, {args.rows})".encode()
    loops: list[tuple[str, Callable[[], asyncio.AbstractEventLoop]]] = [
        ("asyncio", asyncio.new_event_loop)
    ]
    try:
        import uvloop

        loops.append(("uvloop", uvloop.new_event_loop))
    except ImportError:
        print("(uvloop not installed)")
    clients: list[tuple[str, Callable[[int], Awaitable[int]]]] = [
        ("StreamReader.readexactly", lambda p: readexactly_client(p, args.queries, sql)),
        ("framekit read_frames()", lambda p: framekit_client(p, args.queries, sql, True)),
        ("framekit async for", lambda p: framekit_client(p, args.queries, sql, False)),
    ]
    total = args.queries * args.rows
    print(f"framekit implementation: {framekit.implementation}; {args.queries} x {args.rows} rows")
    with server(args.port) as port:
        for name, factory in loops:
            rates: dict[str, float] = {}
            for label, client in clients:
                best = 0.0
                for _ in range(3):
                    loop = factory()
                    try:
                        start = time.perf_counter()
                        rows: Any = loop.run_until_complete(client(port))
                        elapsed = time.perf_counter() - start
                    finally:
                        loop.close()
                    assert rows == total, (label, rows)
                    best = max(best, total / elapsed)
                rates[label] = best
                print(f"  {name:8s} {label:26s} {best / 1e6:6.2f} M rows/s")
            base = rates["StreamReader.readexactly"]
            for label in ("framekit read_frames()", "framekit async for"):
                print(f"  {name:8s} {label[9:]} / readexactly = x{rates[label] / base:.2f}")


if __name__ == "__main__":
    main()
