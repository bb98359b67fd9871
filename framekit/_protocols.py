"""Framing rules in plain Python: the length fields' and the protocols' (SPEC §8: netstrings,
syslog octet counting, Redis' RESP, WebSocket, chunked bodies, JSON texts, PROXY headers).

Each protocol's rule is written here in plain Python, as a rule for ``RuleDecoder`` (SPEC §7):
it is what the pure twin runs. The compiled core has a C kernel of each (``_protocol_rules.pxi``)
that answers exactly alike, with the same messages (made here); tests/test_protocols.py checks
the two against each other on random bytes. The engine around them (storage, frame lifetime,
oversized frames, end of stream, ``get_buffer``, ``pool=``) is the one every decoder has.

A rule answers ``None`` (it cannot tell yet), ``-k`` (the frame needs ``k`` bytes in all; ask
again then) or ``(n, start, end)``; it raises ``CorruptFrameError`` naming the rule broken.
"""

from __future__ import annotations

import ipaddress
import os
import struct
from collections.abc import Iterable
from typing import Any, Callable, Literal, NamedTuple, Optional, Union

from ._contract import (
    LIMIT_OPTION,
    MSG_VARINT_64,
    BytesLike,
    KiB,
    Kind,
    MiB,
    check_max_frame_length,
    msg_not_buffer,
    msg_short_frame,
    msg_strip,
    msg_varint_long,
    proper_prefixes,
)
from .errors import CorruptFrameError, IncompleteFrameError

Answer = Union[None, int, tuple[int, int, int]]

DEFAULT_NETSTRING_MAX = 8 * MiB
DEFAULT_SYSLOG_MAX = 64 * KiB
DEFAULT_RESP_MAX = 512 * MiB
DEFAULT_RESP_DEPTH = 64
#: the most digits a length may have (netstrings, octet counts; RESP lengths and counts)
NETSTRING_DIGITS = 18
OCTET_DIGITS = 10
CHUNK_DIGITS = 15  # hex digits of a chunk size: below 2**60
RESP_DIGITS = 18
#: header bytes a netstring or octet-counted frame may have beyond its payload: held while the
#: rule cannot tell yet, they do not count against max_frame_length (which bounds the payload)
NETSTRING_OVERHEAD = NETSTRING_DIGITS + 2
OCTET_OVERHEAD = OCTET_DIGITS + 1

_DIGITS = b"0123456789"
_CR, _LF = 13, 10

# --- what each broken rule says (both builds) ---------------------------------------------------

NETSTRING_NOT_A_NUMBER = 1
NETSTRING_LEADING_ZERO = 2
NETSTRING_TOO_MANY_DIGITS = 3
NETSTRING_NO_COMMA = 4
OCTET_NOT_A_COUNT = 5
OCTET_LEADING_ZERO = 6
OCTET_TOO_MANY_DIGITS = 7
OCTET_NO_SPACE = 8
RESP_UNKNOWN_TYPE = 9
RESP_BAD_LENGTH = 10
RESP_NO_CRLF = 11
RESP_TOO_DEEP = 12
RESP_NESTED_TOO_LONG = 13
RESP_TOO_LONG = 14
WS_MASK_EXPECTED = 15
WS_MASK_UNEXPECTED = 16
WS_RESERVED_OPCODE = 17
WS_CONTROL_TOO_LONG = 18
WS_CONTROL_FRAGMENTED = 19
WS_LENGTH_NOT_SHORTEST = 20
WS_LENGTH_TOP_BIT = 21
CHUNK_NOT_HEX = 22
CHUNK_SIZE_TOO_LONG = 23
CHUNK_BAD_SIZE_LINE = 24
CHUNK_BAD_LINE_END = 25
CHUNK_LINE_TOO_LONG = 26
CHUNK_NO_CRLF = 27
CHUNK_TRAILERS_TOO_LONG = 33
JSON_STRAY = 28
JSON_UNBALANCED = 29
JSON_BAD_LITERAL = 30
JSON_TOO_DEEP = 31
JSON_TOO_LONG = 32
MSGPACK_NEVER_USED = 34
MSGPACK_TOO_DEEP = 35
MSGPACK_NESTED_TOO_LONG = 36
MSGPACK_TOO_LONG = 37


#: the message of each broken rule: ``{at}`` is where in the frame it was found, ``{value}``
#: the byte or number concerned (``{char}``: that byte as a character)
MESSAGES: dict[int, str] = {
    NETSTRING_NOT_A_NUMBER: "netstring length is not a number: byte {value:#04x} at offset {at}",
    NETSTRING_LEADING_ZERO: "netstring length has a leading zero",
    NETSTRING_TOO_MANY_DIGITS: f"netstring length has more than {NETSTRING_DIGITS} digits",
    NETSTRING_NO_COMMA: "netstring does not end with ',': byte {value:#04x} at offset {at}",
    OCTET_NOT_A_COUNT: "syslog octet count is not a number: byte {value:#04x} at offset {at}",
    OCTET_LEADING_ZERO: "syslog octet count starts with 0",
    OCTET_TOO_MANY_DIGITS: f"syslog octet count has more than {OCTET_DIGITS} digits",
    OCTET_NO_SPACE: (
        "syslog octet count is not followed by a space: byte {value:#04x} at offset {at}"
    ),
    RESP_UNKNOWN_TYPE: "RESP: unknown type byte {value:#04x} at offset {at}",
    RESP_BAD_LENGTH: "RESP: bad length or count at offset {at}",
    RESP_NO_CRLF: "RESP: missing CRLF at offset {at}",
    RESP_TOO_DEEP: "RESP: aggregates nested deeper than max_depth={value} at offset {at}",
    RESP_NESTED_TOO_LONG: (
        "RESP: a {value}-byte string at offset {at} inside an aggregate: the value is "
        "longer than max_frame_length"
    ),
    RESP_TOO_LONG: "RESP: a value longer than max_frame_length={value}",
    CHUNK_NOT_HEX: "chunked: the chunk size is not hex: byte {value:#04x} at offset {at}",
    CHUNK_SIZE_TOO_LONG: f"chunked: a chunk size of more than {CHUNK_DIGITS} hex digits",
    CHUNK_BAD_SIZE_LINE: "chunked: byte {value:#04x} after the chunk size at offset {at}",
    CHUNK_BAD_LINE_END: "chunked: a line not ending in CRLF at offset {at}",
    CHUNK_LINE_TOO_LONG: "chunked: a line longer than max_line_length={value} at offset {at}",
    CHUNK_TRAILERS_TOO_LONG: (
        "chunked: a trailer section longer than max_line_length={value} at offset {at}"
    ),
    CHUNK_NO_CRLF: "chunked: chunk data not followed by CRLF at offset {at}",
    JSON_STRAY: "JSON stream: stray byte {value:#04x} between texts at offset {at}",
    JSON_UNBALANCED: "JSON stream: unbalanced {char!r} at offset {at}",
    JSON_BAD_LITERAL: "JSON stream: not true, false or null: byte {value:#04x} at offset {at}",
    JSON_TOO_DEEP: "JSON stream: nested deeper than {value} at offset {at}",
    JSON_TOO_LONG: "JSON stream: a text longer than max_frame_length={value}",
    MSGPACK_NEVER_USED: "MessagePack: byte {value:#04x} at offset {at} is never used",
    MSGPACK_TOO_DEEP: (
        "MessagePack: arrays and maps nested deeper than max_depth={value} at offset {at}"
    ),
    MSGPACK_NESTED_TOO_LONG: (
        "MessagePack: a {value}-byte item at offset {at} inside an array or map: the object is "
        "longer than max_frame_length"
    ),
    MSGPACK_TOO_LONG: "MessagePack: an object longer than max_frame_length={value}",
    WS_MASK_EXPECTED: "WebSocket: a client's frame must be masked (RFC 6455 §5.1)",
    WS_MASK_UNEXPECTED: "WebSocket: a server's frame must not be masked (RFC 6455 §5.1)",
    WS_RESERVED_OPCODE: "WebSocket: reserved opcode {value:#x} (RFC 6455 §5.2)",
    WS_CONTROL_TOO_LONG: (
        "WebSocket: a control frame's payload is {value} bytes, more than 125 (§5.5)"
    ),
    WS_CONTROL_FRAGMENTED: (
        "WebSocket: a control frame must not be fragmented: FIN is clear (RFC 6455 §5.5)"
    ),
    WS_LENGTH_NOT_SHORTEST: (
        "WebSocket: payload length {value} not in its shortest form (RFC 6455 §5.2)"
    ),
    WS_LENGTH_TOP_BIT: "WebSocket: a 64-bit payload length with its top bit set (RFC 6455 §5.2)",
}


