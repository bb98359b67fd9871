"""Replay a capture of market data with numpy, with no Python object per message.

    python examples/replay.py [COUNT]

A capture of COUNT (default a million) length-prefixed messages - sequence number, instrument,
price, size - is indexed in one call (``index()``: the start and end of every message, as an
int64 array), copied into a Slab in one call (``extend(data, positions=...)``), and aggregated
with numpy: volume-weighted price per instrument, and a check that no sequence number is missing.
"""

from __future__ import annotations

import random
import struct
import sys
import time

import numpy

import framekit

MESSAGE = struct.Struct("<QIdI4x")  # seq, instrument, price, size (24 bytes, 8-aligned)
FIELDS = [("seq", "Q"), ("instrument", "I"), ("price", "d"), ("size", "I"), ("pad", "4s")]


def capture(count: int) -> bytes:
    """``count`` messages, each behind a 4-byte big-endian length, as a feed would record."""
    rng = random.Random(11)
    messages = [
        MESSAGE.pack(seq, rng.randrange(8), round(rng.uniform(99, 101), 2), rng.randint(1, 900))
        for seq in range(count)
    ]
    return framekit.LengthFieldEncoder(4).encode_many(messages)


def main(count: int) -> None:
    data = capture(count)
    start = time.perf_counter()
    decoder = framekit.LengthFieldDecoder(4)  # delivers each message without its length field
    positions, consumed = decoder.index(data)
    found = len(positions) // 2
    ticks = framekit.Slab(FIELDS, max(found, 1), byteorder="little")
    ticks.extend(data, positions=positions)
    rows = ticks.numpy()[ticks.live()]
    took = time.perf_counter() - start
    print(f"{found:,} messages ({consumed / 2**20:.1f} MiB) indexed and stored in {took:.2f} s")

    seq = numpy.sort(rows["seq"])
    gaps = int(numpy.count_nonzero(numpy.diff(seq) != 1))
    print(f"sequence numbers {int(seq[0])}..{int(seq[-1])}, {gaps} gaps")
    notional = rows["price"] * rows["size"]
    for instrument in range(8):
        mine = rows["instrument"] == instrument
        vwap = notional[mine].sum() / rows["size"][mine].sum()
        print(f"instrument {instrument}: {int(mine.sum()):,} trades, VWAP {vwap:.4f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
