"""Protocol decoders on the engine (SPEC §8): netstrings, syslog octet counting, RESP.

The C kernels answer as the pure rules on random bytes; each corruption rule has a test; the
decoders keep every guarantee of the engine (split invariance is in test_properties.py, which
reads framekit._kinds)."""

from __future__ import annotations

import io
import json
import sys
from types import ModuleType
from typing import Any, Callable

import pytest
from conftest import IMPLEMENTATIONS
from hypothesis import given
from hypothesis import strategies as st

from framekit import _protocols as P
from framekit.__main__ import main
from framekit.errors import CorruptFrameError, FrameTooLongError, IncompleteFrameError
from framekit.testing import (
    assert_split_invariant,
    frames_and_errors,
    json_texts,
    msgpack_values,
    resp_values,
    splits,
)


def events(decoder: Any, data: bytes) -> list[Any]:
    return frames_and_errors(decoder, [data])


def corrupt(message: str) -> tuple[str, str]:
    return ("corrupt", message)


# --- the kernels answer as the pure rules --------------------------------------------------------


def _answer(rule: Callable[[memoryview], Any], data: bytes) -> Any:
    try:
        return rule(memoryview(data).toreadonly())
    except CorruptFrameError as err:
        return ("corrupt", str(err))


RULES: dict[str, Callable[[ModuleType, dict[str, int]], Any]] = {
    "netstring": lambda m, c: m.NetstringRule(c["limit"]),
    "octet": lambda m, c: m.OctetCountingRule(),
    "resp": lambda m, c: m.RespRule(c["limit"], c["depth"]),
    "websocket": lambda m, c: m.WebSocketRule(c["depth"] % 2),
    "chunked": lambda m, c: m.ChunkedRule(c["limit"], c["depth"] * 4),
    "json": lambda m, c: m.JsonStreamRule(c["limit"] + 1),
    "msgpack": lambda m, c: m.MessagePackRule(c["limit"] + 1, c["depth"]),
}
_ALPHABETS = {
    "netstring": b"0123456789:,x",
    "octet": b"0123456789 x",
    "resp": b"+-:_,#($!=*~>%|0123456789\r\n?x",
    "websocket": b"\x00\x01\x02\x08\x09\x0a\x80\x81\x82\x88\x7e\x7f\xfe\xff\x05",
    "chunked": b"0123456789abcdefABF;= \t\r\n:xg",
    "json": b'{}[]"\\ \n\x1e0123-.eEtruefalsnx:,',
    "msgpack": b"\x00\x01\x7f\x80\x81\x90\x92\x9f\xa0\xa3\xc0\xc1\xc4\xc7\xca\xcb\xd4\xd8\xd9"
    b"\xdb\xdc\xdd\xde\xdf\xe0\xff",
}


@pytest.mark.skipif("cython" not in IMPLEMENTATIONS, reason="needs the compiled core")
@pytest.mark.parametrize("kind", sorted(RULES))
@given(data=st.data())
def test_kernels_answer_as_the_pure_rules(kind: str, data: st.DataObject) -> None:
    core = IMPLEMENTATIONS["cython"]
    cfg = {"limit": data.draw(st.integers(0, 80)), "depth": data.draw(st.integers(1, 5))}
    alphabet = _ALPHABETS[kind]
    wire = data.draw(
        st.one_of(
            st.lists(st.sampled_from(list(alphabet)), min_size=1, max_size=60).map(bytes),
            st.one_of(resp_values(), msgpack_values()).map(
                lambda v: v[: data.draw(st.integers(1, max(1, len(v))))]
            ),
            st.binary(min_size=1, max_size=40),
        )
    )
    ours, theirs = RULES[kind](core, cfg), RULES[kind](P, cfg)
    assert _answer(ours, wire) == _answer(theirs, wire), (cfg, wire)
    assert repr(ours) == repr(theirs)
    if kind == "chunked":
        assert (ours.last, ours.trailers) == (theirs.last, theirs.trailers)
    if kind == "websocket":  # the header the decoder reads from the rule
        assert (ours.fin, ours.rsv, ours.opcode, ours.mask) == (
            theirs.fin, theirs.rsv, theirs.opcode, theirs.mask
        )  # fmt: skip


def _count_edges(end: bytes, max_digits: int) -> list[bytes]:
    """Headers around the edges of a decimal count: its length, zeros, its end byte."""
    out = []
    for digits in (1, 2, max_digits - 1, max_digits, max_digits + 1):
        for first in (b"0", b"1", b"9"):
            count = first + b"7" * (digits - 1)
            for tail in (b"", end, end + b"x" * 3, b"x", b"5" + end):
                out.append(count + tail)
    return [*out, end, end + b"1", b"", b"x" + end]


@pytest.mark.skipif("cython" not in IMPLEMENTATIONS, reason="needs the compiled core")
@pytest.mark.parametrize(
    ("kind", "headers"),
    [
        ("netstring", _count_edges(b":", P.NETSTRING_DIGITS)),
        ("octet", _count_edges(b" ", P.OCTET_DIGITS)),
    ],
)
def test_count_kernels_answer_as_the_pure_rules_at_the_edges(
    kind: str, headers: list[bytes]
) -> None:
    """The kernels read a well-formed count on an inline fast path and anything else on the
    careful one: both must answer as the pure rule, at every length of count and prefix."""
    core = IMPLEMENTATIONS["cython"]
    for limit in (0, 5, 1 << 40):
        cfg = {"limit": limit, "depth": 1}
        ours, theirs = RULES[kind](core, cfg), RULES[kind](P, cfg)
        for header in headers:
            for cut in range(len(header) + 1):
                wire = header[:cut]
                assert _answer(ours, wire) == _answer(theirs, wire), (limit, wire)


def _resumed(rule: Any, wire: bytes, cuts: list[int]) -> list[Any]:
    """The rule's answers for growing prefixes of ``wire``, asked as the engine asks: again
    (``resume``) after a ``-k`` answer, once at least ``k`` bytes are there."""
    answers, need = [], 0
    for cut in sorted({*cuts, len(wire)}):
        if cut == 0 or cut < need:
            continue
        rule.resume = need > 0
        answer = _answer(rule, wire[:cut])
        answers.append((cut, answer))
        need = -answer if isinstance(answer, int) and answer < 0 else 0
        if need == 0 and answer is not None:
            break  # a frame, or corrupt: the engine moves on
    return answers


