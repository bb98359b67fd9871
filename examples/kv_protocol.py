"""A line-based key-value server on asyncio's protocol layer, with framekit's FramedProtocol.

python examples/kv_protocol.py server 9000     # serve: SET key value / GET key, one per line
python examples/kv_protocol.py                 # serve and run a client, in one process
"""

from __future__ import annotations

import asyncio
import sys

import framekit
from framekit.asyncio import FramedProtocol

STORE: dict[bytes, bytes] = {}


class KeyValue(FramedProtocol):
    def __init__(self) -> None:
        super().__init__(
            framekit.LineDecoder(max_frame_length=4096), framekit.DelimiterEncoder(b"\r\n")
        )

    def frame_received(self, frame: memoryview | bytes) -> None:
        # frames are read-only memoryviews; bytes(...) keeps what must outlive the call
        command, _, rest = bytes(frame).partition(b" ")
        if command == b"SET":
            key, _, value = rest.partition(b" ")
            STORE[key] = value
            self.send_frame(b"OK")
        elif command == b"GET":
            self.send_frame(STORE.get(rest, b"(nil)"))
        else:
            self.send_frame(b"ERR unknown command")

    def frame_error(self, exc: framekit.FrameError) -> None:
        if isinstance(exc, framekit.FrameTooLongError):  # recoverable: say so and go on
            self.send_frame(b"ERR line too long")
        else:
            super().frame_error(exc)  # closes the connection


async def serve(port: int) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    return await loop.create_server(KeyValue, "127.0.0.1", port)


async def client(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"SET fruit apple\r\nGET fruit\r\nGET nothing\r\n" + b"x" * 5000 + b"\nGET fruit\n"
    )
    for _ in range(5):
        print("reply:", (await reader.readline()).decode().rstrip())
    writer.close()
    await writer.wait_closed()


async def main(argv: list[str]) -> None:
    if argv[1:2] == ["server"]:
        server = await serve(int(argv[2]))
        print("serving on", server.sockets[0].getsockname())
        await server.serve_forever()
    else:
        server = await serve(0)
        await client(server.sockets[0].getsockname()[1])
        server.close()
        await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main(sys.argv))
