"""Ready decoders for real protocols. Each returns a new decoder that delivers whole wire
messages, headers kept, and takes keyword overrides for the decoder (``max_frame_length=``,
``copy=``, ``fail_fast=`` ...)::

    from framekit import presets
    decoder = presets.postgres(max_frame_length=64 << 20)

The byte layouts below are the protocols' own; each cites where it is specified.
"""

from __future__ import annotations

from typing import Any

from . import DelimiterDecoder, LengthFieldDecoder, LineDecoder, VarintLengthDecoder

__all__ = [
    "amqp",
    "dns_tcp",
    "grpc",
    "http2",
    "kafka",
    "memcached_binary",
    "mqtt",
    "mysql",
    "ndjson",
    "postgres",
    "postgres_startup",
    "stomp",
    "tls_record",
]

MiB = 1 << 20


def _length(width: int, defaults: dict[str, Any], overrides: dict[str, Any]) -> Any:
    return LengthFieldDecoder(width, **{"initial_bytes_to_strip": 0, **defaults, **overrides})


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
    return _length(4, {"length_adjustment": -4, "max_frame_length": 10_000}, overrides)


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
    return _length(
        4,
        {"length_field_offset": 1, "length_adjustment": -4, "max_frame_length": 64 * MiB},
        overrides,
    )


def mysql(**overrides: Any) -> Any:
    """MySQL / MariaDB client-server packets ("MySQL Packets" in the MySQL internals
    manual): a 3-byte little-endian payload length, a sequence id, the payload. A payload of
    0xFFFFFF bytes is continued in the next packet; each packet is a frame::

        +----------------+-------------+-----------------+
        | int<3> length  | int<1> seq  | payload         |
        | little-endian  |             | (length bytes)  |
        +----------------+-------------+-----------------+
    """
    return _length(
        3,
        {"byteorder": "little", "length_adjustment": 1, "max_frame_length": (1 << 24) + 3},
        overrides,
    )


def kafka(**overrides: Any) -> Any:
    """Kafka requests and responses (the Kafka protocol guide, "Common Request and Response
    Structure"): an INT32 size of what follows, then the message. The default limit is the
    broker's ``socket.request.max.bytes`` (100 MiB)::

        +--------------+---------------------------------------+
        | INT32 size   | request or response (size bytes)      |
        +--------------+---------------------------------------+
    """
    return _length(4, {"max_frame_length": 100 * MiB + 4}, overrides)


def dns_tcp(**overrides: Any) -> Any:
    """DNS messages over TCP (RFC 1035 §4.2.2, RFC 7766): a two-byte length of the message::

        +----------------+-------------------------------------+
        | uint16 length  | DNS message (header, question, ...) |
        +----------------+-------------------------------------+

    Pipelined queries and answers (RFC 7766 §6.2.1) come out one message per frame.
    """
    return _length(2, {"max_frame_length": 2 + 65535}, overrides)


def tls_record(**overrides: Any) -> Any:
    """TLS records (RFC 8446 §5.1, RFC 5246 §6.2): a 5-byte header whose last two bytes are
    the fragment's length, at most 2**14 + 2048 (a TLS 1.2 ciphertext; TLS 1.3 allows
    2**14 + 256)::

        +--------------+------------------+---------------+-------------+
        | content type | protocol version | uint16 length | fragment    |
        | 1 byte       | 2 bytes          |               |             |
        +--------------+------------------+---------------+-------------+
    """
    return _length(
        2, {"length_field_offset": 3, "max_frame_length": 5 + (1 << 14) + 2048}, overrides
    )


def http2(**overrides: Any) -> Any:
    """HTTP/2 frames (RFC 9113 §4.1), after the client's 24-byte connection preface
    ``PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n``: a 9-byte header whose first three bytes are the
    payload's length. The default limit is the initial SETTINGS_MAX_FRAME_SIZE (16 384);
    raise ``max_frame_length`` to the value a peer advertises::

        +-----------------+--------+--------+-------------------+----------+
        | length (24)     | type   | flags  | R + stream id(31) | payload  |
        +-----------------+--------+--------+-------------------+----------+
    """
    return _length(3, {"length_adjustment": 6, "max_frame_length": 9 + 16384}, overrides)


