"""The protocols' decoders and encoders (SPEC §8), written once for both builds.

Each decoder is ``RuleDecoder``'s engine with its protocol's rule. Like ``_engine.py``, this file
is one source for two builds: ``_core.pyx`` includes it (``include "_protocol_decoders.py"``),
where each ``@cython.cclass`` becomes an extension type of the core whose rule is the C kernel
of the same name (``_protocol_rules.pxi``); the pure twin imports it, where the rule is the
Python rule (``_protocols.py``). A decoder that makes its frames of the engine's (WebSocket's
frame objects, the chunked body's end) overrides ``_next()``: a C method of the core, and in the
twin what ``next_frame()`` and iteration go through.

Rules for this file: names the core defines (``RuleDecoder``, the rules' C kernels) are imported
only where it is not compiled, inside ``if not cython.compiled:``, which Cython drops; a
constructor's annotations are for type checkers (``@cython.annotation_typing(False)``): it
checks its arguments itself, in ``_protocols.py``, alike in both builds.
"""

from typing import Any, Optional

from . import _protocols as P
from . import _purecython as cython
from ._contract import BytesLike

if not cython.compiled:  # (Cython drops this block: there, these are the core's)
    from ._protocols import (
        ChunkedRule,
        JsonStreamRule,
        MessagePackRule,
        NetstringRule,
        OctetCountingRule,
        RespRule,
        WebSocketFrame,
        WebSocketRule,
        unmasked_payload,
    )
    from ._pure import BufferPool, RuleDecoder

__all__: list[str] = [
    "ChunkedDecoder",
    "JsonStreamDecoder",
    "MessagePackDecoder",
    "NetstringDecoder",
    "NetstringEncoder",
    "OctetCountingDecoder",
    "RespDecoder",
    "WebSocketDecoder",
    "WebSocketEncoder",
]


@cython.cclass
class NetstringDecoder(RuleDecoder):
    """djb's netstrings, ``len ":" data ","``; frames are the data. ``max_frame_length`` bounds
    the data. Corrupt: a length that is not digits, a leading zero (other than ``0:``), more
    than 18 digits, a missing trailing comma."""

    __slots__ = ()

    @cython.annotation_typing(False)
    def __init__(
        self,
        *,
        max_frame_length: int = P.DEFAULT_NETSTRING_MAX,
        copy: bool = False,
        pool: Optional[BufferPool] = None,
    ) -> None:
        max_len, self._config = P.netstring_setup(max_frame_length, copy, pool)
        self._use(NetstringRule(max_len), max_len, copy, pool, P.NETSTRING_OVERHEAD)


@cython.cclass
class OctetCountingDecoder(RuleDecoder):
    """Syslog over TCP with octet counting (RFC 6587 §3.4.1), ``MSG-LEN SP SYSLOG-MSG``; frames
    are the messages. ``max_frame_length`` bounds the message. Corrupt: a count that is not
    digits, starts with 0 or has more than 10 digits, or no space after it."""

    __slots__ = ()

    @cython.annotation_typing(False)
    def __init__(
        self,
        *,
        max_frame_length: int = P.DEFAULT_SYSLOG_MAX,
        copy: bool = False,
        pool: Optional[BufferPool] = None,
    ) -> None:
        max_len, self._config = P.octet_counting_setup(max_frame_length, copy, pool)
        self._use(OctetCountingRule(), max_len, copy, pool, P.OCTET_OVERHEAD)


@cython.cclass
class RespDecoder(RuleDecoder):
    """Redis' RESP2 and RESP3: each frame is one complete top-level value, its wire bytes whole
    (``*2\\r\\n$3\\r\\nGET...``), aggregates nested up to ``max_depth``. Corrupt: an unknown type
    byte, a bad length, a missing CRLF, nesting past ``max_depth``, a string inside an aggregate
    that would take the value past ``max_frame_length``."""

    __slots__ = ()

    @cython.annotation_typing(False)
    def __init__(
        self,
        *,
        max_frame_length: int = P.DEFAULT_RESP_MAX,
        max_depth: int = P.DEFAULT_RESP_DEPTH,
        copy: bool = False,
        pool: Optional[BufferPool] = None,
    ) -> None:
        max_len, depth, self._config = P.resp_setup(max_frame_length, max_depth, copy, pool)
        # (no overhead: max_frame_length bounds the whole value, which the rule checks itself)
        self._use(RespRule(max_len, depth), max_len, copy, pool, -1)


