"""``framekit bench``: framing throughput, framekit beside what users use today.

    framekit bench [--quick] [--json FILE] [--netty FILE]

Streams: 4-byte big-endian length + payload of 16, 256 and 4096 bytes, and CRLF lines of 16, 100
and 1000 bytes, fed in 64 KiB chunks, every frame consumed and dropped before the next (the
measure of PERFORMANCE.md). Figures are million frames/s, best of several repeats; compare them
as ratios inside one run. ``--netty`` takes the output of a Netty run on the same streams (lines
``netty length payload=N frames/s=R`` and ``netty line len=N frames/s=R``) and adds Netty's
figures and framekit's ratios to them.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib
import json
import os
import platform
import struct
import sys
import time
from collections.abc import Sequence
from typing import Any, Callable, Optional

from ._adapters import write_through_buffer

CHUNK = 65536
LENGTH_CASES = [(16, 400_000), (256, 200_000), (4096, 30_000)]
LINE_CASES = [(16, 1_500_000), (100, 428_571), (1000, 47_619)]

Runner = Callable[[Sequence[bytes]], int]


def careful_python(chunks: Sequence[bytes]) -> int:
    """A careful hand-written decoder: bytearray, struct, a read cursor."""
    buf = bytearray()
    pos = 0
    out = 0
    unpack = struct.Struct(">I").unpack_from
    for c in chunks:
        if pos:
            del buf[:pos]
            pos = 0
        buf += c
        size = len(buf)
        while size - pos >= 4:
            (n,) = unpack(buf, pos)
            if size - pos - 4 < n:
                break
            frame = bytes(buf[pos + 4 : pos + 4 + n])
            del frame
            pos += 4 + n
            out += 1
    return out


def asyncio_streams(chunks: Sequence[bytes]) -> int:
    async def run() -> int:
        reader = asyncio.StreamReader(limit=1 << 30)
        for c in chunks:
            reader.feed_data(c)
        reader.feed_eof()
        out = 0
        while True:
            try:
                header = await reader.readexactly(4)
            except asyncio.IncompleteReadError:
                return out
            await reader.readexactly(int.from_bytes(header, "big"))
            out += 1

    return asyncio.run(run())


def twisted_int32(chunks: Sequence[bytes]) -> int:
    from twisted.internet.testing import StringTransport
    from twisted.protocols.basic import Int32StringReceiver

    count = [0]

    class Receiver(Int32StringReceiver):
        MAX_LENGTH = 1 << 30

        def stringReceived(self, string: bytes) -> None:
            count[0] += 1

    receiver = Receiver()
    receiver.makeConnection(StringTransport())  # type: ignore[no-untyped-call]
    for c in chunks:
        receiver.dataReceived(c)  # type: ignore[no-untyped-call]
    return count[0]


def bytes_split(chunks: Sequence[bytes]) -> int:
    """The quickest line splitter in Python: bytes.split (copies, no limit, no zero-copy)."""
    rest = b""
    out = 0
    for c in chunks:
        parts = (rest + c).split(b"\r\n")
        rest = parts.pop()
        out += len(parts)
    return out


def asyncio_lines(chunks: Sequence[bytes]) -> int:
    async def run() -> int:
        reader = asyncio.StreamReader(limit=1 << 20)
        for c in chunks:
            reader.feed_data(c)
        reader.feed_eof()
        out = 0
        while True:
            try:
                await reader.readuntil(b"\r\n")
            except asyncio.IncompleteReadError:
                return out
            out += 1

    return asyncio.run(run())


def twisted_lines(chunks: Sequence[bytes]) -> int:
    from twisted.internet.testing import StringTransport
    from twisted.protocols.basic import LineOnlyReceiver

    count = [0]

    class Receiver(LineOnlyReceiver):
        delimiter = b"\r\n"
        MAX_LENGTH = 1 << 20

        def lineReceived(self, line: bytes) -> None:
            count[0] += 1

    receiver = Receiver()
    receiver.makeConnection(StringTransport())  # type: ignore[no-untyped-call]
    for c in chunks:
        receiver.dataReceived(c)  # type: ignore[no-untyped-call]
    return count[0]


def via_feed(make: Callable[[], Any]) -> Runner:
    def run(chunks: Sequence[bytes]) -> int:
        dec = make()
        out = 0
        for c in chunks:
            dec.feed(c)
            for _frame in dec:
                out += 1
        return out

    return run


def via_get_buffer(make: Callable[[], Any]) -> Runner:
    """As socket.recv_into would: each chunk written into get_buffer()."""

    def run(chunks: Sequence[bytes]) -> int:
        dec = make()
        out = 0
        for c in chunks:
            write_through_buffer(dec, c)
            for _frame in dec:
                out += 1
        return out

    return run


def best_rate(run: Runner, chunks: Sequence[bytes], expected: int, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        got = run(chunks)
        best = min(best, time.perf_counter() - start)
        if got != expected:
            raise SystemExit(f"{run.__name__}: {got} frames, expected {expected}")
    return expected / best


def contenders(kind: str) -> dict[str, Runner]:
    found: dict[str, Runner] = (
        {"careful-python": careful_python, "asyncio-streams": asyncio_streams}
        if kind == "length"
        else {"bytes.split": bytes_split, "asyncio-streams": asyncio_lines}
    )
    try:
        importlib.import_module("twisted")
        found["twisted"] = twisted_int32 if kind == "length" else twisted_lines
    except ImportError:
        pass
    for impl in ("_core", "_pure"):
        try:
            module = importlib.import_module(f"framekit.{impl}")
        except ImportError:
            continue
        name = "cython" if impl == "_core" else "pure"
        if kind == "length":
            make = functools.partial(module.LengthFieldDecoder, 4, max_frame_length=1 << 24)
        else:
            make = functools.partial(module.LineDecoder, max_frame_length=1 << 20)
        found[f"{name}-feed"] = via_feed(make)
        found[f"{name}-recv"] = via_get_buffer(make)
        found[f"{name}-copy"] = via_feed(functools.partial(make, copy=True))
    return found


def netty_rates(path: str) -> dict[str, float]:
    rates = {}
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 4 and parts[0] == "netty":
                size = parts[2].split("=")[1]
                rates[f"{parts[1]}-{size}"] = float(parts[3].split("=")[1])
    return rates


def run(
    quick: bool = False,
    netty_file: Optional[str] = None,
    progress: bool = True,
    scale: Optional[int] = None,
) -> dict[str, dict[str, float]]:
    """Measure every contender on every stream (``scale`` divides their lengths); frames/s
    in a dict per stream."""
    repeats = 2 if quick else 5
    scale = scale or (4 if quick else 1)
    netty = netty_rates(netty_file) if netty_file else {}
    streams = [("length", size, count // scale) for size, count in LENGTH_CASES] + [
        ("line", size, count // scale) for size, count in LINE_CASES
    ]
    results: dict[str, dict[str, float]] = {}
    for step, (kind, size, count) in enumerate(streams, 1):
        if kind == "length":
            stream = (struct.pack(">I", size) + b"x" * size) * count
        else:
            stream = (b"y" * size + b"\r\n") * count
        chunks = [stream[i : i + CHUNK] for i in range(0, len(stream), CHUNK)]
        row = {}
        for name, runner in contenders(kind).items():
            if progress:
                print(f"\r[{step}/{len(streams)}] {kind} {size} B: {name:<16}", end="",
                      file=sys.stderr, flush=True)  # fmt: skip
            row[name] = best_rate(runner, chunks, count, repeats)
        if f"{kind}-{size}" in netty:
            row["netty"] = netty[f"{kind}-{size}"]
        results[f"{kind}-{size}"] = row
    if progress:
        print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
    return results


def table(results: dict[str, dict[str, float]]) -> str:
    """The results as a table: frames/s, and framekit's ratio to each peer."""
    lines = []
    for case, row in results.items():
        kind, size = case.split("-")
        framekit_rate = row.get("cython-feed", row.get("pure-feed"))
        lines.append(f"{'lines' if kind == 'line' else 'length field'}, {size} B"
                     " (M frames/s; ratio: framekit to it)")  # fmt: skip
        for name, rate in row.items():
            cell = f"  {name:16s} {rate / 1e6:7.2f}"
            if framekit_rate and not name.startswith(("cython", "pure")):
                cell += f"   framekit x{framekit_rate / rate:.2f}"
            lines.append(cell)
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="framekit bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller streams, fewer repeats")
    ap.add_argument("--json", metavar="FILE", help="write the figures to this file")
    ap.add_argument("--netty", metavar="FILE", help="output of a Netty run on the same streams")
    args = ap.parse_args(argv)
    import framekit

    print(f"framekit {framekit.__version__} ({framekit.implementation}), "
          f"Python {sys.version.split()[0]}; best of {2 if args.quick else 5} runs")  # fmt: skip
    results = run(quick=args.quick, netty_file=args.netty, progress=sys.stderr.isatty())
    print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            meta = {
                "framekit": framekit.__version__,
                "implementation": framekit.implementation,
                "python": sys.version.split()[0],
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "date": time.strftime("%Y-%m-%d"),
                "quick": args.quick,
            }
            json.dump({**meta, "results": results}, f, indent=2)
    return 0
