"""Presets: wire layouts from each protocol's specification, and real traffic captured from
PostgreSQL, MariaDB and dnsmasq servers started by the tests, split exactly."""

from __future__ import annotations

import random
import socket
import struct
from typing import Any, Callable

import pytest
import servers
from helpers import random_chunks, run_feed
from hypothesis import given
from hypothesis import strategies as st

import framekit
from framekit import presets
from framekit.testing import resp_values


def _frames(make: Callable[[], Any], wire: bytes) -> list[bytes]:
    """Frames of ``wire``, checked to be the same under many random splits."""
    whole = run_feed(make(), [wire])
    rng = random.Random(len(wire))
    for _ in range(5):
        assert run_feed(make(), random_chunks(wire, rng, 4096)) == whole
    assert all(isinstance(e, bytes) for e in whole), whole
    return [bytes(e) for e in whole]


# --- layouts from the specifications ----------------------------------------------------------


def test_layouts() -> None:
    settings = (
        struct.pack(">I", 6)[1:] + b"\x04\x00" + struct.pack(">I", 0) + b"\x00\x03\x00\x00\x00d"
    )
    ping = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"8bytes!!"
    assert _frames(presets.http2, settings + ping) == [settings, ping]

    record = b"\x16\x03\x01\x00\x05hello"
    assert _frames(presets.tls_record, record * 2) == [record, record]

    method = b"\x01\x00\x01" + struct.pack(">I", 4) + b"\x00\x0a\x00\x0b" + b"\xce"
    heartbeat = b"\x08\x00\x00\x00\x00\x00\x00\xce"
    assert _frames(presets.amqp, method + heartbeat) == [method, heartbeat]

    connect = b"\x10" + bytes([12]) + b"\x00\x04MQTT\x04\x02\x00\x3c\x00\x00"
    publish = b"\x30" + b"\xc8\x01" + b"p" * 200
    assert _frames(presets.mqtt, connect + publish + b"\xc0\x00") == [connect, publish, b"\xc0\x00"]

    get = b"\x80\x00\x00\x05" + b"\x00\x00\x00\x00" + struct.pack(">I", 5) + bytes(12) + b"Hello"
    assert _frames(presets.memcached_binary, get * 2) == [get, get]

    message = b"\x00" + struct.pack(">I", 3) + b"abc"
    assert _frames(presets.grpc, message + b"\x01" + struct.pack(">I", 0)) == [
        message,
        b"\x01\x00\x00\x00\x00",
    ]

    api_versions = struct.pack(">IhhI", 10, 18, 3, 7) + b"\x00\x00"
    assert _frames(presets.kafka, api_versions) == [api_versions]

    assert _frames(presets.ndjson, b'{"id": 1}\n{"id": 2}\r\n') == [b'{"id": 1}', b'{"id": 2}']
    frame = b"CONNECTED\nversion:1.2\n\nbody\x00"
    assert _frames(presets.stomp, frame + frame) == [frame, frame]

    startup = struct.pack(">II", 8, 80877103)  # SSLRequest
    assert _frames(presets.postgres_startup, startup) == [startup]


def test_overrides() -> None:
    dec = presets.dns_tcp(max_frame_length=10, copy=True)
    with pytest.raises(framekit.FrameTooLongError):
        dec.decode(b"\x00\x20" + bytes(32))
    assert presets.ndjson(copy=True).decode(b"{}\n") == [b"{}"]
    big = b"\x00\x40\x00" + b"\x00" * 6 + bytes(1 << 14)  # a 16 KiB DATA frame
    assert len(presets.http2().decode(big)) == 1
    with pytest.raises(framekit.FrameTooLongError):
        presets.http2().decode(b"\x00\x40\x01" + bytes(6))  # 16 385 bytes: over the default


# --- real servers ---------------------------------------------------------------------------------


def _pg_message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack(">I", len(body) + 4) + body


