"""DelimiterDecoder, LineDecoder and DelimiterEncoder (SPEC §2.3, §3): Netty's, tokio-util's and
Twisted's cases translated to this contract, overlapping delimiter sets, end of stream, limits."""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any, Optional

import pytest
from conftest import IMPLEMENTATIONS
from helpers import run_bytewise, run_feed, run_recv
from hypothesis import given
from hypothesis import strategies as st

from framekit import FrameTooLongError, IncompleteFrameError
from framekit import _protocols as P
from framekit.testing import drain, finish, frames_and_errors

# --- Netty LineBasedFrameDecoderTest ------------------------------------------------------------


def test_netty_line_decode_with_strip(fk: ModuleType) -> None:
    assert run_feed(fk.LineDecoder(), [b"first\r\nsecond\nthird"]) == [
        b"first",
        b"second",
        ("incomplete", b"third"),
    ]


def test_netty_line_decode_without_strip(fk: ModuleType) -> None:
    dec = fk.LineDecoder(strip_delimiter=False)
    assert run_feed(dec, [b"first\r\nsecond\nthird"]) == [
        b"first\r\n",
        b"second\n",
        ("incomplete", b"third"),
    ]


def test_netty_too_long_line_fail_slow(fk: ModuleType) -> None:
    dec = fk.LineDecoder(max_frame_length=16, strip_delimiter=False, fail_fast=False)
    assert run_feed(dec, [b"12345678901234567890\r\nfirst\nsecond"]) == [
        ("too-long", 20, 16),
        b"first\n",
        ("incomplete", b"second"),
    ]


def test_netty_too_long_line_split_fail_slow(fk: ModuleType) -> None:
    dec = fk.LineDecoder(max_frame_length=16, strip_delimiter=False, fail_fast=False)
    dec.feed(b"12345678901234567")
    assert dec.next_frame() is None
    dec.feed(b"890\r\nfirst\r\n")
    with pytest.raises(FrameTooLongError) as info:
        dec.next_frame()
    assert info.value.frame_length == 20
    frame = dec.next_frame()
    assert frame is not None and bytes(frame) == b"first\r\n"


def test_netty_too_long_line_fail_fast(fk: ModuleType) -> None:
    dec = fk.LineDecoder(max_frame_length=16, strip_delimiter=False)
    dec.feed(b"12345678901234567")
    with pytest.raises(FrameTooLongError) as info:
        dec.next_frame()
    assert info.value.frame_length is None
    assert dec.decode(b"890") == []
    assert [bytes(f) for f in dec.decode(b"123\r\nfirst\r\n")] == [b"first\r\n"]


def test_netty_decode_splits_correctly(fk: ModuleType) -> None:
    dec = fk.LineDecoder(strip_delimiter=False)
    assert run_feed(dec, [b"line\r\n.\r\n"]) == [b"line\r\n", b".\r\n"]


def test_netty_fragmented_decode(fk: ModuleType) -> None:
    dec = fk.LineDecoder(strip_delimiter=False)
    assert dec.decode(b"huu") == []
    assert dec.decode(b"haa\r") == []
    assert [bytes(f) for f in dec.decode(b"\nhuuhaa\r\n")] == [b"huuhaa\r\n", b"huuhaa\r\n"]


def test_netty_empty_line(fk: ModuleType) -> None:
    assert run_feed(fk.LineDecoder(), [b"\nabcna\r\n"]) == [b"", b"abcna"]


def test_lone_carriage_return_ends_nothing(fk: ModuleType) -> None:
    assert run_feed(fk.LineDecoder(), [b"a\rb\n\r"]) == [b"a\rb", ("incomplete", b"\r")]


# --- Netty DelimiterBasedFrameDecoderTest -------------------------------------------------------


def test_netty_multiple_lines_stripped(fk: ModuleType) -> None:
    dec = fk.DelimiterDecoder([b"\r\n", b"\n"])
    assert run_feed(dec, [b"TestLine\r\ng\r\n"]) == [b"TestLine", b"g"]


def test_netty_incomplete_lines_stripped(fk: ModuleType) -> None:
    dec = fk.DelimiterDecoder([b"\r\n", b"\n"])
    assert run_feed(dec, [b"Test", b"Line\r\ng\r\n"]) == [b"TestLine", b"g"]


def test_netty_multiple_lines_kept(fk: ModuleType) -> None:
    dec = fk.DelimiterDecoder([b"\r\n", b"\n"], strip_delimiter=False)
    assert run_feed(dec, [b"TestLine\r\ng\r\n"]) == [b"TestLine\r\n", b"g\r\n"]


