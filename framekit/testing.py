"""Hypothesis strategies and checks for testing code built on framekit (needs hypothesis:
``pip install framekit[testing]``). framekit's own test suite uses them.

Fuzz your own protocol handler: any split of the stream must give the same frames and errors,
and your handler must survive what a hostile peer can send::

    from hypothesis import given, strategies as st
    import framekit
    from framekit.testing import assert_split_invariant, length_field_streams, splits

    def make() -> framekit.LengthFieldDecoder:          # your protocol's framing
        return framekit.LengthFieldDecoder(2, max_frame_length=512)

    CONFIG = {"length_field_length": 2, "length_field_offset": 0, "length_adjustment": 0,
              "byteorder": "big", "max_frame_length": 512}

    @given(st.data())
    def test_my_handler(data):
        stream = data.draw(length_field_streams(CONFIG))    # valid, truncated, oversized...
        chunks = data.draw(splits(stream))                   # split anywhere
        events = assert_split_invariant(make, stream, chunks)
        for event in events:                                 # frames (bytes) or error tuples
            if isinstance(event, bytes):
                my_handler(event)                            # must not crash on any frame
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Callable, Union

from hypothesis import strategies as st

from . import _contract, _kinds
from ._adapters import write_through_buffer
from .errors import CorruptFrameError, FrameError, FrameTooLongError, IncompleteFrameError

__all__ = [
    "KINDS",
    "STRATEGIES",
    "Event",
    "PrefixedRule",
    "assert_rule_split_invariant",
    "assert_split_invariant",
    "decoder_cases",
    "delimited_streams",
    "delimiter_configs",
    "describe",
    "drain",
    "finish",
    "fixed_configs",
    "fixed_streams",
    "frames_and_errors",
    "length_field_configs",
    "length_field_streams",
    "line_configs",
    "rule_configs",
    "rule_streams",
    "split",
    "splits",
    "varint_configs",
    "varint_streams",
]

#: What a decoder produced: ``bytes`` for a frame, a tuple describing an error otherwise.
Event = Union[bytes, tuple[Any, ...]]


def describe(err: FrameError) -> tuple[Any, ...]:
    """An error as comparable data: its kind and what it carries."""
    if isinstance(err, FrameTooLongError):
        return ("too-long", err.frame_length, err.max_frame_length)
    if isinstance(err, IncompleteFrameError):
        return ("incomplete", err.partial)
    return ("corrupt", str(err))


def drain(decoder: Any, out: list[Event], *, iterate: bool = False) -> bool:
    """Take every complete frame (through ``next_frame()``, or ``for frame in decoder`` with
    ``iterate``) and error into ``out``; False once the stream is corrupt."""
    while True:
        try:
            if iterate:
                out.extend(bytes(f) for f in decoder)
                return True
            frame = decoder.next_frame()
        except FrameError as err:
            out.append(describe(err))
            if isinstance(err, CorruptFrameError):
                return False
            continue
        if frame is None:
            return True
        out.append(bytes(frame))


def finish(decoder: Any, out: list[Event]) -> list[Event]:
    """The end of stream: what it completes or cuts short, into ``out``."""
    try:
        decoder.feed_eof()
    except FrameError as err:
        out.append(describe(err))
        if isinstance(err, CorruptFrameError):
            return out
    drain(decoder, out)
    return out


def frames_and_errors(
    decoder: Any, chunks: Sequence[bytes], *, mutable: bool = False, iterate: bool = False
) -> list[Event]:
    """Feed ``chunks`` then the end of stream, taking every frame as soon as it is complete;
    the frames and errors in order. A corrupt stream ends the list."""
    out: list[Event] = []
    for chunk in chunks:
        try:
            decoder.feed(bytearray(chunk) if mutable else chunk)
        except CorruptFrameError as err:
            out.append(describe(err))
            return out
        if not drain(decoder, out, iterate=iterate):
            return out
    return finish(decoder, out)


def split(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """``data`` cut at the given points (duplicates and points outside it are ignored)."""
    points = sorted({c for c in cuts if 0 < c < len(data)})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:])]


@st.composite
def splits(draw: st.DrawFn, data: bytes, max_pieces: int = 12) -> list[bytes]:
    """``data`` split at arbitrary points into at most ``max_pieces + 1`` pieces."""
    if not data:
        return []
    return split(data, draw(st.lists(st.integers(0, len(data)), max_size=max_pieces)))


def assert_split_invariant(
    make_decoder: Callable[[], Any], data: bytes, chunks: Sequence[bytes] = ()
) -> list[Event]:
    """Assert that ``data`` gives the same frames and errors fed whole, in ``chunks``, one byte
    at a time, and through ``get_buffer()``; returns them."""
    whole = frames_and_errors(make_decoder(), [data])
    ways = {
        "chunks": frames_and_errors(make_decoder(), list(chunks) or [data]),
        "bytewise": frames_and_errors(make_decoder(), [data[i : i + 1] for i in range(len(data))]),
        "iterated": frames_and_errors(make_decoder(), list(chunks) or [data], iterate=True),
    }
    decoder = make_decoder()
    via_buffer: list[Event] = []
    for chunk in chunks or [data]:
        write_through_buffer(decoder, chunk)
        if not drain(decoder, via_buffer):
            break
    else:
        finish(decoder, via_buffer)
    ways["get_buffer"] = via_buffer
    for how, events in ways.items():
        assert events == whole, f"{how}: {events!r} != {whole!r}"
    return whole


def assert_rule_split_invariant(
    rule: Callable[[memoryview], Any],
    data: bytes,
    chunks: Sequence[bytes] = (),
    **options: Any,
) -> list[Event]:
    """Check a framing rule of your own: ``RuleDecoder(rule, **options)`` makes the same frames
    and errors of ``data`` fed whole, in ``chunks``, a byte at a time and through
    ``get_buffer()``. A rule that answers differently for a longer prefix of the same bytes
    fails it. Returns the frames and errors. Feed it your protocol's hard cases, or draw
    ``data`` and its ``splits()`` with hypothesis::

        def test_my_rule():
            assert assert_rule_split_invariant(netstring, b"3:abc,0:,") == [b"abc", b""]
    """
    import framekit

    return assert_split_invariant(lambda: framekit.RuleDecoder(rule, **options), data, chunks)


# --- decoder configurations and streams that fit them -------------------------------------------


@st.composite
def length_field_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for ``LengthFieldDecoder``, small limits included."""
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
    """Keyword arguments for ``VarintLengthDecoder``."""
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
    offset = cfg.get("length_field_offset", 0)
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["ok", "ok", "ok", "big", "junk"]))
        if kind == "junk":
            parts.append(draw(st.binary(max_size=12)))
            continue
        top = cfg["max_frame_length"] + (60 if kind == "big" else 0)
        size = draw(st.integers(0, max(0, top - offset - width)))
        value = size - cfg.get("length_adjustment", 0)
        if value < 0 or value >= 1 << (8 * width):
            continue
        field = value.to_bytes(width, cfg.get("byteorder", "big"))
        parts.append(draw(st.binary(min_size=offset, max_size=offset)) + field + bytes(size))
    data = b"".join(parts)
    return data[: draw(st.integers(0, len(data)))] if draw(st.booleans()) else data


