"""The framing rules of protocols (SPEC §8): netstrings, syslog octet counting, Redis' RESP.

Each rule is written here in plain Python, as a rule for ``RuleDecoder`` (SPEC §7): it is what the
pure twin runs. The compiled core has a C kernel of each (``_protocol_rules.pxi``) that answers
exactly alike, with the same messages (made here); tests/test_protocols.py checks the two against
each other on random bytes. The engine around them (storage, frame lifetime, oversized frames,
end of stream, ``get_buffer``, ``pool=``) is the one every decoder has.

A rule answers ``None`` (it cannot tell yet), ``-k`` (the frame needs ``k`` bytes in all; ask
again then) or ``(n, start, end)``; it raises ``CorruptFrameError`` naming the rule broken.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional, Union

from ._contract import BytesLike, KiB, MiB, check_max_frame_length, msg_not_buffer
from .errors import CorruptFrameError

Answer = Union[None, int, tuple[int, int, int]]

DEFAULT_NETSTRING_MAX = 8 * MiB
DEFAULT_SYSLOG_MAX = 64 * KiB
DEFAULT_RESP_MAX = 512 * MiB
DEFAULT_RESP_DEPTH = 64
#: the most digits a length may have (netstrings, octet counts; RESP lengths and counts)
NETSTRING_DIGITS = 18
OCTET_DIGITS = 10
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


def message(code: int, at: int, value: int) -> str:
    """The message of a broken rule ``code``, found ``at`` bytes into the frame (``value``: the
    byte or number concerned)."""
    if code == NETSTRING_NOT_A_NUMBER:
        return f"netstring length is not a number: byte {value:#04x} at offset {at}"
    if code == NETSTRING_LEADING_ZERO:
        return "netstring length has a leading zero"
    if code == NETSTRING_TOO_MANY_DIGITS:
        return f"netstring length has more than {NETSTRING_DIGITS} digits"
    if code == NETSTRING_NO_COMMA:
        return f"netstring does not end with ',': byte {value:#04x} at offset {at}"
    if code == OCTET_NOT_A_COUNT:
        return f"syslog octet count is not a number: byte {value:#04x} at offset {at}"
    if code == OCTET_LEADING_ZERO:
        return "syslog octet count starts with 0"
    if code == OCTET_TOO_MANY_DIGITS:
        return f"syslog octet count has more than {OCTET_DIGITS} digits"
    if code == OCTET_NO_SPACE:
        return f"syslog octet count is not followed by a space: byte {value:#04x} at offset {at}"
    if code == RESP_UNKNOWN_TYPE:
        return f"RESP: unknown type byte {value:#04x} at offset {at}"
    if code == RESP_BAD_LENGTH:
        return f"RESP: bad length or count at offset {at}"
    if code == RESP_NO_CRLF:
        return f"RESP: missing CRLF at offset {at}"
    if code == RESP_TOO_DEEP:
        return f"RESP: aggregates nested deeper than max_depth={value} at offset {at}"
    if code == RESP_NESTED_TOO_LONG:
        return (
            f"RESP: a {value}-byte string at offset {at} inside an aggregate: the value is "
            "longer than max_frame_length"
        )
    if code == RESP_TOO_LONG:
        return f"RESP: a value longer than max_frame_length={value}"
    raise AssertionError(code)  # pragma: no cover


def _broken(code: int, at: int, value: int = 0) -> CorruptFrameError:
    return CorruptFrameError(message(code, at, value))


def _window(buf: memoryview, i: int, size: int) -> bytes:
    return bytes(buf[i : i + size])


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


def netstring(payload: BytesLike) -> bytes:
    """``payload`` as a netstring."""
    if type(payload) is not bytes:
        try:
            view = memoryview(payload)
        except TypeError:
            raise TypeError(msg_not_buffer(payload)) from None
        if not view.c_contiguous:
            raise TypeError(msg_not_buffer(payload))
        payload = view.tobytes()
    return b"%d:%s," % (len(payload), payload)


# --- RESP ---------------------------------------------------------------------------------------

_LINES = frozenset(b"+-:_,#(")  # a line of text
_STRINGS = frozenset(b"$!=")  # a length, CRLF, that many bytes, CRLF
_AGGREGATES = {42: 1, 126: 1, 62: 1, 37: 2, 124: 2}  # * ~ > % |: elements per count
_ATTRIBUTE = 124  # '|': key-value pairs before a value, not a value itself


class RespRule:
    """Redis' RESP2 and RESP3 (SPEC §8): a frame is one top-level value, wire bytes whole.
    Aggregates are followed with a stack of element counts, at most ``max_depth`` deep. A bulk
    string asks for all its bytes at once (``-k``). One that would end past ``max_frame`` is a
    frame too long at the top level (told at once, to be discarded), and corrupt inside an
    aggregate (where the frame's end cannot be known). Any other value is read as if the bytes
    stopped after ``max_frame``: needing more is corrupt, whatever lies beyond, so that the
    answer does not depend on how many bytes have arrived."""

    __slots__ = ("max_depth", "max_frame")

    def __init__(self, max_frame: int = DEFAULT_RESP_MAX, max_depth: int = DEFAULT_RESP_DEPTH):
        self.max_frame = max_frame
        self.max_depth = max_depth

    def __repr__(self) -> str:
        return f"RespRule({self.max_frame}, {self.max_depth})"

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
        cut_short = avail > self.max_frame
        if cut_short:
            avail = self.max_frame
            buf = buf[:avail]
        max_depth = self.max_depth
        counts: list[int] = []  # elements still to come in each open aggregate
        attributes: list[bool] = []  # whether that aggregate is an attribute
        i = 0
        while True:
            if i == avail:
                return self._more(avail, cut_short)
            kind = buf[i]
            if kind in _LINES:
                j = i + 1
                while True:
                    chunk = _window(buf, j, 256)
                    if not chunk:
                        return self._more(avail, cut_short)
                    cr, lf = chunk.find(b"\r"), chunk.find(b"\n")
                    if lf >= 0 and (cr < 0 or lf < cr):
                        raise _broken(RESP_NO_CRLF, j + lf)
                    if cr >= 0:
                        j += cr
                        break
                    j += len(chunk)
                if j + 1 == avail:
                    return self._more(avail, cut_short)
                if buf[j + 1] != _LF:
                    raise _broken(RESP_NO_CRLF, j + 1)
                i = j + 2
            elif kind in _STRINGS or kind in _AGGREGATES:
                found = self._number(buf, i + 1, avail)
                if found is None:
                    return self._more(avail, cut_short)
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
                        return -end
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


def resp_setup(
    max_frame_length: object, max_depth: object, copy: object, pool: object
) -> tuple[int, int, Config]:
    """``RespDecoder``'s checked max_frame_length (bounding the whole value) and max_depth, and
    its arguments for ``repr()``."""
    max_len = check_max_frame_length(max_frame_length, 1)
    if type(max_depth) is not int:
        raise TypeError(f"max_depth must be an int, not {type(max_depth).__name__}")
    if not 1 <= max_depth <= MAX_RESP_DEPTH:
        raise ValueError(f"max_depth must be in 1..{MAX_RESP_DEPTH}, got {max_depth}")
    config = (
        ("max_frame_length", max_frame_length),
        ("max_depth", max_depth),
        ("copy", copy),
        ("pool", pool),
    )
    return max_len, max_depth, config


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
