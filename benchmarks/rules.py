"""A framing rule in Python run by RuleDecoder, beside a careful hand-written decoder for the same
framing and the rule alone, called once per frame with no engine around it (the ceiling).

    python benchmarks/rules.py [--frames N] [--repeats R]

The framing is djb's netstrings (``len ":" data ","``), the rule docs/decoders/rules.md shows.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any, Optional, Union

import framekit
from framekit import CorruptFrameError

CHUNK = 65536


def netstring(buf: memoryview) -> Union[tuple[int, int, int], None]:
    head = bytes(buf[:21])
    colon = head.find(b":")
    digits = head if colon < 0 else head[:colon]
    if (digits and not digits.isdigit()) or colon == 0:
        raise CorruptFrameError("netstring length is not a number")
    if colon < 0:
        if len(head) > 20:
            raise CorruptFrameError("netstring length has more than 20 digits")
        return None
    size = int(digits)
    total = colon + 1 + size + 1
    if len(buf) >= total and buf[total - 1] != ord(","):
        raise CorruptFrameError("netstring does not end with ','")
    return (total, colon + 1, colon + 1 + size)


def careful(chunks: list[bytes]) -> int:
    """A careful hand-written netstring decoder: one buffer, find(), slices of a memoryview."""
    count = 0
    buf = b""
    for chunk in chunks:
        buf = buf + chunk if buf else chunk
        view = memoryview(buf)
        pos = 0
        end = len(buf)
        while True:
            colon = buf.find(b":", pos, pos + 21)
            if colon < 0:
                if end - pos > 20:
                    raise ValueError("bad netstring length")
                break
            digits = buf[pos:colon]
            if not digits.isdigit():
                raise ValueError("bad netstring length")
            stop = colon + 1 + int(digits)
            if stop >= end:
                break
            if buf[stop] != 44:
                raise ValueError("missing comma")
            count += len(view[colon + 1 : stop])
            pos = stop + 1
        buf = buf[pos:]
    return count


def twisted_netstrings(chunks: list[bytes]) -> int:
    """Twisted's NetstringReceiver, the Python peer for this framing."""
    from twisted.internet.testing import StringTransport
    from twisted.protocols.basic import NetstringReceiver

    class Count(NetstringReceiver):  # type: ignore[misc]
        count = 0

        def stringReceived(self, string: bytes) -> None:
            self.count += len(string)

    receiver = Count()
    receiver.MAX_LENGTH = 1 << 20
    receiver.makeConnection(StringTransport())
    for chunk in chunks:
        receiver.dataReceived(chunk)
    return receiver.count


def engine(chunks: list[bytes]) -> int:
    decoder = framekit.RuleDecoder(netstring)
    count = 0
    for chunk in chunks:
        decoder.feed(chunk)
        for frame in decoder:
            count += len(frame)
    return count


def rule_alone(data: bytes, starts: list[int]) -> Callable[[], int]:
    view = memoryview(data)

    def run() -> int:
        count = 0
        for pos in starts:
            _, start, end = netstring(view[pos:])  # type: ignore[misc]
            count += end - start  # its answer, used (no frame cut: that is the engine's work)
        return count

    return run


def best(fn: Callable[[], int], repeats: int) -> tuple[float, int]:
    times = []
    count = 0
    for _ in range(repeats):
        t = time.perf_counter()
        count = fn()
        times.append(time.perf_counter() - t)
    return min(times), count


def main(argv: Optional[list[str]] = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    rnd = os.urandom(64)
    payloads = [rnd[: 16 + i % 48] for i in range(args.frames)]
    data = b"".join(b"%d:%s," % (len(p), p) for p in payloads)
    starts = []
    pos = 0
    for p in payloads:
        starts.append(pos)
        pos += len(b"%d:" % len(p)) + len(p) + 1
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    results = {}
    print(f"framekit implementation: {framekit.implementation}; {args.frames:,} netstrings")
    contenders: list[tuple[str, Callable[[], int]]] = [
        ("careful hand-written decoder", lambda: careful(chunks)),
        ("RuleDecoder(netstring)", lambda: engine(chunks)),
        ("the rule alone, once a frame", rule_alone(data, starts)),
    ]
    try:
        import twisted  # noqa: F401
    except ImportError:
        pass
    else:
        contenders.append(("Twisted NetstringReceiver", lambda: twisted_netstrings(chunks)))
    for name, fn in contenders:
        seconds, count = best(fn, args.repeats)
        assert count == sum(map(len, payloads)), (name, count)  # every frame, consumed
        results[name] = args.frames / seconds
        print(f"  {name:<32} {results[name] / 1e6:6.2f} M frames/s")
    ours = results["RuleDecoder(netstring)"]
    print(f"  RuleDecoder / careful = x{ours / results['careful hand-written decoder']:.2f}")
    print(f"  RuleDecoder / rule alone = x{ours / results['the rule alone, once a frame']:.2f}")
    if "Twisted NetstringReceiver" in results:
        print(f"  RuleDecoder / Twisted = x{ours / results['Twisted NetstringReceiver']:.2f}")
    return results


if __name__ == "__main__":
    main()