def message(code: int, at: int, value: int) -> str:
    """The message of a broken rule ``code``, found ``at`` bytes into the frame (``value``: the
    byte or number concerned)."""
    char = chr(value) if 0 <= value < 0x110000 else "?"
    return MESSAGES[code].format(at=at, value=value, char=char)


def _broken(code: int, at: int, value: int = 0) -> CorruptFrameError:
    return CorruptFrameError(message(code, at, value))


def _window(buf: memoryview, i: int, size: int) -> bytes:
    return bytes(buf[i : i + size])


# --- length fields (LengthFieldDecoder, VarintLengthDecoder) ------------------------------------
#
# These two rules are the engine's own kind (``parse(buf, pos, end)``, as the twin's decoders
# call it): the wire length of the frame at ``pos`` (any size: one too long is the engine's to
# report), ``-n`` when its header needs ``n`` more bytes, CorruptFrameError raised. The core has
# each as a C kernel (_core.pyx) with the same answers and messages; ``answer(buffer)`` calls
# either from Python, and tests/test_length_field.py compares the two on random bytes.


class LengthFieldRule:
    """A fixed-width unsigned length field ``width`` bytes wide at ``offset``: the frame is
    ``offset + width + value + adjustment`` bytes; its delivered bytes begin at ``strip``."""

    __slots__ = (
        "_byteorder",
        "adjustment",
        "big",
        "header_end",
        "max_total",
        "offset",
        "start",
        "strip",
        "unpack",
        "width",
    )

    def __init__(
        self, width: int, offset: int, adjustment: int, strip: int, big: bool, max_total: int
    ) -> None:
        self.width = width
        self.offset = offset
        self.header_end = offset + width
        self.adjustment = adjustment
        self.strip = self.start = strip
        self.big = big
        self.max_total = max_total
        self._byteorder: Literal["big", "little"] = "big" if big else "little"
        code = {1: "B", 2: "H", 4: "I", 8: "Q"}.get(width)
        #: struct's unpack_from for the field, where its width has a format (else None)
        self.unpack: Optional[Callable[[Any, int], tuple[int]]] = (
            None if code is None else struct.Struct((">" if big else "<") + code).unpack_from
        )

    def __repr__(self) -> str:
        return _rule_repr(self, ("width", "offset", "adjustment", "strip", "big", "max_total"))

    def parse(self, buf: Any, pos: int, end: int) -> int:
        header_end = self.header_end
        if end - pos < header_end:
            return end - pos - header_end
        at = pos + self.offset
        if self.unpack is not None:
            value: int = self.unpack(buf, at)[0]
        else:
            value = int.from_bytes(buf[at : at + self.width], self._byteorder)
        total = header_end + value + self.adjustment
        if total < header_end:
            raise CorruptFrameError(msg_short_frame(total, header_end))
        if self.strip > total and total <= self.max_total:  # too long is checked first
            raise CorruptFrameError(msg_strip(self.strip, total))
        return total

    def answer(self, buffer: Any) -> int:
        """``parse()`` of the bytes of ``buffer``, from Python."""
        return self.parse(buffer, 0, len(buffer))


class VarintRule:
    """An unsigned base-128 varint length at ``offset``, at most ``max_length_bytes`` long: the
    frame is ``header_end + value + adjustment`` bytes, where the varint ends at ``header_end``;
    its delivered bytes begin at ``strip`` (``-1``: at ``header_end``), which ``parse()`` leaves
    in ``start``."""

    __slots__ = ("adjustment", "max_length_bytes", "max_total", "offset", "start", "strip")

    def __init__(
        self, offset: int, adjustment: int, strip: int, max_length_bytes: int, max_total: int
    ) -> None:
        self.offset = offset
        self.adjustment = adjustment
        self.strip = strip
        self.start = 0
        self.max_length_bytes = max_length_bytes
        self.max_total = max_total

    def __repr__(self) -> str:
        return _rule_repr(self, ("offset", "adjustment", "strip", "max_length_bytes", "max_total"))

    def parse(self, buf: Any, pos: int, end: int) -> int:
        p = pos + self.offset
        if p >= end:
            return end - p - 1
        value = 0
        shift = 0
        for i in range(self.max_length_bytes):
            if p + i >= end:
                return -1
            byte: int = buf[p + i]
            if shift == 63 and byte > 1:
                raise CorruptFrameError(MSG_VARINT_64)
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                header_end = self.offset + i + 1
                break
            shift += 7
        else:
            raise CorruptFrameError(msg_varint_long(self.max_length_bytes))
        total = header_end + value + self.adjustment
        if total < header_end:
            raise CorruptFrameError(msg_short_frame(total, header_end))
        strip = header_end if self.strip < 0 else self.strip
        if strip > total and total <= self.max_total:  # too long is checked first
            raise CorruptFrameError(msg_strip(strip, total))
        self.start = strip
        return total

    def answer(self, buffer: Any) -> int:
        """``parse()`` of the bytes of ``buffer``, from Python."""
        return self.parse(buffer, 0, len(buffer))


#: the first window DelimiterRule looks for several delimiters in (bytes; both builds')
DELIMITER_WINDOW = 64


class DelimiterRule:
    """Frames ending at the earliest occurrence of one of ``delimiters``, the longest where
    several end there; while one that starts earlier, or there and is longer, may still be
    arriving, nothing is settled (DelimiterDecoder's and LineDecoder's rule). What the decoder
    makes of an answer (a frame too long, the end of stream) is the engine's."""

    __slots__ = ("_prefixes", "delimiters", "longest")

    def __init__(self, delimiters: tuple[bytes, ...]) -> None:
        self.delimiters = delimiters
        self.longest = max(map(len, delimiters))
        self._prefixes = proper_prefixes(delimiters)

    def __repr__(self) -> str:
        return f"DelimiterRule({self.delimiters!r})"

    def search(self, buf: Any, start: int, end: int, eof: bool) -> tuple[bool, int, int]:
        """Search ``buf[start:end]`` (no delimiter ends before ``start``): ``(True, at,
        length)`` for the delimiter that ends the frame; ``(False, at, 0)`` when none does yet,
        ``at`` being where one may still be arriving (``end``: nowhere). At the end of stream
        (``eof``) nothing more arrives."""
        match = -1  # the earliest complete delimiter, and its length
        length = 0
        cap = self._reach(buf, start, end)
        for d in self.delimiters:
            at = buf.find(d, start, cap if match < 0 else min(cap, match + len(d)))
            if at >= 0 and (match < 0 or at < match or (at == match and len(d) > length)):
                match, length = at, len(d)
        # where a delimiter may still be arriving: at or before the match, or at the end
        if not eof:
            prefixes = self._prefixes
            for q in range(
                max(start, end - self.longest + 1), min(end if match < 0 else match + 1, end)
            ):
                if bytes(buf[q:end]) in prefixes:
                    return False, q, 0
        if match < 0:
            return False, end, 0
        return True, match, length

    def _reach(self, buf: Any, start: int, end: int) -> int:
        """How far the search for each delimiter must look: past the end of the first
        occurrence of any, found in windows from ``start`` that double in size. Looked for up
        to ``end`` each, a delimiter that does not occur would have the whole buffer searched
        again for every frame (quadratic in what one read brings)."""
        width = DELIMITER_WINDOW
        while len(self.delimiters) > 1 and start + width < end:
            found: list[int] = [
                at for d in self.delimiters if (at := buf.find(d, start, start + width)) >= 0
            ]
            if found:
                return min(end, min(found) + self.longest)
            width *= 2
        return end

    def answer(self, buffer: Any, start: int, eof: bool) -> tuple[bool, int, int]:
        """``search()`` of the bytes of ``buffer``, from Python."""
        return self.search(buffer, start, len(buffer), eof)