@pytest.mark.parametrize("kind", ["resp", "json", "msgpack"])
@given(data=st.data())
def test_resumed_scans_answer_as_fresh_ones(kind: str, data: st.DataObject) -> None:
    """Asked again about the same frame, a rule that goes on from its kept scan answers as one
    that scans it all again; and the kernel as the pure rule."""
    cfg = {"limit": data.draw(st.integers(1, 300)), "depth": data.draw(st.integers(1, 5))}
    values = {"resp": resp_values, "json": json_texts, "msgpack": msgpack_values}[kind]()
    wire = data.draw(st.one_of(values, values.map(lambda v: v + b"\n"), st.binary(max_size=30)))
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=8))
    for name, module in IMPLEMENTATIONS.items():
        rule = RULES[kind](module if name == "cython" else P, cfg)  # (the twin runs P's rules)
        resumed = _resumed(rule, wire, cuts)
        for cut, answer in resumed:
            assert answer == _answer(RULES[kind](P, cfg), wire[:cut]), (module, cut, wire)


# --- netstrings ---------------------------------------------------------------------------------


def test_netstrings(fk: ModuleType) -> None:
    dec = fk.NetstringDecoder()
    frames = dec.decode(b"5:hello,0:,12:hello world!,1:")
    assert [bytes(f) for f in frames] == [b"hello", b"", b"hello world!"]
    assert all(isinstance(f, memoryview) and f.readonly for f in frames)
    assert dec.buffered == 2
    assert [bytes(f) for f in dec.decode(b"x,")] == [b"x"]
    assert fk.NetstringDecoder(copy=True).decode(b"2:ab,") == [b"ab"]


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b":", "netstring length is not a number: byte 0x3a at offset 0"),
        (b"x:", "netstring length is not a number: byte 0x78 at offset 0"),
        (b"12x", "netstring length is not a number: byte 0x78 at offset 2"),
        (b"01:a,", "netstring length has a leading zero"),
        (b"00:", "netstring length has a leading zero"),
        (b"1" * 19, "netstring length has more than 18 digits"),
        (b"3:abc;", "netstring does not end with ',': byte 0x3b at offset 5"),
        (b"3:abcd", "netstring does not end with ',': byte 0x64 at offset 5"),
    ],
)
def test_netstring_corruption(fk: ModuleType, wire: bytes, message: str) -> None:
    before = b"1:a,"
    assert events(fk.NetstringDecoder(), before + wire) == [b"a", corrupt(message)]
    assert assert_split_invariant(fk.NetstringDecoder, before + wire)[-1] == corrupt(message)


def test_netstring_too_long_is_discarded_and_reported_by_payload(fk: ModuleType) -> None:
    # max_frame_length bounds the data: a 5-byte payload fits 5, whatever its header
    wire = b"5:hello,6:abcdef,2:ok,"
    assert assert_split_invariant(lambda: fk.NetstringDecoder(max_frame_length=5), wire) == [
        b"hello",
        ("too-long", 6, 5),
        b"ok",
    ]
    dec = fk.NetstringDecoder(max_frame_length=5)
    with pytest.raises(FrameTooLongError) as info:
        dec.decode(b"1000000:")  # told at once: nothing of it is held
    assert info.value.frame_length == 1_000_000
    assert dec.buffered == 0
    dec.feed(b"x" * 1_000_000 + b",1:y,")
    assert [bytes(f) for f in dec] == [b"y"]


def test_netstring_frames_stay_valid_after_later_feeds(fk: ModuleType) -> None:
    dec = fk.NetstringDecoder()
    held = [dec.decode(bytearray(b"3:abc,4:de")), dec.decode(b"fg,")]
    for _ in range(50):
        dec.decode(b"9:xxxxxxxxx,")
    assert [bytes(f) for frames in held for f in frames] == [b"abc", b"defg"]


def test_netstring_end_of_stream(fk: ModuleType) -> None:
    dec = fk.NetstringDecoder()
    dec.decode(b"3:ab")
    with pytest.raises(IncompleteFrameError) as info:
        dec.feed_eof()
    assert info.value.partial == b"3:ab"


@given(st.lists(st.binary(max_size=30), max_size=8), st.data())
def test_netstring_encoder_round_trip(payloads: list[bytes], data: st.DataObject) -> None:
    for module in IMPLEMENTATIONS.values():
        enc = module.NetstringEncoder()
        wire = enc.encode_many(payloads)
        assert wire == b"".join(enc.encode(bytearray(p)) for p in payloads)
        chunks = data.draw(splits(wire))
        assert frames_and_errors(enc.decoder(), chunks) == payloads


def test_netstring_encoder_refuses_what_is_not_bytes(fk: ModuleType) -> None:
    with pytest.raises(TypeError, match="bytes-like"):
        fk.NetstringEncoder().encode("text")
    assert repr(fk.NetstringEncoder()) == "NetstringEncoder()"


# --- syslog octet counting ----------------------------------------------------------------------


def test_octet_counting(fk: ModuleType) -> None:
    wire = b"11 hello world5 <13>a"
    assert assert_split_invariant(fk.OctetCountingDecoder, wire) == [b"hello world", b"<13>a"]


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b" 5 hello", "syslog octet count is not a number: byte 0x20 at offset 0"),
        (b"<13>", "syslog octet count is not a number: byte 0x3c at offset 0"),
        (b"0 ", "syslog octet count starts with 0"),
        (b"05 hello", "syslog octet count starts with 0"),
        (b"1" * 11, "syslog octet count has more than 10 digits"),
        (b"5\nhello", "syslog octet count is not followed by a space: byte 0x0a at offset 1"),
    ],
)
def test_octet_counting_corruption(fk: ModuleType, wire: bytes, message: str) -> None:
    assert events(fk.OctetCountingDecoder(), b"1 a" + wire) == [b"a", corrupt(message)]


def test_octet_counting_too_long(fk: ModuleType) -> None:
    make = lambda: fk.OctetCountingDecoder(max_frame_length=4)  # noqa: E731
    assert assert_split_invariant(make, b"4 abcd5 abcde1 z") == [
        b"abcd",
        ("too-long", 5, 4),
        b"z",
    ]


