"""The memory pools against what Python code does today (PERFORMANCE.md's pool targets).

    python benchmarks/pools.py

- BufferPool acquire + release of 4 KiB beside ``bytearray(4096)``;
- Slab alloc + free beside building and dropping a ``dataclass(slots=True)`` with the same
  fields (with the five values, and without);
- bytes per live record beside such a dataclass with its field objects;
- ``gc.collect()`` with a million live slab records beside none.
"""

from __future__ import annotations

import dataclasses
import gc
import importlib
import timeit
import tracemalloc
from typing import Any

FIELDS = [("id", "Q"), ("price", "d"), ("qty", "I"), ("side", "B"), ("symbol", "8s")]
VALUES = "id=123456, price=101.25, qty=300, side=1, symbol=b'AAPL'"


@dataclasses.dataclass(slots=True)
class Order:
    id: int
    price: float
    qty: int
    side: int
    symbol: bytes


def per_call(statement: str, names: dict[str, Any], number: int = 200_000) -> float:
    return min(timeit.repeat(statement, globals=names, number=number, repeat=7)) / number


def main() -> None:
    buffer = per_call("bytearray(4096)", {})
    dataclass = per_call(f"Order({VALUES})", {"Order": Order})
    print(f"bytearray(4096): {buffer * 1e9:.0f} ns; dataclass build+drop: {dataclass * 1e9:.0f} ns")
    for name in ("framekit._core", "framekit._pure"):
        try:
            fk = importlib.import_module(name)
        except ImportError:
            continue
        pool = fk.BufferPool()
        pooled = per_call("acquire(4096).release()", {"acquire": pool.acquire})
        slab = fk.Slab(FIELDS, 1024)
        names = {"alloc": slab.alloc, "free": slab.free}
        with_values = per_call(f"free(alloc({VALUES}))", names)
        bare = per_call("free(alloc())", names)
        print(f"{name}:")
        print(f"  BufferPool acquire+release 4 KiB  {pooled * 1e9:6.0f} ns  x{pooled / buffer:.2f}")
        ratio = with_values / dataclass
        print(f"  Slab alloc(5 values)+free         {with_values * 1e9:6.0f} ns  x{ratio:.2f}")
        print(f"  Slab alloc()+free                 {bare * 1e9:6.0f} ns  x{bare / dataclass:.2f}")

    import framekit

    count = 1_000_000
    tracemalloc.start()
    orders = [Order(i, 1.5 + i, i, 1, b"SYM%05d" % (i % 100_000)) for i in range(count)]
    per_object = tracemalloc.get_traced_memory()[0] / count
    del orders
    tracemalloc.stop()
    tracemalloc.start()
    slab = framekit.Slab(FIELDS, count)
    for _ in range(count):
        slab.alloc()
    per_record = tracemalloc.get_traced_memory()[0] / count
    tracemalloc.stop()
    print(
        f"bytes per live record: dataclass with fields {per_object:.0f}, slab {per_record:.1f}"
        f"  x{per_record / per_object:.2f}"
    )
    del slab
    gc.collect()
    empty = min(timeit.repeat(gc.collect, number=1, repeat=5))
    slab = framekit.Slab(FIELDS, count)
    for i in range(count):
        slab.alloc(id=i)
    full = min(timeit.repeat(gc.collect, number=1, repeat=5))
    print(
        f"gc.collect(): none {empty * 1e3:.2f} ms, 1M slab records {full * 1e3:.2f} ms"
        f"  x{full / empty:.2f}"
    )


if __name__ == "__main__":
    main()