def _rule_repr(rule: object, names: tuple[str, ...]) -> str:
    args = ", ".join(f"{name}={getattr(rule, name)!r}" for name in names)
    return f"{type(rule).__name__}({args})"


# --- netstrings ---------------------------------------------------------------------------------


def _count(
    buf: memoryview, max_digits: int, end_byte: int, codes: tuple[int, int, int, int]
) -> Optional[tuple[int, int]]:
    """The decimal count at the frame's start, up to ``end_byte``: ``(count, digits)``, or
    ``None`` when the bytes end first. ``codes``: not a number, leading zero, too many digits,
    wrong byte after the digits (that byte is not a digit). A count of 0 is allowed when the
    leading-zero code is a netstring's."""
    head = _window(buf, 0, max_digits + 1)
    zero_ok = codes[1] == NETSTRING_LEADING_ZERO
    for digits, byte in enumerate(head):
        if byte == end_byte and digits:
            return int(head[:digits]), digits
        if not 48 <= byte <= 57:
            raise _broken(codes[3] if digits else codes[0], digits, byte)
        if head[0] == 48 and (digits == 1 or not zero_ok):
            raise _broken(codes[1], 0)
        if digits == max_digits:
            raise _broken(codes[2], digits)
    return None


_NETSTRING_CODES = (
    NETSTRING_NOT_A_NUMBER,
    NETSTRING_LEADING_ZERO,
    NETSTRING_TOO_MANY_DIGITS,
    NETSTRING_NOT_A_NUMBER,
)
_OCTET_CODES = (OCTET_NOT_A_COUNT, OCTET_LEADING_ZERO, OCTET_TOO_MANY_DIGITS, OCTET_NO_SPACE)


class NetstringRule:
    """djb's netstrings: ``len ":" data ","``; the frame is the data. The comma is checked before
    the frame is handed out (so the rule asks for the whole frame first), except when the data
    is longer than ``max_payload``: then the frame is told at once, to be discarded."""

    __slots__ = ("max_payload",)

    def __init__(self, max_payload: int = DEFAULT_NETSTRING_MAX) -> None:
        self.max_payload = max_payload

    def __call__(self, buf: memoryview) -> Answer:
        found = _count(buf, NETSTRING_DIGITS, 58, _NETSTRING_CODES)  # ':'
        if found is None:
            return None
        size, digits = found
        start = digits + 1
        total = start + size + 1
        if size <= self.max_payload:
            if len(buf) < total:
                return -total
            if buf[total - 1] != 44:  # ','
                raise _broken(NETSTRING_NO_COMMA, total - 1, buf[total - 1])
        return (total, start, start + size)

    def __repr__(self) -> str:
        return f"NetstringRule({self.max_payload})"


class OctetCountingRule:
    """Syslog over TCP with octet counting (RFC 6587 §3.4.1): ``MSG-LEN SP SYSLOG-MSG``, the
    count a nonzero digit then digits; the frame is the message."""

    __slots__ = ()

    def __call__(self, buf: memoryview) -> Answer:
        found = _count(buf, OCTET_DIGITS, 32, _OCTET_CODES)  # ' '
        if found is None:
            return None
        size, digits = found
        return (digits + 1 + size, digits + 1, digits + 1 + size)

    def __repr__(self) -> str:
        return "OctetCountingRule()"


def _bytes(payload: BytesLike) -> bytes:
    if type(payload) is bytes:
        return payload
    try:
        view = memoryview(payload)
    except TypeError:
        raise TypeError(msg_not_buffer(payload)) from None
    if not view.c_contiguous:
        raise TypeError(msg_not_buffer(payload))
    return view.tobytes()


def netstring(payload: BytesLike) -> bytes:
    """``payload`` as a netstring."""
    data = _bytes(payload)
    return b"%d:%s," % (len(data), data)


# --- RESP ---------------------------------------------------------------------------------------

_LINES = frozenset(b"+-:_,#(")  # a line of text
_STRINGS = frozenset(b"$!=")  # a length, CRLF, that many bytes, CRLF
_AGGREGATES = {42: 1, 126: 1, 62: 1, 37: 2, 124: 2}  # * ~ > % |: elements per count
_ATTRIBUTE = 124  # '|': key-value pairs before a value, not a value itself


class _NestedRule:
    """A rule that follows nested values (RESP's aggregates, MessagePack's arrays and maps) with
    a stack of element counts, at most ``max_depth`` deep; asked again about the same frame
    (``resume``) after a ``-k`` answer, it goes on from the value it stopped in, its stack as it
    left it."""

    __slots__ = ("_counts", "_i", "_partial", "max_depth", "max_frame", "resume")

    def __init__(self, max_frame: int, max_depth: int) -> None:
        self.max_frame = max_frame
        self.max_depth = max_depth
        self.resume = False
        self._partial = False  # the last answer was -k: where its scan stopped is kept
        self._i = 0
        self._counts: list[int] = []  # elements still to come in each open value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.max_frame}, {self.max_depth})"

    def _start(self) -> int:
        """Where this scan starts: where the last one stopped, when asked again about its
        frame, else at the frame's first byte with the stack emptied."""
        resuming, self._partial = self.resume and self._partial, False
        if resuming:
            return self._i
        self._empty()
        return 0

    def _empty(self) -> None:
        self._counts = []

    def _wait(self, i: int, answer: int) -> int:
        """Answer ``-k``, keeping where the scan stopped: the value that starts at ``i``."""
        self._i, self._partial = i, True
        return answer