@pytest.mark.server
def test_postgres_real_server() -> None:
    body = struct.pack(">I", 196608) + b"user\0postgres\0database\0postgres\0\0"
    startup = struct.pack(">I", len(body) + 4) + body
    sql = b"SELECT repeat('x', 200000) AS big, 42 AS answer\0"
    client = [_pg_message(b"Q", sql), _pg_message(b"X", b"")]
    with servers.postgres() as port:
        wire = servers.converse(port, startup, b"".join(client))

    messages = _frames(presets.postgres, wire)
    kinds = [m[:1] for m in messages]
    for m in messages:
        assert struct.unpack(">I", m[1:5])[0] == len(m) - 1  # the length counts itself
    assert messages[0] == b"R\x00\x00\x00\x08\x00\x00\x00\x00"  # AuthenticationOk
    first_ready = kinds.index(b"Z")
    assert set(kinds[1:first_ready]) == {b"S", b"K"}  # ParameterStatus, BackendKeyData
    assert kinds[first_ready:] == [b"Z", b"T", b"D", b"C", b"Z"]
    assert messages[first_ready] == b"Z\x00\x00\x00\x05I"  # idle
    row = messages[first_ready + 2]
    assert struct.unpack(">hI", row[5:11]) == (2, 200000) and row[11 : 11 + 200000] == b"x" * 200000
    assert row.endswith(b"\x00\x00\x00\x0242")
    assert messages[-2].startswith(b"C\x00\x00\x00\x0dSELECT 1\x00")

    sent = startup + b"".join(client)
    first = presets.postgres_startup()
    assert [bytes(f) for f in first.decode(sent[: len(startup)])] == [startup]
    assert _frames(presets.postgres, sent[len(startup) :]) == client


@pytest.mark.server
def test_postgres_presets_switch_on_one_connection() -> None:
    """A framekit relay in front of the real server reads a client's StartupMessage with
    postgres_startup(), then switches the same connection to postgres() (set_decoder) and
    relays messages both ways. The client writes startup, Query and Terminate at once: the relay
    has all of it before the switch, which must hand on every byte after the startup packet."""
    import asyncio

    from framekit import asyncio as fk_asyncio

    body = struct.pack(">I", 196608) + b"user\0postgres\0database\0postgres\0\0"
    startup = struct.pack(">I", len(body) + 4) + body
    query = _pg_message(b"Q", b"SELECT generate_series(1, 2000) AS n\0")
    relayed: list[bytes] = []

    async def main(pg_port: int) -> bytes:
        async def relay(reader: fk_asyncio.FrameReader, writer: fk_asyncio.FrameWriter) -> None:
            while reader.buffered < len(startup) + len(query) + 5:
                await asyncio.sleep(0.001)  # everything has arrived
            first = bytes(await reader.read_frame())
            relayed.append(first)
            reader.set_decoder(presets.postgres())
            up_reader, up_writer = await fk_asyncio.open_connection(
                "127.0.0.1", pg_port, decoder=presets.postgres()
            )
            up_writer.write(first)

            async def down() -> None:
                async for message in up_reader:
                    writer.write(message)
                writer.close()

            task = asyncio.create_task(down())
            async for message in reader:
                relayed.append(bytes(message))
                up_writer.write(message)
            await task
            up_writer.close()

        server = await fk_asyncio.start_server(
            relay, "127.0.0.1", 0, decoder_factory=presets.postgres_startup
        )
        port = server.sockets[0].getsockname()[1]
        client_reader, client_writer = await asyncio.open_connection("127.0.0.1", port)
        client_writer.write(startup + query + _pg_message(b"X", b""))
        reply = await asyncio.wait_for(client_reader.read(), 30)
        client_writer.close()
        server.close()
        await server.wait_closed()
        return reply

    with servers.postgres() as pg_port:
        reply = asyncio.run(main(pg_port))
    assert relayed == [startup, query, _pg_message(b"X", b"")]
    messages = _frames(presets.postgres, reply)
    kinds = [m[:1] for m in messages]
    assert kinds[0] == b"R" and kinds.count(b"D") == 2000 and kinds[-1] == b"Z"
    assert messages[-2] == b"C\x00\x00\x00\x10SELECT 2000\x00"