@cython.cclass
class MessagePackDecoder(RuleDecoder):
    """MessagePack objects one after another, as msgpack-RPC, Neovim's API and Fluentd's
    forward protocol send them: each frame is one complete top-level object, its wire bytes
    whole (what ``msgpack.unpackb()`` reads), arrays and maps nested up to ``max_depth``.
    ``max_frame_length`` bounds an object's wire bytes: a longer string, binary, extension or
    number at the top level is skipped (``FrameTooLongError``). Corrupt: the byte 0xc1 (never
    used), nesting past ``max_depth``, an array or map longer than ``max_frame_length``."""

    __slots__ = ()

    @cython.annotation_typing(False)
    def __init__(
        self,
        *,
        max_frame_length: int = P.DEFAULT_MSGPACK_MAX,
        max_depth: int = P.DEFAULT_MSGPACK_DEPTH,
        copy: bool = False,
        pool: Optional[BufferPool] = None,
    ) -> None:
        max_len, depth, self._config = P.msgpack_setup(max_frame_length, max_depth, copy, pool)
        # (no overhead: max_frame_length bounds the whole object, which the rule checks itself)
        self._use(MessagePackRule(max_len, depth), max_len, copy, pool, -1)


class NetstringEncoder(P.NetstringEncoding):
    """Payloads as netstrings, ``len ":" data ","``."""

    __slots__ = ()

    def decoder(self, **overrides: Any) -> NetstringDecoder:
        """The decoder that reads back what this encoder writes."""
        return NetstringDecoder(**overrides)


@cython.cclass
class WebSocketDecoder(RuleDecoder):
    """RFC 6455 base framing (§5.2): frames are :class:`WebSocketFrame` objects, their payload
    unmasked. ``role="server"`` reads what clients send (frames must be masked; they are
    unmasked into a new buffer, in C eight bytes at a time); ``role="client"`` reads what
    servers send (frames must not be masked; payloads are zero-copy views). Fragments come out
    as their frames. ``max_frame_length`` bounds the payload. Corrupt: the wrong mask bit for
    the role, a control frame longer than 125 bytes or with FIN clear, a reserved opcode, a
    length not in its shortest form, a 64-bit length with the top bit set."""

    __slots__ = ("_copy_out", "_ws")
    _ws: WebSocketRule
    _copy_out: cython.bint

    @cython.annotation_typing(False)
    def __init__(
        self,
        *,
        role: str = "server",
        max_frame_length: int = P.DEFAULT_WEBSOCKET_MAX,
        copy: bool = False,
        pool: Optional[BufferPool] = None,
    ) -> None:
        masked, max_len, self._config = P.websocket_setup(role, max_frame_length, copy, pool)
        self._ws = WebSocketRule(masked)
        # the payload is copied out after unmasking, if at all: the engine cuts views
        self._use(self._ws, max_len, False, pool, P.WEBSOCKET_OVERHEAD)
        self._copy_out = bool(copy)

    @cython.annotation_typing(False)
    def index(self, data: BytesLike) -> tuple[memoryview, int]:
        if self._ws.masked:
            raise TypeError(P.MSG_WEBSOCKET_INDEX)
        return RuleDecoder.index(self, data)

    @cython.cfunc
    def _next(self) -> Any:
        """The next frame, as a :class:`WebSocketFrame`, or None."""
        frame = RuleDecoder._next(self)
        if frame is None:
            return None
        ws: WebSocketRule = self._ws
        unmasked = unmasked_payload(ws, frame)  # a new bytes, or None: not masked
        payload: Any = frame
        if unmasked is not None:
            payload = unmasked if self._copy_out else memoryview(unmasked)
        elif self._copy_out:
            payload = bytes(frame)
        return WebSocketFrame(ws.fin, ws.rsv, ws.opcode, payload)