class RespRule(_NestedRule):
    """Redis' RESP2 and RESP3 (SPEC §8): a frame is one top-level value, wire bytes whole.
    Aggregates are followed with a stack of element counts, at most ``max_depth`` deep. A bulk
    string asks for all its bytes at once (``-k``). One that would end past ``max_frame`` is a
    frame too long at the top level (told at once, to be discarded), and corrupt inside an
    aggregate (where the frame's end cannot be known). Any other value is read as if the bytes
    stopped after ``max_frame``: needing more is corrupt, whatever lies beyond, so that the
    answer does not depend on how many bytes have arrived. Asked again about the same frame
    (``resume``), it goes on from the value it stopped in, so that a large aggregate costs
    linear time however it arrives."""

    __slots__ = ("_attributes",)

    def __init__(self, max_frame: int = DEFAULT_RESP_MAX, max_depth: int = DEFAULT_RESP_DEPTH):
        super().__init__(max_frame, max_depth)
        self._attributes: list[bool] = []  # whether each open aggregate is an attribute

    def _empty(self) -> None:
        super()._empty()
        self._attributes = []

    def _number(self, buf: memoryview, i: int, avail: int) -> Optional[tuple[int, int]]:
        """The length or count whose digits start at ``i``, and where its line ends (past the
        CRLF); None when it has not all arrived."""
        head = _window(buf, i, RESP_DIGITS + 3)
        j = 1 if head[:1] == b"-" else 0
        digits = 0
        while j < len(head) and 48 <= head[j] <= 57:
            if digits == RESP_DIGITS:
                raise _broken(RESP_BAD_LENGTH, i + j)
            j += 1
            digits += 1
        if j == len(head):  # the bytes end (the window holds more than a length can)
            return None
        if head[j] != _CR or not digits:
            raise _broken(RESP_BAD_LENGTH, i + j)
        if j + 1 == len(head):
            return None
        if head[j + 1] != _LF:
            raise _broken(RESP_NO_CRLF, i + j + 1)
        return int(head[:j]), i + j + 2

    def _more(self, avail: int, cut_short: bool) -> int:
        """The answer when the value needs more than the ``avail`` bytes read."""
        if cut_short:
            raise _broken(RESP_TOO_LONG, avail, self.max_frame)
        return -(avail + 1)

    def __call__(self, buf: memoryview) -> Answer:
        avail = len(buf)
        if not avail:
            return None
        cut_short = avail > self.max_frame
        if cut_short:
            avail = self.max_frame
            buf = buf[:avail]
        max_depth = self.max_depth
        i = self._start()
        counts, attributes = self._counts, self._attributes
        while True:
            if i == avail:
                return self._wait(i, self._more(avail, cut_short))
            kind = buf[i]
            if kind in _LINES:
                j = i + 1
                while True:
                    chunk = _window(buf, j, 256)
                    if not chunk:
                        return self._wait(i, self._more(avail, cut_short))
                    cr, lf = chunk.find(b"\r"), chunk.find(b"\n")
                    if lf >= 0 and (cr < 0 or lf < cr):
                        raise _broken(RESP_NO_CRLF, j + lf)
                    if cr >= 0:
                        j += cr
                        break
                    j += len(chunk)
                if j + 1 == avail:
                    return self._wait(i, self._more(avail, cut_short))
                if buf[j + 1] != _LF:
                    raise _broken(RESP_NO_CRLF, j + 1)
                i = j + 2
            elif kind in _STRINGS or kind in _AGGREGATES:
                found = self._number(buf, i + 1, avail)
                if found is None:
                    return self._wait(i, self._more(avail, cut_short))
                value, i_next = found
                if value < 0:
                    if value != -1 or kind not in (36, 42):  # '$' and '*' may be null
                        raise _broken(RESP_BAD_LENGTH, i + 1)
                    i = i_next
                elif kind in _STRINGS:
                    end = i_next + value + 2
                    if end > self.max_frame:
                        if counts:
                            raise _broken(RESP_NESTED_TOO_LONG, i, value)
                        return (end, 0, end)
                    if end > avail:
                        return self._wait(i, -end)
                    if buf[end - 2] != _CR or buf[end - 1] != _LF:
                        raise _broken(RESP_NO_CRLF, end - 2)
                    i = end
                else:
                    if len(counts) == max_depth:
                        raise _broken(RESP_TOO_DEEP, i, max_depth)
                    i = i_next
                    if value:
                        counts.append(value * _AGGREGATES[kind])
                        attributes.append(kind == _ATTRIBUTE)
                        continue
                    if kind == _ATTRIBUTE:
                        continue  # an empty attribute: the value it belongs to follows
            else:
                raise _broken(RESP_UNKNOWN_TYPE, i, kind)
            # a value ended at i: it completes the aggregates it ends
            while counts:
                counts[-1] -= 1
                if counts[-1]:
                    break
                counts.pop()
                if attributes.pop():
                    break  # the value the attribute belongs to comes next
            else:
                return (i, 0, i)


# --- HTTP/1.1 chunked transfer coding -------------------------------------------------------------

DEFAULT_CHUNK_MAX = 8 * MiB
DEFAULT_MAX_LINE = 8 * KiB


def _hex(byte: int) -> int:
    """The value of a hex digit, or -1."""
    if 48 <= byte <= 57:
        return byte - 48
    if 97 <= byte <= 102 or 65 <= byte <= 70:
        return (byte | 0x20) - 87
    return -1


class ChunkedRule:
    """HTTP/1.1 chunked transfer coding (RFC 9112 §7.1): a frame is a chunk, delivered as its
    data (size line and extensions left out); the last chunk (size 0) and the trailer section
    after it are one frame delivering nothing, with ``last`` set and the section in
    ``trailers`` for the decoder. Lines end in CRLF (a bare LF is corrupt) within ``max_line``
    bytes, and so does the trailer section; a chunk longer than ``max_payload`` is told at once,
    to be discarded."""

    __slots__ = ("last", "max_line", "max_payload", "trailers")

    def __init__(self, max_payload: int = DEFAULT_CHUNK_MAX, max_line: int = DEFAULT_MAX_LINE):
        self.max_payload = max_payload
        self.max_line = max_line
        self.last = False
        self.trailers = b""

    def __repr__(self) -> str:
        return f"ChunkedRule({self.max_payload}, {self.max_line})"

    def _line_end(self, buf: memoryview, i: int, avail: int) -> int:
        """Where the line from ``i`` ends (past its CRLF), or -1 when it has not all arrived."""
        head = _window(buf, i, self.max_line + 1)
        cr, lf = head.find(b"\r"), head.find(b"\n")
        if lf >= 0 and (cr < 0 or lf < cr):
            raise _broken(CHUNK_BAD_LINE_END, i + lf)
        if cr < 0:
            if len(head) > self.max_line:
                raise _broken(CHUNK_LINE_TOO_LONG, i, self.max_line)
            return -1
        if i + cr + 1 == avail:
            return -1
        if buf[i + cr + 1] != _LF:
            raise _broken(CHUNK_BAD_LINE_END, i + cr + 1)
        return i + cr + 2

    def __call__(self, buf: memoryview) -> Answer:
        avail = len(buf)
        if not avail:
            return None
        self.last = False
        head = _window(buf, 0, CHUNK_DIGITS + 1)
        size = digits = 0
        for byte in head:
            value = _hex(byte)
            if value < 0:
                break
            if digits == CHUNK_DIGITS:
                raise _broken(CHUNK_SIZE_TOO_LONG, digits)
            size = size * 16 + value
            digits += 1
        if digits == avail:
            return None
        if not digits:
            raise _broken(CHUNK_NOT_HEX, 0, buf[0])
        if buf[digits] not in b";\r\t ":
            raise _broken(CHUNK_BAD_SIZE_LINE, digits, buf[digits])
        start = self._line_end(buf, 0, avail)
        if start < 0:
            return None
        if size:
            total = start + size + 2
            if size <= self.max_payload:
                if avail < total:
                    return -total
                if buf[total - 2] != _CR or buf[total - 1] != _LF:
                    raise _broken(CHUNK_NO_CRLF, total - 2)
            return (total, start, start + size)
        i = start  # the trailer section: lines, then an empty one
        while True:
            if i - start > self.max_line:
                raise _broken(CHUNK_TRAILERS_TOO_LONG, start, self.max_line)
            if i == avail:
                return None
            if buf[i] == _CR:
                if i + 1 == avail:
                    return None
                if buf[i + 1] != _LF:
                    raise _broken(CHUNK_BAD_LINE_END, i + 1)
                self.last = True
                self.trailers = bytes(buf[start:i])
                return (i + 2, i + 2, i + 2)
            end = self._line_end(buf, i, avail)
            if end < 0:
                return None
            i = end


# --- MessagePack ----------------------------------------------------------------------------------

DEFAULT_MSGPACK_MAX = 8 * MiB
DEFAULT_MSGPACK_DEPTH = 64
MAX_MSGPACK_DEPTH = 1024


def _msgpack_format(byte: int) -> tuple[int, int, int, int]:
    """What a MessagePack object's first byte says: ``(head, field, count, inline)``. ``head``:
    the header's bytes (0: the byte is never used); ``field``: the bytes of the big-endian
    length or count after the first byte (0: none); ``count``: for an array 1, a map 2 (its
    elements per entry), else 0; ``inline``: the length or count the byte itself holds. An
    object that is no array or map is ``head`` bytes and a length's (or ``inline``'s) more."""
    if byte <= 0x7F or byte >= 0xE0:  # positive and negative fixint
        return (1, 0, 0, 0)
    if byte <= 0x8F:
        return (1, 0, 2, byte & 0x0F)  # fixmap
    if byte <= 0x9F:
        return (1, 0, 1, byte & 0x0F)  # fixarray
    if byte <= 0xBF:
        return (1, 0, 0, byte & 0x1F)  # fixstr
    return (
        (1, 0, 0, 0), (0, 0, 0, 0), (1, 0, 0, 0), (1, 0, 0, 0),  # nil, (never used), false, true
        (2, 1, 0, 0), (3, 2, 0, 0), (5, 4, 0, 0),  # bin 8, 16, 32
        (3, 1, 0, 0), (4, 2, 0, 0), (6, 4, 0, 0),  # ext 8, 16, 32 (a type byte after the length)
        (5, 0, 0, 0), (9, 0, 0, 0),  # float 32, 64
        (2, 0, 0, 0), (3, 0, 0, 0), (5, 0, 0, 0), (9, 0, 0, 0),  # uint 8-64
        (2, 0, 0, 0), (3, 0, 0, 0), (5, 0, 0, 0), (9, 0, 0, 0),  # int 8-64
        (3, 0, 0, 0), (4, 0, 0, 0), (6, 0, 0, 0), (10, 0, 0, 0), (18, 0, 0, 0),  # fixext 1-16
        (2, 1, 0, 0), (3, 2, 0, 0), (5, 4, 0, 0),  # str 8, 16, 32
        (3, 2, 1, 0), (5, 4, 1, 0),  # array 16, 32
        (3, 2, 2, 0), (5, 4, 2, 0),  # map 16, 32
    )[byte - 0xC0]  # fmt: skip