@pytest.mark.server
def test_mariadb_real_server() -> None:
    caps = 0x1 | 0x200 | 0x2000 | 0x8000  # LONG_PASSWORD, PROTOCOL_41, TRANSACTIONS, SECURE_CONN.
    body = struct.pack("<IIB", caps, 1 << 24, 33) + bytes(23) + b"root\0" + b"\0"
    response = len(body).to_bytes(3, "little") + b"\x01" + body
    sql = b"\x03SELECT REPEAT('x', 100000) AS big, 42 AS answer"
    query = len(sql).to_bytes(3, "little") + b"\x00" + sql
    with servers.mariadb() as port:
        wire = servers.converse(port, response, query + b"\x01\x00\x00\x00\x01", reply_first=True)

    packets = _frames(presets.mysql, wire)
    for p in packets:
        assert int.from_bytes(p[:3], "little") == len(p) - 4
    handshake, ok, *result = packets
    assert handshake[3] == 0 and handshake[4] == 10  # sequence 0, protocol version 10
    assert b"MariaDB" in handshake
    assert ok[3] == 2 and ok[4] == 0x00  # sequence 2, OK packet
    assert [p[3] for p in result] == list(range(1, len(result) + 1))  # sequence ids
    assert result[0][4:] == b"\x02"  # two columns
    assert b"big" in result[1] and b"answer" in result[2]
    row = next(p for p in result if len(p) > 100000)
    # length-encoded strings: 0xFD and an int<3> above 65 535, one byte below 251
    assert row[4:8] == b"\xfd" + (100000).to_bytes(3, "little")
    assert row[8:100008] == b"x" * 100000 and row[100008:] == b"\x0242"
    assert result[-1][4] == 0xFE  # EOF


def _dns_query(ident: int, name: str) -> bytes:
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\x00"
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + b"\x00\x01\x00\x01"


@pytest.mark.server
def test_dns_tcp_real_server() -> None:
    queries = [_dns_query(100 + i, f"host{i}.example.test") for i in range(8)]
    wire_out = b"".join(struct.pack(">H", len(q)) + q for q in queries)
    with servers.dnsmasq() as port:
        wire = servers.converse(port, wire_out)

    answers = _frames(presets.dns_tcp, wire)
    assert len(answers) == 8
    for i, answer in enumerate(answers):
        assert struct.unpack(">H", answer[:2])[0] == len(answer) - 2
        ident, flags, qd, an = struct.unpack(">HHHH", answer[2:10])
        assert ident == 100 + i and flags & 0x8000 and qd == 1 and an == 1
        assert answer.endswith(socket.inet_aton("192.0.2.1"))
    assert _frames(presets.dns_tcp, wire_out) == [struct.pack(">H", len(q)) + q for q in queries]


# --- encoders: each writes exactly what its preset reads back ------------------------------------

PRESET_NAMES = [n for n in presets.__all__ if not n.endswith("_encoder") and n[0].islower()]
# (length field offset, width) of the length-field presets: the field encode() inserts
FIELDS = {
    "postgres_startup": (0, 4), "postgres": (1, 4), "mysql": (0, 3), "kafka": (0, 4),
    "dns_tcp": (0, 2), "tls_record": (3, 2), "http2": (0, 3), "amqp": (3, 4),
    "memcached_binary": (8, 4), "grpc": (1, 4),
}  # fmt: skip
SHORTEST = {"postgres": 1, "tls_record": 3, "amqp": 4, "memcached_binary": 20, "grpc": 1,
            "http2": 6, "mysql": 1, "mqtt": 1, "syslog_tcp": 1}  # fmt: skip
# presets that deliver the message without its framing, as encode() takes it
UNFRAMED = ("ndjson", "syslog_tcp", "websocket_client", "websocket_server")


def _messages(name: str) -> st.SearchStrategy[list[bytes]]:
    least = SHORTEST.get(name, 0)
    if name == "ndjson":
        body = st.binary(max_size=200).filter(lambda b: b"\n" not in b and not b.endswith(b"\r"))
    elif name == "stomp":
        body = st.binary(max_size=200).map(lambda b: b.replace(b"\0", b"") + b"\0")
    elif name == "redis":
        body = resp_values()
    else:
        body = st.binary(min_size=least, max_size=300)
    return st.lists(body, max_size=20)


