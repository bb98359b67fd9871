"""LengthFieldEncoder and VarintLengthEncoder (SPEC §3)."""

from __future__ import annotations

from types import ModuleType

import pytest

from framekit import FrameTooLongError


def test_length_field_encoder_layout(fk: ModuleType) -> None:
    enc = fk.LengthFieldEncoder(2)
    assert enc.encode(b"HELLO, WORLD") == b"\x00\x0cHELLO, WORLD"
    assert enc.encode_header(12) == b"\x00\x0c"
    assert fk.LengthFieldEncoder(2, byteorder="little").encode(b"ab") == b"\x02\x00ab"
    assert fk.LengthFieldEncoder(2, length_includes_header=True).encode(b"ab") == b"\x00\x04ab"
    assert fk.LengthFieldEncoder(1, length_adjustment=-1).encode(b"ab") == b"\x01ab"
    assert fk.LengthFieldEncoder(3).encode_many([b"a", bytearray(b"bc"), memoryview(b"")]) == (
        b"\x00\x00\x01a\x00\x00\x02bc\x00\x00\x00"
    )


def test_length_field_encoder_refusals(fk: ModuleType) -> None:
    enc = fk.LengthFieldEncoder(1)
    with pytest.raises(FrameTooLongError) as info:
        enc.encode(b"x" * 256)
    assert info.value.frame_length == 257
    with pytest.raises(FrameTooLongError):
        fk.LengthFieldEncoder(4, max_frame_length=10).encode(b"x" * 7)
    assert fk.LengthFieldEncoder(4, max_frame_length=10).encode(b"x" * 6) == b"\0\0\0\6" + b"x" * 6
    with pytest.raises(ValueError, match="negative"):
        fk.LengthFieldEncoder(1, length_adjustment=-2).encode(b"a")
    with pytest.raises(ValueError):
        enc.encode_header(-1)
    with pytest.raises(TypeError):
        enc.encode("text")
    with pytest.raises(TypeError):
        enc.encode_header(1.5)
    # nothing written when one payload of a batch is refused
    with pytest.raises(FrameTooLongError):
        enc.encode_many([b"ok", b"x" * 300])


def test_varint_encoder(fk: ModuleType) -> None:
    enc = fk.VarintLengthEncoder()
    assert enc.encode(b"") == b"\x00"
    assert enc.encode_header(300) == b"\xac\x02"
    assert enc.encode_many([b"a", b"bc"]) == b"\x01a\x02bc"
    with pytest.raises(FrameTooLongError) as info:
        fk.VarintLengthEncoder(max_frame_length=129).encode(b"x" * 128)
    assert info.value.frame_length == 130
    with pytest.raises(ValueError):
        enc.encode_header(-5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"length_field_length": 1},
        {"length_field_length": 3, "byteorder": "little"},
        {"length_field_length": 2, "length_includes_header": True},
        {"length_field_length": 8, "length_adjustment": 5},
        {"length_field_length": 2, "length_adjustment": -1, "length_includes_header": True},
    ],
)
def test_round_trip_examples(fk: ModuleType, kwargs: dict[str, object]) -> None:
    enc = fk.LengthFieldEncoder(**kwargs)
    payloads = [b"", b"a", b"hello", bytes(range(200))]
    assert [bytes(f) for f in enc.decoder().decode(enc.encode_many(payloads))] == payloads
    venc = fk.VarintLengthEncoder()
    assert [bytes(f) for f in venc.decoder().decode(venc.encode_many(payloads))] == payloads


@pytest.mark.parametrize(
    "kwargs",
    [
        {"length_field_length": 0},
        {"length_field_length": 9},
        {"byteorder": "network"},
        {"max_frame_length": 2},
    ],
)
def test_encoder_bad_config(fk: ModuleType, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        fk.LengthFieldEncoder(**kwargs)