#: each first byte's format (both builds: the core copies it into C arrays)
MSGPACK_FORMATS = tuple(_msgpack_format(byte) for byte in range(256))


class MessagePackRule(_NestedRule):
    """MessagePack (msgpack.org's spec): a frame is one top-level object, wire bytes whole.
    Arrays and maps are followed with a stack of element counts, at most ``max_depth`` deep.
    An object's bytes past ``max_frame`` are never read: one that would end there is a frame
    too long at the top level when its header tells its length (told at once, to be
    discarded), and corrupt otherwise (inside an array or map, or a header that crosses the
    limit). Asked again about the same frame (``resume``), it goes on from the object it
    stopped in, so that a large array costs linear time however it arrives."""

    __slots__ = ()

    def __init__(
        self, max_frame: int = DEFAULT_MSGPACK_MAX, max_depth: int = DEFAULT_MSGPACK_DEPTH
    ) -> None:
        super().__init__(max_frame, max_depth)

    def __call__(self, buf: memoryview) -> Answer:
        avail = len(buf)
        if not avail:
            return None
        limit = self.max_frame
        cut_short = avail > limit
        if cut_short:
            avail = limit
        i = self._start()
        counts = self._counts
        formats = MSGPACK_FORMATS
        while True:
            if i == avail:
                if cut_short:
                    raise _broken(MSGPACK_TOO_LONG, i, limit)
                return self._wait(i, -(i + 1))
            byte = buf[i]
            head, field, count, inline = formats[byte]
            if not head:
                raise _broken(MSGPACK_NEVER_USED, i, byte)
            if count and len(counts) == self.max_depth:
                raise _broken(MSGPACK_TOO_DEEP, i, self.max_depth)
            end = i + head
            if end > limit:
                if not counts and not field and not count:
                    return (end + inline, 0, end + inline)  # a number: a frame too long
                raise _broken(MSGPACK_TOO_LONG, i, limit)
            if end > avail:
                return self._wait(i, -end)
            n = int.from_bytes(buf[i + 1 : i + 1 + field], "big") if field else inline
            if count:
                i = end
                if n:
                    counts.append(n * count)
                    continue
            else:
                end += n
                if end > limit:
                    if counts:
                        raise _broken(MSGPACK_NESTED_TOO_LONG, i, end - i)
                    return (end, 0, end)
                if end > avail:
                    return self._wait(i, -end)
                i = end
            # an object ended at i: it completes the arrays and maps it ends
            while counts:
                counts[-1] -= 1
                if counts[-1]:
                    break
                counts.pop()
            else:
                return (i, 0, i)


# --- JSON text streams ----------------------------------------------------------------------------

DEFAULT_JSON_MAX = 16 * MiB
JSON_MAX_DEPTH = 1024
JSON_SEPARATORS = b" \t\n\r\x1e"  # whitespace, and RFC 7464's record separator
_JSON_NUMBER = frozenset(b"0123456789+-.eE")
_LITERALS = (b"true", b"false", b"null")
_SEEK, _CONTAINER, _STRING, _NUMBER, _LITERAL = range(5)


class JsonStreamRule:
    """A stream of JSON texts separated by whitespace or RFC 7464 record separators: a frame is
    one text's bytes. A run of separators is answered as a frame delivering nothing (the
    decoder drops it), so that a text always starts its frame. Strings and escapes are followed,
    brackets matched on a stack at most JSON_MAX_DEPTH deep; a number or literal ends at the
    first byte that cannot continue it. The scan of an unfinished text resumes where it stopped
    when ``resume`` is set (the engine sets it when asking again about the same frame), so a
    text costs linear time however it arrives. Nothing else of JSON is checked."""

    __slots__ = (
        "_escape",
        "_i",
        "_in_string",
        "_mode",
        "_partial",
        "_stack",
        "max_frame",
        "resume"
    )  # fmt: skip

    def __init__(self, max_frame: int = DEFAULT_JSON_MAX) -> None:
        self.max_frame = max_frame
        self.resume = False
        self._partial = False  # the last answer was -k: its scan's state is kept
        self._i = self._mode = 0
        self._stack = bytearray()
        self._in_string = self._escape = False

    def __repr__(self) -> str:
        return f"JsonStreamRule({self.max_frame})"

    def __call__(self, buf: memoryview) -> Answer:
        avail = len(buf)
        if not avail:
            return None
        resuming, self._partial = self.resume and self._partial, False
        if not resuming:
            first = buf[0]
            if first in JSON_SEPARATORS:
                head = bytes(buf)
                run = len(head) - len(head.lstrip(JSON_SEPARATORS))
                return (run, run, run)
            self._i, self._stack, self._in_string, self._escape = 1, bytearray(), False, False
            if first in b"{[":
                self._mode = _CONTAINER
                self._stack.append(first + 2)  # the closer: ] or }
            elif first == 34:  # '"'
                self._mode, self._in_string = _STRING, True
            elif first in _JSON_NUMBER and first not in b"+.eE":
                self._mode = _NUMBER
            elif first in b"tfn":
                self._mode = _LITERAL
            elif first in b"]}":
                raise _broken(JSON_UNBALANCED, 0, first)
            else:
                raise _broken(JSON_STRAY, 0, first)
        data = bytes(buf[self._i :])
        mode, stack, limit = self._mode, self._stack, self.max_frame
        in_string, escape = self._in_string, self._escape
        i = self._i
        for byte in data:
            if mode in (_NUMBER, _LITERAL):
                if mode == _NUMBER and byte not in _JSON_NUMBER:
                    return (i, 0, i)
                if mode == _LITERAL:
                    if not 97 <= byte <= 122:
                        if bytes(buf[:i]) not in _LITERALS:
                            raise _broken(JSON_BAD_LITERAL, i, byte)
                        return (i, 0, i)
                    if not any(lit.startswith(bytes(buf[: i + 1])) for lit in _LITERALS):
                        raise _broken(JSON_BAD_LITERAL, i, byte)
            if i >= limit:
                raise _broken(JSON_TOO_LONG, i, limit)
            i += 1
            if mode in (_NUMBER, _LITERAL):
                continue
            if in_string:
                if escape:
                    escape = False
                elif byte == 92:  # '\\'
                    escape = True
                elif byte == 34:
                    in_string = False
                    if mode == _STRING:
                        return (i, 0, i)
            elif byte == 34:
                in_string = True
            elif byte == 123 or byte == 91:  # { [
                if len(stack) == JSON_MAX_DEPTH:
                    raise _broken(JSON_TOO_DEEP, i - 1, JSON_MAX_DEPTH)
                stack.append(byte + 2)
            elif byte == 125 or byte == 93:  # } ]
                if stack[-1] != byte:
                    raise _broken(JSON_UNBALANCED, i - 1, byte)
                stack.pop()
                if not stack:
                    return (i, 0, i)
        self._i, self._mode, self._in_string, self._escape = i, mode, in_string, escape
        self._partial = True
        return -(avail + 1)


# --- WebSocket ----------------------------------------------------------------------------------

DEFAULT_WEBSOCKET_MAX = 16 * MiB
MSG_WEBSOCKET_INDEX = (
    "index() gives where each frame's bytes lie; a server's WebSocket frames are masked, so "
    "their payloads are not there: use next_frame()"
)
#: header bytes beyond the payload: 2, an 8-byte extended length, a 4-byte mask key
WEBSOCKET_OVERHEAD = 14
OPCODES = frozenset({0, 1, 2, 8, 9, 10})  # continuation, text, binary, close, ping, pong


