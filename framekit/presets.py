"""Ready decoders and encoders for real protocols. Each decoder function returns a new decoder
that delivers whole wire messages, headers kept, and takes keyword overrides for the decoder
(``max_frame_length=``, ``copy=``, ``fail_fast=`` ...)::

    from framekit import presets
    decoder = presets.postgres(max_frame_length=64 << 20)

Each ``<preset>_encoder()`` writes exactly what its preset reads back: ``encode(message)`` takes
a message as the preset's decoder delivers it with its length field left out, and writes it
whole, the length inserted (PostgreSQL: ``b"Q" + b"SELECT 1\\0"``)::

    encoder = presets.postgres_encoder()
    encoder.encode(b"Q" + b"SELECT 1\\0")   # b'Q\\x00\\x00\\x00\\rSELECT 1\\x00'

The byte layouts below are the protocols' own; each cites where it is specified.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Callable

from . import (
    DelimiterDecoder,
    LengthFieldDecoder,
    LineDecoder,
    OctetCountingDecoder,
    RespDecoder,
    VarintLengthDecoder,
    WebSocketDecoder,
    WebSocketEncoder,
    _protocols,
)
from . import errors as framekit_errors
from ._contract import BytesLike
from .errors import FrameTooLongError

__all__ = [
    "PresetEncoder",
    "amqp",
    "amqp_encoder",
    "dns_tcp",
    "dns_tcp_encoder",
    "grpc",
    "grpc_encoder",
    "http2",
    "http2_encoder",
    "kafka",
    "kafka_encoder",
    "memcached_binary",
    "memcached_binary_encoder",
    "mqtt",
    "mqtt_encoder",
    "mysql",
    "mysql_encoder",
    "ndjson",
    "ndjson_encoder",
    "postgres",
    "postgres_encoder",
    "postgres_startup",
    "postgres_startup_encoder",
    "redis",
    "redis_encoder",
    "stomp",
    "stomp_encoder",
    "syslog_tcp",
    "syslog_tcp_encoder",
    "tls_record",
    "tls_record_encoder",
    "websocket_client",
    "websocket_client_encoder",
    "websocket_server",
    "websocket_server_encoder",
]

MiB = 1 << 20


# Each preset's framing, read by its decoder and written by its encoder.
POSTGRES_STARTUP = {"length_field_length": 4, "length_adjustment": -4, "max_frame_length": 10_000}
POSTGRES = {
    "length_field_length": 4, "length_field_offset": 1, "length_adjustment": -4,
    "max_frame_length": 64 * MiB,
}  # fmt: skip
MYSQL = {
    "length_field_length": 3, "byteorder": "little", "length_adjustment": 1,
    "max_frame_length": (1 << 24) + 3,
}  # fmt: skip
KAFKA = {"length_field_length": 4, "max_frame_length": 100 * MiB + 4}
DNS_TCP = {"length_field_length": 2, "max_frame_length": 2 + 65535}
TLS_RECORD = {
    "length_field_length": 2, "length_field_offset": 3, "max_frame_length": 5 + (1 << 14) + 2048
}  # fmt: skip
HTTP2 = {"length_field_length": 3, "length_adjustment": 6, "max_frame_length": 9 + 16384}
AMQP = {
    "length_field_length": 4, "length_field_offset": 3, "length_adjustment": 1,
    "max_frame_length": 128 * 1024 + 8,
}  # fmt: skip
MEMCACHED_BINARY = {
    "length_field_length": 4, "length_field_offset": 8, "length_adjustment": 12,
    "max_frame_length": 24 + 20 * MiB,
}  # fmt: skip
GRPC = {"length_field_length": 4, "length_field_offset": 1, "max_frame_length": 5 + 4 * MiB}
MQTT = {
    "length_field_offset": 1, "max_length_bytes": 4, "initial_bytes_to_strip": 0,
    "max_frame_length": 5 + 268_435_455,
}  # fmt: skip
NDJSON = {"max_frame_length": 16 * MiB}
REDIS = {"max_frame_length": 512 * MiB}
SYSLOG_TCP = {"max_frame_length": 64 * 1024}
WEBSOCKET_SERVER = {"role": "server", "max_frame_length": 16 * MiB}
WEBSOCKET_CLIENT = {"role": "client", "max_frame_length": 16 * MiB}
STOMP = {"strip_delimiter": False, "max_frame_length": MiB}


def _length(spec: dict[str, Any], overrides: dict[str, Any]) -> Any:
    return LengthFieldDecoder(**{"initial_bytes_to_strip": 0, **spec, **overrides})


def postgres_startup(**overrides: Any) -> Any:
    """PostgreSQL client messages before the first typed one: StartupMessage, SSLRequest,
    GSSENCRequest, CancelRequest (protocol 3, "Message Formats" in the PostgreSQL docs).
    The length counts itself::

        +---------------+-------------------------------------+
        | Int32 length  | Int32 protocol/request code, fields |
        +---------------+-------------------------------------+
        |<---------------------- length --------------------->|

    After the startup phase, use :func:`postgres` for both directions.
    """
    return _length(POSTGRES_STARTUP, overrides)


def postgres(**overrides: Any) -> Any:
    """PostgreSQL protocol 3 messages, both directions after startup (Query, RowDescription,
    DataRow, ReadyForQuery ...; "Message Formats" in the PostgreSQL docs). The length counts
    itself but not the type byte::

        +--------+--------------+------------------+
        | Byte1  | Int32 length | body             |
        | type   |              |                  |
        +--------+--------------+------------------+
                 |<-------- length ------------->|
    """
    return _length(POSTGRES, overrides)


def mysql(**overrides: Any) -> Any:
    """MySQL / MariaDB client-server packets ("MySQL Packets" in the MySQL internals
    manual): a 3-byte little-endian payload length, a sequence id, the payload. A payload of
    0xFFFFFF bytes is continued in the next packet; each packet is a frame::

        +----------------+-------------+-----------------+
        | int<3> length  | int<1> seq  | payload         |
        | little-endian  |             | (length bytes)  |
        +----------------+-------------+-----------------+
    """
    return _length(MYSQL, overrides)


def kafka(**overrides: Any) -> Any:
    """Kafka requests and responses (the Kafka protocol guide, "Common Request and Response
    Structure"): an INT32 size of what follows, then the message. The default limit is the
    broker's ``socket.request.max.bytes`` (100 MiB)::

        +--------------+---------------------------------------+
        | INT32 size   | request or response (size bytes)      |
        +--------------+---------------------------------------+
    """
    return _length(KAFKA, overrides)


def dns_tcp(**overrides: Any) -> Any:
    """DNS messages over TCP (RFC 1035 §4.2.2, RFC 7766): a two-byte length of the message::

        +----------------+-------------------------------------+
        | uint16 length  | DNS message (header, question, ...) |
        +----------------+-------------------------------------+

    Pipelined queries and answers (RFC 7766 §6.2.1) come out one message per frame.
    """
    return _length(DNS_TCP, overrides)


def tls_record(**overrides: Any) -> Any:
    """TLS records (RFC 8446 §5.1, RFC 5246 §6.2): a 5-byte header whose last two bytes are
    the fragment's length, at most 2**14 + 2048 (a TLS 1.2 ciphertext; TLS 1.3 allows
    2**14 + 256)::

        +--------------+------------------+---------------+-------------+
        | content type | protocol version | uint16 length | fragment    |
        | 1 byte       | 2 bytes          |               |             |
        +--------------+------------------+---------------+-------------+
    """
    return _length(TLS_RECORD, overrides)


def http2(**overrides: Any) -> Any:
    """HTTP/2 frames (RFC 9113 §4.1), after the client's 24-byte connection preface
    ``PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n``: a 9-byte header whose first three bytes are the
    payload's length. The default limit is the initial SETTINGS_MAX_FRAME_SIZE (16 384);
    raise ``max_frame_length`` to the value a peer advertises::

        +-----------------+--------+--------+-------------------+----------+
        | length (24)     | type   | flags  | R + stream id(31) | payload  |
        +-----------------+--------+--------+-------------------+----------+
    """
    return _length(HTTP2, overrides)


def amqp(**overrides: Any) -> Any:
    """AMQP 0-9-1 frames (AMQP 0-9-1 specification §4.2.3), after the 8-byte protocol header
    ``AMQP\\x00\\x00\\x09\\x01``: type, channel, payload size, payload, then the frame-end octet
    0xCE (delivered as part of the frame)::

        +--------+-----------+-------------+-----------------+-----------+
        | type   | channel   | size        | payload         | frame-end |
        | octet  | short     | long        | (size octets)   | 0xCE      |
        +--------+-----------+-------------+-----------------+-----------+
    """
    return _length(AMQP, overrides)


def mqtt(**overrides: Any) -> Any:
    """MQTT control packets (MQTT 3.1.1 §2.2, MQTT 5.0 §2.1): a fixed header byte, then the
    remaining length as a variable byte integer of at most four bytes::

        +------------------+---------------------------+-------------------------+
        | type and flags   | remaining length (1-4 B,  | variable header,        |
        | 1 byte           | 7 bits each, LSB first)   | payload                 |
        +------------------+---------------------------+-------------------------+
    """
    return VarintLengthDecoder(**{**MQTT, **overrides})


def memcached_binary(**overrides: Any) -> Any:
    """Memcached binary protocol packets (the memcached "Binary Protocol Revamped" draft):
    a 24-byte header whose total body length is at offset 8::

        +-------+--------+---------+--------+--------+---------+------------+--------+-----+
        | magic | opcode | key len | extras | data   | vbucket | total body | opaque | CAS |
        | 1     | 1      | 2       | len 1  | type 1 | /status | length 4   | 4      | 8   |
        +-------+--------+---------+--------+--------+---------+------------+--------+-----+
        then extras, key and value: total body length bytes
    """
    return _length(MEMCACHED_BINARY, overrides)


def grpc(**overrides: Any) -> Any:
    """gRPC length-prefixed messages inside an HTTP/2 stream's DATA (gRPC over HTTP/2,
    "Length-Prefixed-Message"): a compressed flag, a 4-byte big-endian length, the message.
    The default limit is gRPC's default maximum message size (4 MiB)::

        +-----------------+----------------------+------------------------+
        | compressed flag | message length       | message                |
        | 1 byte          | 4 bytes, big-endian  |                        |
        +-----------------+----------------------+------------------------+
    """
    return _length(GRPC, overrides)


def ndjson(**overrides: Any) -> Any:
    """Newline-delimited JSON (ndjson / JSON Lines): one JSON text a line, ended by ``\\n``
    (``\\r\\n`` accepted). Frames are the JSON texts, without the line ending::

        {"id": 1}\\n{"id": 2}\\r\\n   ->   b'{"id": 1}', b'{"id": 2}'
    """
    return LineDecoder(**{**NDJSON, **overrides})


def stomp(**overrides: Any) -> Any:
    """STOMP frames (STOMP 1.2, "STOMP Frames"): a command line, header lines, a blank line
    and a body, ended by a NULL octet (delivered with the frame)::

        CONNECTED\\nversion:1.2\\n\\n^@

    STOMP allows EOLs after the NULL (and alone, as heart-beats): they come out at the start
    of the next frame, or as a frame of their own before the end of stream. Bodies that
    contain NULL octets (sent with a content-length header) need a decoder that reads that
    header; this preset does not.
    """
    return DelimiterDecoder(b"\x00", **{**STOMP, **overrides})


# --- encoders ------------------------------------------------------------------------------------


class PresetEncoder:
    """Writes what a preset's decoder reads back; a :class:`framekit.Encoder`.

    ``encode(message)`` takes a message as the preset's decoder delivers it with its length
    field left out (PostgreSQL: ``b"Q" + b"SELECT 1\\0"``; delimited presets: as delivered)
    and writes it whole; ``encode_many(messages)`` writes several into one buffer, and nothing
    if one is refused (``ValueError``, or ``FrameTooLongError`` past ``max_frame_length``);
    ``decoder()`` returns the preset's decoder, with the same overrides.
    """

    def __init__(
        self, name: str, make: Callable[..., Any], spec: dict[str, Any], overrides: dict[str, Any]
    ) -> None:
        self._name = name
        self._make = make
        self._overrides = dict(overrides)
        self.decoder()  # the overrides are checked as the decoder checks them
        self._max_frame_length = {**spec, **overrides}["max_frame_length"]

    def decoder(self) -> Any:
        """The preset's decoder, which reads back what this encoder writes."""
        return self._make(**self._overrides)

    def encode(self, message: BytesLike) -> bytes:
        """One message, written whole."""
        return self.encode_many((message,))

    def encode_many(self, messages: Iterable[BytesLike]) -> bytes:
        """Several messages into one buffer; nothing if one is refused."""
        parts: list[bytes] = []
        for message in messages:
            data = bytes(message)
            wire = self._wire(data)
            total = sum(map(len, wire))
            if total > self._max_frame_length:
                raise FrameTooLongError(total, self._max_frame_length)
            parts += wire
        return b"".join(parts)

    def _wire(self, message: bytes) -> list[bytes]:
        raise NotImplementedError

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._overrides.items())
        return f"presets.{self._name}_encoder({shown})"