@cython.cclass
class JsonStreamDecoder(RuleDecoder):
    """A stream of JSON texts (objects, arrays, strings, numbers, literals) separated by
    whitespace, newlines or RFC 7464 record separators: each frame is one text's bytes, without
    the separators. Strings and escapes are followed and brackets matched; the scan of a long
    text resumes where it stopped as bytes arrive. A number at the very end of the stream needs
    a separator after it (its end cannot be told before). ``max_frame_length`` bounds a text;
    a longer one is corrupt (its end cannot be known without reading it). Corrupt also: an
    unbalanced close bracket, a stray byte between texts, a literal that is not true, false or
    null, nesting deeper than 1024."""

    __slots__ = ()

    @cython.annotation_typing(False)
    def __init__(
        self,
        *,
        max_frame_length: int = P.DEFAULT_JSON_MAX,
        copy: bool = False,
        pool: Optional[BufferPool] = None,
    ) -> None:
        max_len, self._config = P.json_setup(max_frame_length, copy, pool)
        self._use(JsonStreamRule(max_len), max_len, copy, pool, 1)

    @cython.annotation_typing(False)
    def index(self, data: BytesLike) -> tuple[memoryview, int]:
        positions, consumed = RuleDecoder.index(self, data)
        return P.without_empty(positions), consumed

    @cython.cfunc
    def _next(self) -> Any:
        """The next text, or None."""
        frame = RuleDecoder._next(self)
        while frame is not None and len(frame) == 0:  # a run of separators
            frame = RuleDecoder._next(self)
        return frame


@cython.cclass
class ChunkedDecoder(RuleDecoder):
    """HTTP/1.1 chunked transfer coding (RFC 9112 §7.1): frames are the chunks' data
    (extensions ignored). After the last chunk and the trailer section, ``done`` is true,
    ``next_frame()`` returns None, the trailer lines are in ``trailers``, and ``detach()``
    gives the bytes that follow the body (the next message on a keep-alive connection).
    ``max_frame_length`` bounds a chunk's data (a longer chunk is skipped); ``max_line_length``
    a size line or trailer line. Corrupt: a size that is not hex or has more than 15 digits, a
    line not ending in CRLF, a line too long, chunk data not followed by CRLF."""

    __slots__ = ("_chunked", "_trailers")
    _chunked: ChunkedRule
    _trailers: list  # type: ignore[type-arg]  # (a C field of the core: a list, of bytes)

    @cython.annotation_typing(False)
    def __init__(
        self,
        *,
        max_frame_length: int = P.DEFAULT_CHUNK_MAX,
        max_line_length: int = P.DEFAULT_MAX_LINE,
        copy: bool = False,
        pool: Optional[BufferPool] = None,
    ) -> None:
        max_len, line, self._config = P.chunked_setup(max_frame_length, max_line_length, copy, pool)
        self._chunked = ChunkedRule(max_len, line)
        # held while undecided: a size line, a chunk's CRLF, a trailer section (see the rule)
        self._use(self._chunked, max_len, copy, pool, P.chunked_overhead(line))

    @property
    def done(self) -> bool:
        """The last chunk and the trailer section have been read."""
        return self._done

    @property
    def trailers(self) -> list[bytes]:
        """The trailer section's lines (``bytes``, CRLF left out), once ``done``."""
        return list(self._trailers)

    @cython.annotation_typing(False)
    def index(self, data: BytesLike) -> tuple[memoryview, int]:
        raise TypeError(P.MSG_CHUNKED_INDEX)

    @cython.cfunc
    @cython.exceptval(-1, check=False)
    def _clear(self) -> cython.int:
        RuleDecoder._clear(self)
        self._trailers = []
        return 0

    @cython.cfunc
    def _next(self) -> Any:
        """The next chunk's data, or None (when more bytes are needed, and once ``done``)."""
        frame = RuleDecoder._next(self)
        if frame is not None and self._chunked.last:
            self._chunked.last = False
            self._trailers = P.trailer_lines(self._chunked.trailers)
            self._done = True
            return None
        return frame


class WebSocketEncoder(P.WebSocketEncoding):
    """WebSocket frames out (RFC 6455 §5.2). ``role="client"`` masks each frame (with an
    ``os.urandom`` key unless ``mask_key`` is given); ``role="server"`` does not."""

    __slots__ = ()

    def decoder(self, **overrides: Any) -> WebSocketDecoder:
        """The decoder that reads back what this encoder writes (the other role's reader)."""
        role = "server" if self._role == "client" else "client"
        return WebSocketDecoder(**{"role": role, **overrides})
