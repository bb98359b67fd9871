"""LengthFieldDecoder: Netty's documented layouts and recovery cases, tokio-util's cases, and
every rule of SPEC §2 / §2.1, each against both implementations."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from conftest import IMPLEMENTATIONS
from helpers import run_bytewise, run_decode, run_feed, run_recv
from hypothesis import given
from hypothesis import strategies as st

from framekit import CorruptFrameError, FrameTooLongError, IncompleteFrameError
from framekit import _protocols as P

HW = b"HELLO, WORLD"

# The seven layouts of Netty's LengthFieldBasedFrameDecoder javadoc:
# (length_field_offset, length_field_length, length_adjustment, initial_bytes_to_strip, in, out)
NETTY_LAYOUTS = [
    (0, 2, 0, 0, b"\x00\x0c" + HW, b"\x00\x0c" + HW),
    (0, 2, 0, 2, b"\x00\x0c" + HW, HW),
    (0, 2, -2, 0, b"\x00\x0e" + HW, b"\x00\x0e" + HW),
    (2, 3, 0, 0, b"\xca\xfe\x00\x00\x0c" + HW, b"\xca\xfe\x00\x00\x0c" + HW),
    (0, 3, 2, 0, b"\x00\x00\x0c\xca\xfe" + HW, b"\x00\x00\x0c\xca\xfe" + HW),
    (1, 2, 1, 3, b"\xca\x00\x0c\xfe" + HW, b"\xfe" + HW),
    (1, 2, -3, 3, b"\xca\x00\x10\xfe" + HW, b"\xfe" + HW),
]


@pytest.mark.parametrize(("offset", "width", "adjust", "strip", "wire", "frame"), NETTY_LAYOUTS)
def test_netty_layouts(
    fk: ModuleType, offset: int, width: int, adjust: int, strip: int, wire: bytes, frame: bytes
) -> None:
    def make() -> object:
        return fk.LengthFieldDecoder(
            width,
            length_field_offset=offset,
            length_adjustment=adjust,
            initial_bytes_to_strip=strip,
        )

    expected = [frame, frame]
    assert run_feed(make(), [wire * 2]) == expected
    assert run_bytewise(make(), wire * 2) == expected
    assert run_recv(make(), [wire * 2], sizehints=[1, 3]) == expected


def test_strip_none_delivers_payload(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(2, length_field_offset=1)
    assert [bytes(f) for f in dec.decode(b"\xca\x00\x03abc")] == [b"abc"]


def test_frames_are_readonly_memoryviews(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    for data in (b"\x02ab\x01c", bytearray(b"\x02ab\x01c")):
        frames = dec.decode(data)
        for frame in frames:
            assert isinstance(frame, memoryview)
            assert frame.readonly and frame.c_contiguous
            assert frame.format == "B" and frame.ndim == 1
            with pytest.raises(TypeError):
                frame[0] = 0
        assert [bytes(f) for f in frames] == [b"ab", b"c"]


def test_copy_true_gives_bytes(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1, copy=True)
    for data in (b"\x02ab\x00", bytearray(b"\x01c")):
        for frame in dec.decode(data):
            assert type(frame) is bytes
    frames = fk.LengthFieldDecoder(1, copy=True).decode(b"\x02ab\x00\x01c")
    assert frames == [b"ab", b"", b"c"]


def test_little_endian_and_every_width(fk: ModuleType) -> None:
    for width in range(1, 9):
        for order in ("big", "little"):
            wire = (5).to_bytes(width, order) + b"hello"
            dec = fk.LengthFieldDecoder(width, byteorder=order)
            assert run_feed(dec, [wire * 3]) == [b"hello"] * 3


def test_eight_byte_field_is_unsigned(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(8, max_frame_length=100)
    with pytest.raises(FrameTooLongError) as info:
        dec.decode(b"\xff" * 8)
    assert info.value.frame_length == 8 + 2**64 - 1
    assert info.value.max_frame_length == 100


# --- tokio-util's length_delimited tests, translated to this contract -------------------------


def test_tokio_read_empty_io_yields_nothing(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder()
    assert dec.feed_eof() is None
    assert dec.next_frame() is None


def test_tokio_single_frame_one_packet(fk: ModuleType) -> None:
    assert run_feed(fk.LengthFieldDecoder(), [b"\x00\x00\x00\x09abcdefghi"]) == [b"abcdefghi"]


def test_tokio_single_frame_little_endian(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(byteorder="little")
    assert run_feed(dec, [b"\x09\x00\x00\x00abcdefghi"]) == [b"abcdefghi"]


def test_tokio_multi_frame_one_packet(fk: ModuleType) -> None:
    data = b"\x00\x00\x00\x09abcdefghi\x00\x00\x00\x03123\x00\x00\x00\x0bhello world"
    assert run_feed(fk.LengthFieldDecoder(), [data]) == [b"abcdefghi", b"123", b"hello world"]


def test_tokio_single_frame_multi_packet_wait(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder()
    for piece in (b"\x00\x00", b"\x00\x09", b"abc", b"defghi"[:-1]):
        dec.feed(piece)
        assert dec.next_frame() is None
    dec.feed(b"i")
    frame = dec.next_frame()
    assert frame is not None and bytes(frame) == b"abcdefghi"
    assert dec.next_frame() is None


def test_tokio_incomplete_head(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder()
    dec.feed(b"\x00\x00")
    assert dec.next_frame() is None
    with pytest.raises(IncompleteFrameError) as info:
        dec.feed_eof()
    assert info.value.partial == b"\x00\x00"
    assert dec.buffered == 0


def test_tokio_incomplete_payload(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder()
    assert dec.decode(b"\x00\x00\x00\x09ab") == []
    with pytest.raises(IncompleteFrameError) as info:
        dec.feed_eof()
    assert info.value.partial == b"\x00\x00\x00\x09ab"


def test_tokio_max_frame_len(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(max_frame_length=5 + 4)
    with pytest.raises(FrameTooLongError):
        dec.decode(b"\x00\x00\x00\x09abcdefghi")


def test_tokio_one_byte_length_field(fk: ModuleType) -> None:
    assert run_feed(fk.LengthFieldDecoder(1), [b"\x09abcdefghi"]) == [b"abcdefghi"]


def test_tokio_header_offset(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(2, length_field_offset=4)
    assert run_feed(dec, [b"zzzz\x00\x09abcdefghi"]) == [b"abcdefghi"]


def test_tokio_length_includes_header(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(2, length_adjustment=-2)
    assert run_feed(dec, [b"\x00\x0babcdefghi"]) == [b"abcdefghi"]


def test_tokio_full_header_kept(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(2, length_field_offset=2, initial_bytes_to_strip=0)
    assert run_feed(dec, [b"zz\x00\x02hi"]) == [b"zz\x00\x02hi"]


# --- Netty's LengthFieldBasedFrameDecoderTest: discard, fail-fast and fail-slow recovery ------


def _netty_discard_stream() -> bytes:
    return (32).to_bytes(4, "big") + bytes(range(32)) + (1).to_bytes(4, "big") + b"a"


@pytest.mark.parametrize("fail_fast", [True, False])
def test_netty_discard_too_long_frame(fk: ModuleType, fail_fast: bool) -> None:
    data = _netty_discard_stream()
    err = ("too-long", 36, 16)

    def make() -> object:
        return fk.LengthFieldDecoder(
            4, initial_bytes_to_strip=4, max_frame_length=16, fail_fast=fail_fast
        )

    assert run_feed(make(), [data]) == [err, b"a"]
    assert run_feed(make(), [data[:14], data[14:]]) == [err, b"a"]
    assert run_bytewise(make(), data) == [err, b"a"]


def test_fail_fast_raises_when_header_is_read(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(4, max_frame_length=16)
    dec.feed(_netty_discard_stream()[:6])
    with pytest.raises(FrameTooLongError) as info:
        dec.next_frame()
    assert info.value.frame_length == 36
    assert dec.buffered == 0


def test_fail_slow_raises_after_last_byte_discarded(fk: ModuleType) -> None:
    data = _netty_discard_stream()
    dec = fk.LengthFieldDecoder(4, max_frame_length=16, fail_fast=False)
    for i in range(35):
        dec.feed(data[i : i + 1])
        assert dec.next_frame() is None
        assert dec.buffered == min(i + 1, 4) % 4  # the header, until it is read
    dec.feed(data[35:36])
    with pytest.raises(FrameTooLongError):
        dec.next_frame()
    dec.feed(data[36:])
    frame = dec.next_frame()
    assert frame is not None and bytes(frame) == b"a"


def test_recovery_twice_in_a_row(fk: ModuleType) -> None:
    big = (20).to_bytes(2, "big") + b"x" * 20
    data = big + big + b"\x00\x02ok"
    for fail_fast in (True, False):
        for run in (run_feed, run_decode):
            dec = fk.LengthFieldDecoder(2, max_frame_length=10, fail_fast=fail_fast)
            assert run(dec, [data]) == [("too-long", 22, 10)] * 2 + [b"ok"]


# --- errors in stream order ----------------------------------------------------------------


def test_frames_before_error_come_first(fk: ModuleType) -> None:
    data = b"\x01a\x01b" + b"\x09" + b"x" * 9 + b"\x01c"
    dec = fk.LengthFieldDecoder(1, max_frame_length=5)
    assert run_feed(dec, [data]) == [b"a", b"b", ("too-long", 10, 5), b"c"]


def test_decode_defers_error_after_frames(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1, max_frame_length=5)
    frames = dec.decode(b"\x01a\x01b\x09xxxxxxxxx\x01c")
    assert [bytes(f) for f in frames] == [b"a", b"b"]
    with pytest.raises(FrameTooLongError):
        dec.decode(b"\x01d")
    assert [bytes(f) for f in dec.decode(b"")] == [b"c", b"d"]


def test_decode_defers_error_to_next_frame(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1, max_frame_length=5)
    assert len(dec.decode(b"\x01a\x09xxxxxxxxx")) == 1
    with pytest.raises(FrameTooLongError):
        dec.next_frame()
    assert dec.next_frame() is None


def test_decode_raises_at_once_without_frames(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1, max_frame_length=5)
    with pytest.raises(FrameTooLongError):
        dec.decode(b"\x09xxxxxxxxx\x01a")
    assert [bytes(f) for f in dec.decode(b"")] == [b"a"]


def test_iteration_raises_in_place(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1, max_frame_length=5)
    dec.feed(b"\x01a\x09xxxxxxxxx\x01b")
    got = []
    with pytest.raises(FrameTooLongError):
        for frame in dec:
            got.append(bytes(frame))
    assert got == [b"a"]
    assert [bytes(f) for f in dec] == [b"b"]


# --- corrupt streams are sticky ------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "wire", "message", "valid", "frame"),
    [
        (
            {"length_adjustment": -5},
            b"\x00\x00\x00\x01x",
            "frame length 0 is less than",
            b"\x00\x00\x00\x07ok",
            b"ok",
        ),
        (
            {"initial_bytes_to_strip": 8},
            b"\x00\x00\x00\x02xy",
            "initial_bytes_to_strip=8",
            b"\x00\x00\x00\x05abcde",
            b"e",
        ),
    ],
)
def test_corrupt_is_sticky(
    fk: ModuleType, kwargs: dict[str, int], wire: bytes, message: str, valid: bytes, frame: bytes
) -> None:
    dec = fk.LengthFieldDecoder(4, **kwargs)
    dec.feed(b"")
    with pytest.raises(CorruptFrameError, match=message):
        dec.decode(wire)
    for call in (
        lambda: dec.next_frame(),
        lambda: dec.feed(b"\x00"),
        lambda: dec.decode(b""),
        lambda: dec.feed_eof(),
        lambda: dec.get_buffer(),
        lambda: list(dec),
    ):
        with pytest.raises(CorruptFrameError, match=message):
            call()
    assert dec.buffered == 0
    dec.reset()
    assert [bytes(f) for f in dec.decode(valid)] == [frame]


def test_corrupt_after_frames_in_order(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(2, length_adjustment=-3)
    assert run_feed(dec, [b"\x00\x04a\x00\x01"]) == [
        b"a",
        ("corrupt", "frame length 0 is less than the end of its length field (2)"),
    ]


# --- end of stream -------------------------------------------------------------------------


def test_eof_after_complete_frames_is_clean(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    dec.feed(b"\x01a")
    assert dec.feed_eof() is None
    frame = dec.next_frame()
    assert frame is not None and bytes(frame) == b"a"
    assert dec.next_frame() is None


def test_eof_with_frames_before_incomplete(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    dec.feed(b"\x01a\x05ab")
    assert dec.feed_eof() is None
    frame = dec.next_frame()
    assert frame is not None and bytes(frame) == b"a"
    with pytest.raises(IncompleteFrameError) as info:
        dec.next_frame()
    assert info.value.partial == b"\x05ab"
    assert dec.next_frame() is None


def test_eof_while_discarding(fk: ModuleType) -> None:
    slow = fk.LengthFieldDecoder(1, max_frame_length=4, fail_fast=False)
    assert slow.decode(b"\x09abc") == []
    with pytest.raises(FrameTooLongError) as info:
        slow.feed_eof()
    assert info.value.frame_length == 10
    assert slow.next_frame() is None

    fast = fk.LengthFieldDecoder(1, max_frame_length=4)
    with pytest.raises(FrameTooLongError):
        fast.decode(b"\x09abc")
    assert fast.feed_eof() is None
    assert fast.next_frame() is None


def test_feed_after_eof_is_refused(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    dec.feed_eof()
    with pytest.raises(ValueError, match="after feed_eof"):
        dec.feed(b"\x01a")
    with pytest.raises(ValueError, match="after feed_eof"):
        dec.get_buffer()
    assert dec.feed_eof() is None
    dec.reset()
    assert [bytes(f) for f in dec.decode(b"\x01a")] == [b"a"]


def test_reset_drops_everything(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1, max_frame_length=4, fail_fast=False)
    dec.feed(b"\x09abc")
    assert dec.next_frame() is None
    dec.reset()
    assert dec.buffered == 0
    assert [bytes(f) for f in dec.decode(b"\x01z")] == [b"z"]
    dec.feed(b"\x03a")
    assert dec.buffered == 2
    dec.reset()
    assert dec.buffered == 0
    assert dec.feed_eof() is None


def test_buffered_counts_unreturned_bytes(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    dec.feed(b"\x01a\x02b")
    assert dec.buffered == 4
    dec.next_frame()
    assert dec.buffered == 2
    dec.feed(bytearray(b"c"))
    assert dec.buffered == 3
    dec.next_frame()
    assert dec.buffered == 0


# --- the rules: the core's C kernels answer as the twin's Python ---------------------------------


def _rule_outcome(rule: Any, wire: bytes) -> Any:
    try:
        return rule.answer(wire), rule.start
    except CorruptFrameError as err:
        return ("corrupt", str(err))


_WIRES = st.one_of(
    st.binary(max_size=24),
    st.lists(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0x81, 0xFF]), max_size=24).map(bytes),
)


@pytest.mark.skipif("cython" not in IMPLEMENTATIONS, reason="needs the compiled core")
@given(
    width=st.sampled_from([1, 2, 3, 4, 5, 8]),
    offset=st.integers(0, 3),
    adjustment=st.integers(-12, 12),
    strip=st.integers(0, 14),
    big=st.booleans(),
    max_total=st.sampled_from([0, 7, 30, 1 << 40]),
    wire=_WIRES,
)
def test_length_field_kernel_answers_as_the_pure_rule(
    width: int, offset: int, adjustment: int, strip: int, big: bool, max_total: int, wire: bytes
) -> None:
    core = IMPLEMENTATIONS["cython"]
    args = (width, offset, adjustment, strip, big, max_total)
    ours, theirs = core.LengthFieldRule(*args), P.LengthFieldRule(*args)
    assert _rule_outcome(ours, wire) == _rule_outcome(theirs, wire), (args, wire)
    assert repr(ours) == repr(theirs)


@pytest.mark.skipif("cython" not in IMPLEMENTATIONS, reason="needs the compiled core")
@given(
    offset=st.integers(0, 3),
    adjustment=st.integers(-12, 12),
    strip=st.integers(-1, 14),
    max_length_bytes=st.integers(1, 10),
    max_total=st.sampled_from([0, 7, 30, 1 << 40]),
    wire=_WIRES,
)
def test_varint_kernel_answers_as_the_pure_rule(
    offset: int, adjustment: int, strip: int, max_length_bytes: int, max_total: int, wire: bytes
) -> None:
    core = IMPLEMENTATIONS["cython"]
    args = (offset, adjustment, strip, max_length_bytes, max_total)
    ours, theirs = core.VarintRule(*args), P.VarintRule(*args)
    assert _rule_outcome(ours, wire) == _rule_outcome(theirs, wire), (args, wire)
    assert repr(ours) == repr(theirs)


@pytest.mark.skipif("cython" not in IMPLEMENTATIONS, reason="needs the compiled core")
@pytest.mark.parametrize(
    "wire",
    [
        b"\xff" * 8,  # 2**64 - 1: past what the core counts in a Py_ssize_t
        b"\x40" + b"\x00" * 7,  # 2**62, the last value it counts
        b"\x40" + b"\x00" * 6 + b"\x01",
    ],
)
def test_length_field_rules_agree_on_lengths_too_long_to_count(wire: bytes) -> None:
    core = IMPLEMENTATIONS["cython"]
    for adjustment in (-9, 0, 9):
        args = (8, 0, adjustment, 0, True, 1 << 40)
        expected = int.from_bytes(wire, "big") + 8 + adjustment
        assert core.LengthFieldRule(*args).answer(wire) == expected
        assert P.LengthFieldRule(*args).answer(wire) == expected
    varint = b"\xff" * 9 + b"\x01"  # 2**64 - 1
    assert core.VarintRule(0, 0, -1, 10, 1 << 40).answer(varint) == (1 << 64) - 1 + 10
    assert P.VarintRule(0, 0, -1, 10, 1 << 40).answer(varint) == (1 << 64) - 1 + 10


@pytest.mark.skipif("cython" not in IMPLEMENTATIONS, reason="needs the compiled core")
def test_length_rules_agree_at_the_edges_of_max_total_and_strip() -> None:
    """Too long is checked before a strip past the end: around max_total, both rules say alike
    which a frame is (a frame exactly max_total long is not too long)."""
    core = IMPLEMENTATIONS["cython"]
    seen = set()
    for value in range(0, 12):
        for strip in range(0, 14):
            for max_total in (0, 2, 5, 9, 13):
                field = bytes([value, 0x80 | value, value])  # as a 1-byte field; and a varint
                for name, args in (
                    ("LengthFieldRule", (1, 0, 0, strip, True, max_total)),
                    ("VarintRule", (0, 0, strip, 3, max_total)),
                ):
                    outcome = _rule_outcome(getattr(core, name)(*args), field)
                    assert outcome == _rule_outcome(getattr(P, name)(*args), field), (name, args)
                    seen.add(outcome[0] if outcome[0] == "corrupt" else "frame")
    assert seen == {"corrupt", "frame"}
