"""Batches and records (SPEC §10, and the Slab part of §11): ``index()`` finds every complete
frame of a buffer without a Python object per frame, agreeing with ``next_frame()``; a Slab
takes positional values, whole batches of frames (``extend``), hands out handles in arrays,
and tells which rows are live."""

from __future__ import annotations

import array
import gc
import platform
import struct
import subprocess
import sys
from types import ModuleType
from typing import Any

import numpy
import pytest
from conftest import IMPLEMENTATIONS
from hypothesis import given
from hypothesis import strategies as st

from framekit import (
    CorruptFrameError,
    DoubleFreeError,
    FrameError,
    FrameTooLongError,
    StaleHandleError,
    testing,
)
from framekit.errors import PoolExhaustedError

FIELDS = [("id", "Q"), ("price", "d"), ("qty", "I"), ("side", "B")]

# --- Slab: positional values ---------------------------------------------------------------------


def test_alloc_positional_values_in_field_order(fk: ModuleType) -> None:
    slab = fk.Slab(FIELDS, 8)
    h = slab.alloc(7, 1.5, 3, 1)
    assert [slab.get(h, n) for n, _ in FIELDS] == [7, 1.5, 3, 1]
    h2 = slab.alloc(8, 2.5, side=2)
    assert [slab.get(h2, n) for n, _ in FIELDS] == [8, 2.5, 0, 2]
    assert slab.record(h2).side == 2


def test_alloc_positional_misuse(fk: ModuleType) -> None:
    slab = fk.Slab(FIELDS, 8)
    with pytest.raises(TypeError, match="at most 4"):
        slab.alloc(1, 2.0, 3, 4, 5)
    with pytest.raises(TypeError, match="'id'"):
        slab.alloc(1, id=2)
    with pytest.raises(OverflowError, match="'qty'"):
        slab.alloc(1, 2.0, -3)
    with pytest.raises(KeyError, match="nope"):
        slab.alloc(1, nope=3)
    assert len(slab) == 0


# --- Slab: live rows, iteration, slots, handles in arrays ----------------------------------------


def test_live_rows_filter_numpy(fk: ModuleType) -> None:
    slab = fk.Slab(FIELDS, 100)
    handles = [slab.alloc(i, float(i), i, 0) for i in range(100)]
    for h in handles[::10]:
        slab.free(h)
    live = slab.live()
    assert len(live) == slab.capacity
    mask = numpy.asarray(live)
    assert mask.dtype == numpy.bool_
    assert int(mask.sum()) == len(slab) == 90
    rows = slab.numpy()[live]
    assert sorted(rows["id"].tolist()) == [i for i in range(100) if i % 10]
    # the documented query averages live orders only
    assert rows["price"].mean() == pytest.approx(numpy.mean([i for i in range(100) if i % 10]))


def test_iteration_gives_live_handles_in_slot_order(fk: ModuleType) -> None:
    slab = fk.Slab(FIELDS, 10)
    handles = [slab.alloc(i) for i in range(6)]
    slab.free(handles[2])
    slab.free(handles[4])
    assert list(slab) == [handles[i] for i in (0, 1, 3, 5)]
    assert [slab.slot(h) for h in slab] == [0, 1, 3, 5]
    with pytest.raises(StaleHandleError):
        slab.slot(handles[2])
    again = slab.alloc(99)  # reuses a freed slot
    assert slab.slot(again) in (2, 4)
    assert again in list(slab)


def test_alloc_many_returns_an_array_of_handles(fk: ModuleType) -> None:
    slab = fk.Slab(FIELDS, 4, growable=True)
    handles = slab.alloc_many(1000)
    assert isinstance(handles, array.array)
    assert handles.typecode == "Q"
    assert len(handles) == len(slab) == 1000
    assert len(set(handles)) == 1000
    assert all(slab.get(h, "id") == 0 for h in handles[:50])
    as_numpy = numpy.frombuffer(handles, dtype=numpy.uint64)
    assert int(as_numpy[7]) == handles[7]
    slab.free(int(as_numpy[7]))
    assert len(slab) == 999
    full = fk.Slab(FIELDS, 3)
    with pytest.raises(PoolExhaustedError):
        full.alloc_many(4)
    assert len(full) == 0
    assert len(full.alloc_many(0)) == 0


