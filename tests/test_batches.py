"""Batches and records (SPEC §10, and the Slab part of §11): ``index()`` finds every complete
frame of a buffer without a Python object per frame, agreeing with ``next_frame()``; a Slab
takes positional values, whole batches of frames (``extend``), hands out handles in arrays,
and tells which rows are live."""

from __future__ import annotations

import array
import struct
from types import ModuleType
from typing import Any

import numpy
import pytest
from conftest import IMPLEMENTATIONS
from hypothesis import given

from framekit import CorruptFrameError, FrameError, FrameTooLongError, StaleHandleError, testing
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
