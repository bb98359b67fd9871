"""RuleDecoder (a framing rule written in Python, run by the engine) and detach() (SPEC §7)."""

from __future__ import annotations

from functools import partial
from types import ModuleType
from typing import Any, Callable, Optional, Union

import pytest
from conftest import IMPLEMENTATIONS
from hypothesis import given
from hypothesis import strategies as st

from framekit.errors import CorruptFrameError, FrameTooLongError, IncompleteFrameError
from framekit.testing import (
    assert_rule_split_invariant,
    assert_split_invariant,
    drain,
    frames_and_errors,
    splits,
)

Answer = Union[None, int, tuple[int, int, int]]


def netstring(buf: memoryview) -> Answer:
    """djb's netstrings, ``len ":" data ","``: the rule of docs/guides/rules.md."""
    head = bytes(buf[:21])
    colon = head.find(b":")
    digits = head if colon < 0 else head[:colon]
    if (not digits.isdigit() and digits) or colon == 0:
        raise CorruptFrameError("netstring length is not a number")
    if colon < 0:
        if len(head) > 20:
            raise CorruptFrameError("netstring length has more than 20 digits")
        return None
    size = int(digits)
    total = colon + 1 + size + 1
    if len(buf) >= total and buf[total - 1] != ord(","):
        raise CorruptFrameError("netstring does not end with ','")
    return (total, colon + 1, colon + 1 + size)


def netstrings(payloads: list[bytes]) -> bytes:
    return b"".join(b"%d:%s," % (len(p), p) for p in payloads)


def type_length(buf: memoryview) -> Answer:
    """A type byte and a 2-byte big-endian length of what follows; the frame is all of it."""
    if len(buf) < 3:
        return -3
    return 3 + int.from_bytes(buf[1:3], "big")


def test_netstrings(fk: ModuleType) -> None:
    dec = fk.RuleDecoder(netstring)
    assert [bytes(f) for f in dec.decode(netstrings([b"hello", b"", b"a,b:c"]) + b"3:ab")] == [
        b"hello",
        b"",
        b"a,b:c",
    ]
    assert dec.buffered == 4
    assert [bytes(f) for f in dec.decode(b"c,")] == [b"abc"]
    frame = dec.decode(b"1:x,")[0]
    assert isinstance(frame, memoryview) and frame.readonly


def test_whole_frames_and_least_lengths(fk: ModuleType) -> None:
    dec = fk.RuleDecoder(type_length)
    wire = b"\x01\x00\x02hi\x02\x00\x00"
    assert [bytes(f) for f in dec.decode(wire)] == [b"\x01\x00\x02hi", b"\x02\x00\x00"]


@given(
    st.lists(st.binary(max_size=40), max_size=12).flatmap(
        lambda ps: st.tuples(st.just(ps), splits(netstrings(ps)))
    )
)
def test_netstring_split_invariance_and_agreement(case: tuple[list[bytes], list[bytes]]) -> None:
    payloads, pieces = case
    wire = netstrings(payloads)
    results = []
    for module in IMPLEMENTATIONS.values():
        events = assert_split_invariant(partial(module.RuleDecoder, netstring), wire, pieces)
        assert events == payloads
        results.append(events)
    assert all(r == results[0] for r in results)


@given(st.binary(max_size=60), st.lists(st.integers(0, 60), max_size=8))
def test_any_bytes_agree(data: bytes, cuts: list[int]) -> None:
    """Arbitrary bytes (mostly corrupt netstrings): the same frames and errors in both builds,
    however they are split."""
    results = [
        assert_split_invariant(partial(module.RuleDecoder, netstring, max_frame_length=20), data)
        for module in IMPLEMENTATIONS.values()
    ]
    assert all(r == results[0] for r in results)


def test_testing_checks_a_users_rule() -> None:
    assert assert_rule_split_invariant(netstring, netstrings([b"ab", b"", b"xyz"])) == [
        b"ab",
        b"",
        b"xyz",
    ]
    calls = [0]

    def flaky(buf: memoryview) -> Answer:  # answers differently for a longer prefix
        calls[0] += 1
        return 1 if len(buf) == 1 else 2

    with pytest.raises(AssertionError):
        assert_rule_split_invariant(flaky, b"abcd")