# --- RESP ---------------------------------------------------------------------------------------

RESP3 = [
    b"+OK\r\n",
    b"-ERR unknown\r\n",
    b":-42\r\n",
    b"$5\r\na\r\nbc\r\n",  # CRLF inside a bulk string
    b"$0\r\n\r\n",
    b"$-1\r\n",
    b"*-1\r\n",
    b"*0\r\n",
    b"*2\r\n*1\r\n:1\r\n$1\r\nx\r\n",
    b"_\r\n",
    b",3.25\r\n",
    b"#t\r\n",
    b"(3492890328409238509324850943850943825024385\r\n",
    b"!21\r\nSYNTAX invalid syntax\r\n",
    b"=15\r\ntxt:Some string\r\n",
    b"%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n",
    b"~2\r\n+a\r\n+b\r\n",
    b">3\r\n+message\r\n+chan\r\n$2\r\nhi\r\n",
    b"|1\r\n+ttl\r\n:3600\r\n$3\r\nval\r\n",  # an attribute, then the value it belongs to
    b"*2\r\n|1\r\n+a\r\n+b\r\n:7\r\n:8\r\n",  # an attribute inside an aggregate
    b"|0\r\n+x\r\n",
]


def test_resp_values_whole(fk: ModuleType) -> None:
    wire = b"".join(RESP3)
    assert assert_split_invariant(fk.RespDecoder, wire) == RESP3
    assert assert_split_invariant(lambda: fk.RespDecoder(copy=True), wire) == RESP3


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"?x\r\n", "RESP: unknown type byte 0x3f at offset 0"),
        (b"*1\r\n\r\n", "RESP: unknown type byte 0x0d at offset 4"),
        (b"$x\r\n", "RESP: bad length or count at offset 1"),
        (b"$\r\n", "RESP: bad length or count at offset 1"),
        (b"$-2\r\n", "RESP: bad length or count at offset 1"),
        (b"%-1\r\n", "RESP: bad length or count at offset 1"),
        (b"$?\r\n", "RESP: bad length or count at offset 1"),  # streamed strings: not supported
        (b"*" + b"9" * 19 + b"\r\n", "RESP: bad length or count at offset 19"),
        (b"$3\rx", "RESP: missing CRLF at offset 3"),
        (b"$3\r\nabcde", "RESP: missing CRLF at offset 7"),
        (b"+OK\n", "RESP: missing CRLF at offset 3"),
        (b"+OK\rx", "RESP: missing CRLF at offset 4"),
        (
            b"*1\r\n*1\r\n*1\r\n:1\r\n",
            "RESP: aggregates nested deeper than max_depth=2 at offset 8",
        ),
        (
            b"*2\r\n$100\r\n",
            "RESP: a 100-byte string at offset 4 inside an aggregate: the value is longer than "
            "max_frame_length",
        ),
        (b"*3\r\n+aaaaaaaaaaaaaaaaaaaaaaaa\r\n", "RESP: a value longer than max_frame_length=20"),
    ],
)
def test_resp_corruption(fk: ModuleType, wire: bytes, message: str) -> None:
    def make() -> Any:
        return fk.RespDecoder(max_depth=2, max_frame_length=20)

    assert assert_split_invariant(make, b"+a\r\n" + wire) == [b"+a\r\n", corrupt(message)]


def test_resp_too_long_string_is_discarded(fk: ModuleType) -> None:
    def make() -> Any:
        return fk.RespDecoder(max_frame_length=12)

    wire = b"$6\r\nabcdef\r\n$7\r\nabcdefg\r\n:1\r\n"  # the second is 13 bytes on the wire
    assert assert_split_invariant(make, wire) == [
        b"$6\r\nabcdef\r\n",
        ("too-long", 13, 12),
        b":1\r\n",
    ]


def test_resp_deep_nesting_within_max_depth(fk: ModuleType) -> None:
    deep = b"*1\r\n" * 64 + b":1\r\n"
    assert events(fk.RespDecoder(), deep) == [deep]
    assert events(fk.RespDecoder(), b"*1\r\n" + deep)[0][0] == "corrupt"
    with pytest.raises(ValueError, match="max_depth"):
        fk.RespDecoder(max_depth=0)
    with pytest.raises(TypeError, match="max_depth"):
        fk.RespDecoder(max_depth="2")
    assert repr(fk.RespDecoder(max_depth=3)) == "RespDecoder(max_depth=3)"


def test_resp_large_string_arrives_in_pieces_with_linear_work(fk: ModuleType) -> None:
    calls = []

    class Counting:
        def __init__(self) -> None:
            self.rule = fk.RespRule(1 << 30, 8)

        def __call__(self, buf: memoryview) -> Any:
            calls.append(len(buf))
            return self.rule(buf)

    body = bytes(range(256)) * 4096  # 1 MiB
    wire = b"*2\r\n$%d\r\n%s\r\n:5\r\n" % (len(body), body)
    dec = fk.RuleDecoder(Counting(), max_frame_length=1 << 30)
    got = []
    for i in range(0, len(wire), 4096):
        got += dec.decode(wire[i : i + 4096])
    assert [bytes(f) for f in got] == [wire]
    assert len(calls) <= 8  # (of 257 reads) asked again only once the whole string is there


def _whole_and_in_pieces(make: Callable[[], Any], frame: bytes) -> tuple[float, float]:
    """Seconds to decode the one-frame stream ``frame`` fed whole and in 512-byte pieces (best
    of a few runs); each run must give back the frame."""
    import time

    def run(step: int) -> float:
        dec = make()
        frames = []
        t = time.perf_counter()
        for i in range(0, len(frame), step):
            frames += dec.decode(frame[i : i + step])
        elapsed = time.perf_counter() - t
        assert [bytes(f) for f in frames] == [frame]
        return elapsed

    return min(run(len(frame)) for _ in range(3)), min(run(512) for _ in range(2))


def test_resp_large_aggregate_in_small_pieces_is_linear(fk: ModuleType) -> None:
    n = 40000 if fk.__name__.endswith("_core") else 10000  # 1 MB, or 260 kB for the twin
    wire = b"*%d\r\n" % (3 * n) + b":12345\r\n$3\r\nabc\r\n*1\r\n+ok\r\n" * n
    whole, pieces = _whole_and_in_pieces(fk.RespDecoder, wire)
    assert pieces < 100 * whole + 0.2, (whole, pieces)  # rescanning: ~700 times slower