class WebSocketRule:
    """RFC 6455 §5.2 base framing: the frame is the payload, after a 2- to 14-byte header.
    ``masked``: whether frames must be masked (a server reads a client's) or must not be. The
    header of the frame last told whole is kept (``fin``, ``rsv``, ``opcode``, ``mask``: the
    4-byte key or b"") for the decoder, which makes the frame object."""

    __slots__ = ("fin", "mask", "masked", "opcode", "rsv")

    def __init__(self, masked: bool = True) -> None:
        self.masked = bool(masked)
        self.fin, self.rsv, self.opcode, self.mask = False, 0, 0, b""

    def __repr__(self) -> str:
        return f"WebSocketRule({self.masked})"

    def __call__(self, buf: memoryview) -> Answer:
        avail = len(buf)
        if not avail:
            return None
        head = _window(buf, 0, 14)
        first = head[0]
        opcode = first & 0x0F
        if opcode not in OPCODES:
            raise _broken(WS_RESERVED_OPCODE, 0, opcode)
        if avail < 2:
            return -2
        second = head[1]
        if bool(second & 0x80) != self.masked:
            raise _broken(WS_MASK_EXPECTED if self.masked else WS_MASK_UNEXPECTED, 1)
        size = second & 0x7F
        if opcode >= 8:
            if size > 125:
                raise _broken(WS_CONTROL_TOO_LONG, 1, size)
            if not first & 0x80:
                raise _broken(WS_CONTROL_FRAGMENTED, 0)
        start = 2
        if size == 126:
            start = 4
        elif size == 127:
            start = 10
        if avail < start:
            return -start
        if size == 126:
            size = int.from_bytes(head[2:4], "big")
            if size < 126:
                raise _broken(WS_LENGTH_NOT_SHORTEST, 2, size)
        elif size == 127:
            if head[2] & 0x80:
                raise _broken(WS_LENGTH_TOP_BIT, 2)
            size = int.from_bytes(head[2:10], "big")
            if size < 65536:
                raise _broken(WS_LENGTH_NOT_SHORTEST, 2, size)
        if self.masked:
            start += 4
            if avail < start:
                return -start
        self.fin, self.rsv, self.opcode = bool(first & 0x80), (first >> 4) & 7, opcode
        self.mask = head[start - 4 : start] if self.masked else b""
        return (start + size, start, start + size)


def unmask(data: BytesLike, key: bytes) -> bytes:
    """``data`` XORed with the 4-byte ``key`` repeated (RFC 6455 §5.3): masking and unmasking."""
    n = len(memoryview(data))
    if not n:
        return b""
    keys = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(keys, "little")).to_bytes(n, "little")


def unmasked_payload(rule: WebSocketRule, frame: BytesLike) -> Optional[bytes]:
    """The payload of the frame ``rule`` told last, unmasked into a new ``bytes``; None when
    it was not masked (the decoder's kernel: the core's unmasks in C)."""
    return unmask(frame, rule.mask) if rule.mask else None


