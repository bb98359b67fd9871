"""An order book of a million orders in a Slab, fed from length-prefixed frames.

    python examples/orders.py [COUNT]

Each order arrives as a frame whose payload is the record itself (big-endian, packed), so a
frame goes into its record with one copy and no Python object per order. The book then answers
questions with numpy over the slab's memory, and cancels orders by handle.
"""

from __future__ import annotations

import array
import gc
import random
import struct
import sys
import time

import numpy

import framekit

FIELDS = [("id", "Q"), ("price", "d"), ("qty", "I"), ("side", "B"), ("symbol", "8s")]
WIRE = struct.Struct(">QdIB8s")  # the same layout, as it comes off the wire
SYMBOLS = [b"AAPL", b"MSFT", b"GOOG", b"AMZN", b"NVDA"]


def order_stream(count: int) -> list[bytes]:
    """A feed of ``count`` orders as 64 KiB chunks of length-prefixed frames."""
    rng = random.Random(7)
    records = [
        WIRE.pack(i, round(rng.uniform(90, 110), 2), rng.randint(1, 500), i % 2, SYMBOLS[i % 5])
        for i in range(count)
    ]
    wire = framekit.LengthFieldEncoder(4).encode_many(records)
    return [wire[i : i + 65536] for i in range(0, len(wire), 65536)]


def main(count: int) -> None:
    chunks = order_stream(count)
    book = framekit.Slab(FIELDS, count, byteorder="big")
    decoder = framekit.LengthFieldDecoder(4)
    handles = array.array("Q")  # 8 bytes a handle (a list would cost about 40)

    start = time.perf_counter()
    for chunk in chunks:
        decoder.feed(chunk)
        handles.extend(book.extend(decoder))  # each frame's bytes become a record, one call
    elapsed = time.perf_counter() - start
    print(
        f"{len(book):,} orders in {elapsed:.2f} s ({len(book) / elapsed / 1e6:.2f} M/s), "
        f"{book.record_size} bytes each, {book.capacity * book.record_size / 2**20:.1f} MiB"
    )

    for handle in handles[::10]:  # cancel every tenth order
        book.free(handle)
    try:
        book.get(handles[0], "price")
    except framekit.StaleHandleError:
        print("a cancelled order's handle is stale")

    orders = book.numpy()  # a structured array over the slab's memory: no copy
    live = numpy.asarray(book.live())  # a row per slot: freed orders keep their old values
    bid = orders[live & (orders["side"] == 0)]["price"].max()
    ask = orders[live & (orders["side"] == 1)]["price"].min()
    print(f"{len(book):,} live; best bid {bid:.2f}, best ask {ask:.2f}")
    order = book.record(handles[1])
    print(f"order {order.id}: {order.qty} {order.symbol.rstrip(bytes(1)).decode()} @ {order.price}")

    start = time.perf_counter()
    gc.collect()
    took = (time.perf_counter() - start) * 1e3
    print(f"gc.collect() with {len(book):,} live orders: {took:.1f} ms (no object per record)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