@given(st.lists(resp_values(), min_size=1, max_size=6), st.data())
def test_resp_frames_are_the_values(values: list[bytes], data: st.DataObject) -> None:
    wire = b"".join(values)
    chunks = data.draw(splits(wire))
    for module in IMPLEMENTATIONS.values():
        assert frames_and_errors(module.RespDecoder(), chunks) == values


def test_cli_decodes_each_protocol() -> None:
    cases = [
        (["--netstring"], b"5:hello,3:ab", ["hello", "IncompleteFrameError"]),
        (["--octet-counting"], b"3 abc0 x", ["abc", "syslog octet count starts with 0"]),
        (["--resp", "--max-frame-length", "9"], b"+OK\r\n$9\r\n123456789\r\n:1\r\n", ["+OK..",
         "FrameTooLongError: frame of 15 bytes exceeds max_frame_length=9", ":1.."]),
        (["--lines", "--proxy"], b"PROXY TCP4 10.0.0.1 10.0.0.2 5000 80\r\nhi\nx", [
            "0     PROXY  ProxyHeader(version=1, command='PROXY', family='TCP4', "
            "source=('10.0.0.1', 5000)", "38         2  hi", "IncompleteFrameError"]),
        (["--lines", "--proxy", "--format", "jsonl"], V2_TCP4 + b"hi\nx", [
            '"tlvs": [[1, "68326832"]]', '{"offset": 35, "length": 2, "hex": "6869"}']),
        (["--lines", "--proxy"], b"GET / HTTP/1.1\r\n", ["CorruptFrameError: PROXY protocol: not"]),
    ]  # fmt: skip
    for flags, capture, shown in cases:
        out = io.StringIO()
        stdin = io.TextIOWrapper(io.BytesIO(capture))
        saved, sys.stdin = sys.stdin, stdin
        try:
            status = main(["decode", *flags], out)
        finally:
            sys.stdin = saved
        text = out.getvalue()
        assert status == 1, text
        for expected in shown:
            assert expected in text, (flags, text)


# --- WebSocket ----------------------------------------------------------------------------------


def test_websocket_frames(fk: ModuleType) -> None:
    client = fk.WebSocketEncoder()
    wire = (
        client.encode(b"hello", opcode=1, mask_key=b"abcd")
        + client.encode(b"x" * 300)  # a 16-bit length
        + client.encode(b"y" * 70_000)  # a 64-bit length
        + client.encode(b"part", fin=False, opcode=1)
        + client.encode(b"", opcode=9)  # a ping between fragments
        + client.encode(b"end", opcode=0, rsv=5)
        + client.encode(b"\x03\xe8bye", opcode=8)
    )
    assert wire[:2] == b"\x81\x85" and wire[2:6] == b"abcd"  # masked with the key given
    frames = assert_split_invariant(fk.WebSocketDecoder, wire)
    assert frames == [b"hello", b"x" * 300, b"y" * 70_000, b"part", b"", b"end", b"\x03\xe8bye"]
    got = fk.WebSocketDecoder().decode(wire)
    fields = [(f.fin, f.rsv, f.opcode, len(f)) for f in got]
    assert fields == [
        (True, 0, 1, 5), (True, 0, 2, 300), (True, 0, 2, 70_000), (False, 0, 1, 4),
        (True, 0, 9, 0), (True, 5, 0, 3), (True, 0, 8, 5),
    ]  # fmt: skip
    assert all(isinstance(f.payload, memoryview) and f.payload.readonly for f in got)
    assert got[0] == fk.WebSocketFrame(True, 0, 1, b"hello")
    assert "opcode=1" in repr(got[0])
    copied = fk.WebSocketDecoder(copy=True).decode(wire)
    assert [type(f.payload) for f in copied] == [bytes] * 7


def test_websocket_client_role_reads_unmasked_frames_zero_copy(fk: ModuleType) -> None:
    server = fk.WebSocketEncoder(role="server")
    wire = server.encode(b"hi", opcode=1) + server.encode_header(3) + b"abc"
    dec = server.decoder()
    assert repr(dec) == "WebSocketDecoder(role='client')"
    data = bytearray(wire)
    frames = dec.decode(data)
    assert [bytes(f) for f in frames] == [b"hi", b"abc"]
    assert frames[1].payload.obj is not None  # a view of the decoder's memory, not a copy
    data[:] = bytes(len(data))
    assert [bytes(f) for f in frames] == [b"hi", b"abc"]  # unchanged after the input changes


@pytest.mark.parametrize(
    ("role", "wire", "message"),
    [
        ("server", b"\x82\x03abc", "WebSocket: a client's frame must be masked (RFC 6455 §5.1)"),
        (
            "client",
            b"\x82\x83abcdxyz",
            "WebSocket: a server's frame must not be masked (RFC 6455 §5.1)",
        ),
        ("client", b"\x83\x00", "WebSocket: reserved opcode 0x3 (RFC 6455 §5.2)"),
        ("client", b"\x8b", "WebSocket: reserved opcode 0xb (RFC 6455 §5.2)"),
        (
            "client",
            b"\x89\x7e\x00\x7e",
            "WebSocket: a control frame's payload is 126 bytes, more than 125 (§5.5)",
        ),
        (
            "client",
            b"\x09\x00",
            "WebSocket: a control frame must not be fragmented: FIN is clear (RFC 6455 §5.5)",
        ),
        (
            "client",
            b"\x82\x7e\x00\x7d",
            "WebSocket: payload length 125 not in its shortest form (RFC 6455 §5.2)",
        ),
        (
            "client",
            b"\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff",
            "WebSocket: payload length 65535 not in its shortest form (RFC 6455 §5.2)",
        ),
        (
            "client",
            b"\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00",
            "WebSocket: a 64-bit payload length with its top bit set (RFC 6455 §5.2)",
        ),
    ],
)
def test_websocket_corruption(fk: ModuleType, role: str, wire: bytes, message: str) -> None:
    before = fk.WebSocketEncoder(role="client" if role == "server" else "server").encode(b"ok")
    make = lambda: fk.WebSocketDecoder(role=role)  # noqa: E731
    assert assert_split_invariant(make, before + wire) == [b"ok", corrupt(message)]