def amqp(**overrides: Any) -> Any:
    """AMQP 0-9-1 frames (AMQP 0-9-1 specification §4.2.3), after the 8-byte protocol header
    ``AMQP\\x00\\x00\\x09\\x01``: type, channel, payload size, payload, then the frame-end octet
    0xCE (delivered as part of the frame)::

        +--------+-----------+-------------+-----------------+-----------+
        | type   | channel   | size        | payload         | frame-end |
        | octet  | short     | long        | (size octets)   | 0xCE      |
        +--------+-----------+-------------+-----------------+-----------+
    """
    return _length(
        4, {"length_field_offset": 3, "length_adjustment": 1, "max_frame_length": 128 * 1024 + 8},
        overrides,
    )  # fmt: skip


def mqtt(**overrides: Any) -> Any:
    """MQTT control packets (MQTT 3.1.1 §2.2, MQTT 5.0 §2.1): a fixed header byte, then the
    remaining length as a variable byte integer of at most four bytes::

        +------------------+---------------------------+-------------------------+
        | type and flags   | remaining length (1-4 B,  | variable header,        |
        | 1 byte           | 7 bits each, LSB first)   | payload                 |
        +------------------+---------------------------+-------------------------+
    """
    defaults = {
        "length_field_offset": 1,
        "max_length_bytes": 4,
        "initial_bytes_to_strip": 0,
        "max_frame_length": 5 + 268_435_455,
    }
    return VarintLengthDecoder(**{**defaults, **overrides})


def memcached_binary(**overrides: Any) -> Any:
    """Memcached binary protocol packets (the memcached "Binary Protocol Revamped" draft):
    a 24-byte header whose total body length is at offset 8::

        +-------+--------+---------+--------+--------+---------+------------+--------+-----+
        | magic | opcode | key len | extras | data   | vbucket | total body | opaque | CAS |
        | 1     | 1      | 2       | len 1  | type 1 | /status | length 4   | 4      | 8   |
        +-------+--------+---------+--------+--------+---------+------------+--------+-----+
        then extras, key and value: total body length bytes
    """
    return _length(
        4, {"length_field_offset": 8, "length_adjustment": 12, "max_frame_length": 24 + 20 * MiB},
        overrides,
    )  # fmt: skip


def grpc(**overrides: Any) -> Any:
    """gRPC length-prefixed messages inside an HTTP/2 stream's DATA (gRPC over HTTP/2,
    "Length-Prefixed-Message"): a compressed flag, a 4-byte big-endian length, the message.
    The default limit is gRPC's default maximum message size (4 MiB)::

        +-----------------+----------------------+------------------------+
        | compressed flag | message length       | message                |
        | 1 byte          | 4 bytes, big-endian  |                        |
        +-----------------+----------------------+------------------------+
    """
    return _length(4, {"length_field_offset": 1, "max_frame_length": 5 + 4 * MiB}, overrides)


def ndjson(**overrides: Any) -> Any:
    """Newline-delimited JSON (ndjson / JSON Lines): one JSON text a line, ended by ``\\n``
    (``\\r\\n`` accepted). Frames are the JSON texts, without the line ending::

        {"id": 1}\\n{"id": 2}\\r\\n   ->   b'{"id": 1}', b'{"id": 2}'
    """
    return LineDecoder(**{"max_frame_length": 16 * MiB, **overrides})


def stomp(**overrides: Any) -> Any:
    """STOMP frames (STOMP 1.2, "STOMP Frames"): a command line, header lines, a blank line
    and a body, ended by a NULL octet (delivered with the frame)::

        CONNECTED\\nversion:1.2\\n\\n^@

    STOMP allows EOLs after the NULL (and alone, as heart-beats): they come out at the start
    of the next frame, or as a frame of their own before the end of stream. Bodies that
    contain NULL octets (sent with a content-length header) need a decoder that reads that
    header; this preset does not.
    """
    return DelimiterDecoder(
        b"\x00", **{"strip_delimiter": False, "max_frame_length": MiB, **overrides}
    )