@st.composite
def varint_streams(draw: st.DrawFn, cfg: dict[str, Any]) -> bytes:
    """Varint-framed streams for ``cfg``: valid, oversized, garbage, over-long varints."""
    offset = cfg.get("length_field_offset", 0)
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
            payload = max(0, value + cfg.get("length_adjustment", 0))
            parts.append(bytes(offset) + _contract.varint(value) + b"p" * payload)
    data = b"".join(parts)
    return data[: draw(st.integers(0, len(data)))] if draw(st.booleans()) else data


_DELIMITER_ALPHABET = list(b"ab\r\n")


@st.composite
def delimiter_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for ``DelimiterDecoder``; small alphabets, so that delimiters
    overlap, share prefixes and straddle feeds."""
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
    """Keyword arguments for ``LineDecoder``."""
    return {
        "strip_delimiter": draw(st.booleans()),
        "max_frame_length": draw(st.integers(0, 40)),
        "fail_fast": draw(st.booleans()),
        "copy": draw(st.booleans()),
    }


@st.composite
def delimited_streams(draw: st.DrawFn, cfg: dict[str, Any]) -> bytes:
    """Streams of delimiter bytes and others (the configurations' alphabet)."""
    return bytes(draw(st.lists(st.sampled_from([*_DELIMITER_ALPHABET, 120]), max_size=300)))


@st.composite
def fixed_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for ``FixedLengthDecoder``."""
    return {"frame_length": draw(st.integers(1, 12)), "copy": draw(st.booleans())}


@st.composite
def fixed_streams(draw: st.DrawFn, cfg: dict[str, Any]) -> bytes:
    """Any bytes: whole frames and, often, a cut one at the end."""
    return draw(st.binary(max_size=cfg["frame_length"] * 20))


class PrefixedRule:
    """A framing rule (for :class:`~framekit.RuleDecoder`): a ``width``-byte big-endian length,
    then that many bytes, which are the frame; corrupt when the length's top byte is 0xFF.
    It answers each way a rule can: ``-k`` for the header, ``(n, start, end)`` after it."""

    def __init__(self, width: int) -> None:
        self.width = width

    def __call__(self, buf: memoryview) -> Union[int, tuple[int, int, int]]:
        width = self.width
        if len(buf) < width:
            return -width
        if buf[0] == 0xFF:
            raise CorruptFrameError("length field starts with 0xff")
        total = width + int.from_bytes(buf[:width], "big")
        return (total, width, total)

    def __repr__(self) -> str:
        return f"PrefixedRule({self.width})"


@st.composite
def rule_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for ``RuleDecoder``, with a :class:`PrefixedRule`."""
    return {
        "rule": PrefixedRule(draw(st.sampled_from([1, 2]))),
        "max_frame_length": draw(st.integers(1, 300)),
        "copy": draw(st.booleans()),
    }


def rule_streams(cfg: dict[str, Any]) -> st.SearchStrategy[bytes]:
    """Frames for a :class:`PrefixedRule`: valid, oversized, garbage, maybe truncated (the
    length-field streams of the same width: the rule frames what a length field of it does)."""
    width = cfg["rule"].width
    return length_field_streams(
        {"length_field_length": width, "max_frame_length": cfg["max_frame_length"]}
    )


@st.composite
def netstring_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for ``NetstringDecoder``."""
    return {"max_frame_length": draw(st.integers(0, 40)), "copy": draw(st.booleans())}


def _counted(header: Callable[[bytes], bytes]) -> st.SearchStrategy[bytes]:
    """Streams of payloads framed by ``header`` (some longer than a configuration's limit), with
    now and then bytes of the header's alphabet that may or may not be one."""
    framed = st.binary(max_size=50).map(header)
    junk = st.lists(st.sampled_from(list(b"0123456789:, x")), max_size=6).map(bytes)
    return st.lists(st.one_of(framed, framed, framed, junk), max_size=10).map(b"".join)


@st.composite
def netstring_streams(draw: st.DrawFn, cfg: dict[str, Any]) -> bytes:
    """Netstrings (some too long), and bytes that may break the rules."""
    return draw(_counted(lambda p: b"%d:%s," % (len(p), p)))


@st.composite
def octet_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for ``OctetCountingDecoder``."""
    return {"max_frame_length": draw(st.integers(1, 40)), "copy": draw(st.booleans())}


@st.composite
def octet_streams(draw: st.DrawFn, cfg: dict[str, Any]) -> bytes:
    """Octet-counted messages (some too long), and bytes that may break the rules."""
    return draw(_counted(lambda p: b"%d %s" % (len(p), p) if p else b"1 x"))


def resp_values(max_leaves: int = 12) -> st.SearchStrategy[bytes]:
    """RESP2 and RESP3 values, wire bytes: every type, nested, bulk strings of any bytes."""
    line = st.binary(max_size=8).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
    leaf = st.one_of(
        st.tuples(st.sampled_from(list(b"+-:_,#(")), line).map(lambda t: bytes([t[0]]) + t[1]),
        st.tuples(st.sampled_from(list(b"$!=")), st.binary(max_size=20)).map(
            lambda t: b"%c%d\r\n%s" % (t[0], len(t[1]), t[1])
        ),
        st.sampled_from([b"$-1", b"*-1"]),
    )

    def end(value: bytes) -> bytes:
        return value + b"\r\n"

    def aggregate(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
        return st.tuples(st.sampled_from(list(b"*~>%|")), st.lists(children, max_size=4)).map(
            _aggregate
        )

    return st.recursive(leaf.map(end), aggregate, max_leaves=max_leaves)


def _aggregate(parts: tuple[int, list[bytes]]) -> bytes:
    kind, children = parts
    if kind in b"%|":
        children = children[: len(children) // 2 * 2]
    count = len(children) // 2 if kind in b"%|" else len(children)
    body = b"%c%d\r\n" % (kind, count) + b"".join(children)
    return body + b"+v\r\n" if kind == ord("|") else body  # an attribute precedes a value


@st.composite
def resp_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for ``RespDecoder``."""
    return {
        "max_frame_length": draw(st.integers(1, 200)),
        "max_depth": draw(st.integers(1, 4)),
        "copy": draw(st.booleans()),
    }


@st.composite
def resp_streams(draw: st.DrawFn, cfg: dict[str, Any]) -> bytes:
    """RESP values, and now and then bytes that may break the rules."""
    junk = st.lists(st.sampled_from(list(b"+$*%|:-1\r\nx")), max_size=5).map(bytes)
    pieces = draw(st.lists(st.one_of(resp_values(), resp_values(), junk), max_size=6))
    return b"".join(pieces)


@st.composite
def websocket_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for ``WebSocketDecoder``."""
    return {
        "role": draw(st.sampled_from(["server", "client"])),
        "max_frame_length": draw(st.integers(0, 300)),
        "copy": draw(st.booleans()),
    }


@st.composite
def websocket_streams(draw: st.DrawFn, cfg: dict[str, Any]) -> bytes:
    """Frames the other role writes (some too long, some fragments, control frames), and now
    and then bytes that may break the rules."""
    import framekit

    encoder = framekit.WebSocketEncoder(role="client" if cfg["role"] == "server" else "server")
    pieces = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["data", "data", "long", "control", "junk"]))
        if kind == "junk":
            pieces.append(draw(st.binary(min_size=1, max_size=6)))
            continue
        size = {"data": 60, "long": 400, "control": 125}[kind]
        payload = draw(st.binary(max_size=size))
        opcode = draw(st.sampled_from([8, 9, 10] if kind == "control" else [0, 1, 2]))
        key = draw(st.binary(min_size=4, max_size=4)) if cfg["role"] == "server" else None
        fin = kind == "control" or draw(st.booleans())
        pieces.append(
            encoder.encode(
                payload, opcode=opcode, fin=fin, rsv=draw(st.integers(0, 7)), mask_key=key
            )
        )
    return b"".join(pieces)


@st.composite
def chunked_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for ``ChunkedDecoder``."""
    return {
        "max_frame_length": draw(st.integers(0, 40)),
        "max_line_length": draw(st.integers(4, 24)),
        "copy": draw(st.booleans()),
    }


@st.composite
def chunked_streams(draw: st.DrawFn, cfg: dict[str, Any]) -> bytes:
    """Chunked bodies: chunks (some too long, some with extensions), often the last chunk and
    trailers, then what follows the body; now and then bytes that may break the rules."""
    pieces = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 9)) == 0:
            pieces.append(draw(st.binary(min_size=1, max_size=6)))
            continue
        data = draw(st.binary(max_size=50))
        if not data:
            continue
        ext = draw(st.sampled_from([b"", b";a=b", b" ;x"]))
        pieces.append(b"%x%s\r\n%s\r\n" % (len(data), ext, data))
    if draw(st.booleans()):
        trailers = draw(st.lists(st.sampled_from([b"A: b", b"Expires: never", b"X:"]), max_size=3))
        pieces.append(b"0\r\n" + b"".join(t + b"\r\n" for t in trailers) + b"\r\n")
        pieces.append(draw(st.binary(max_size=10)))  # the next message
    return b"".join(pieces)


