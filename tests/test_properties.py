"""The invariants of SPEC §2, as properties: split invariance, both implementations agree,
round trips, frames that never change."""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Any, Callable

import pytest
from conftest import IMPLEMENTATIONS
from helpers import run_bytewise, run_decode, run_feed, run_lazy, run_recv
from hypothesis import given
from hypothesis import strategies as st

from framekit import CorruptFrameError, FrameError, _kinds
from framekit._adapters import write_through_buffer
from framekit.testing import (
    STRATEGIES,
    Event,
    describe,
    length_field_configs,
    length_field_streams,
    split,
    splits,
)

#: every kind of decoder (framekit._kinds), by short name: (class name, configs, streams)
KINDS: dict[str, tuple[str, Any, Any]] = {
    kind.name: (kind.decoder, *STRATEGIES[kind.name]) for kind in _kinds.KINDS
}


def _all_runs(
    make: Callable[[], Any],
    data: bytes,
    pieces: list[bytes],
    hints: list[int],
    takes: list[bool],
) -> dict[str, list[Event]]:
    return {
        "whole": run_feed(make(), [data]),
        "pieces": run_feed(make(), pieces),
        "mutable": run_feed(make(), pieces, mutable=True),
        "iterate": run_feed(make(), pieces, iterate=True),
        "iterate-mutable": run_feed(make(), pieces, mutable=True, iterate=True),
        "recv-iterate": run_recv(make(), pieces, sizehints=hints, iterate=True),
        "bytewise": run_bytewise(make(), data),
        "recv": run_recv(make(), pieces, sizehints=hints),
        "decode": run_decode(make(), pieces),
        "lazy": run_lazy(make(), pieces, takes),
        "lazy-recv": run_lazy(make(), pieces, takes, recv=True),
    }


def _check(kind: str, data_strategy: st.DataObject) -> None:
    cls_name, configs, streams = KINDS[kind]
    cfg = data_strategy.draw(configs())
    data = data_strategy.draw(streams(cfg))
    pieces = data_strategy.draw(splits(data))
    hints = data_strategy.draw(st.lists(st.integers(-1, 40), min_size=1, max_size=5))
    takes = data_strategy.draw(st.lists(st.booleans(), min_size=1, max_size=6))
    results = {}
    for name, module in IMPLEMENTATIONS.items():
        cls = getattr(module, cls_name)
        runs = _all_runs(functools.partial(cls, **cfg), data, pieces, hints, takes)
        reference = runs["whole"]
        for how, events in runs.items():
            assert events == reference, (name, how)
        results[name] = reference
    first = next(iter(results.values()))
    for name, events in results.items():
        assert events == first, f"{name} disagrees with another implementation"


@pytest.mark.parametrize("kind", sorted(KINDS))
@given(data=st.data())
def test_split_invariance_and_agreement(kind: str, data: st.DataObject) -> None:
    """Every kind of decoder: any split, any way of feeding and taking frames gives the same
    frames and errors, and both builds agree."""
    _check(kind, data)


@given(
    st.lists(st.sampled_from(list(b"ab")), min_size=1, max_size=3).map(bytes),
    st.lists(st.lists(st.sampled_from(list(b"abc")), max_size=6).map(bytes), max_size=12),
    st.lists(st.integers(0, 900), max_size=10),
)
def test_delimiter_encoder_round_trip(
    delimiter: bytes, payloads: list[bytes], points: list[int]
) -> None:
    for module in IMPLEMENTATIONS.values():
        enc = module.DelimiterEncoder(delimiter)
        try:
            wire = enc.encode_many(payloads)
        except ValueError:
            # refused: the delimiter would occur before the payload's end is marked
            assert any(delimiter in p + delimiter[:-1] for p in payloads)
            continue
        assert run_feed(enc.decoder(max_frame_length=1000), split(wire, points)) == payloads