def test_netty_fail_slow_too_long_frame_recovery(fk: ModuleType) -> None:
    dec = fk.DelimiterDecoder(b"\0", max_frame_length=1, fail_fast=False)
    for _ in range(2):
        assert dec.decode(b"\x01\x02") == []
        with pytest.raises(FrameTooLongError) as info:
            dec.decode(b"\0")
        assert info.value.frame_length == 2
        assert [bytes(f) for f in dec.decode(b"A\0")] == [b"A"]


def test_netty_fail_fast_too_long_frame_recovery(fk: ModuleType) -> None:
    dec = fk.DelimiterDecoder(b"\0", max_frame_length=1)
    for _ in range(2):
        with pytest.raises(FrameTooLongError):
            dec.decode(b"\x01\x02")
        assert [bytes(f) for f in dec.decode(b"\0A\0")] == [b"A"]


# --- tokio-util LinesCodec / AnyDelimiterCodec --------------------------------------------------


def test_tokio_lines_decoder(fk: ModuleType) -> None:
    assert run_feed(fk.LineDecoder(), [b"line 1\nline 2\r\nline 3\n\n\n\r"]) == [
        b"line 1",
        b"line 2",
        b"line 3",
        b"",
        b"",
        ("incomplete", b"\r"),
    ]


def test_tokio_lines_decoder_max_length(fk: ModuleType) -> None:
    data = b"line 1 is too long\nline 2\nline 3\r\nline 4\n\r\n\r"
    for fail_fast in (True, False):
        dec = fk.LineDecoder(max_frame_length=6, fail_fast=fail_fast)
        first = ("too-long", None if fail_fast else 18, 6)
        assert run_feed(dec, [data]) == [
            first,
            b"line 2",
            b"line 3",
            b"line 4",
            b"",
            ("incomplete", b"\r"),
        ]


def test_tokio_lines_decoder_discard_repeat(fk: ModuleType) -> None:
    dec = fk.LineDecoder(max_frame_length=1)
    with pytest.raises(FrameTooLongError):
        dec.decode(b"aa")
    assert dec.decode(b"a") == []
    assert [bytes(f) for f in dec.decode(b"abc\na\n")] == [b"a"]


def test_tokio_any_delimiter_codec(fk: ModuleType) -> None:
    dec = fk.DelimiterDecoder([b",", b";", b"\n", b"\r"])
    assert run_feed(dec, [b"chunk 1,chunk 2;chunk 3\n\r"]) == [
        b"chunk 1",
        b"chunk 2",
        b"chunk 3",
        b"",
    ]


# --- Twisted: a line exactly at MAX_LENGTH whose delimiter is split -----------------------------


@pytest.mark.parametrize("fail_fast", [True, False])
def test_twisted_line_at_limit_with_split_delimiter(fk: ModuleType, fail_fast: bool) -> None:
    dec = fk.LineDecoder(max_frame_length=3, fail_fast=fail_fast)
    assert dec.decode(b"abc\r") == []
    assert [bytes(f) for f in dec.decode(b"\nxyz\r\n")] == [b"abc", b"xyz"]
    longer = fk.DelimiterDecoder(b"<END>", max_frame_length=3, fail_fast=fail_fast)
    assert run_bytewise(longer, b"abc<END>de<END>") == [b"abc", b"de"]


# --- overlapping delimiter sets ----------------------------------------------------------------


def test_longest_delimiter_wins_and_is_waited_for(fk: ModuleType) -> None:
    dec = fk.DelimiterDecoder([b"\r", b"\r\n"])
    assert dec.decode(b"abc\r") == []  # "\r\n" may still be arriving
    assert [bytes(f) for f in dec.decode(b"\nd\rx")] == [b"abc", b"d"]
    assert run_feed(fk.DelimiterDecoder([b"\r", b"\r\n"]), [b"abc\r"]) == [b"abc"]


def test_earlier_starting_delimiter_is_waited_for(fk: ModuleType) -> None:
    def make() -> Any:
        return fk.DelimiterDecoder([b"abcd", b"b"])

    assert run_feed(make(), [b"xab", b"c", b"d", b"y"]) == [b"x", ("incomplete", b"y")]
    assert run_feed(make(), [b"xab", b"ce"]) == [b"xa", ("incomplete", b"ce")]
    assert run_feed(make(), [b"xab"]) == [b"xa"]
    dec = make()
    assert dec.decode(b"xab") == []
    assert dec.feed_eof() is None  # the end completes "b": frame "xa" comes first
    frame = dec.next_frame()
    assert frame is not None and bytes(frame) == b"xa"
    assert dec.next_frame() is None


