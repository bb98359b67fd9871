"""Every kind of decoder framekit has, in one place.

``framekit.testing`` (its strategies, ``decoder_cases()``), the property tests, the fuzz harness,
the signature test, the compiled core's ``__signature__`` and the CLI's ``framekit decode``
options all read :data:`KINDS`. A new built-in rule is registered here; what else it needs is in
docs/contributing.md.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional


class Kind(NamedTuple):
    """One kind of decoder."""

    name: str  #: a short name: test ids, the fuzz harness, framekit.testing's strategies
    decoder: str  #: the decoder class, in framekit
    encoder: Optional[str]  #: its encoder class, if it has one of its own
    flag: str  #: the ``framekit decode`` option that chooses it
    argument: dict[str, Any]  #: that option's ``argparse`` keywords
    options: frozenset[str]  #: the other ``framekit decode`` options that apply to it


_FIELD = frozenset({"offset", "adjust", "strip", "max_frame_length"})
_LIMIT = frozenset({"max_frame_length"})

KINDS: tuple[Kind, ...] = (
    Kind(
        "length", "LengthFieldDecoder", "LengthFieldEncoder", "--length-field",
        {"type": int, "metavar": "N", "help": "an N-byte length field"},
        _FIELD | {"little_endian"},
    ),
    Kind(
        "varint", "VarintLengthDecoder", "VarintLengthEncoder", "--varint",
        {"action": "store_true", "help": "a varint length field"}, _FIELD,
    ),
    Kind(
        "line", "LineDecoder", None, "--lines",
        {"action": "store_true", "help": r"lines ending in \n or \r\n"}, _LIMIT,
    ),
    Kind(
        "delimiter", "DelimiterDecoder", "DelimiterEncoder", "--delimiter",
        {
            "action": "append",
            "metavar": "HEX",
            "help": "frames ending at this delimiter, in hex; several: repeat the flag, or "
            "separate them with spaces or commas ('0d0a 0a')",
        },
        _LIMIT,
    ),
    Kind(
        "fixed", "FixedLengthDecoder", None, "--fixed",
        {"type": int, "metavar": "N", "help": "frames of N bytes"}, frozenset(),
    ),
    Kind(
        "netstring", "NetstringDecoder", "NetstringEncoder", "--netstring",
        {"action": "store_true", "help": "netstrings: len ':' data ','"}, _LIMIT,
    ),
    Kind(
        "octet", "OctetCountingDecoder", None, "--octet-counting",
        {"action": "store_true", "help": "syslog over TCP, octet counting (RFC 6587)"}, _LIMIT,
    ),
    Kind(
        "resp", "RespDecoder", None, "--resp",
        {"action": "store_true", "help": "Redis' RESP2/RESP3: one value per frame"}, _LIMIT,
    ),
    Kind(
        "chunked", "ChunkedDecoder", None, "--chunked",
        {"action": "store_true", "help": "an HTTP/1.1 chunked body (RFC 9112 §7.1)"}, _LIMIT,
    ),
    Kind(
        "json", "JsonStreamDecoder", None, "--json",
        {"action": "store_true", "help": "JSON texts, whitespace- or RS-separated (RFC 7464)"},
        _LIMIT,
    ),
    Kind(
        "websocket", "WebSocketDecoder", "WebSocketEncoder", "--websocket",
        {
            "choices": ["server", "client"],
            "help": "WebSocket frames (RFC 6455) as a server reads them (masked) or a client",
        },
        _LIMIT,
    ),
    Kind(
        "rule", "RuleDecoder", None, "--rule",
        {"metavar": "MODULE:FUNCTION", "help": "a framing rule of your own (see RuleDecoder)"},
        _LIMIT,
    ),
)  # fmt: skip

#: by short name
BY_NAME = {kind.name: kind for kind in KINDS}
#: every public class both builds have (the signature test's, and the core's __signature__s)
CLASSES: tuple[str, ...] = (
    *(kind.decoder for kind in KINDS),
    *(kind.encoder for kind in KINDS if kind.encoder is not None),
    "BufferPool",
    "Slab",
)