class _FieldEncoder(PresetEncoder):
    """A length field of ``length_field_length`` bytes inserted at ``length_field_offset``,
    holding what the decoder's ``length_adjustment`` makes the rest of the message."""

    def __init__(
        self, name: str, make: Callable[..., Any], spec: dict[str, Any], overrides: dict[str, Any]
    ) -> None:
        super().__init__(name, make, spec, overrides)
        self._width = spec["length_field_length"]
        self._offset = spec.get("length_field_offset", 0)
        self._adjustment = spec.get("length_adjustment", 0)
        self._order = spec.get("byteorder", "big")

    def _wire(self, message: bytes) -> list[bytes]:
        value = len(message) - self._offset - self._adjustment
        least = self._offset + max(self._adjustment, 0)  # the bytes around the field
        if len(message) < least:
            raise ValueError(
                f"a {self._name} message is at least {least} bytes before its length field "
                f"is inserted; got {len(message)}"
            )
        if value >> (8 * self._width):
            raise FrameTooLongError(len(message) + self._width, self._max_frame_length)
        field = value.to_bytes(self._width, self._order)
        return [message[: self._offset], field, message[self._offset :]]


class _VarintEncoder(PresetEncoder):
    """MQTT's remaining length: a varint of the rest, after the fixed header byte."""

    def _wire(self, message: bytes) -> list[bytes]:
        if not message:
            raise ValueError("an mqtt message starts with its fixed header byte")
        value, field = len(message) - 1, bytearray()
        while True:
            value, low = value >> 7, value & 0x7F
            field.append(low | (0x80 if value else 0))
            if not value:
                break
        if len(field) > 4:
            raise FrameTooLongError(len(message) + len(field), self._max_frame_length)
        return [message[:1], bytes(field), message[1:]]