def test_eof_order_frames_the_end_completes_then_error(fk: ModuleType) -> None:
    dec = fk.DelimiterDecoder([b"\r", b"\r\n"])
    dec.feed(b"one\r")
    assert dec.next_frame() is None
    assert dec.feed_eof() is None
    frame = dec.next_frame()
    assert frame is not None and bytes(frame) == b"one"
    assert dec.next_frame() is None


def test_eof_unterminated(fk: ModuleType) -> None:
    dec = fk.LineDecoder(max_frame_length=5)
    dec.feed(b"abc")
    assert dec.next_frame() is None
    with pytest.raises(IncompleteFrameError) as info:
        dec.feed_eof()
    assert info.value.partial == b"abc"
    long = fk.LineDecoder(max_frame_length=3)
    long.feed(b"abc\r")  # not certain to be too long: "\r\n" could have ended it at 3
    assert long.next_frame() is None
    with pytest.raises(FrameTooLongError) as too_long:
        long.feed_eof()
    assert too_long.value.frame_length == 4


def test_eof_while_discarding(fk: ModuleType) -> None:
    slow = fk.LineDecoder(max_frame_length=2, fail_fast=False)
    assert slow.decode(b"abcdef") == []
    with pytest.raises(FrameTooLongError) as info:
        slow.feed_eof()
    assert info.value.frame_length == 6
    fast = fk.LineDecoder(max_frame_length=2)
    with pytest.raises(FrameTooLongError):
        fast.decode(b"abcdef")
    assert fast.feed_eof() is None


def test_max_frame_length_excludes_delimiter(fk: ModuleType) -> None:
    dec = fk.DelimiterDecoder(b"<END>", max_frame_length=3, strip_delimiter=False)
    assert run_feed(dec, [b"abc<END>"]) == [b"abc<END>"]
    assert run_feed(fk.LineDecoder(max_frame_length=0), [b"\n\r\n"]) == [b"", b""]


def test_frames_are_views_in_place(fk: ModuleType) -> None:
    data = b"line one\nline two\n"
    frames = fk.LineDecoder().decode(data)
    assert all(isinstance(f, memoryview) and f.readonly and f.obj is data for f in frames)
    copied = fk.LineDecoder(copy=True).decode(bytearray(data))
    assert copied == [b"line one", b"line two"]


def test_recv_path(fk: ModuleType) -> None:
    data = b"alpha\r\nbeta\n" * 50
    expected = [b"alpha", b"beta"] * 50
    assert run_recv(fk.LineDecoder(), [data], sizehints=[1, 7, 64]) == expected


