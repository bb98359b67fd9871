"""Slab (SPEC §4): typed records, handles with generations, views, numpy, limits, misuse."""

from __future__ import annotations

import gc
import struct
import threading
from types import ModuleType

import numpy
import pytest

from framekit.errors import DoubleFreeError, PoolExhaustedError, StaleHandleError

ORDER = [("id", "Q"), ("price", "d"), ("qty", "I"), ("side", "B"), ("symbol", "8s")]


def test_fields_and_layout(fk: ModuleType) -> None:
    slab = fk.Slab(ORDER, 8)
    assert slab.record_size == 32 and slab.capacity == 8 and len(slab) == 0
    h = slab.alloc(id=7, price=101.25, symbol=b"AAPL")
    assert len(slab) == 1
    assert [slab.get(h, f) for f, _ in ORDER] == [7, 101.25, 0, 0, b"AAPL\0\0\0\0"]
    slab.set(h, "qty", 300)
    record = slab.record(h)
    record.side = 1
    assert (record.qty, record.side, record.id) == (300, 1, 7)
    assert bytes(slab.view(h)) == struct.pack("=QdIB8s3x", 7, 101.25, 300, 1, b"AAPL")


@pytest.mark.parametrize(("order", "fmt"), [("little", "<"), ("big", ">")])
def test_packed_byte_orders(fk: ModuleType, order: str, fmt: str) -> None:
    slab = fk.Slab(ORDER, 2, byteorder=order)
    assert slab.record_size == 29
    h = slab.alloc(id=1, price=2.0, qty=3, side=4, symbol=b"XY")
    assert bytes(slab.view(h)) == struct.pack(fmt + "QdIB8s", 1, 2.0, 3, 4, b"XY")


def test_alignment(fk: ModuleType) -> None:
    slab = fk.Slab(ORDER, 4, align=64)
    assert slab.record_size == 64
    handles = [slab.alloc(id=i) for i in range(4)]
    array = slab.numpy()
    assert array.ctypes.data % 64 == 0  # each record starts a cache line
    assert list(array["id"]) == [0, 1, 2, 3] and len(handles) == 4


def test_view_is_zero_copy_both_ways(fk: ModuleType) -> None:
    slab = fk.Slab(ORDER, 2, byteorder="big")
    h = slab.alloc()
    wire = struct.pack(">QdIB8s", 9, 3.5, 12, 2, b"MSFT")
    slab.view(h)[:] = wire  # a frame decoded straight into the record
    assert (slab.get(h, "id"), slab.get(h, "symbol")) == (9, b"MSFT\0\0\0\0")
    slab.set(h, "qty", 13)
    assert bytes(slab.view(h))[16:20] == struct.pack(">I", 13)


def test_numpy_view_not_copy(fk: ModuleType) -> None:
    slab = fk.Slab(ORDER, 3)
    h = slab.alloc(id=5, price=1.5)
    array = slab.numpy()
    assert array.dtype.names == ("id", "price", "qty", "side", "symbol")
    array["qty"][0] = 77  # writes through to the slab
    assert slab.get(h, "qty") == 77
    slab.set(h, "price", 2.5)
    assert array["price"][0] == 2.5
    assert numpy.frombuffer(slab.buffer(), dtype=array.dtype).shape == (3,)
    del array


def test_handles_stale_double_free_foreign(fk: ModuleType) -> None:
    slab, other = fk.Slab(ORDER, 2), fk.Slab(ORDER, 2)
    h = slab.alloc(id=1)
    slab.free(h)
    for method in (slab.record, slab.view):
        with pytest.raises(StaleHandleError):
            method(h)
    with pytest.raises(StaleHandleError):
        slab.get(h, "id")
    with pytest.raises(DoubleFreeError):
        slab.free(h)
    h2 = slab.alloc(id=2)  # reuses the slot with a new generation
    assert h2 != h and slab.get(h2, "id") == 2
    with pytest.raises(StaleHandleError):
        slab.free(h)  # the old handle does not free the new record
    with pytest.raises(StaleHandleError):
        slab.get(h, "id")
    with pytest.raises(StaleHandleError):
        other.get(h2, "id")  # foreign
    with pytest.raises(StaleHandleError):
        slab.get(12345, "id")
    with pytest.raises(TypeError):
        slab.get("1", "id")