def test_websocket_too_long_payload_is_skipped(fk: ModuleType) -> None:
    client = fk.WebSocketEncoder()
    wire = client.encode(b"a" * 10) + client.encode(b"b" * 11) + client.encode(b"c")
    make = lambda: fk.WebSocketDecoder(max_frame_length=10)  # noqa: E731
    assert assert_split_invariant(make, wire) == [b"a" * 10, ("too-long", 11, 10), b"c"]
    dec = fk.WebSocketDecoder(role="client", max_frame_length=10)
    with pytest.raises(FrameTooLongError) as info:  # a length no stream can carry
        dec.decode(b"\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff")
    assert info.value.frame_length == (1 << 63) - 1
    assert dec.buffered == 0


@given(
    st.lists(
        st.tuples(st.binary(max_size=200), st.sampled_from([0, 1, 2]), st.booleans(),
                  st.integers(0, 7)),
        max_size=8,
    ),
    st.sampled_from(["client", "server"]),
    st.data(),
)  # fmt: skip
def test_websocket_encoder_round_trip(
    frames: list[tuple[bytes, int, bool, int]], role: str, data: st.DataObject
) -> None:
    for module in IMPLEMENTATIONS.values():
        encoder = module.WebSocketEncoder(role=role)
        wire = b"".join(encoder.encode(p, opcode=o, fin=f, rsv=r) for p, o, f, r in frames)
        got = []
        decoder = encoder.decoder()
        for chunk in data.draw(splits(wire)):
            got += [(bytes(x.payload), x.opcode, x.fin, x.rsv) for x in decoder.decode(chunk)]
        assert got == frames


def test_websocket_encoder_refuses_what_the_protocol_forbids(fk: ModuleType) -> None:
    client, server = fk.WebSocketEncoder(), fk.WebSocketEncoder(role="server")
    with pytest.raises(ValueError, match="control frame"):
        client.encode(b"x" * 126, opcode=9)
    with pytest.raises(ValueError, match="control frame"):
        client.encode(b"", opcode=8, fin=False)
    with pytest.raises(ValueError, match="opcode"):
        client.encode(b"", opcode=3)
    with pytest.raises(ValueError, match="rsv"):
        client.encode(b"", rsv=8)
    with pytest.raises(ValueError, match="4 bytes"):
        client.encode(b"", mask_key=b"abc")
    with pytest.raises(ValueError, match="does not mask"):
        server.encode(b"", mask_key=b"abcd")
    with pytest.raises(ValueError, match="role"):
        fk.WebSocketEncoder(role="peer")
    with pytest.raises(ValueError, match="role"):
        fk.WebSocketDecoder(role="peer")
    assert server.encode_header(70_000)[:2] == b"\x82\x7f"
    assert (
        repr(server) == "WebSocketEncoder(role='server')" and repr(client) == "WebSocketEncoder()"
    )


@given(st.binary(max_size=100), st.binary(min_size=4, max_size=4))
def test_unmask_in_c_is_the_rfc_xor(data: bytes, key: bytes) -> None:
    expected = bytes(b ^ key[i % 4] for i, b in enumerate(data))
    for module in IMPLEMENTATIONS.values():
        assert module.unmask(data, key) == expected


# --- PROXY protocol -----------------------------------------------------------------------------

V2_TCP4 = (
    b"\r\n\r\n\x00\r\nQUIT\n" + b"\x21\x11" + (12 + 7).to_bytes(2, "big")
    + bytes([10, 0, 0, 1]) + bytes([10, 0, 0, 2]) + (56324).to_bytes(2, "big")
    + (443).to_bytes(2, "big") + b"\x01\x00\x04h2h2"  # a TLV: ALPN
)  # fmt: skip


@pytest.mark.parametrize(
    ("wire", "header"),
    [
        (
            b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
            (1, "PROXY", "TCP4", ("192.168.0.1", 56324), ("192.168.0.11", 443), []),
        ),
        (
            b"PROXY TCP6 ::1 2001:db8::1 1 65535\r\n",
            (1, "PROXY", "TCP6", ("::1", 1), ("2001:db8::1", 65535), []),
        ),
        (b"PROXY UNKNOWN ffff::1 x\r\n", (1, "PROXY", "UNKNOWN", None, None, [])),
        (V2_TCP4, (2, "PROXY", "TCP4", ("10.0.0.1", 56324), ("10.0.0.2", 443), [(1, b"h2h2")])),
        (
            b"\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00",
            (2, "LOCAL", "UNKNOWN", None, None, []),
        ),
    ],
)
def test_proxy_headers(fk: ModuleType, wire: bytes, header: tuple[Any, ...]) -> None:
    after = b"GET / HTTP/1.1\r\n"
    for pieces in ([wire + after], [bytes([b]) for b in wire + after]):  # whole, bytewise
        dec = fk.ProxyProtocolDecoder()
        got = []
        for piece in pieces:
            got += dec.decode(piece)
        assert got == [P.ProxyHeader(*header)._replace(raw=wire)] and bytes(got[0]) == wire
        assert dec.done and dec.buffered == len(after)
        dec.feed_eof()  # what follows is the next protocol's: no error
        assert dec.detach() == after and dec.buffered == 0 and not dec.done


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"GET / HTTP/1.1\r\n", "not a PROXY protocol header"),
        (b"PROXX", "not a PROXY protocol header"),
        (b"\r\n\r\n\x00\r\nQUIX", "not a PROXY protocol header"),
        (b"PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n", "unknown v1 family 'TCP5'"),
        (b"PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n", "a v1 header has 6 fields"),
        (b"PROXY TCP4 1.2.3.999 1.2.3.4 1 2\r\n", "bad TCP4 address"),
        (b"PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n", "bad port '01'"),
        (b"PROXY TCP4 1.2.3.4 1.2.3.4 1 65536\r\n", "bad port '65536'"),
        (b"PROXY " + b"x" * 101, "within 107 bytes"),
        (b"PROXY TCP4\n", "within 107 bytes"),
        (b"\r\n\r\n\x00\r\nQUIT\n\x31\x11\x00\x00", "unknown version 3"),
        (b"\r\n\r\n\x00\r\nQUIT\n\x22\x11\x00\x00", "unknown command 2"),
        (b"\r\n\r\n\x00\r\nQUIT\n\x21\x41\x00\x00", "unknown address family"),
        (b"\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x04abcd", "cannot hold TCP4 addresses"),
        (V2_TCP4[:-5] + b"\x01\x00\x09h2h2", "a TLV runs past"),
    ],
)
def test_proxy_corruption(fk: ModuleType, wire: bytes, message: str) -> None:
    dec = fk.ProxyProtocolDecoder()
    with pytest.raises(CorruptFrameError, match=message):
        dec.decode(wire)
    with pytest.raises(CorruptFrameError):  # sticky
        dec.next_frame()