@given(st.binary(max_size=200), st.integers(1, 9), st.lists(st.integers(0, 200), max_size=8))
def test_fixed_split_invariance_and_agreement(data: bytes, size: int, points: list[int]) -> None:
    results = []
    for module in IMPLEMENTATIONS.values():

        def make(module: ModuleType = module) -> Any:
            return module.FixedLengthDecoder(size)

        whole = run_feed(make(), [data])
        assert run_feed(make(), split(data, points)) == whole
        assert run_recv(make(), split(data, points), sizehints=[size]) == whole
        results.append(whole)
    assert all(r == results[0] for r in results)
    complete = len(data) // size * size
    assert results[0][: len(data) // size] == [data[i : i + size] for i in range(0, complete, size)]


@given(
    st.sampled_from([1, 2, 3, 4, 8]),
    st.sampled_from(["big", "little"]),
    st.integers(-3, 3),
    st.booleans(),
    st.lists(st.binary(max_size=300), max_size=20),
    st.lists(st.integers(0, 5000), max_size=10),
)
def test_length_encoder_round_trip(
    width: int, order: str, adjust: int, includes: bool, payloads: list[bytes], points: list[int]
) -> None:
    for module in IMPLEMENTATIONS.values():
        enc = module.LengthFieldEncoder(
            width, byteorder=order, length_adjustment=adjust, length_includes_header=includes
        )
        try:
            wire = enc.encode_many(payloads)
        except (ValueError, OverflowError):
            # refused: a payload does not fit the field, or its value would be negative
            for p in payloads:
                value = len(p) + adjust + (width if includes else 0)
                if value < 0 or value >= 1 << (8 * width):
                    break
            else:
                raise
            continue
        assert wire == b"".join(enc.encode(p) for p in payloads)
        assert run_feed(enc.decoder(), split(wire, points)) == payloads


@given(st.lists(st.binary(max_size=400), max_size=20), st.lists(st.integers(0, 9000), max_size=10))
def test_varint_encoder_round_trip(payloads: list[bytes], points: list[int]) -> None:
    for module in IMPLEMENTATIONS.values():
        enc = module.VarintLengthEncoder()
        wire = enc.encode_many(payloads)
        assert run_feed(enc.decoder(), split(wire, points)) == payloads
        assert [bytes(f) for f in enc.decoder().decode(wire)] == payloads


@given(st.lists(st.binary(min_size=0, max_size=200), min_size=1, max_size=40), st.data())
def test_held_frames_never_change(payloads: list[bytes], data: st.DataObject) -> None:
    """Frames stay intact through later feeds of every kind, in every implementation."""
    for module in IMPLEMENTATIONS.values():
        enc = module.LengthFieldEncoder(2)
        dec = enc.decoder()
        wire = enc.encode_many(payloads)
        pieces = data.draw(splits(wire))
        held = []
        for i, piece in enumerate(pieces):
            way = data.draw(st.sampled_from(["bytes", "mutable", "recv"]), label=f"way{i}")
            if way == "recv":
                write_through_buffer(dec, piece)
            else:
                dec.feed(bytearray(piece) if way == "mutable" else piece)
            held.extend(dec)
        assert [bytes(f) for f in held] == payloads


@given(length_field_configs(), st.data())
def test_interleaved_calls_during_iteration(cfg: dict[str, Any], data: st.DataObject) -> None:
    """Feeding, next_frame() and get_buffer() while an iterator is suspended change nothing in
    the sequence of frames and errors."""
    stream = data.draw(length_field_streams(cfg))
    pieces = data.draw(splits(stream))
    for module in IMPLEMENTATIONS.values():
        reference = run_feed(module.LengthFieldDecoder(**cfg), pieces)
        dec = module.LengthFieldDecoder(**cfg)
        out: list[Event] = []
        it = iter(dec)
        queue = list(pieces)
        corrupt = False
        for _step in range(4 * len(pieces) + 40):
            op = data.draw(st.sampled_from(["feed", "recv", "next", "iter", "iter", "fresh"]))
            try:
                if op in ("feed", "recv") and queue:
                    piece = queue.pop(0)
                    if op == "feed":
                        dec.feed(piece)
                    elif piece:
                        buf = dec.get_buffer(len(piece))
                        buf[: len(piece)] = piece
                        dec.buffer_updated(len(piece))
                elif op == "next":
                    frame = dec.next_frame()
                    if frame is not None:
                        out.append(bytes(frame))
                elif op == "iter":
                    frame = next(it, None)
                    if frame is None:
                        it = iter(dec)
                    else:
                        out.append(bytes(frame))
                else:
                    it = iter(dec)
            except FrameError as err:
                out.append(describe(err))
                it = iter(dec)
                if isinstance(err, CorruptFrameError):
                    corrupt = True
                    break
        if not corrupt:
            for piece in queue:
                dec.feed(piece)
            rest = run_feed(dec, [])
            out.extend(rest)
        assert out == reference


@given(
    st.sampled_from([b"\n", b"aa", b"aba", b"\r\n"]),
    st.lists(st.sampled_from([b"", b"a", b"b", b"ab", b"x" * 7]), min_size=300, max_size=900),
    st.booleans(),
    st.data(),
)
def test_long_streams_of_short_frames(
    delimiter: bytes, pieces: list[bytes], line: bool, data: st.DataObject
) -> None:
    """Batches are cut from windows of the buffer; a delimiter straddling a window's end (or a
    self-overlapping one) must come out as it does byte by byte."""
    stream = delimiter.join(pieces) + (b"\r\n" if line else delimiter)
    pieces_of_stream = data.draw(splits(stream))
    results = []
    for module in IMPLEMENTATIONS.values():

        def make(module: ModuleType = module) -> Any:
            if line:
                return module.LineDecoder(max_frame_length=64)
            return module.DelimiterDecoder(delimiter, max_frame_length=64)

        whole = run_feed(make(), [stream])
        assert run_feed(make(), pieces_of_stream, iterate=True) == whole
        assert run_bytewise(make(), stream) == whole
        results.append(whole)
    assert all(r == results[0] for r in results)