@pytest.mark.parametrize("bad", [b"", [], [b"a", b""], [b"ok", "text"], "text", 5, None])
def test_bad_delimiters(fk: ModuleType, bad: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        fk.DelimiterDecoder(bad)


def test_bad_limits(fk: ModuleType) -> None:
    with pytest.raises(ValueError):
        fk.LineDecoder(max_frame_length=-1)
    with pytest.raises(TypeError):
        fk.LineDecoder(max_frame_length="5")


@pytest.mark.parametrize("pooled", [False, True])
def test_linear_time_on_a_long_line_in_small_pieces(fk: ModuleType, pooled: bool) -> None:
    """A line fed 64 bytes at a time is scanned once, and its storage grows geometrically:
    4x the bytes costs about 4x the time."""
    pool = fk.BufferPool() if pooled else None

    def cost(size: int) -> float:
        dec = fk.LineDecoder(max_frame_length=size, pool=pool)
        piece = b"x" * 64
        start = time.perf_counter()
        for _ in range(size // 64):
            dec.feed(piece)
            assert dec.next_frame() is None
        dec.feed(b"\n")
        frame = dec.next_frame()
        assert frame is not None and len(frame) == size
        return time.perf_counter() - start

    small = min(cost(1 << 18) for _ in range(3))
    large = min(cost(1 << 20) for _ in range(3))
    assert large / small < 8, (small, large)  # quadratic would be ~16


def test_never_ending_line_is_bounded(fk: ModuleType) -> None:
    for fail_fast in (True, False):
        dec = fk.LineDecoder(max_frame_length=1000, fail_fast=fail_fast)
        errors = 0
        for _ in range(2000):
            try:
                dec.feed(b"y" * 997 + b"\r")
                assert dec.next_frame() is None
            except FrameTooLongError:
                errors += 1
            assert dec.buffered <= 1000 + 998
        assert errors == (1 if fail_fast else 0)


# --- DelimiterEncoder ---------------------------------------------------------------------------


def test_delimiter_encoder(fk: ModuleType) -> None:
    enc = fk.DelimiterEncoder(b"\r\n")
    assert enc.encode(b"abc") == b"abc\r\n"
    assert enc.encode_many([b"a", bytearray(b"b"), b""]) == b"a\r\nb\r\n\r\n"
    assert enc.encode_many([]) == b""
    assert [bytes(f) for f in enc.decoder().decode(enc.encode_many([b"x", b"", b"y"]))] == [
        b"x",
        b"",
        b"y",
    ]
    with pytest.raises(ValueError, match="contains the delimiter"):
        enc.encode(b"a\r\nb")
    with pytest.raises(ValueError):
        enc.encode_many([b"fine", b"smuggled\r\nframe"])
    assert fk.DelimiterEncoder(b"\n", check=False).encode(b"a\nb") == b"a\nb\n"
    with pytest.raises(ValueError):
        fk.DelimiterEncoder(b"")
    overlapping = fk.DelimiterEncoder(b"aba")
    with pytest.raises(ValueError, match="would end the frame early"):
        overlapping.encode(b"xab")  # b"xab" + b"aba": the delimiter starts at 1
    assert overlapping.encode(b"xa") == b"xaaba"
    with pytest.raises(TypeError):
        enc.encode("text")


@pytest.mark.parametrize("fail_fast", [True, False])
@pytest.mark.parametrize("way", ["bytes", "mutable", "recv"])
@pytest.mark.parametrize("delimiters", [None, [b"\r\n", b"<END>"]])
def test_discarding_needs_no_taking(
    fk: ModuleType, fail_fast: bool, way: str, delimiters: Optional[list[bytes]]
) -> None:
    """Once a too-long frame is being discarded, what arrives of it is dropped as it arrives,
    also when nobody takes frames between reads (bounded memory); the frames and errors that
    follow are the same as when frames are taken after every read."""
    from framekit._adapters import write_through_buffer

    def make() -> Any:
        if delimiters is None:
            return fk.LineDecoder(max_frame_length=10, fail_fast=fail_fast)
        return fk.DelimiterDecoder(delimiters, max_frame_length=10, fail_fast=fail_fast)

    pieces = [b"x" * 20] + [b"y" * 4095 + b"<EN"[: i % 4] for i in range(200)]
    pieces += [b"D" if delimiters else b"", b"\r\nok\r\n"]
    expected = frames_and_errors(make(), pieces)
    decoder = make()
    held: list[Any] = []
    drain(decoder, held)  # nothing yet
    decoder.feed(pieces[0])
    drain(decoder, held)  # the frame is now known to be too long: discarding begins
    for piece in pieces[1:-1]:
        if way == "recv":
            write_through_buffer(decoder, piece)
        else:
            decoder.feed(bytearray(piece) if way == "mutable" else piece)
        assert decoder.buffered < 5  # at most a delimiter's beginning, not the frame
    decoder.feed(pieces[-1])
    assert finish(decoder, held) == expected


@pytest.mark.parametrize("taken_before_the_end", [True, False])
def test_eof_error_does_not_depend_on_taking(fk: ModuleType, taken_before_the_end: bool) -> None:
    """A fail-fast line already certain to be too long before the end is reported without its
    length whether or not frames were taken before feed_eof(); one that only the end makes too
    long ("abc\\r" could have become "abc\\r\\n") is reported with it."""
    for data, length in ((b"abcdef", None), (b"abc\r", 4)):
        dec = fk.LineDecoder(max_frame_length=3)
        dec.feed(data)
        events: list[Any] = []
        if taken_before_the_end:
            drain(dec, events)
        finish(dec, events)
        assert [e[:2] for e in events] == [("too-long", length)], data


@pytest.mark.parametrize("delimiters", [None, [b"\r\n"], [b"\r", b"\r\n"], [b"\n", b"\r\n"]])
def test_a_line_across_reads_leaves_the_rest_framed_in_place(
    fk: ModuleType, delimiters: Optional[list[bytes]]
) -> None:
    """The line that a read completes is copied into the store, and no more: the lines after it
    are views of the bytes fed (zero copy), not of a store the whole read was copied into."""
    dec = fk.LineDecoder() if delimiters is None else fk.DelimiterDecoder(delimiters)
    wire = (b"y" * 98 + b"\r\n") * 100
    first, second = wire[:150], wire[150:]
    assert len(list(dec.decode(first))) == 1
    frames = dec.decode(second)
    assert len(frames) == 99
    assert frames[0].obj is not second  # it straddles the two reads
    assert all(f.obj is second for f in frames[1:])
    assert dec.buffered == 0


# --- the rules: the core's C kernels answer as the twin's Python ---------------------------------


def _engine_start(rule: Any, wire: bytes, cut: int) -> int:
    """Where the engine starts a search of ``wire`` after one of its first ``cut`` bytes found
    no delimiter: where one may still be arriving (the decoder's ``_scanned``), else 0."""
    settled, at, _ = rule.answer(wire[:cut], 0, False)
    return 0 if settled else at


@pytest.mark.skipif("cython" not in IMPLEMENTATIONS, reason="needs the compiled core")
@given(
    delimiters=st.lists(
        st.binary(min_size=1, max_size=3).map(lambda d: d.replace(b"x", b"a")),
        min_size=1,
        max_size=3,
        unique=True,
    ),
    wire=st.lists(st.sampled_from(b"abx\r\n"), max_size=30).map(bytes),
    cut=st.integers(0, 30),
    eof=st.booleans(),
)
def test_delimiter_kernel_answers_as_the_pure_rule(
    delimiters: list[bytes], wire: bytes, cut: int, eof: bool
) -> None:
    core = IMPLEMENTATIONS["cython"]
    theirs = P.DelimiterRule(tuple(delimiters))
    ours = core.DelimiterRule(tuple(delimiters))
    start = _engine_start(theirs, wire, min(cut, len(wire)))
    assert ours.answer(wire, start, eof) == theirs.answer(wire, start, eof), (start, eof)
    assert repr(ours) == repr(theirs)


@pytest.mark.skipif("cython" not in IMPLEMENTATIONS, reason="needs the compiled core")
@given(
    wire=st.lists(st.sampled_from(b"ab\r\n"), max_size=30).map(bytes),
    cut=st.integers(0, 30),
    eof=st.booleans(),
)
def test_line_kernel_answers_as_the_pure_rule_for_line_endings(
    wire: bytes, cut: int, eof: bool
) -> None:
    """LineDecoder's memchr kernel is the delimiter rule for (\\r\\n, \\n), from every place
    the engine starts a search."""
    core = IMPLEMENTATIONS["cython"]
    theirs = P.DelimiterRule((b"\r\n", b"\n"))
    start = _engine_start(theirs, wire, min(cut, len(wire)))
    assert core.LineRule().answer(wire, start, eof) == theirs.answer(wire, start, eof), start
    assert core.DelimiterRule((b"\r\n", b"\n")).answer(wire, start, eof) == theirs.answer(
        wire, start, eof
    )


@pytest.mark.skipif("cython" not in IMPLEMENTATIONS, reason="needs the compiled core")
def test_delimiter_kernels_refuse_a_start_outside_the_bytes() -> None:
    core = IMPLEMENTATIONS["cython"]
    for rule in (core.LineRule(), core.DelimiterRule((b"\n",))):
        with pytest.raises(ValueError, match="start=4"):
            rule.answer(b"abc", 4, False)
        with pytest.raises(ValueError, match="start=-1"):
            rule.answer(b"abc", -1, False)


def test_several_delimiters_cost_linear_time_when_one_never_occurs(fk: ModuleType) -> None:
    """With several delimiters, each is looked for only up to where one is found: one that does
    not occur (\\r\\n in a stream of \\n lines) is not searched for through the rest of the read
    for every frame. That was quadratic: 0.06 M frames/s for 16 B lines in 64 KiB reads, against
    35 M/s with the one delimiter that occurs."""

    def cost(delimiters: list[bytes], frames: int) -> float:
        data = b"x" * 15 + b"\n"
        chunk = data * frames
        best = float("inf")
        for _ in range(3):
            dec = fk.DelimiterDecoder(delimiters)
            start = time.perf_counter()
            dec.feed(chunk)
            count = sum(1 for _ in dec)
            best = min(best, time.perf_counter() - start)
            assert count == frames
        return best

    frames = 40_000  # 640 KB in one read
    one = cost([b"\n"], frames)
    several = cost([b"\r\n", b"\n"], frames)
    assert several < 100 * one, (one, several)  # quadratic: over 1000 times