def test_proxy_header_cut_short(fk: ModuleType) -> None:
    dec = fk.ProxyProtocolDecoder()
    assert dec.decode(b"PROXY TCP4 1.2") == []
    with pytest.raises(IncompleteFrameError):
        dec.feed_eof()
    dec = fk.ProxyProtocolDecoder()
    region = dec.get_buffer()
    region[:6] = b"PROXY "
    dec.buffer_updated(6)
    assert dec.buffered == 6 and dec.next_frame() is None


# --- chunked transfer coding ---------------------------------------------------------------------

CHUNKED = (
    b"4\r\nWiki\r\n6;ext=1\r\npedia \r\nE \r\nin \r\n\r\nchunks.\r\n0\r\nExpires: never\r\n\r\n"
)


def test_chunked_body_then_what_follows(fk: ModuleType) -> None:
    after = b"HTTP/1.1 200 OK\r\n"
    assert assert_split_invariant(fk.ChunkedDecoder, CHUNKED + after) == [
        b"Wiki", b"pedia ", b"in \r\n\r\nchunks."
    ]  # fmt: skip
    dec = fk.ChunkedDecoder()
    assert [bytes(f) for f in dec.decode(CHUNKED + after)] == [
        b"Wiki",
        b"pedia ",
        b"in \r\n\r\nchunks.",
    ]
    assert dec.done and dec.trailers == [b"Expires: never"]
    assert dec.decode(b"more") == [] and dec.buffered == len(after) + 4  # not framed: held
    dec.feed_eof()  # no error: the body ended
    assert dec.detach() == after + b"more"
    assert not dec.done and dec.trailers == []  # ready for the next body
    assert [bytes(f) for f in dec.decode(b"1\r\nx\r\n0\r\n\r\n")] == [b"x"] and dec.done


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"x\r\n", "chunked: the chunk size is not hex: byte 0x78 at offset 0"),
        (b"\r\n", "chunked: the chunk size is not hex: byte 0x0d at offset 0"),
        (b"1" * 16, "chunked: a chunk size of more than 15 hex digits"),
        (b"3x\r\n", "chunked: byte 0x78 after the chunk size at offset 1"),
        (b"3\nabc", "chunked: byte 0x0a after the chunk size at offset 1"),
        (b"3;a\nabc", "chunked: a line not ending in CRLF at offset 3"),
        (b"3\rx", "chunked: a line not ending in CRLF at offset 2"),
        (b"3;" + b"e" * 20, "chunked: a line longer than max_line_length=16 at offset 0"),
        (b"3\r\nabcde", "chunked: chunk data not followed by CRLF at offset 6"),
        (b"0\r\nA: b\n", "chunked: a line not ending in CRLF at offset 7"),
        (b"0\r\n\rx", "chunked: a line not ending in CRLF at offset 4"),
        (
            b"0\r\nA: 1234567\r\nB: 123\r\n",
            "chunked: a trailer section longer than max_line_length=16 at offset 3",
        ),
    ],
)
def test_chunked_corruption(fk: ModuleType, wire: bytes, message: str) -> None:
    make = lambda: fk.ChunkedDecoder(max_line_length=16)  # noqa: E731
    assert assert_split_invariant(make, b"1\r\na\r\n" + wire) == [b"a", corrupt(message)]


@pytest.mark.parametrize("line", [1, 2, 8])
def test_chunked_size_too_long_with_short_lines_is_split_invariant(
    fk: ModuleType, line: int
) -> None:
    """A size of 16 hex digits is corrupt at its 16th digit, however the digits arrive, also
    when max_line_length is shorter than that. (Regression, found by the fuzz harness: the
    bytes held while the rule could not tell yet were bounded below 16, so the core, asked
    after 12 of them, reported "no frame in 12 bytes" instead.)"""
    make = lambda: fk.ChunkedDecoder(max_frame_length=0, max_line_length=line)  # noqa: E731
    wire = b"c" * 17
    events = assert_split_invariant(make, wire, [wire[:8], *(wire[i : i + 4] for i in (8, 12, 16))])
    assert events == [corrupt("chunked: a chunk size of more than 15 hex digits")]


def test_chunked_too_long_chunk_is_skipped(fk: ModuleType) -> None:
    make = lambda: fk.ChunkedDecoder(max_frame_length=4)  # noqa: E731
    wire = b"4\r\nabcd\r\n5\r\nabcde\r\n1\r\nz\r\n0\r\n\r\n"
    assert assert_split_invariant(make, wire) == [b"abcd", ("too-long", 5, 4), b"z"]
    with pytest.raises(ValueError, match="max_line_length"):
        fk.ChunkedDecoder(max_line_length=0)
    with pytest.raises(TypeError, match="use next_frame"):
        fk.ChunkedDecoder().index(b"1\r\nx\r\n")


# --- JSON text streams ---------------------------------------------------------------------------


def test_json_texts(fk: ModuleType) -> None:
    wire = (
        b'{"a": [1, "x]}", {"b": null}]}\n  [true, false]\x1e"str\\"ing" 12.5e3\n'
        b"true null\r\n-1 {}[]\n\n"
    )
    assert assert_split_invariant(fk.JsonStreamDecoder, wire) == [
        b'{"a": [1, "x]}", {"b": null}]}', b"[true, false]", b'"str\\"ing"', b"12.5e3",
        b"true", b"null", b"-1", b"{}", b"[]",
    ]  # fmt: skip
    dec = fk.JsonStreamDecoder()
    assert dec.decode(b"\n" * 100_000) == [] and dec.buffered == 0  # separators are not held
    assert [bytes(f) for f in dec.decode(b'{"k"')] == [] and dec.buffered == 4
    with pytest.raises(IncompleteFrameError):
        dec.feed_eof()
    dec = fk.JsonStreamDecoder()
    dec.decode(b"12")  # a number at the very end: its end cannot be told
    with pytest.raises(IncompleteFrameError):
        dec.feed_eof()
    positions, consumed = fk.JsonStreamDecoder().index(b'{} [1] \n"x"\n7')
    assert positions.tolist() == [0, 2, 3, 6, 8, 11] and consumed == 12