class _NdjsonEncoder(PresetEncoder):
    """One JSON text, then ``\\n``."""

    def _wire(self, message: bytes) -> list[bytes]:
        if b"\n" in message or message.endswith(b"\r"):
            raise ValueError("an ndjson text cannot hold a line break (or end in \\r)")
        return [message, b"\n"]


class _StompEncoder(PresetEncoder):
    """A frame as the preset delivers it: ended by its NULL octet, with no other."""

    def _wire(self, message: bytes) -> list[bytes]:
        if not message.endswith(b"\x00") or b"\x00" in message[:-1]:
            raise ValueError(
                "a stomp frame is written as the preset delivers it: ending in its NULL octet, "
                "with no other NULL (bodies with NULLs need content-length, which it does not read)"
            )
        return [message]


def postgres_startup_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`postgres_startup` messages: ``encode(code + fields)``."""
    return _FieldEncoder("postgres_startup", postgres_startup, POSTGRES_STARTUP, overrides)


def postgres_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`postgres` messages: ``encode(b"Q" + b"SELECT 1\\0")``."""
    return _FieldEncoder("postgres", postgres, POSTGRES, overrides)


def mysql_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`mysql` packets: ``encode(bytes([sequence_id]) + payload)``."""
    return _FieldEncoder("mysql", mysql, MYSQL, overrides)


def kafka_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`kafka` requests and responses: ``encode(message)``."""
    return _FieldEncoder("kafka", kafka, KAFKA, overrides)