def test_proxy_goes_stale(fk: ModuleType) -> None:
    slab = fk.Slab(ORDER, 2)
    record = slab.record(slab.alloc(id=3))
    slab.free(record.handle)
    with pytest.raises(StaleHandleError):
        record.id  # noqa: B018


def test_unknown_fields_and_bad_values(fk: ModuleType) -> None:
    slab = fk.Slab(ORDER, 2)
    h = slab.alloc()
    with pytest.raises(KeyError):
        slab.get(h, "nope")
    with pytest.raises(KeyError):
        slab.set(h, "nope", 1)
    with pytest.raises(AttributeError):
        slab.record(h).nope  # noqa: B018
    with pytest.raises(AttributeError):
        slab.record(h).nope = 1
    with pytest.raises(OverflowError):
        slab.set(h, "side", 256)
    with pytest.raises(OverflowError):
        slab.set(h, "qty", -1)
    with pytest.raises(ValueError):
        slab.set(h, "price", "cheap")
    with pytest.raises((OverflowError, ValueError)):
        slab.alloc(side=1000)
    assert len(slab) == 1  # the refused alloc left nothing behind


@pytest.mark.parametrize(
    "fields",
    [[], [("a", "Z")], [("a", "I"), ("a", "I")], [("1x", "I")], [("a", "2I")], [("a", "P")]],
)
def test_bad_layouts(fk: ModuleType, fields: list[tuple[str, str]]) -> None:
    with pytest.raises(ValueError):
        fk.Slab(fields, 4)


def test_bad_capacity_and_align(fk: ModuleType) -> None:
    with pytest.raises(ValueError):
        fk.Slab(ORDER, 0)
    with pytest.raises(ValueError):
        fk.Slab(ORDER, 4, align=48)
    with pytest.raises(ValueError):
        fk.Slab(ORDER, 4, byteorder="middle")


def test_full_and_growable(fk: ModuleType) -> None:
    slab = fk.Slab(ORDER, 2)
    slab.alloc()
    slab.alloc()
    with pytest.raises(PoolExhaustedError):
        slab.alloc()
    growing = fk.Slab(ORDER, 2, growable=True)
    handles = [growing.alloc(id=i, symbol=b"S%d" % i) for i in range(100)]
    assert growing.capacity >= 100 and len(growing) == 100
    assert [growing.get(h, "id") for h in handles] == list(range(100))  # handles survive growth


def test_generations_never_confused(fk: ModuleType) -> None:
    slab = fk.Slab([("v", "I")], 4)
    seen = set()
    for i in range(1000):
        h = slab.alloc(v=i)
        assert h not in seen
        seen.add(h)
        assert slab.get(h, "v") == i
        slab.free(h)
    assert len(slab) == 0


def test_records_never_overlap(fk: ModuleType) -> None:
    slab = fk.Slab([("a", "Q"), ("b", "4s")], 64, growable=True)
    live = {}
    for i in range(500):
        h = slab.alloc(a=i, b=b"%04d" % (i % 10000))
        live[h] = i
        if i % 3 == 0:
            old = next(iter(live))
            slab.free(old)
            del live[old]
    for h, i in live.items():
        assert slab.get(h, "a") == i and slab.get(h, "b") == b"%04d" % i


def test_threads_share_one_slab(fk: ModuleType) -> None:
    slab = fk.Slab([("owner", "I"), ("n", "I")], 4096)
    errors: list[BaseException] = []

    def work(owner: int) -> None:
        try:
            for n in range(500):
                h = slab.alloc(owner=owner, n=n)
                assert (slab.get(h, "owner"), slab.get(h, "n")) == (owner, n)
                slab.free(h)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(slab) == 0


def test_records_are_not_gc_objects(fk: ModuleType) -> None:
    slab = fk.Slab(ORDER, 10000)
    before = len(gc.get_objects())
    for i in range(10000):
        slab.alloc(id=i)
    assert len(gc.get_objects()) - before < 100  # records are bytes in one block, not objects