@given(st.lists(json_texts(), min_size=1, max_size=8), st.data())
def test_json_frames_are_what_json_reads(texts: list[bytes], data: st.DataObject) -> None:
    separators = [data.draw(st.sampled_from([b"\n", b" ", b"\x1e", b"\r\n\t"])) for _ in texts]
    wire = b"".join(t + s for t, s in zip(texts, separators))
    for module in IMPLEMENTATIONS.values():
        frames = frames_and_errors(module.JsonStreamDecoder(), data.draw(splits(wire)))
        assert [json.loads(bytes(f)) for f in frames] == [json.loads(t) for t in texts]


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"x", "JSON stream: stray byte 0x78 between texts at offset 0"),
        (b",", "JSON stream: stray byte 0x2c between texts at offset 0"),
        (b"]", "JSON stream: unbalanced ']' at offset 0"),
        (b"[1}", "JSON stream: unbalanced '}' at offset 2"),
        (b'{"a": [1]]', "JSON stream: unbalanced ']' at offset 9"),
        (b"trux", "JSON stream: not true, false or null: byte 0x78 at offset 3"),
        (b"tru ", "JSON stream: not true, false or null: byte 0x20 at offset 3"),
        (b"nulls", "JSON stream: not true, false or null: byte 0x73 at offset 4"),
        (b"[" * 1025, "JSON stream: nested deeper than 1024 at offset 1024"),
        (b'["' + b"x" * 2000, "JSON stream: a text longer than max_frame_length=1500"),
        (b"1" * 1501, "JSON stream: a text longer than max_frame_length=1500"),
    ],
)
def test_json_corruption(fk: ModuleType, wire: bytes, message: str) -> None:
    make = lambda: fk.JsonStreamDecoder(max_frame_length=1500)  # noqa: E731
    assert assert_split_invariant(make, b"{}\n" + wire) == [b"{}", corrupt(message)]


def test_json_long_text_in_small_pieces_is_linear(fk: ModuleType) -> None:
    n = 15000 if fk.__name__.endswith("_core") else 3000  # 1.3 MB, or 270 kB for the twin
    text = json.dumps([{"k": "v" * 50, "n": [1, 2, {"x": None}]}] * n).encode()
    whole, pieces = _whole_and_in_pieces(fk.JsonStreamDecoder, text)
    assert pieces < 100 * whole + 0.2, (whole, pieces)  # rescanning: ~900 times slower


def proxy_headers() -> st.SearchStrategy[bytes]:
    """PROXY headers, v1 and v2 (with TLVs), and now and then bytes that are not one."""
    import ipaddress

    v4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
    port = st.integers(0, 65535)
    v1 = st.tuples(v4, v4, port, port).map(
        lambda t: b"PROXY TCP4 %s %s %d %d\r\n" % (t[0].encode(), t[1].encode(), t[2], t[3])
    )
    tlv = st.tuples(st.integers(0, 255), st.binary(max_size=6)).map(
        lambda t: bytes([t[0]]) + len(t[1]).to_bytes(2, "big") + t[1]
    )
    v2 = st.tuples(st.binary(min_size=12, max_size=12), st.lists(tlv, max_size=3)).map(
        lambda t: P.PROXY_V2_SIGNATURE + b"\x21\x11"
        + (len(t[0]) + sum(map(len, t[1]))).to_bytes(2, "big") + t[0] + b"".join(t[1])
    )  # fmt: skip
    return st.one_of(v1, v2, st.binary(min_size=1, max_size=20))


@given(proxy_headers(), st.binary(max_size=20), st.data())
def test_proxy_split_invariance_through_framekit_testing(
    header: bytes, after: bytes, data: st.DataObject
) -> None:
    """Any split gives the same header (its raw bytes) or error, in both builds (one class)."""
    wire = header + after
    for module in IMPLEMENTATIONS.values():
        events = assert_split_invariant(module.ProxyProtocolDecoder, wire, data.draw(splits(wire)))
        if wire.startswith(b"PROXY TCP4 ") or wire.startswith(P.PROXY_V2_SIGNATURE + b"\x21"):
            assert events == [header]


# --- MessagePack ------------------------------------------------------------------------------


def packed(obj: Any, **options: Any) -> bytes:
    import msgpack

    return msgpack.packb(obj, use_bin_type=True, **options)  # type: ignore[no-any-return]


def msgpack_objects() -> list[Any]:
    """Objects of every format family msgpack writes (with widths of lengths and counts)."""
    import msgpack

    return [
        0, 1, 127, 128, 255, 256, 65535, 65536, 2**32, 2**64 - 1, -1, -32, -33, -129, -(2**15),
        -(2**31) - 1, -(2**63), 1.5, None, True, False, "", "é" * 15, "x" * 32, "y" * 300,
        b"", b"\x00" * 255, b"\x01" * 256, [], [1, [2, [3, {}]]], list(range(20)),
        {"a": [1, 2], "b": {"c": None}}, {str(i): i for i in range(17)},
        msgpack.ExtType(5, b"a"), msgpack.ExtType(1, b"12345678"), msgpack.ExtType(7, b"x" * 16),
        msgpack.ExtType(8, b"x" * 3), msgpack.ExtType(9, b"x" * 300),
    ]  # fmt: skip


def test_msgpack_objects_whole(fk: ModuleType) -> None:
    parts = [packed(obj) for obj in msgpack_objects()] + [packed(1.5, use_single_float=True)]
    wire = b"".join(parts)
    assert frames_and_errors(fk.MessagePackDecoder(), [wire]) == parts
    assert assert_split_invariant(fk.MessagePackDecoder, b"".join(parts[:24])) == parts[:24]
    assert assert_split_invariant(lambda: fk.MessagePackDecoder(copy=True), wire) == parts