# --- Slab.extend ---------------------------------------------------------------------------------


def _records(n: int, size: int) -> list[bytes]:
    return [struct.pack("<Q", i) + bytes([i % 256]) * (size - 8) for i in range(n)]


def test_extend_copies_frames_into_records(fk: ModuleType) -> None:
    slab = fk.Slab([("seq", "Q"), ("body", "24s")], 4, byteorder="little", growable=True)
    assert slab.record_size == 32
    frames = _records(100, 32)
    handles = slab.extend(frames)
    assert isinstance(handles, list)
    assert len(handles) == len(slab) == 100
    assert [slab.view(h).tobytes() for h in handles] == frames
    assert [slab.get(h, "seq") for h in handles] == list(range(100))
    # any iterable of bytes-like objects
    more = slab.extend(memoryview(f) for f in _records(3, 32))
    assert len(more) == 3


def test_extend_refuses_a_wrong_size_and_allocates_nothing(fk: ModuleType) -> None:
    slab = fk.Slab([("a", "Q")], 10)
    with pytest.raises(ValueError, match="8 bytes"):
        slab.extend([bytes(8), bytes(8), bytes(7)])
    assert len(slab) == 0
    with pytest.raises(TypeError):
        slab.extend([bytes(8), "text"])
    assert len(slab) == 0
    with pytest.raises(PoolExhaustedError):
        slab.extend([bytes(8)] * 11)
    assert len(slab) == 0
    assert slab.extend([]) == []


def test_extend_from_positions(fk: ModuleType) -> None:
    slab = fk.Slab([("a", "Q"), ("b", "Q")], 2, growable=True)
    data = b"".join(struct.pack("=QQ", i, 2 * i) for i in range(50))
    positions = array.array("q")
    for i in range(50):
        positions.extend((16 * i, 16 * i + 16))
    handles = slab.extend(data, positions=memoryview(positions))
    assert isinstance(handles, array.array)  # no Python object per frame
    assert handles.typecode == "Q"
    assert [slab.get(h, "b") for h in handles] == [2 * i for i in range(50)]
    assert len(slab.extend(data, positions=memoryview(array.array("q")))) == 0
    # numpy int64 positions too
    slab.extend(data, positions=numpy.frombuffer(positions, dtype=numpy.int64))
    assert len(slab) == 100


@pytest.mark.parametrize(
    "bad",
    [[0, 15], [0, 16, 16, 33], [-1, 15], [40, 56], [16, 0]],
    ids=["short", "long", "negative", "past-end", "reversed"],
)
def test_extend_from_bad_positions_allocates_nothing(fk: ModuleType, bad: list[int]) -> None:
    slab = fk.Slab([("a", "Q"), ("b", "Q")], 10)
    with pytest.raises(ValueError):
        slab.extend(bytes(48), positions=memoryview(array.array("q", bad)))
    assert len(slab) == 0
    with pytest.raises(ValueError):
        slab.extend(bytes(48), positions=memoryview(array.array("q", [0])))  # odd count
    with pytest.raises(TypeError):
        slab.extend(bytes(48), positions=memoryview(array.array("i", [0, 16])))


# --- index() -------------------------------------------------------------------------------------


def _by_next_frame(fk: ModuleType, name: str, cfg: dict[str, Any], data: bytes) -> list[Any]:
    """What a fresh decoder gives for ``data``: frames, then its first error or the end."""
    dec = getattr(fk, name)(**cfg)
    dec.feed(data)
    out: list[Any] = []
    while True:
        try:
            frame = dec.next_frame()
        except FrameError as err:
            out.append(type(err))
            return out
        if frame is None:
            return out
        out.append(bytes(frame))


