"""Batches and records against the per-frame loop (PERFORMANCE.md's SPEC §10 targets).

    python benchmarks/batches.py [--quick]

In one run, on 16-byte length-prefixed frames in one 64 MiB buffer:

- ``index()`` beside ``for frame in decoder``, and a copy of the buffer into memory already
  mapped (this machine's memory bandwidth) and into a new ``bytearray`` (what fresh memory costs,
  page faults included);
- summing a 4-byte field: ``index()`` + ``Slab.extend(data, positions=...)`` + numpy beside a
  ``for frame in decoder`` loop with ``struct.unpack_from``;

and ``Slab.alloc(*values)`` + ``free`` beside a ``dataclass(slots=True)`` built positionally,
``Slab.extend`` of a million 32-byte frames beside a million dataclasses from
``struct.unpack_from``.
"""

from __future__ import annotations

import dataclasses
import struct
import sys
import time
from typing import Any, Callable

import numpy

import framekit


@dataclasses.dataclass(slots=True)
class Order:
    id: int
    price: float
    qty: int
    side: int


@dataclasses.dataclass(slots=True)
class Tick:
    seq: int
    bid: float
    ask: float
    size: int


def best(run: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main(quick: bool) -> None:
    repeat = 2 if quick else 5
    size = (8 if quick else 64) << 20
    count = size // 20
    data = (struct.pack(">I", 16) + bytes(range(16))) * count
    decoder = framekit.LengthFieldDecoder()

    def loop() -> None:
        decoder.feed(data)
        for _frame in decoder:
            pass

    def index() -> None:
        decoder.index(data)

    target = memoryview(bytearray(len(data)))

    def copy() -> None:
        target[:] = data  # one memcpy into memory already mapped: the memory bandwidth

    t_loop, t_index = best(loop, repeat), best(index, repeat)
    t_copy, t_fresh = best(copy, repeat), best(lambda: bytearray(data), repeat)

    def rate(seconds: float) -> str:
        return f"{count / seconds / 1e6:7.1f} M frames/s  {size / seconds / 1e9:5.2f} GB/s"

    print(f"{count:,} frames of 16 B in {size >> 20} MiB ({framekit.implementation})")
    print(f"  for frame in decoder   {rate(t_loop)}  {t_copy / t_loop:4.0%} of a copy")
    print(
        f"  index()                {rate(t_index)}  {t_copy / t_index:4.0%} of a copy"
        f"  x{t_loop / t_index:.2f} (target >= 1)"
    )
    print(f"  copy of the buffer     {rate(t_copy)}  (into mapped memory: the bandwidth)")
    print(f"  copy to a new buffer   {rate(t_fresh)}  (bytearray(data): pages mapped as written)")

    unpack = struct.Struct("<I").unpack_from

    def loop_sum() -> int:
        decoder.feed(data)
        total = 0
        for frame in decoder:
            total += unpack(frame)[0]
        return total

    def slab_sum() -> int:
        positions, _ = decoder.index(data)
        slab = framekit.Slab([("a", "I"), ("b", "I"), ("c", "Q")], count, byteorder="little")
        slab.extend(data, positions=positions)
        return int(slab.numpy()["a"].sum(dtype=numpy.uint64))

    assert loop_sum() == slab_sum()
    t_sum_loop, t_sum_slab = best(loop_sum, repeat), best(slab_sum, repeat)
    print(
        f"  sum of a field: loop {t_sum_loop * 1e3:.0f} ms, index + extend + numpy "
        f"{t_sum_slab * 1e3:.0f} ms  x{t_sum_loop / t_sum_slab:.2f} (target >= 3)"
    )

    n = 100_000 if quick else 500_000
    orders = framekit.Slab([("id", "Q"), ("price", "d"), ("qty", "I"), ("side", "B")], 16)
    alloc, free = orders.alloc, orders.free

    def slab_alloc() -> None:
        for i in range(n):
            free(alloc(i, 1.5, 3, 1))

    def dataclass_build() -> None:
        for i in range(n):
            Order(i, 1.5, 3, 1)

    t_alloc, t_dataclass = best(slab_alloc, repeat), best(dataclass_build, repeat)
    print(
        f"  alloc(*values) + free {t_alloc / n * 1e9:.0f} ns, dataclass {t_dataclass / n * 1e9:.0f}"
        f" ns  x{t_alloc / t_dataclass:.2f} (target <= 0.5)"
    )

    m = 200_000 if quick else 1_000_000
    frames = [struct.pack("<QddQ", i, 1.0, 2.0, i) for i in range(m)]
    wire = struct.Struct("<QddQ").unpack_from

    def extend() -> None:
        framekit.Slab([("seq", "Q"), ("bid", "d"), ("ask", "d"), ("size", "Q")], m).extend(frames)

    def dataclasses_from_frames() -> None:
        [Tick(*wire(f)) for f in frames]

    t_extend, t_ticks = best(extend, repeat), best(dataclasses_from_frames, repeat)
    print(
        f"  extend {m:,} frames of 32 B {t_extend * 1e3:.0f} ms, dataclasses "
        f"{t_ticks * 1e3:.0f} ms  x{t_extend / t_ticks:.2f} (target <= 0.2)"
    )


if __name__ == "__main__":
    main("--quick" in sys.argv[1:])