def test_least_lengths_keep_the_rule_linear(fk: ModuleType) -> None:
    """A rule answering -k is not called again before k bytes are held, and a known length is
    not asked again: a long frame arriving byte by byte costs a bounded number of calls."""
    calls = [0]

    def rule(buf: memoryview) -> Answer:
        calls[0] += 1
        if len(buf) < 4:
            return -4
        return 4 + int.from_bytes(buf[:4], "big")

    dec = fk.RuleDecoder(rule)
    wire = (1000).to_bytes(4, "big") + b"x" * 1000
    got = []
    for i in range(len(wire)):
        got += [bytes(f) for f in dec.decode(wire[i : i + 1])]
    assert got == [wire]
    assert calls[0] <= 3


def test_get_buffer_holds_the_rest_of_a_known_frame(fk: ModuleType) -> None:
    dec = fk.RuleDecoder(type_length)
    dec.feed(b"\x01\x40\x00")  # 16 KiB of payload follow
    window = dec.get_buffer(16)
    assert len(window) >= 0x4000
    window[:0x4000] = b"p" * 0x4000
    dec.buffer_updated(0x4000)
    assert len(dec.next_frame()) == 0x4003


@pytest.mark.parametrize(
    "answer, error",
    [
        (0, ValueError),
        (-1, ValueError),  # at least 1 byte: it has them
        ((3, 2, 1), ValueError),
        ((3, 0, 4), ValueError),
        ((0, 0, 0), ValueError),
        ((3, -1, 2), ValueError),
        ("3", TypeError),
        (3.0, TypeError),
        (True, TypeError),
        ((3, 0), TypeError),
    ],
)
def test_bad_answers_raise_and_change_nothing(fk: ModuleType, answer: Any, error: type) -> None:
    answers: list[Any] = [answer]

    def rule(buf: memoryview) -> Any:
        return answers[0]

    dec = fk.RuleDecoder(rule)
    dec.feed(b"abcd")  # the rule's error is not feed()'s
    with pytest.raises(error, match="rule"):
        dec.next_frame()
    with pytest.raises(error):  # asked again, it answers the same
        dec.next_frame()
    assert dec.buffered == 4
    answers[0] = (3, 1, 2)
    assert bytes(dec.next_frame()) == b"b"
    assert dec.buffered == 1


def test_a_rules_own_error_propagates_and_changes_nothing(fk: ModuleType) -> None:
    failing = [True]

    def rule(buf: memoryview) -> Answer:
        if failing[0]:
            raise KeyError("boom")
        return 2

    dec = fk.RuleDecoder(rule)
    dec.feed(b"abc")
    with pytest.raises(KeyError):
        dec.next_frame()
    with pytest.raises(KeyError):
        list(dec)
    failing[0] = False
    assert [bytes(f) for f in dec] == [b"ab"]
    dec.feed(b"d")
    assert bytes(dec.next_frame()) == b"cd"


def test_corrupt_is_sticky(fk: ModuleType) -> None:
    dec = fk.RuleDecoder(netstring)
    frames = dec.decode(b"2:ab,x:")
    assert [bytes(f) for f in frames] == [b"ab"]
    for _ in range(2):
        with pytest.raises(CorruptFrameError, match="not a number"):
            dec.next_frame()
    with pytest.raises(CorruptFrameError):
        dec.feed(b"more")
    dec.reset()
    assert [bytes(f) for f in dec.decode(b"1:a,")] == [b"a"]


def test_too_long_frames_are_discarded(fk: ModuleType) -> None:
    dec = fk.RuleDecoder(netstring, max_frame_length=10)
    events: list[Any] = []
    for piece in (b"1:a,20:", b"x" * 10, b"y" * 10 + b",2:ok,"):
        dec.feed(piece)
        drain(dec, events)
    assert events == [b"a", ("too-long", 24, 10), b"ok"]


def test_an_undecided_rule_cannot_hold_more_than_max_frame_length(fk: ModuleType) -> None:
    dec = fk.RuleDecoder(lambda buf: None, max_frame_length=8)
    dec.feed(b"12345678")
    assert dec.next_frame() is None
    dec.feed(b"9")
    with pytest.raises(CorruptFrameError, match="8"):
        dec.next_frame()