def test_every_preset_has_an_encoder() -> None:
    assert sorted(PRESET_NAMES) == sorted(
        n[: -len("_encoder")] for n in presets.__all__ if n.endswith("_encoder")
    )
    for name in PRESET_NAMES:
        encoder = getattr(presets, f"{name}_encoder")()
        assert isinstance(encoder, framekit.Encoder)
        assert repr(encoder) == f"presets.{name}_encoder()"


@pytest.mark.parametrize("name", PRESET_NAMES)
@given(data=st.data())
def test_preset_encoders_round_trip(name: str, data: st.DataObject) -> None:
    """decode(encode_many(messages)) gives the messages whole, one frame each, under any split;
    with the length field taken out of each frame, the messages as given."""
    messages = data.draw(_messages(name))
    encoder = getattr(presets, f"{name}_encoder")()
    wire = encoder.encode_many(messages)
    if name != "websocket_server":  # (a client's frames are masked with fresh random keys)
        assert wire == b"".join(encoder.encode(m) for m in messages)
    frames = _frames(encoder.decoder, wire)
    # what the preset delivers: whole wire messages (ndjson: the texts, without the line end)
    assert frames == (messages if name in UNFRAMED else [encoder.encode(m) for m in messages])
    for frame, message in zip(frames, messages):
        if name in FIELDS:
            offset, width = FIELDS[name]
            assert frame[:offset] + frame[offset + width :] == message
        elif name == "mqtt":
            rest = frame[1:]
            while rest[0] & 0x80:
                rest = rest[1:]
            assert frame[:1] + rest[1:] == message
        else:  # ndjson, syslog_tcp, websocket_*: the message; stomp, redis: as delivered
            assert frame == message


def test_preset_encoders_refuse_what_their_decoder_could_not_read() -> None:
    with pytest.raises(ValueError, match="postgres message is at least 1"):
        presets.postgres_encoder().encode(b"")  # no type byte
    with pytest.raises(ValueError, match="memcached_binary message is at least 20"):
        presets.memcached_binary_encoder().encode(bytes(19))
    with pytest.raises(framekit.FrameTooLongError):
        presets.dns_tcp_encoder().encode(bytes(65536))
    with pytest.raises(framekit.FrameTooLongError):
        presets.postgres_encoder(max_frame_length=100).encode(b"Q" + bytes(100))
    with pytest.raises(ValueError, match="line break"):
        presets.ndjson_encoder().encode(b'{"a":\n1}')
    with pytest.raises(ValueError, match="NULL"):
        presets.stomp_encoder().encode(b"SEND\n\nbody")  # no NULL at the end
    with pytest.raises(ValueError, match="fixed header"):
        presets.mqtt_encoder().encode(b"")
    # nothing written when one is refused
    with pytest.raises(ValueError):
        presets.postgres_encoder().encode_many([b"Qok\0", b""])
    with pytest.raises(ValueError):  # overrides are checked as the decoder checks them
        presets.kafka_encoder(max_frame_length=-1)
    wire = presets.postgres_encoder().encode(b"Q" + b"SELECT 1\0")
    assert wire == b"Q\x00\x00\x00\x0dSELECT 1\x00"  # the docs' example, by hand
    assert presets.mqtt_encoder().encode(b"\x30" + bytes(200))[:3] == b"\x30\xc8\x01"


def test_redis_and_syslog_encoders_refuse_what_their_decoder_could_not_read() -> None:
    with pytest.raises(ValueError, match="exactly one whole RESP value"):
        presets.redis_encoder().encode(b"+OK\r\n+OK\r\n")
    with pytest.raises(ValueError, match="exactly one whole RESP value"):
        presets.redis_encoder().encode(b"$3\r\nab")
    with pytest.raises(ValueError, match="not a RESP value: RESP: unknown type byte"):
        presets.redis_encoder().encode(b"OK\r\n")
    with pytest.raises(ValueError, match="at least 1 byte"):
        presets.syslog_tcp_encoder().encode(b"")
    with pytest.raises(framekit.FrameTooLongError):
        presets.syslog_tcp_encoder(max_frame_length=3).encode(b"abcd")
    assert presets.syslog_tcp_encoder(max_frame_length=3).encode(b"abc") == b"3 abc"
