"""anyio: a framed ``anyio.abc.ObjectStream`` over any anyio byte stream, for libraries that run
on asyncio and trio alike (``pip install framekit[anyio]``).

.. code-block:: python

    import anyio, framekit
    from framekit.anyio import connect_tcp_framed

    async with await connect_tcp_framed(
        "127.0.0.1", 9000,
        decoder=framekit.LengthFieldDecoder(), encoder=framekit.LengthFieldEncoder(),
    ) as stream:
        await stream.send(b"hello")
        async for frame in stream:
            print(bytes(frame))
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from typing import Any, Callable, Optional

import anyio
import anyio.abc

from ._adapters import BatchReceiver, adopt_pool, coalesced
from ._contract import BytesLike, Frame

__all__ = ["FramedStream", "connect_tcp_framed", "serve_tcp_framed"]

RECEIVE_SIZE = 65536


class FramedStream(BatchReceiver, anyio.abc.ObjectStream[Frame]):
    """Frames over an anyio byte stream: ``await send(payload)`` / ``send_many(payloads)``,
    ``await receive()`` (raising ``anyio.EndOfStream`` at a clean end of stream, a
    ``FrameError`` for bad input in its place) / ``receive_many()`` (every frame ready, one
    ``await`` per batch), ``async for``, ``send_eof()``, ``aclose()``; the byte stream's typed
    attributes (``stream.extra(SocketAttribute.remote_address)``). Not for concurrent use by
    several tasks at once."""

    def __init__(
        self, stream: anyio.abc.ByteStream, decoder: Any, encoder: Any = None, *, pool: Any = None
    ) -> None:
        self.stream = stream
        self._pool = pool
        adopt_pool(decoder, pool)
        self.decoder = decoder
        self.encoder = encoder

    async def send(self, item: BytesLike) -> None:
        await self.send_many((item,))

    async def send_many(self, items: Iterable[BytesLike]) -> None:
        """Frame and send several payloads, small ones together in one ``send``; nothing is
        sent if the encoder refuses one."""
        for buffer in coalesced(self.encoder, items):
            await self.stream.send(buffer)  # type: ignore[arg-type]

    async def send_eof(self) -> None:
        """Half-close: the peer sees the end of stream, and frames can still be received."""
        await self.stream.send_eof()

    async def receive(self) -> Frame:
        frames = await self.receive_many(1)
        if not frames:
            raise anyio.EndOfStream
        return frames[0]

    async def _receive_some(self) -> None:
        try:
            data = await self.stream.receive(RECEIVE_SIZE)
        except anyio.EndOfStream:
            self._end()
        else:
            self.decoder.feed(data)

    async def aclose(self) -> None:
        await self.stream.aclose()

    @property
    def extra_attributes(self) -> Mapping[Any, Callable[[], Any]]:
        return self.stream.extra_attributes


async def connect_tcp_framed(
    host: str, port: int, *, decoder: Any, encoder: Any = None, pool: Any = None, **kwargs: Any
) -> FramedStream:
    """Connect with ``anyio.connect_tcp`` (its keyword arguments too, ``tls=`` among them) and
    frame the connection."""
    stream = await anyio.connect_tcp(host, port, **kwargs)
    return FramedStream(stream, decoder, encoder, pool=pool)


async def serve_tcp_framed(
    handler: Callable[[FramedStream], Awaitable[Any]],
    port: int = 0,
    *,
    decoder_factory: Callable[[], Any],
    encoder_factory: Optional[Callable[[], Any]] = None,
    host: Optional[str] = None,
    pool: Any = None,
    task_status: anyio.abc.TaskStatus[Any] = anyio.TASK_STATUS_IGNORED,
    **kwargs: Any,
) -> None:
    """Serve with ``anyio.create_tcp_listener`` (``host``, and its other keyword arguments),
    calling ``handler(stream)`` for each connection, framed with its own decoder and encoder
    and closed when ``handler`` returns. Started with ``task_group.start()``, it reports the
    listener (``listener.extra(SocketAttribute.local_port)`` is the port)."""
    listener = await anyio.create_tcp_listener(local_host=host, local_port=port, **kwargs)

    async def framed(stream: anyio.abc.SocketStream) -> None:
        encoder = encoder_factory() if encoder_factory is not None else None
        async with FramedStream(stream, decoder_factory(), encoder, pool=pool) as channel:
            await handler(channel)

    async with listener:
        task_status.started(listener)
        await listener.serve(framed)
