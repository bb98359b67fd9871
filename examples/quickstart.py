"""Split a length-prefixed stream with framekit, and time it against a careful hand-rolled loop.

python examples/quickstart.py
"""

from __future__ import annotations

import struct
import time

import framekit


def hand_rolled(chunks: list[bytes]) -> int:
    """What Python network code does today: a bytearray, struct and a read cursor."""
    buf = bytearray()
    frames = 0
    for chunk in chunks:
        buf += chunk
        pos = 0
        while len(buf) - pos >= 4:
            (size,) = struct.unpack_from(">I", buf, pos)
            if len(buf) - pos - 4 < size:
                break
            bytes(buf[pos + 4 : pos + 4 + size])
            pos += 4 + size
            frames += 1
        del buf[:pos]
    return frames


def with_framekit(chunks: list[bytes]) -> int:
    decoder = framekit.LengthFieldDecoder(4)  # 4-byte big-endian length, then the payload
    frames = 0
    for chunk in chunks:
        decoder.feed(chunk)
        for _frame in decoder:  # read-only memoryviews, no copy
            frames += 1
    return frames


def main() -> None:
    encoder = framekit.LengthFieldEncoder(4)
    payloads = [b"x" * size for size in (16, 100, 256, 1000)] * 50_000
    stream = encoder.encode_many(payloads)
    chunks = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]

    decoder = encoder.decoder()
    decoder.feed(stream[:500])
    print("first frames (lengths):", [len(frame) for frame in decoder])

    print(f"framekit {framekit.__version__}, implementation: {framekit.implementation}")
    for name, run in (("hand-rolled bytearray loop", hand_rolled), ("framekit", with_framekit)):
        best = min(_timed(run, chunks, len(payloads)) for _ in range(3))
        print(f"{name:28s} {len(payloads) / best / 1e6:6.2f} M frames/s")


def _timed(run: object, chunks: list[bytes], expected: int) -> float:
    start = time.perf_counter()
    got = run(chunks)  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    assert got == expected, (got, expected)
    return elapsed


if __name__ == "__main__":
    main()