@st.composite
def json_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments for ``JsonStreamDecoder``."""
    return {"max_frame_length": draw(st.integers(1, 120)), "copy": draw(st.booleans())}


def json_texts() -> st.SearchStrategy[bytes]:
    """JSON texts: every kind of value, nested, strings with escapes and brackets inside."""
    import json

    values = st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=5), children, max_size=4)
        ),
        max_leaves=10,
    )
    return values.map(lambda v: json.dumps(v).encode())


@st.composite
def json_streams(draw: st.DrawFn, cfg: dict[str, Any]) -> bytes:
    """JSON texts (some too long) with separators between them (a number is followed by one),
    and now and then bytes that may break the rules."""
    pieces = []
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.integers(0, 9)) == 0:
            pieces.append(draw(st.binary(min_size=1, max_size=4)))
        else:
            pieces.append(draw(json_texts()))
        pieces.append(draw(st.sampled_from([b"\n", b" ", b"\r\n", b"\x1e", b"\n\n\t", b""])))
    return b"".join(pieces)


#: MessagePack's fixed-size formats: (first byte, bytes after it)
_MSGPACK_FIXED = [
    (0xCA, 4), (0xCB, 8), (0xCC, 1), (0xCD, 2), (0xCE, 4), (0xCF, 8), (0xD0, 1), (0xD1, 2),
    (0xD2, 4), (0xD3, 8), (0xD4, 2), (0xD5, 3), (0xD6, 5), (0xD7, 9), (0xD8, 17),
]  # fmt: skip
#: its sized formats (bin, str, ext): (first byte, width of the length, a type byte follows)
_MSGPACK_SIZED = [
    (0xC4, 1, False), (0xC5, 2, False), (0xC6, 4, False), (0xD9, 1, False), (0xDA, 2, False),
    (0xDB, 4, False), (0xC7, 1, True), (0xC8, 2, True), (0xC9, 4, True),
]  # fmt: skip


def msgpack_values(max_leaves: int = 12) -> st.SearchStrategy[bytes]:
    """MessagePack objects, wire bytes: every format (lengths and counts in every width, also
    wider than needed), nested arrays and maps."""
    leaf = st.one_of(
        st.one_of(st.integers(0, 0x7F), st.integers(0xE0, 0xFF)).map(lambda b: bytes([b])),
        st.sampled_from([b"\xc0", b"\xc2", b"\xc3"]),
        st.sampled_from(_MSGPACK_FIXED).flatmap(
            lambda f: st.binary(min_size=f[1], max_size=f[1]).map(lambda d: bytes([f[0]]) + d)
        ),
        st.binary(max_size=31).map(lambda d: bytes([0xA0 | len(d)]) + d),
        st.tuples(st.sampled_from(_MSGPACK_SIZED), st.binary(max_size=40), st.integers(0, 255)).map(
            lambda t: (
                bytes([t[0][0]])
                + len(t[1]).to_bytes(t[0][1], "big")
                + (bytes([t[2]]) if t[0][2] else b"")
                + t[1]
            )
        ),
    )

    def containers(children: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
        return st.tuples(st.integers(0, 5), st.lists(children, max_size=4)).map(_msgpack_container)

    return st.recursive(leaf, containers, max_leaves=max_leaves)


def _msgpack_container(parts: tuple[int, list[bytes]]) -> bytes:
    form, items = parts  # fixarray, array 16, array 32, fixmap, map 16, map 32
    if form >= 3:
        items = items[: len(items) // 2 * 2]
    n = len(items) // 2 if form >= 3 else len(items)
    first, width = [(0x90 | n, 0), (0xDC, 2), (0xDD, 4), (0x80 | n, 0), (0xDE, 2), (0xDF, 4)][form]
    count = n.to_bytes(width, "big") if width else b""
    return bytes([first]) + count + b"".join(items)


#: keyword arguments for ``MessagePackDecoder`` (the options of ``RespDecoder``)
msgpack_configs = resp_configs


@st.composite
def msgpack_streams(draw: st.DrawFn, cfg: dict[str, Any]) -> bytes:
    """MessagePack objects, and now and then bytes that may break the rules (0xc1, never used;
    headers cut short)."""
    junk = st.lists(st.sampled_from([0xC1, 0x91, 0xDC, 0xDD, 0xC6, 0xDB, 0x00, 0xFF]), max_size=4)
    pieces = draw(
        st.lists(st.one_of(msgpack_values(), msgpack_values(), junk.map(bytes)), max_size=6)
    )
    return b"".join(pieces)


#: each kind's strategies: (configurations, streams that fit one), by its short name
STRATEGIES: dict[str, tuple[Callable[[], Any], Callable[[dict[str, Any]], Any]]] = {
    "length": (length_field_configs, length_field_streams),
    "varint": (varint_configs, varint_streams),
    "delimiter": (delimiter_configs, delimited_streams),
    "line": (line_configs, delimited_streams),
    "fixed": (fixed_configs, fixed_streams),
    "rule": (rule_configs, rule_streams),
    "netstring": (netstring_configs, netstring_streams),
    "octet": (octet_configs, octet_streams),
    "resp": (resp_configs, resp_streams),
    "websocket": (websocket_configs, websocket_streams),
    "chunked": (chunked_configs, chunked_streams),
    "json": (json_configs, json_streams),
    "msgpack": (msgpack_configs, msgpack_streams),
}

#: decoder class name -> (configurations, streams that fit one), for every kind framekit has
#: (framekit._kinds): a kind without strategies fails here
KINDS: dict[str, tuple[Callable[[], Any], Callable[[dict[str, Any]], Any]]] = {
    kind.decoder: STRATEGIES[kind.name] for kind in _kinds.KINDS
}


@st.composite
def decoder_cases(draw: st.DrawFn) -> tuple[str, dict[str, Any], bytes]:
    """A decoder kind (its class name), a configuration for it and a stream to feed it."""
    name = draw(st.sampled_from(sorted(KINDS)))
    configs, streams = KINDS[name]
    cfg = draw(configs())
    return name, cfg, draw(streams(cfg))