INDEXED = ["LengthFieldDecoder", "VarintLengthDecoder", "FixedLengthDecoder", "DelimiterDecoder"]


@pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))
@given(case=testing.decoder_cases())
def test_index_agrees_with_next_frame(impl: str, case: Any) -> None:
    fk = IMPLEMENTATIONS[impl]
    name, cfg, data = case
    dec = getattr(fk, name)(**cfg)
    expected = _by_next_frame(fk, name, cfg, data)
    try:
        positions, consumed = dec.index(data)
    except TypeError as err:  # masked payloads are not where the frames lie
        # masked payloads are not where the frames lie; a chunked body's end is no frame
        assert (name, cfg.get("role")) in (("WebSocketDecoder", "server"), ("ChunkedDecoder", None))
        assert "use next_frame()" in str(err)
        return
    except FrameError as err:
        # a bad frame first: the error next_frame() gives first
        assert expected[0] is type(err)
        assert dec.buffered == 0
        return
    assert isinstance(positions, memoryview)
    assert positions.readonly
    assert positions.format == "q"
    pairs = numpy.frombuffer(positions, "<i8").reshape(-1, 2)
    frames = [data[a:b] for a, b in pairs.tolist()]
    assert frames == [f for f in expected if isinstance(f, bytes)]
    assert dec.buffered == 0
    # consumed: the bytes those frames occupy; the rest gives what next_frame() gives after them
    assert frames + _by_next_frame(fk, name, cfg, data[consumed:]) == expected