def dns_tcp_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`dns_tcp` messages: ``encode(dns_message)``."""
    return _FieldEncoder("dns_tcp", dns_tcp, DNS_TCP, overrides)


def tls_record_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`tls_record` records: ``encode(content_type + version + fragment)``."""
    return _FieldEncoder("tls_record", tls_record, TLS_RECORD, overrides)


def http2_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`http2` frames: ``encode(type + flags + stream_id + payload)``."""
    return _FieldEncoder("http2", http2, HTTP2, overrides)


def amqp_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`amqp` frames: ``encode(type + channel + payload + b"\\xce")``."""
    return _FieldEncoder("amqp", amqp, AMQP, overrides)


def memcached_binary_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`memcached_binary` packets: the 24-byte header without its total body
    length (8 bytes before it, 12 after), then extras, key and value."""
    return _FieldEncoder("memcached_binary", memcached_binary, MEMCACHED_BINARY, overrides)


def grpc_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`grpc` messages: ``encode(compressed_flag + message)``."""
    return _FieldEncoder("grpc", grpc, GRPC, overrides)


def mqtt_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`mqtt` control packets: ``encode(fixed_header_byte + rest)``."""
    return _VarintEncoder("mqtt", mqtt, MQTT, overrides)


def ndjson_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`ndjson` texts: ``encode(b'{"id": 1}')``, a line each."""
    return _NdjsonEncoder("ndjson", ndjson, NDJSON, overrides)