@pytest.mark.parametrize("need", [1 << 62, 1 << 63, 10**30])
def test_a_need_beyond_any_length_waits_then_is_corrupt(fk: ModuleType, need: int) -> None:
    """A rule may answer it needs more bytes than a decoder could ever count: the decoder waits
    as for any need, and past max_frame_length the stream is corrupt. (Regression: the core
    could not convert the need, its rule path answered a 0-byte frame, and decode() returned
    empty frames for ever.)"""
    dec = fk.RuleDecoder(lambda buf: -need, max_frame_length=50)
    assert dec.decode(b"abc") == []
    assert dec.buffered == 3
    dec.feed(b"x" * 100)
    with pytest.raises(CorruptFrameError, match="more than max_frame_length=50"):
        dec.next_frame()


def test_end_of_stream(fk: ModuleType) -> None:
    dec = fk.RuleDecoder(netstring)
    dec.feed(b"3:ab")
    with pytest.raises(IncompleteFrameError) as info:
        dec.feed_eof()
    assert info.value.partial == b"3:ab"


def test_copy_pool_and_held_frames(fk: ModuleType) -> None:
    dec = fk.RuleDecoder(netstring, copy=True)
    assert dec.decode(b"2:ab,") == [b"ab"]
    pool = fk.BufferPool()
    dec = fk.RuleDecoder(netstring, pool=pool)
    held = []
    for i in range(300):
        for frame in dec.decode(bytearray(b"%d:%s," % (i % 50, b"z" * (i % 50)))):
            held.append((frame, bytes(frame)))
    assert all(bytes(f) == b for f, b in held)
    with pytest.raises(TypeError):
        fk.RuleDecoder(42)
    assert "netstring" in repr(fk.RuleDecoder(netstring, max_frame_length=9))


def test_the_rule_sees_a_read_only_view(fk: ModuleType) -> None:
    seen: list[memoryview] = []

    def rule(buf: memoryview) -> Answer:
        seen.append(buf)
        assert buf.readonly and buf.format == "B"
        return 1

    dec = fk.RuleDecoder(rule)
    dec.feed(bytearray(b"ab"))
    frames = list(dec)
    dec.feed(bytearray(b"cd" * 5000))  # kept views must not see the store change under them
    assert [bytes(f) for f in frames] == [b"a", b"b"]


# --- detach() ---------------------------------------------------------------------------------


def makers(fk: ModuleType) -> dict[str, Callable[[], Any]]:
    return {
        "length": lambda: fk.LengthFieldDecoder(2, max_frame_length=1000),
        "varint": lambda: fk.VarintLengthDecoder(max_frame_length=1000),
        "line": lambda: fk.LineDecoder(max_frame_length=1000),
        "delimiter": lambda: fk.DelimiterDecoder([b"\r\n", b";"], max_frame_length=1000),
        "fixed": lambda: fk.FixedLengthDecoder(3),
        "rule": lambda: fk.RuleDecoder(netstring, max_frame_length=1000),
    }


WIRE = {  # three frames each
    "length": b"\x00\x01a\x00\x02bc\x00\x00",
    "varint": b"\x01a\x02bc\x00",
    "line": b"a\nbc\r\n\n",
    "delimiter": b"a;bc\r\n;",
    "fixed": b"abcdefghi",
    "rule": b"1:a,2:bc,0:,",
}


@pytest.mark.parametrize("kind", sorted(WIRE))
@pytest.mark.parametrize("taken", [0, 1, 2, 3])
@pytest.mark.parametrize("how", ["bytes", "bytearray", "bytewise", "buffer", "iterate"])
def test_detach_gives_what_follows_the_frames_taken(
    fk: ModuleType, kind: str, taken: int, how: str
) -> None:
    from framekit._adapters import write_through_buffer

    wire = WIRE[kind]
    tail = b"\x00\x05hello and then some \xff"
    full = frames_and_errors(makers(fk)[kind](), [wire])[:3]
    # where the frames end on the wire: the shortest prefix giving `taken` frames
    ends = [
        next(i for i in range(len(wire) + 1) if len(drain_all(makers(fk)[kind](), wire[:i])) >= n)
        for n in range(4)
    ]
    dec = makers(fk)[kind]()
    data = wire + tail
    if how == "bytes":
        dec.feed(data)
    elif how == "bytearray":
        dec.feed(bytearray(data))
    elif how == "bytewise":
        for i in range(len(data)):
            dec.feed(data[i : i + 1])
    else:
        write_through_buffer(dec, data)
    frames = []
    if how == "iterate" and taken:
        for frame in dec:  # the twin cuts frames in batches: the rest of one is handed back
            frames.append(frame)
            if len(frames) == taken:
                break
    else:
        frames = [dec.next_frame() for _ in range(taken)]
    copies = [bytes(f) for f in frames]
    assert copies == full[:taken]
    rest = dec.detach()
    assert rest == data[ends[taken] :], ends
    assert dec.buffered == 0 and dec.next_frame() is None
    dec.feed(b"\xee" * 5000)
    assert [bytes(f) for f in frames] == copies  # frames returned before stay valid
    dec.reset()
    assert drain_all(dec, wire) == full


