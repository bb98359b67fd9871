"""Echo server and client over asyncio (or uvloop) with framekit's streams.

python examples/echo_asyncio.py server 9000      # serve
python examples/echo_asyncio.py client 9000      # send a few frames, print the echoes
python examples/echo_asyncio.py                  # both, in one process
"""

from __future__ import annotations

import asyncio
import sys

import framekit
from framekit.asyncio import FrameReader, FrameWriter, open_connection, start_server


async def echo(reader: FrameReader, writer: FrameWriter) -> None:
    async for frame in reader:  # frames are memoryviews into the decoder's storage
        writer.write_frame(frame)
        await writer.drain()
    writer.close()


async def serve(port: int) -> asyncio.Server:
    return await start_server(
        echo,
        "127.0.0.1",
        port,
        decoder_factory=framekit.LengthFieldDecoder,
        encoder_factory=framekit.LengthFieldEncoder,
    )


async def client(port: int) -> None:
    reader, writer = await open_connection(
        "127.0.0.1",
        port,
        decoder=framekit.LengthFieldDecoder(),
        encoder=framekit.LengthFieldEncoder(),
    )
    writer.write_frames([b"hello", b"framed", b"world", bytes(1 << 20)])
    await writer.drain()
    writer.write_eof()  # half-close: the echoes still come back
    async for frame in reader:
        print(f"echo: {len(frame)} bytes {bytes(frame[:16])!r}")
    writer.close()
    await writer.wait_closed()


async def main(argv: list[str]) -> None:
    port = int(argv[2]) if len(argv) > 2 else 0
    if argv[1:2] == ["server"]:
        server = await serve(port)
        print("serving on", server.sockets[0].getsockname())
        await server.serve_forever()
    elif argv[1:2] == ["client"]:
        await client(port)
    else:
        server = await serve(0)
        await client(server.sockets[0].getsockname()[1])
        server.close()
        await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main(sys.argv))