class WebSocketFrame:
    """One WebSocket frame: ``fin``, ``rsv`` (the three RSV bits, 0-7), ``opcode`` and its
    ``payload``, unmasked (a read-only memoryview; ``bytes`` with ``copy=True``).
    ``bytes(frame)`` is the payload."""

    __slots__ = ("fin", "opcode", "payload", "rsv")

    def __init__(self, fin: bool, rsv: int, opcode: int, payload: Any) -> None:
        self.fin, self.rsv, self.opcode, self.payload = fin, rsv, opcode, payload

    def __bytes__(self) -> bytes:
        return bytes(self.payload)

    def __len__(self) -> int:
        return len(self.payload)

    def __eq__(self, other: object) -> bool:
        if not hasattr(other, "opcode") or not hasattr(other, "payload"):
            return NotImplemented
        return frame_fields(self) == frame_fields(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return frame_repr(self)


def frame_fields(frame: Any) -> tuple[bool, int, int, bytes]:
    return (frame.fin, frame.rsv, frame.opcode, bytes(frame.payload))


def frame_repr(frame: Any) -> str:
    payload = bytes(frame.payload)
    shown = repr(payload[:32]) + ("..." if len(payload) > 32 else "")
    return (
        f"WebSocketFrame(fin={frame.fin}, rsv={frame.rsv}, opcode={frame.opcode}, payload={shown})"
    )


def websocket_setup(
    role: object, max_frame_length: object, copy: object, pool: object
) -> tuple[bool, int, Config]:
    """``WebSocketDecoder``'s checked role (True: a server, reading masked frames) and
    max_frame_length (bounding the payload), and its arguments for ``repr()``."""
    if role not in ("server", "client"):
        raise ValueError(f"role must be 'server' or 'client', got {role!r}")
    max_len = check_max_frame_length(max_frame_length, 0)
    config = (
        ("role", role),
        ("max_frame_length", max_frame_length),
        ("copy", copy),
        ("pool", pool),
    )
    return role == "server", max_len, config


class WebSocketEncoding:
    """WebSocket frames out (RFC 6455 §5.2), both builds' ``WebSocketEncoder``. A client masks
    each frame (with an ``os.urandom`` key unless ``mask_key`` is given); a server does not."""

    __slots__ = ("_role",)

    def __init__(self, *, role: str = "client") -> None:
        if role not in ("server", "client"):
            raise ValueError(f"role must be 'server' or 'client', got {role!r}")
        self._role = role

    def __repr__(self) -> str:
        shown = "" if self._role == "client" else f"role={self._role!r}"
        return f"{type(self).__name__}({shown})"

    def encode_header(
        self,
        payload_length: int,
        *,
        opcode: int = 2,
        fin: bool = True,
        rsv: int = 0,
        mask_key: Optional[bytes] = None,
    ) -> bytes:
        """The header of a frame of ``payload_length`` bytes; a client's ends with the mask key
        (given, or drawn), with which the payload must then be masked."""
        if type(payload_length) is not int or payload_length < 0 or payload_length >= 1 << 63:
            raise ValueError(f"payload_length must be in 0..2**63-1, got {payload_length!r}")
        if opcode not in OPCODES:
            raise ValueError(f"opcode must be one of {sorted(OPCODES)}, got {opcode!r}")
        if type(rsv) is not int or not 0 <= rsv <= 7:
            raise ValueError(f"rsv must be in 0..7, got {rsv!r}")
        if opcode >= 8 and (payload_length > 125 or not fin):
            raise ValueError("a control frame has at most 125 bytes and is not fragmented")
        first = (0x80 if fin else 0) | rsv << 4 | opcode
        masked = self._role == "client"
        if payload_length < 126:
            head = bytes((first, masked << 7 | payload_length))
        elif payload_length < 65536:
            head = bytes((first, masked << 7 | 126)) + payload_length.to_bytes(2, "big")
        else:
            head = bytes((first, masked << 7 | 127)) + payload_length.to_bytes(8, "big")
        if not masked:
            if mask_key is not None:
                raise ValueError("a server does not mask its frames (mask_key)")
            return head
        key = os.urandom(4) if mask_key is None else bytes(mask_key)
        if len(key) != 4:
            raise ValueError("mask_key must be 4 bytes")
        return head + key

    def encode(
        self,
        payload: BytesLike,
        *,
        opcode: int = 2,
        fin: bool = True,
        rsv: int = 0,
        mask_key: Optional[bytes] = None,
    ) -> bytes:
        """One frame: header and payload (masked, for a client)."""
        data = _bytes(payload)
        head = self.encode_header(len(data), opcode=opcode, fin=fin, rsv=rsv, mask_key=mask_key)
        if self._role == "client":
            return head + unmask(data, head[-4:])
        return head + data

    def encode_many(self, payloads: Iterable[BytesLike]) -> bytes:
        """Each payload as one binary frame, in one contiguous ``bytes``."""
        return b"".join([self.encode(p) for p in payloads])


# --- the decoders' configuration (both builds) --------------------------------------------------

Config = tuple[tuple[str, object], ...]


def netstring_setup(max_frame_length: object, copy: object, pool: object) -> tuple[int, Config]:
    """``NetstringDecoder``'s checked max_frame_length (bounding the payload), and its
    arguments for ``repr()``."""
    max_len = check_max_frame_length(max_frame_length, 0)
    return max_len, (("max_frame_length", max_frame_length), ("copy", copy), ("pool", pool))


def octet_counting_setup(
    max_frame_length: object, copy: object, pool: object
) -> tuple[int, Config]:
    """``OctetCountingDecoder``'s checked max_frame_length (bounding the message), and its
    arguments for ``repr()``."""
    max_len = check_max_frame_length(max_frame_length, 1)
    return max_len, (("max_frame_length", max_frame_length), ("copy", copy), ("pool", pool))


MAX_RESP_DEPTH = 1024
MSG_CHUNKED_INDEX = (
    "index() gives where each frame lies; a chunked body ends in a trailer section that is "
    "no frame: use next_frame()"
)


def json_setup(max_frame_length: object, copy: object, pool: object) -> tuple[int, Config]:
    """``JsonStreamDecoder``'s checked max_frame_length (bounding a text), and its arguments
    for ``repr()``."""
    max_len = check_max_frame_length(max_frame_length, 1)
    return max_len, (("max_frame_length", max_frame_length), ("copy", copy), ("pool", pool))


def without_empty(positions: memoryview) -> memoryview:
    """``index()`` positions (start, end pairs) without the empty frames (separators)."""
    import array

    pairs = array.array("q", positions.cast("B").cast("q"))
    kept = array.array("q")
    for k in range(0, len(pairs), 2):
        if pairs[k] != pairs[k + 1]:
            kept.extend(pairs[k : k + 2])
    return memoryview(kept).toreadonly()


def chunked_overhead(max_line: int) -> int:
    """The bytes past max_frame_length a ``ChunkedDecoder`` may hold while its rule cannot tell
    yet: its lines (a size line, the CRLF after the data, the trailer section), each within
    max_line_length, but never fewer than the 16 digits at which the rule itself finds a size
    too long, so that it says so there however the bytes arrive."""
    return 3 * max(max_line, CHUNK_DIGITS + 1) + 8


def trailer_lines(section: bytes) -> list[bytes]:
    """The lines of a trailer section as the rule kept it (each line with its CRLF), CRLF left
    out."""
    return section.split(b"\r\n")[:-1]


def _limits_setup(
    max_frame_length: object,
    at_least: int,
    name: str,
    value: object,
    most: int,
    copy: object,
    pool: object,
) -> tuple[int, int, Config]:
    """A decoder's checked max_frame_length (at least ``at_least``) and its option ``name``
    (an int in 1..``most``), and its arguments for ``repr()``."""
    max_len = check_max_frame_length(max_frame_length, at_least)
    if type(value) is not int:
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not 1 <= value <= most:
        raise ValueError(f"{name} must be in 1..{most}, got {value}")
    config = (("max_frame_length", max_frame_length), (name, value), ("copy", copy), ("pool", pool))
    return max_len, value, config


def chunked_setup(
    max_frame_length: object, max_line_length: object, copy: object, pool: object
) -> tuple[int, int, Config]:
    """``ChunkedDecoder``'s checked max_frame_length (bounding a chunk's data) and
    max_line_length, and its arguments for ``repr()``."""
    return _limits_setup(max_frame_length, 0, "max_line_length", max_line_length, MiB, copy, pool)


def resp_setup(
    max_frame_length: object, max_depth: object, copy: object, pool: object
) -> tuple[int, int, Config]:
    """``RespDecoder``'s checked max_frame_length (bounding the whole value) and max_depth, and
    its arguments for ``repr()``."""
    return _limits_setup(max_frame_length, 1, "max_depth", max_depth, MAX_RESP_DEPTH, copy, pool)


def msgpack_setup(
    max_frame_length: object, max_depth: object, copy: object, pool: object
) -> tuple[int, int, Config]:
    """``MessagePackDecoder``'s checked max_frame_length (bounding the whole object) and
    max_depth, and its arguments for ``repr()``."""
    return _limits_setup(max_frame_length, 1, "max_depth", max_depth, MAX_MSGPACK_DEPTH, copy, pool)


class NetstringEncoding:
    """Netstrings out: ``len ":" data ","`` (both builds' ``NetstringEncoder``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def encode(self, payload: BytesLike) -> bytes:
        """``payload`` as one netstring."""
        return netstring(payload)

    def encode_many(self, payloads: Iterable[BytesLike]) -> bytes:
        """Every payload as a netstring, in one contiguous ``bytes``."""
        return b"".join([netstring(p) for p in payloads])


# --- the PROXY protocol -------------------------------------------------------------------------

PROXY_V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
PROXY_V1_PREFIX = b"PROXY "
PROXY_V1_MAX = 107  # the longest v1 line, CRLF included
PROXY_V2_FAMILIES = {  # address family and transport -> (name, bytes of addresses)
    0x00: ("UNKNOWN", 0),
    0x11: ("TCP4", 12),
    0x12: ("UDP4", 12),
    0x21: ("TCP6", 36),
    0x22: ("UDP6", 36),
    0x31: ("UNIX", 216),
    0x32: ("UNIX_DGRAM", 216),
}
MSG_NOT_PROXY = "not a PROXY protocol header (neither 'PROXY ' nor the v2 signature)"


class ProxyHeader(NamedTuple):
    """The PROXY protocol header a load balancer sends first (HAProxy's proxy-protocol.txt)."""

    version: int  #: 1 (text) or 2 (binary)
    command: str  #: "PROXY" (a proxied connection) or "LOCAL" (the proxy's own, e.g. health)
    family: str  #: "TCP4", "TCP6", "UDP4", "UDP6", "UNIX", "UNIX_DGRAM" or "UNKNOWN"
    source: Optional[tuple[str, int]]  #: the client's (host, port), when it is an IP address
    destination: Optional[tuple[str, int]]  #: the address the client connected to
    tlvs: list[tuple[int, bytes]]  #: v2's type-length-value extensions, in order
    raw: bytes = b""  #: the header as it came (to pass on to another proxy, for one)

    def __bytes__(self) -> bytes:
        return self.raw


def _proxy_corrupt(message: str) -> CorruptFrameError:
    return CorruptFrameError(f"PROXY protocol: {message}")


def _port(text: str) -> int:
    if not text.isdigit() or (len(text) > 1 and text[0] == "0") or int(text) > 65535:
        raise _proxy_corrupt(f"bad port {text!r}")
    return int(text)


def _v1(buf: bytes) -> Optional[tuple[ProxyHeader, int]]:
    if not buf.startswith(PROXY_V1_PREFIX[: len(buf)]):
        raise _proxy_corrupt(MSG_NOT_PROXY)
    end = buf.find(b"\r\n", 0, PROXY_V1_MAX)
    if end < 0:
        if b"\n" in buf[:PROXY_V1_MAX] or len(buf) >= PROXY_V1_MAX:
            raise _proxy_corrupt(
                f"a v1 header is one line ending in CRLF within {PROXY_V1_MAX} bytes"
            )
        return None
    try:
        parts = buf[:end].decode("ascii").split(" ")
    except UnicodeDecodeError:
        raise _proxy_corrupt("a v1 header is ASCII") from None
    family = parts[1] if len(parts) > 1 else ""
    if family == "UNKNOWN":
        return ProxyHeader(1, "PROXY", "UNKNOWN", None, None, [], buf[: end + 2]), end + 2
    if family not in ("TCP4", "TCP6"):
        raise _proxy_corrupt(f"unknown v1 family {family!r}")
    if len(parts) != 6:
        raise _proxy_corrupt("a v1 header has 6 fields: PROXY, family, 2 addresses, 2 ports")
    kind = ipaddress.IPv4Address if family == "TCP4" else ipaddress.IPv6Address
    try:
        source, destination = str(kind(parts[2])), str(kind(parts[3]))
    except ValueError as exc:
        raise _proxy_corrupt(f"bad {family} address: {exc}") from None
    header = ProxyHeader(
        1, "PROXY", family, (source, _port(parts[4])), (destination, _port(parts[5])), [],
        buf[: end + 2],
    )  # fmt: skip
    return header, end + 2


def _v2(buf: bytes) -> Optional[tuple[ProxyHeader, int]]:
    if not buf.startswith(PROXY_V2_SIGNATURE[: len(buf)]):
        raise _proxy_corrupt(MSG_NOT_PROXY)
    if len(buf) < 16:
        return None
    if buf[12] >> 4 != 2:
        raise _proxy_corrupt(f"unknown version {buf[12] >> 4}")
    command = {0: "LOCAL", 1: "PROXY"}.get(buf[12] & 0x0F)
    if command is None:
        raise _proxy_corrupt(f"unknown command {buf[12] & 0x0F}")
    if buf[13] not in PROXY_V2_FAMILIES:
        raise _proxy_corrupt(f"unknown address family and transport {buf[13]:#04x}")
    family, size = PROXY_V2_FAMILIES[buf[13]]
    total = 16 + int.from_bytes(buf[14:16], "big")
    if len(buf) < total:
        return None
    body = buf[16:total]
    if len(body) < size:
        raise _proxy_corrupt(f"{len(body)} bytes cannot hold {family} addresses ({size})")
    source = destination = None
    if command == "PROXY" and family in ("TCP4", "UDP4", "TCP6", "UDP6"):
        width = 4 if size == 12 else 16
        kind = ipaddress.IPv4Address if width == 4 else ipaddress.IPv6Address
        ports = body[2 * width : 2 * width + 4]
        source = (str(kind(body[:width])), int.from_bytes(ports[:2], "big"))
        destination = (str(kind(body[width : 2 * width])), int.from_bytes(ports[2:], "big"))
    tlvs = []
    rest = body[size:]
    while rest:
        if len(rest) < 3 or len(rest) < 3 + int.from_bytes(rest[1:3], "big"):
            raise _proxy_corrupt("a TLV runs past the header's end")
        length = int.from_bytes(rest[1:3], "big")
        tlvs.append((rest[0], rest[3 : 3 + length]))
        rest = rest[3 + length :]
    return ProxyHeader(2, command, family, source, destination, tlvs, buf[:total]), total


def parse_proxy_header(buf: bytes) -> Optional[tuple[ProxyHeader, int]]:
    """The PROXY header (v1 or v2) at the start of ``buf`` and its length; None when more bytes
    are needed. A stream that cannot start with one is corrupt."""
    if not buf:
        return None
    if buf[:1] == b"P":
        return _v1(buf)
    if buf[:1] == b"\r":
        return _v2(buf)
    raise _proxy_corrupt(MSG_NOT_PROXY)


class ProxyProtocolDecoder:
    """The HAProxy PROXY protocol header, v1 (text) or v2 (binary, with TLVs), that a load
    balancer sends before the client's bytes: it yields one :class:`ProxyHeader`, then is
    ``done``, and ``detach()`` gives what follows, for the connection's own decoder. Corrupt:
    anything that is not such a header.

    The header comes once per connection, so this one class serves both builds; it has the
    decoder interface the adapters use (``feed``, ``next_frame``, iteration, ``decode``,
    ``get_buffer`` / ``buffer_updated``, ``feed_eof``, ``reset``, ``detach``, ``buffered``)."""

    __slots__ = ("_buffer", "_corrupt", "_done", "_eof", "_region")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._region: Optional[bytearray] = None
        self._done = False
        self._corrupt: Optional[CorruptFrameError] = None
        self._eof = False

    def __repr__(self) -> str:
        return "ProxyProtocolDecoder()"

    @property
    def done(self) -> bool:
        """The header has been returned: what follows is the next protocol's."""
        return self._done

    @property
    def buffered(self) -> int:
        """Bytes received and not returned (after the header: those that follow it)."""
        return len(self._buffer)

    def feed(self, data: BytesLike) -> None:
        if self._corrupt is not None:
            raise self._corrupt
        self._buffer += _bytes(data)

    def get_buffer(self, sizehint: int = -1) -> memoryview:
        """A region for ``recv_into``; ``buffer_updated(n)`` takes its first ``n`` bytes."""
        self._region = bytearray(max(sizehint, 4096) if sizehint > 0 else 4096)
        return memoryview(self._region)

    def buffer_updated(self, nbytes: int) -> None:
        region, self._region = self._region, None
        if region is None:
            raise RuntimeError("buffer_updated() without get_buffer()")
        if not 0 <= nbytes <= len(region):
            raise ValueError(f"nbytes must be in 0..{len(region)}, got {nbytes}")
        self.feed(memoryview(region)[:nbytes])

    def next_frame(self) -> Optional[ProxyHeader]:
        """The header, once it has all arrived; then None."""
        if self._corrupt is not None:
            raise self._corrupt
        if self._done:
            return None
        try:
            found = parse_proxy_header(bytes(self._buffer))
        except CorruptFrameError as err:
            self._corrupt = err
            self._buffer.clear()
            raise
        if found is None:
            return None
        header, length = found
        del self._buffer[:length]
        self._done = True
        return header

    def __iter__(self) -> ProxyProtocolDecoder:
        return self

    def __next__(self) -> ProxyHeader:
        header = self.next_frame()
        if header is None:
            raise StopIteration
        return header

    def decode(self, data: BytesLike) -> list[ProxyHeader]:
        self.feed(data)
        return list(self)

    def feed_eof(self) -> None:
        """The end of stream: a header cut short is an ``IncompleteFrameError``."""
        if self._corrupt is not None:
            raise self._corrupt
        self._eof = True
        if not self._done and self._buffer and self.next_frame() is None:
            partial = bytes(self._buffer)
            self._buffer.clear()
            raise IncompleteFrameError(partial)

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]

    def detach(self) -> bytes:
        """What was received after the header (all of it, before), in order; then reset."""
        if self._corrupt is not None:
            raise self._corrupt
        rest = bytes(self._buffer)
        self.reset()
        return rest


#: the rules that keep their scan's state when asked again about the same frame (``resume``)
RESUMABLE = (RespRule, JsonStreamRule, MessagePackRule)


#: the protocols' entries in the registry of decoder kinds (framekit._kinds): each decoder's
#: class (_protocol_decoders.py) and its ``framekit decode`` option
KINDS = (
    Kind(
        "netstring", "NetstringDecoder", "NetstringEncoder", "--netstring",
        {"action": "store_true", "help": "netstrings: len ':' data ','"}, LIMIT_OPTION,
    ),
    Kind(
        "octet", "OctetCountingDecoder", None, "--octet-counting",
        {"action": "store_true", "help": "syslog over TCP, octet counting (RFC 6587)"},
        LIMIT_OPTION,
    ),
    Kind(
        "resp", "RespDecoder", None, "--resp",
        {"action": "store_true", "help": "Redis' RESP2/RESP3: one value per frame"},
        LIMIT_OPTION,
    ),
    Kind(
        "chunked", "ChunkedDecoder", None, "--chunked",
        {"action": "store_true", "help": "an HTTP/1.1 chunked body (RFC 9112 §7.1)"},
        LIMIT_OPTION,
    ),
    Kind(
        "json", "JsonStreamDecoder", None, "--json",
        {"action": "store_true", "help": "JSON texts, whitespace- or RS-separated (RFC 7464)"},
        LIMIT_OPTION,
    ),
    Kind(
        "websocket", "WebSocketDecoder", "WebSocketEncoder", "--websocket",
        {
            "choices": ["server", "client"],
            "help": "WebSocket frames (RFC 6455) as a server reads them (masked) or a client",
        },
        LIMIT_OPTION,
        keyword="role",
    ),
    Kind(
        "msgpack", "MessagePackDecoder", None, "--msgpack",
        {"action": "store_true", "help": "MessagePack objects, one after another"}, LIMIT_OPTION,
    ),
)  # fmt: skip
