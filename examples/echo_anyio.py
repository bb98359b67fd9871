"""An echo server and client on anyio: the same code runs on asyncio and on trio.

python examples/echo_anyio.py
"""

from __future__ import annotations

import anyio

import framekit
from framekit.anyio import FramedStream, connect_tcp_framed, serve_tcp_framed


async def echo(stream: FramedStream) -> None:
    while frames := await stream.receive_many():  # one await per batch
        await stream.send_many(frames)


async def main() -> None:
    async with anyio.create_task_group() as tg:
        listener = await tg.start(
            lambda task_status: serve_tcp_framed(
                echo,
                host="127.0.0.1",
                decoder_factory=framekit.LengthFieldDecoder,
                encoder_factory=framekit.LengthFieldEncoder,
                task_status=task_status,
            )
        )
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        async with await connect_tcp_framed(
            "127.0.0.1",
            port,
            decoder=framekit.LengthFieldDecoder(),
            encoder=framekit.LengthFieldEncoder(),
        ) as stream:
            await stream.send_many([b"hello", b"world"])
            print([bytes(await stream.receive()) for _ in range(2)])
        tg.cancel_scope.cancel()


if __name__ == "__main__":
    anyio.run(main)  # asyncio
    anyio.run(main, backend="trio")  # the same code on trio
