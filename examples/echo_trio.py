"""Echo server and client over trio with framekit's FramedStream.

python examples/echo_trio.py server 9000      # serve
python examples/echo_trio.py client 9000      # send a few frames, print the echoes
python examples/echo_trio.py                  # both, in one process
"""

from __future__ import annotations

import sys
from functools import partial

import trio

import framekit
from framekit.trio import FramedStream, open_tcp_framed_stream, serve_tcp_framed


async def echo(channel: FramedStream) -> None:
    async for frame in channel:
        await channel.send(frame)


serve = partial(
    serve_tcp_framed,
    echo,
    host="127.0.0.1",
    decoder_factory=framekit.LengthFieldDecoder,
    encoder_factory=framekit.LengthFieldEncoder,
)


async def client(port: int) -> None:
    channel = await open_tcp_framed_stream(
        "127.0.0.1",
        port,
        decoder=framekit.LengthFieldDecoder(),
        encoder=framekit.LengthFieldEncoder(),
    )
    async with channel:
        for payload in (b"hello", b"framed", b"world", bytes(1 << 20)):
            await channel.send(payload)
            frame = await channel.receive()
            print(f"echo: {len(frame)} bytes {bytes(frame[:16])!r}")


async def main(argv: list[str]) -> None:
    port = int(argv[2]) if len(argv) > 2 else 0
    if argv[1:2] == ["server"]:
        await serve(port)
    elif argv[1:2] == ["client"]:
        await client(port)
    else:
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(serve, 0)
            await client(listeners[0].socket.getsockname()[1])
            nursery.cancel_scope.cancel()


if __name__ == "__main__":
    trio.run(main, sys.argv)