def test_index_length_field_positions(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(2, initial_bytes_to_strip=0)
    data = b"\x00\x03abc\x00\x01d\x00\x05ef"
    positions, consumed = dec.index(data)
    assert positions.tolist() == [0, 5, 5, 8]
    assert consumed == 8
    stripped = fk.LengthFieldDecoder(2)
    assert stripped.index(data)[0].tolist() == [2, 5, 7, 8]


def test_index_errors(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1, max_frame_length=5)
    # a bad frame after good ones ends the batch before it
    positions, consumed = dec.index(b"\x01a\x09xxxxxxxxx")
    assert positions.tolist() == [1, 2]
    assert consumed == 2
    # first: its error, as next_frame() would
    with pytest.raises(FrameTooLongError) as info:
        dec.index(b"\x09xxxxxxxxx")
    assert info.value.frame_length == 10
    varint = fk.VarintLengthDecoder(max_length_bytes=1)
    with pytest.raises(CorruptFrameError):
        varint.index(b"\xff\xff")
    assert varint.index(b"\x01a\xff\xff")[0].tolist() == [1, 2]
    # nothing complete
    assert dec.index(b"\x03ab")[0].tolist() == []
    assert dec.index(b"")[1] == 0
    # the decoder is not changed, and must hold nothing
    assert dec.buffered == 0
    dec.feed(b"\x03a")
    with pytest.raises(ValueError, match="nothing buffered"):
        dec.index(b"\x01a")
    dec.reset()
    with pytest.raises(TypeError):
        dec.index("text")


def test_index_lines(fk: ModuleType) -> None:
    dec = fk.LineDecoder()
    data = b"ab\r\ncd\nef"
    positions, consumed = dec.index(data)
    assert positions.tolist() == [0, 2, 4, 6]
    assert consumed == 7
    keep = fk.LineDecoder(strip_delimiter=False)
    assert keep.index(data)[0].tolist() == [0, 4, 4, 7]


# --- what the fast paths must keep (the core writes records and positions in C) ------------------

INT_EDGES = [
    0, 1, -1, 127, 128, -128, -129, 255, 256, 32767, 32768, -32768, -32769, 65535, 65536,
    2**30 - 1, 2**30, -(2**30), -(2**30) - 1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1,
    2**32 - 1, 2**32, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64 - 1, 2**64, -(2**64),
]  # fmt: skip
CODES = "bBhHiIlLqQnN?dfe"


@st.composite
def _records_to_store(draw: st.DrawFn) -> tuple[list[tuple[str, str]], str, list[object]]:
    order = draw(st.sampled_from(["native", "little", "big"]))
    codes = draw(
        st.lists(
            st.sampled_from(
                CODES if order == "native" else CODES.replace("n", "").replace("N", "")
            ),
            min_size=1,
            max_size=5,
        )
    )
    values: list[object] = []
    for code in codes:
        if code in "df":
            values.append(draw(st.sampled_from([0.0, -1.5, 1e300, float("inf")]) | st.floats()))
        elif code == "e":
            values.append(draw(st.floats(width=16) | st.just(1e10)))
        elif code == "?":
            values.append(draw(st.booleans()))
        else:
            values.append(draw(st.sampled_from(INT_EDGES) | st.integers()))
    return [(f"f{i}", c) for i, c in enumerate(codes)], order, values


def _packed(slab: Any, fields: list[tuple[str, str]], order: str, values: list[object]) -> bytes:
    """The record as ``struct`` writes it (None if struct refuses a value)."""
    prefix = {"native": "@", "little": "<", "big": ">"}[order]
    record = bytearray(slab.record_size)
    offsets = [slab.numpy().dtype.fields[name][1] for name, _ in fields]
    try:
        for (_, code), offset, value in zip(fields, offsets, values):
            struct.pack_into(prefix + code, record, offset, value)
    except (struct.error, OverflowError, ValueError):  # (PyPy's struct raises ValueError too)
        return None  # type: ignore[return-value]
    return bytes(record)


@pytest.mark.parametrize("impl", sorted(IMPLEMENTATIONS))
@given(case=_records_to_store(), reuse=st.booleans())
def test_alloc_writes_exactly_what_struct_packs(
    impl: str, case: tuple[list[tuple[str, str]], str, list[object]], reuse: bool
) -> None:
    """Every field code, both byte orders, ints around every width's edges (and around 2**30,
    where the core reads an int without a call): the record's bytes are struct's, padding zero,
    also in a reused slot that held other bytes; a value struct refuses is refused, with
    nothing allocated."""
    fields, order, values = case
    slab = IMPLEMENTATIONS[impl].Slab(fields, 4, byteorder=order)
    if reuse:  # a slot that held ones everywhere
        h = slab.alloc()
        slab.view(h)[:] = b"\xff" * slab.record_size
        slab.free(h)
    expected = _packed(slab, fields, order, values)
    if expected is None:
        with pytest.raises((OverflowError, ValueError)):
            slab.alloc(*values)
        assert len(slab) == 0
        return
    h = slab.alloc(*values)
    assert slab.view(h).tobytes() == expected
    named = slab.alloc(**{name: v for (name, _), v in zip(fields, values)})
    assert slab.view(named).tobytes() == expected


def test_free_takes_its_handle_positionally_and_refuses_non_handles(fk: ModuleType) -> None:
    import enum

    slab = fk.Slab([("v", "I")], 4)
    h = slab.alloc(1)
    with pytest.raises(TypeError):
        slab.free(handle=h)
    for bad in [-1, 2**63, 2**64, 2**100, h + 1, h ^ (1 << 62)]:
        with pytest.raises(StaleHandleError):
            slab.free(bad)
    with pytest.raises(TypeError, match="a handle is an int"):
        slab.free(True)
    with pytest.raises(TypeError, match="a handle is an int"):
        slab.free(float(h))
    assert len(slab) == 1
    Handle = enum.IntEnum("Handle", {"H": h})
    slab.free(Handle.H)  # an int subclass is an int
    assert len(slab) == 0
    with pytest.raises(DoubleFreeError):
        slab.free(h)


def test_extend_from_positions_refused_late_takes_nothing(fk: ModuleType) -> None:
    """A bad pair after good ones: nothing allocated, in a fresh slab (where the core checks
    and copies in one pass) and in one with freed slots; the next calls see the slab as it was."""
    data = b"".join(struct.pack("<QQ", i, i) for i in range(8))
    good = array.array("q", [v for i in range(8) for v in (16 * i, 16 * i + 16)])
    bad = array.array("q", [*good[:10], 112, 122])
    for freed in (False, True):
        slab = fk.Slab([("a", "Q"), ("b", "Q")], 16, byteorder="little")
        twin = fk.Slab([("a", "Q"), ("b", "Q")], 16, byteorder="little")
        for s in (slab, twin):
            if freed:
                s.free(s.alloc(1, 1))
        with pytest.raises(ValueError, match="16 bytes"):
            slab.extend(data, positions=memoryview(bad))
        assert len(slab) == len(twin)
        handles = slab.extend(data, positions=memoryview(good))
        same = twin.extend(data, positions=memoryview(good))
        assert [slab.slot(h) for h in handles] == [twin.slot(h) for h in same]
        assert [slab.get(h, "a") for h in handles] == list(range(8))
        assert sorted(slab) == sorted(handles)


def test_index_positions_outlive_the_decoder_and_are_read_only(fk: ModuleType) -> None:
    dec = fk.FixedLengthDecoder(4)
    positions, consumed = dec.index(b"abcdefghij")
    del dec
    gc.collect()
    assert positions.tolist() == [0, 4, 4, 8] and consumed == 8
    assert positions.readonly and positions.itemsize == 8 and positions.c_contiguous
    with pytest.raises(TypeError):
        positions[0] = 1
    assert numpy.frombuffer(positions, "<i8").reshape(-1, 2).tolist() == [[0, 4], [4, 8]]


def test_slab_memory_outlives_the_slab_and_does_not_move_under_a_view(fk: ModuleType) -> None:
    slab = fk.Slab([("v", "Q")], 2, growable=True)
    h = slab.alloc(42)
    rows = slab.numpy()
    slab.alloc(43)
    if not (fk.__name__ == "framekit._pure" and platform.python_implementation() == "PyPy"):
        # (PyPy does not track a bytearray's views: the twin cannot refuse there, docs/pools.md)
        with pytest.raises(BufferError):
            slab.alloc(44)  # growing would move the records under ``rows``
        assert len(slab) == 2
    del rows
    slab.alloc(44)
    assert slab.capacity > 2 and slab.get(h, "v") == 42
    view = slab.buffer()
    del slab
    gc.collect()
    assert view[:8].tobytes() == struct.pack("=Q", 42)


INDEX_UNDER_LIMIT = """
import resource, sys
from framekit import _core
data = b"abcdefg\\n" * (2 << 20)          # 16 MiB, 2 M lines: 32 MiB of positions
with open("/proc/self/statm") as f:
    used = int(f.read().split()[0]) * resource.getpagesize()
limit = used + (192 << 20)
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
try:
    bytearray(256 << 20)                  # what the core reserves first for 1-byte frames
except MemoryError:
    pass
else:
    sys.exit("the limit does not bite")
positions, consumed = _core.LineDecoder().index(data)
assert len(positions) == 2 * (2 << 20) and consumed == len(data), (len(positions), consumed)
assert positions[-2:].tolist() == [len(data) - 8, len(data) - 1]
print("ok")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc: Linux")
@pytest.mark.skipif("cython" not in IMPLEMENTATIONS, reason="the compiled core's reservation")
def test_index_works_where_the_system_will_not_reserve_much(tmp_path: Any) -> None:
    """The core first reserves room for as many frames as could fit (16 bytes per byte of
    input for lines), which costs nothing until written; a system that refuses that much
    address space gets the positions grown as needed instead."""
    done = subprocess.run(
        [sys.executable, "-c", INDEX_UNDER_LIMIT],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # framekit as installed, not a source tree in the working directory
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert done.stdout.startswith("ok")