def drain_all(dec: Any, data: bytes) -> list[Any]:
    dec.feed(data)
    out: list[Any] = []
    drain(dec, out)
    return out


def test_detach_on_a_corrupt_decoder_raises_its_error(fk: ModuleType) -> None:
    dec = fk.RuleDecoder(netstring)
    with pytest.raises(CorruptFrameError):
        dec.decode(b"x:")
    with pytest.raises(CorruptFrameError):
        dec.detach()


def test_detach_leaves_out_a_frame_being_discarded(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(2, max_frame_length=4)
    dec.feed(b"\x00\x01a\x00\x09abcdefghi\x00\x01b")
    assert bytes(dec.next_frame()) == b"a"
    with pytest.raises(FrameTooLongError):
        dec.next_frame()
    assert dec.detach() == b"\x00\x01b"
    dec = fk.LineDecoder(max_frame_length=4)
    dec.feed(b"abcdefgh")
    with pytest.raises(FrameTooLongError):
        dec.next_frame()
    assert dec.detach() == b""
    dec.feed(b"x\n")
    assert bytes(dec.next_frame()) == b"x"


def test_switching_decoders_reads_ahead_nothing(fk: ModuleType) -> None:
    """PostgreSQL's startup packet, then regular messages, all in one read: the startup rule
    would take the next message for a 1.3 GB frame, and must not drop it before detach()."""
    startup = fk.LengthFieldDecoder(4, length_adjustment=-4, max_frame_length=10000)
    query = b"Q\x00\x00\x00\x0dSELECT 1\x00"
    packet = (16).to_bytes(4, "big") + b"\x00\x03\x00\x00user\x00x\x00\x00"
    wire = packet + query * 3
    startup.feed(wire)
    first = startup.next_frame()
    assert first is not None
    regular = fk.LengthFieldDecoder(
        4,
        length_field_offset=1,
        length_adjustment=-4,
        initial_bytes_to_strip=0,
        max_frame_length=10000,
    )
    regular.feed(startup.detach())
    assert [bytes(f) for f in regular] == [query] * 3


@given(
    st.lists(
        st.binary(min_size=1, max_size=10).filter(lambda b: not set(b) & {10, 13}), max_size=4
    ),
    st.data(),
)
def test_switching_is_split_invariant(lines: list[bytes], data: st.DataObject) -> None:
    """Lines, then length-prefixed frames: a LineDecoder until an empty line, then detach()
    into a LengthFieldDecoder; the same frames however the bytes arrive."""
    payloads = data.draw(st.lists(st.binary(max_size=20), max_size=5))
    wire = b"".join(b + b"\n" for b in lines) + b"\n"
    wire += b"".join(len(p).to_bytes(2, "big") + p for p in payloads)
    pieces = data.draw(splits(wire))
    iterate = data.draw(st.booleans())
    for module in IMPLEMENTATIONS.values():
        dec: Any = module.LineDecoder()
        got: list[bytes] = []
        switched = False
        for piece in pieces:
            dec.feed(piece)
            while True:
                frame: Optional[Any] = next(iter(dec), None) if iterate else dec.next_frame()
                if frame is None:
                    break
                got.append(bytes(frame))
                if not switched and frame == b"":
                    rest = dec.detach()
                    dec = module.LengthFieldDecoder(2)
                    dec.feed(rest)
                    switched = True
        assert got == [*lines, b"", *payloads]


def test_every_kind_has_every_member_of_the_decoder_protocol(fk: ModuleType) -> None:
    """Every registered kind of decoder, in both builds, has what framekit.Decoder lists."""
    import framekit
    from framekit import _kinds

    members = [
        name for name in vars(framekit.Decoder) if not name.startswith("_") or name == "__iter__"
    ]
    assert "detach" in members and "feed" in members
    for kind in _kinds.KINDS:
        cls = getattr(fk, kind.decoder)
        missing = [m for m in members if not hasattr(cls, m)]
        assert not missing, (kind.decoder, missing)