def stomp_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`stomp` frames as the preset delivers them, NULL octet included:
    ``encode(b"SEND\\ndestination:/q\\n\\nbody\\0")``."""
    return _StompEncoder("stomp", stomp, STOMP, overrides)


def redis(**overrides: Any) -> Any:
    """Redis' protocol, RESP2 and RESP3 ("Redis serialization protocol specification" in the
    Redis docs), both directions: each frame is one whole top-level value, nested aggregates
    included. A type byte, then a line, a length and that many bytes, or a count of values::

        +------+-----------------+       +------+--------+------+-----------+------+
        | "+"  | text     | CRLF |       | "$"  | length | CRLF | bytes     | CRLF |
        +------+-----------------+       +------+--------+------+-----------+------+

        +------+--------+------+---------+---------+-----
        | "*"  | count  | CRLF | value 1 | value 2 | ...   (maps "%": 2 x count values)
        +------+--------+------+---------+---------+-----

    The default limit is the server's ``proto-max-bulk-len`` (512 MiB); ``max_depth=`` bounds
    nesting (64).
    """
    return RespDecoder(**{**REDIS, **overrides})


def syslog_tcp(**overrides: Any) -> Any:
    """Syslog over TCP with octet counting (RFC 6587 §3.4.1, as rsyslog and util-linux'
    ``logger --tcp --octet-count`` send it): a decimal count, a space, the message. Frames are
    the messages (``<13>1 2026-...``), the count left out; the limit bounds the message::

        +---------------------+-----+---------------------------------+
        | MSG-LEN (digits)    | SP  | SYSLOG-MSG (MSG-LEN octets)     |
        +---------------------+-----+---------------------------------+
    """
    return OctetCountingDecoder(**{**SYSLOG_TCP, **overrides})


class _RedisEncoder(PresetEncoder):
    """A RESP value as the preset delivers it: exactly one whole value."""

    def _wire(self, message: bytes) -> list[bytes]:
        try:
            answer = _protocols.RespRule()(memoryview(message))
        except framekit_errors.CorruptFrameError as err:
            raise ValueError(f"not a RESP value: {err}") from None
        if not (isinstance(answer, tuple) and answer[0] == len(message)):
            raise ValueError("a redis message is exactly one whole RESP value")
        return [message]


class _SyslogEncoder(PresetEncoder):
    """A message, after its octet count."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._limit = self._max_frame_length
        self._max_frame_length += _protocols.OCTET_OVERHEAD  # (it bounds the message)

    def _wire(self, message: bytes) -> list[bytes]:
        if not message:
            raise ValueError("a syslog_tcp message is at least 1 byte")
        if len(message) > self._limit:
            raise FrameTooLongError(len(message), self._limit)
        return [b"%d " % len(message), message]