def test_msgpack_long_string_arrives_in_pieces(fk: ModuleType) -> None:
    import msgpack

    wire = packed("y" * 70000) + packed({"k": b"z" * 70000}) + packed(7)
    for step in (1000, 4096, 65536):
        chunks = [wire[i : i + step] for i in range(0, len(wire), step)]
        frames = frames_and_errors(fk.MessagePackDecoder(), chunks)
        assert [msgpack.unpackb(f) for f in frames] == ["y" * 70000, {"k": b"z" * 70000}, 7]


def msgpack_python_objects() -> st.SearchStrategy[Any]:
    """Python objects msgpack packs: every scalar range, strings, bytes, ext, nested."""
    import msgpack

    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**63), 2**64 - 1),
        st.floats(allow_nan=False),
        st.text(max_size=40),
        st.binary(max_size=300),
        st.builds(msgpack.ExtType, st.integers(0, 127), st.binary(max_size=20)),
    )
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=5)
            | st.dictionaries(st.text(max_size=4), children, max_size=5)
        ),
        max_leaves=20,
    )


@given(st.lists(msgpack_python_objects(), min_size=1, max_size=6), st.data())
def test_msgpack_frames_are_what_msgpack_packs(objects: list[Any], data: st.DataObject) -> None:
    """Each frame is one object as the msgpack library packs it, and it unpacks to it."""
    import msgpack

    parts = [packed(obj) for obj in objects]
    chunks = data.draw(splits(b"".join(parts)))
    for module in IMPLEMENTATIONS.values():
        frames = frames_and_errors(module.MessagePackDecoder(), chunks)
        assert frames == parts
        assert [msgpack.unpackb(f, strict_map_key=False) for f in frames] == objects


@given(st.lists(msgpack_values(), min_size=1, max_size=6), st.data())
def test_msgpack_frames_are_where_msgpack_ends_each_object(
    values: list[bytes], data: st.DataObject
) -> None:
    """Every format, in every width: the frames end where the msgpack library's reader ends
    each object."""
    import msgpack

    wire = b"".join(values)
    reader = msgpack.Unpacker()
    reader.feed(wire)
    ends = []
    for _ in values:
        reader.skip()
        ends.append(reader.tell())
    chunks = data.draw(splits(wire))
    for module in IMPLEMENTATIONS.values():
        frames = frames_and_errors(module.MessagePackDecoder(), chunks)
        assert frames == [wire[a:b] for a, b in zip([0, *ends], ends)]


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"\xc1", "MessagePack: byte 0xc1 at offset 0 is never used"),
        (b"\x92\x01\xc1", "MessagePack: byte 0xc1 at offset 2 is never used"),
        (
            b"\x91\x91\x91\x01",
            "MessagePack: arrays and maps nested deeper than max_depth=2 at offset 2",
        ),
        (
            b"\x92\xc4\x20" + b"x" * 32 + b"\x01",
            "MessagePack: a 34-byte item at offset 1 inside an array or map: the object is "
            "longer than max_frame_length",
        ),
        (
            b"\x94" + b"\xa5hello" * 3 + b"\xcb" + bytes(8),
            "MessagePack: an object longer than max_frame_length=20",
        ),
        (b"\xdc\x00\x1e" + b"\x01" * 30, "MessagePack: an object longer than max_frame_length=20"),
    ],
)
def test_msgpack_corruption(fk: ModuleType, wire: bytes, message: str) -> None:
    def make() -> Any:
        return fk.MessagePackDecoder(max_depth=2, max_frame_length=20)

    assert assert_split_invariant(make, b"\x01" + wire) == [b"\x01", corrupt(message)]


def test_msgpack_too_long_object_is_discarded(fk: ModuleType) -> None:
    """At the top level, a string, binary, extension or number longer than max_frame_length
    has a length its header tells: it is skipped, and the objects after it are read."""
    wire = packed(b"abcdefgh") + packed(b"x" * 20) + packed("s" * 40) + packed(7)
    assert assert_split_invariant(lambda: fk.MessagePackDecoder(max_frame_length=12), wire) == [
        packed(b"abcdefgh"),
        ("too-long", 22, 12),
        ("too-long", 42, 12),
        b"\x07",
    ]
    wire = packed(2**40) + packed(1.5) + packed(3)  # 9 bytes each, then one
    assert assert_split_invariant(lambda: fk.MessagePackDecoder(max_frame_length=4), wire) == [
        ("too-long", 9, 4),
        ("too-long", 9, 4),
        b"\x03",
    ]
    # a str 32's header (5 bytes) past the limit: its length cannot be read, it is corrupt
    assert events(fk.MessagePackDecoder(max_frame_length=4), b"\xdb\x00\x00\x00\x01x") == [
        corrupt("MessagePack: an object longer than max_frame_length=4")
    ]


def test_msgpack_nesting_and_configuration(fk: ModuleType) -> None:
    deep = b"\x91" * 64 + b"\x01"
    assert events(fk.MessagePackDecoder(), deep) == [deep]
    assert events(fk.MessagePackDecoder(), b"\x91" + deep)[0][0] == "corrupt"
    assert events(fk.MessagePackDecoder(max_depth=1), b"\x90\x80\x91\x90") == [
        b"\x90",
        b"\x80",
        corrupt("MessagePack: arrays and maps nested deeper than max_depth=1 at offset 1"),
    ]
    with pytest.raises(ValueError, match="max_depth"):
        fk.MessagePackDecoder(max_depth=0)
    with pytest.raises(TypeError, match="max_depth"):
        fk.MessagePackDecoder(max_depth="2")
    with pytest.raises(ValueError, match="max_frame_length"):
        fk.MessagePackDecoder(max_frame_length=0)
    assert repr(fk.MessagePackDecoder(max_depth=3)) == "MessagePackDecoder(max_depth=3)"
    assert events(fk.MessagePackDecoder(), b"\x92\x01") == [("incomplete", b"\x92\x01")]


def test_msgpack_large_array_in_small_pieces_is_linear(fk: ModuleType) -> None:
    n = 100000 if fk.__name__.endswith("_core") else 20000
    wire = packed([[i, "ab", {"k": None}] for i in range(n)])
    whole, pieces = _whole_and_in_pieces(fk.MessagePackDecoder, wire)
    assert pieces < 100 * whole + 0.2, (whole, pieces)
