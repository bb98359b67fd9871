"""VarintLengthDecoder (SPEC §2.2) and FixedLengthDecoder (§2.4)."""

from __future__ import annotations

from types import ModuleType

import pytest
from helpers import run_bytewise, run_feed, run_recv, varint

from framekit import CorruptFrameError, FrameTooLongError, IncompleteFrameError


@pytest.mark.parametrize("size", [0, 1, 127, 128, 300, 16383, 16384, 70000])
def test_varint_lengths(fk: ModuleType, size: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    wire = varint(size) + payload
    assert run_feed(fk.VarintLengthDecoder(), [wire * 2]) == [payload] * 2
    assert run_recv(fk.VarintLengthDecoder(), [wire], sizehints=[7]) == [payload]


def test_varint_header_split_at_every_byte(fk: ModuleType) -> None:
    wire = varint(300) + b"x" * 300
    assert run_bytewise(fk.VarintLengthDecoder(), wire) == [b"x" * 300]


def test_varint_non_minimal_encoding_is_accepted(fk: ModuleType) -> None:
    assert run_feed(fk.VarintLengthDecoder(), [b"\x82\x80\x00ab"]) == [b"ab"]


def test_varint_mqtt_layout(fk: ModuleType) -> None:
    # MQTT fixed header: one type byte, then the remaining length as a varint of <= 4 bytes.
    def make() -> object:
        return fk.VarintLengthDecoder(
            length_field_offset=1, max_length_bytes=4, initial_bytes_to_strip=0
        )

    publish = b"\x30" + varint(200) + b"p" * 200
    ping = b"\xc0\x00"
    assert run_feed(make(), [publish + ping]) == [publish, ping]
    assert run_bytewise(make(), ping + publish) == [ping, publish]


def test_varint_too_many_bytes_is_corrupt(fk: ModuleType) -> None:
    dec = fk.VarintLengthDecoder(max_length_bytes=4)
    with pytest.raises(CorruptFrameError, match="max_length_bytes=4"):
        dec.decode(b"\x80\x80\x80\x80\x01")
    with pytest.raises(CorruptFrameError):
        dec.feed(b"")


def test_varint_unfinished_waits_then_is_corrupt(fk: ModuleType) -> None:
    dec = fk.VarintLengthDecoder(max_length_bytes=3)
    assert dec.decode(b"\x80\x80") == []
    with pytest.raises(CorruptFrameError):
        dec.decode(b"\x80")


def test_varint_over_64_bits_is_corrupt(fk: ModuleType) -> None:
    biggest = b"\xff" * 9 + b"\x01"  # 2**64 - 1
    dec = fk.VarintLengthDecoder(max_frame_length=100)
    with pytest.raises(FrameTooLongError) as info:
        dec.decode(biggest)
    assert info.value.frame_length == 10 + 2**64 - 1
    with pytest.raises(CorruptFrameError, match="64 bits"):
        fk.VarintLengthDecoder().decode(b"\xff" * 9 + b"\x02")


def test_varint_too_long_and_recovery(fk: ModuleType) -> None:
    wire = varint(1000) + b"z" * 1000 + varint(2) + b"ok"
    for fail_fast in (True, False):
        dec = fk.VarintLengthDecoder(max_frame_length=100, fail_fast=fail_fast)
        assert run_feed(dec, [wire[:50], wire[50:]]) == [("too-long", 1002, 100), b"ok"]


def test_varint_adjustment_and_strip(fk: ModuleType) -> None:
    # length counts itself (here one byte) and a one-byte trailer: adjustment -1 + 1
    dec = fk.VarintLengthDecoder(length_adjustment=1, initial_bytes_to_strip=0)
    assert run_feed(dec, [b"\x02ab!"]) == [b"\x02ab!"]
    short = fk.VarintLengthDecoder(length_adjustment=-3)
    assert run_feed(short, [b"\x02ab"]) == [
        ("corrupt", "frame length 0 is less than the end of its length field (1)")
    ]
    strip = fk.VarintLengthDecoder(initial_bytes_to_strip=5)
    assert run_feed(strip, [b"\x02ab"]) == [
        ("corrupt", "initial_bytes_to_strip=5 exceeds the frame length 3")
    ]


def test_varint_incomplete_at_eof(fk: ModuleType) -> None:
    dec = fk.VarintLengthDecoder()
    dec.feed(b"\x85")
    assert dec.next_frame() is None
    with pytest.raises(IncompleteFrameError) as info:
        dec.feed_eof()
    assert info.value.partial == b"\x85"


def test_fixed_length(fk: ModuleType) -> None:
    def make() -> object:
        return fk.FixedLengthDecoder(3)

    assert run_feed(make(), [b"A", b"BC", b"DEFG", b"HI"]) == [b"ABC", b"DEF", b"GHI"]
    assert run_feed(make(), [b"ABCDE"]) == [b"ABC", ("incomplete", b"DE")]
    assert run_recv(make(), [b"ABCDEF"], sizehints=[2]) == [b"ABC", b"DEF"]
    copied = fk.FixedLengthDecoder(2, copy=True).decode(bytearray(b"abcd"))
    assert copied == [b"ab", b"cd"]


@pytest.mark.parametrize("bad", [0, -1])
def test_fixed_length_bad_config(fk: ModuleType, bad: int) -> None:
    with pytest.raises(ValueError):
        fk.FixedLengthDecoder(bad)