def redis_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`redis` values as the preset delivers them (``encode(b"+OK\\r\\n")``),
    after checking each is exactly one whole RESP value."""
    return _RedisEncoder("redis", redis, REDIS, overrides)


def syslog_tcp_encoder(**overrides: Any) -> PresetEncoder:
    """Writes :func:`syslog_tcp` messages, each after its octet count:
    ``encode(b"<13>1 - host app - - - hello")``."""
    return _SyslogEncoder("syslog_tcp", syslog_tcp, SYSLOG_TCP, overrides)


def websocket_server(**overrides: Any) -> Any:
    """WebSocket frames as a server reads them (RFC 6455 §5.2), after the HTTP upgrade:
    frames must be masked, and come out as :class:`~framekit.WebSocketFrame` objects with their
    payload unmasked (``bytes(frame)`` is the payload). Fragments come out as their frames.
    The default limit is 16 MiB of payload::

        +-+-+-+-+-------+-+-------------+-------------------------------+
        |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
        |I|S|S|S|  (4)  |A|     (7)     |    (16/64, if len is 126/127) |
        |N|V|V|V|       |S|             |                               |
        +-+-+-+-+-------+-+-------------+-------------------------------+
        |  Masking-key (0 or 4 bytes)   |     Payload Data ...          |
        +-------------------------------+-------------------------------+
    """
    return WebSocketDecoder(**{**WEBSOCKET_SERVER, **overrides})


def websocket_client(**overrides: Any) -> Any:
    """WebSocket frames as a client reads them (RFC 6455 §5.2), after the HTTP upgrade: frames
    must not be masked; payloads are zero-copy views. The default limit is 16 MiB of payload;
    the layout is :func:`websocket_server`'s."""
    return WebSocketDecoder(**{**WEBSOCKET_CLIENT, **overrides})


class _WebSocketEncoder(PresetEncoder):
    """A payload as one binary frame, masked when the preset reads a client's frames."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._limit = self._max_frame_length
        self._max_frame_length += _protocols.WEBSOCKET_OVERHEAD  # (it bounds the payload)
        spec = WEBSOCKET_SERVER if self._name == "websocket_server" else WEBSOCKET_CLIENT
        reads = {**spec, **self._overrides}["role"]  # the role the preset's decoder reads as
        self._frames = WebSocketEncoder(role="client" if reads == "server" else "server")

    def _wire(self, message: bytes) -> list[bytes]:
        if len(message) > self._limit:
            raise FrameTooLongError(len(message), self._limit)
        return [self._frames.encode(message)]


def websocket_server_encoder(**overrides: Any) -> PresetEncoder:
    """Writes what :func:`websocket_server` reads: each message a binary frame, masked as a
    client masks it."""
    return _WebSocketEncoder("websocket_server", websocket_server, WEBSOCKET_SERVER, overrides)


def websocket_client_encoder(**overrides: Any) -> PresetEncoder:
    """Writes what :func:`websocket_client` reads: each message a binary frame, unmasked, as a
    server sends it."""
    return _WebSocketEncoder("websocket_client", websocket_client, WEBSOCKET_CLIENT, overrides)
