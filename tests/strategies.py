"""Hypothesis strategies for decoder configurations and the streams that exercise them."""

from __future__ import annotations

from typing import Any

from helpers import varint
from hypothesis import strategies as st


@st.composite
def length_field_configs(draw: st.DrawFn) -> dict[str, Any]:
    width = draw(st.sampled_from([1, 2, 4, 1, 2, 3, 8]))
    offset = draw(st.integers(0, 3))
    header_end = offset + width
    return {
        "length_field_length": width,
        "length_field_offset": offset,
        "length_adjustment": draw(st.integers(-4, 4)),
        "initial_bytes_to_strip": draw(st.one_of(st.none(), st.integers(0, header_end + 2))),
        "byteorder": draw(st.sampled_from(["big", "little"])),
        "max_frame_length": draw(st.integers(header_end, header_end + 80)),
        "fail_fast": draw(st.booleans()),
        "copy": draw(st.booleans()),
    }


@st.composite
def varint_configs(draw: st.DrawFn) -> dict[str, Any]:
    offset = draw(st.integers(0, 2))
    return {
        "length_field_offset": offset,
        "length_adjustment": draw(st.integers(-3, 3)),
        "initial_bytes_to_strip": draw(st.one_of(st.none(), st.integers(0, offset + 3))),
        "max_length_bytes": draw(st.integers(1, 10)),
        "max_frame_length": draw(st.integers(offset + 1, offset + 300)),
        "fail_fast": draw(st.booleans()),
        "copy": draw(st.booleans()),
    }


@st.composite
def length_field_streams(draw: st.DrawFn, cfg: dict[str, Any]) -> bytes:
    """Mostly well-formed frames for ``cfg``, some oversized, some garbage, maybe truncated."""
    width = cfg["length_field_length"]
    offset = cfg["length_field_offset"]
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["ok", "ok", "ok", "big", "junk"]))
        if kind == "junk":
            parts.append(draw(st.binary(max_size=12)))
            continue
        top = cfg["max_frame_length"] + (60 if kind == "big" else 0)
        size = draw(st.integers(0, max(0, top - offset - width)))
        value = size - cfg["length_adjustment"]
        if value < 0 or value >= 1 << (8 * width):
            continue
        field = value.to_bytes(width, cfg["byteorder"])
        parts.append(draw(st.binary(min_size=offset, max_size=offset)) + field + bytes(size))
    data = b"".join(parts)
    return data[: draw(st.integers(0, len(data)))] if draw(st.booleans()) else data


@st.composite
def varint_streams(draw: st.DrawFn, cfg: dict[str, Any]) -> bytes:
    offset = cfg["length_field_offset"]
    parts = []
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.sampled_from(["ok", "ok", "ok", "big", "junk", "long-varint"]))
        if kind == "junk":
            parts.append(draw(st.binary(max_size=12)))
        elif kind == "long-varint":
            parts.append(bytes(offset) + b"\x80" * draw(st.integers(1, 11)) + b"\x01")
        else:
            top = cfg["max_frame_length"] + (200 if kind == "big" else 0)
            value = draw(st.integers(0, top))
            payload = max(0, value + cfg["length_adjustment"])
            parts.append(bytes(offset) + varint(value) + b"p" * payload)
    data = b"".join(parts)
    return data[: draw(st.integers(0, len(data)))] if draw(st.booleans()) else data


@st.composite
def cuts(draw: st.DrawFn, size: int) -> list[int]:
    """Points at which to split a stream of ``size`` bytes."""
    if size == 0:
        return []
    return draw(st.lists(st.integers(0, size), max_size=12))


_DELIMITER_ALPHABET = list(b"ab\r\n")


@st.composite
def delimiter_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Small alphabets, so that delimiters overlap, share prefixes and straddle feeds."""
    one = st.lists(st.sampled_from(_DELIMITER_ALPHABET), min_size=1, max_size=4).map(bytes)
    return {
        "delimiters": draw(st.lists(one, min_size=1, max_size=3)),
        "strip_delimiter": draw(st.booleans()),
        "max_frame_length": draw(st.integers(0, 24)),
        "fail_fast": draw(st.booleans()),
        "copy": draw(st.booleans()),
    }


@st.composite
def line_configs(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "strip_delimiter": draw(st.booleans()),
        "max_frame_length": draw(st.integers(0, 40)),
        "fail_fast": draw(st.booleans()),
        "copy": draw(st.booleans()),
    }


@st.composite
def delimited_streams(draw: st.DrawFn, cfg: dict[str, Any]) -> bytes:
    return bytes(draw(st.lists(st.sampled_from([*_DELIMITER_ALPHABET, 120]), max_size=300)))
