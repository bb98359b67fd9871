"""A minimal PostgreSQL client on framekit's streams: startup, trust authentication, one simple
query, counting the rows until the server is ready again.

    python examples/postgres_client.py [HOST] [PORT] [SQL]

Needs a server that trusts user ``postgres`` (``--auth=trust``). Every message the server sends
is a ``presets.postgres()`` frame: a type byte, then a length that counts itself, then the body.
"""

from __future__ import annotations

import asyncio
import struct
import sys

from framekit import presets
from framekit.asyncio import FrameReader, open_connection

PROTOCOL_3 = 196608  # 3.0


async def until_ready(reader: FrameReader, rows: list[int]) -> None:
    """Read messages until ReadyForQuery, counting DataRows; an ErrorResponse is raised."""
    while True:
        for message in await reader.read_frames():  # every message that has arrived
            kind = message[0]
            if kind == ord("D"):
                rows[0] += 1
            elif kind == ord("E"):
                raise RuntimeError(f"server error: {bytes(message[5:])!r}")
            elif kind == ord("R") and struct.unpack_from(">I", message, 5)[0] != 0:
                raise RuntimeError("the server asks for a password: this client trusts only")
            elif kind == ord("Z"):  # ReadyForQuery: the last message of a response (the
                return  # server sends nothing more until asked)


async def query(host: str, port: int, sql: str) -> int:
    reader, writer = await open_connection(
        host, port, decoder=presets.postgres(), encoder=presets.postgres_encoder()
    )
    # StartupMessage: untyped (it comes first), so written raw with its own preset's encoder
    fields = b"user\0postgres\0database\0postgres\0\0"
    writer.write(presets.postgres_startup_encoder().encode(struct.pack(">I", PROTOCOL_3) + fields))
    rows = [0]
    await until_ready(reader, rows)  # AuthenticationOk, ParameterStatus..., ReadyForQuery
    writer.write_frame(b"Q" + sql.encode() + b"\0")  # Query: type byte, then the SQL
    await until_ready(reader, rows)
    writer.write_frame(b"X")  # Terminate
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    return rows[0]


def main() -> None:
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 5432
    sql = sys.argv[3] if len(sys.argv) > 3 else "SELECT generate_series(1, 100000)"
    print(f"rows: {asyncio.run(query(host, port, sql))}")


if __name__ == "__main__":
    main()
