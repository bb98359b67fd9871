"""trio: a ``trio.abc.Channel`` of frames over any byte stream; on a socket stream it receives
with ``recv_into`` straight into the decoder's storage. Needs trio (``pip install framekit[trio]``).

.. code-block:: python

    import framekit, trio
    from framekit.trio import open_tcp_framed_stream

    async with await open_tcp_framed_stream(
        "127.0.0.1", 9000,
        decoder=framekit.LengthFieldDecoder(), encoder=framekit.LengthFieldEncoder(),
    ) as channel:
        await channel.send(b"hello")
        async for frame in channel:
            print(bytes(frame))
"""

from __future__ import annotations

from typing import Any, Callable, Optional

import trio

from ._common import BytesLike, Frame
from ._io import gather

__all__ = ["FramedStream", "open_tcp_framed_stream", "serve_tcp_framed"]

RECEIVE_SIZE = 65536


class FramedStream(trio.abc.Channel[Frame]):
    """Frames over ``stream``: ``await send(payload)``, ``await receive()`` (raising
    ``trio.EndOfChannel`` at a clean end of stream, a ``FrameError`` for bad input in its
    place), ``async for``, ``aclose()``. Not for concurrent use by several tasks at once."""

    def __init__(self, stream: trio.abc.Stream, decoder: Any, encoder: Any = None) -> None:
        self.stream = stream
        self.decoder = decoder
        self.encoder = encoder
        # trio.SocketStream exposes its socket: receive into the decoder's storage directly
        self._socket: Optional[Any] = getattr(stream, "socket", None)
        self._eof = False

    async def send(self, value: BytesLike) -> None:
        for buffer in gather(self.encoder, (value,)):
            await self.stream.send_all(buffer)

    async def receive(self) -> Frame:
        while True:
            frame = self.decoder.next_frame()
            if frame is not None:
                return frame  # type: ignore[no-any-return]
            if self._eof:
                raise trio.EndOfChannel
            if self._socket is not None:
                n = await self._socket.recv_into(self.decoder.get_buffer(RECEIVE_SIZE))
                if n:
                    self.decoder.buffer_updated(n)
                    continue
            else:
                data = await self.stream.receive_some(RECEIVE_SIZE)
                if data:
                    self.decoder.feed(data)
                    continue
            self._eof = True
            self.decoder.feed_eof()  # raises what the end cuts short, unless frames come first

    async def aclose(self) -> None:
        await self.stream.aclose()


async def open_tcp_framed_stream(
    host: str, port: int, *, decoder: Any, encoder: Any = None, **kwargs: Any
) -> FramedStream:
    """Connect with ``trio.open_tcp_stream`` and frame the connection."""
    return FramedStream(await trio.open_tcp_stream(host, port, **kwargs), decoder, encoder)


async def serve_tcp_framed(
    handler: Callable[[FramedStream], Any],
    port: int,
    *,
    decoder_factory: Callable[[], Any],
    encoder_factory: Optional[Callable[[], Any]] = None,
    **kwargs: Any,
) -> None:
    """``trio.serve_tcp`` with each connection framed (its own decoder and encoder) and closed
    when ``handler`` returns."""

    async def framed(stream: trio.SocketStream) -> None:
        encoder = encoder_factory() if encoder_factory is not None else None
        async with FramedStream(stream, decoder_factory(), encoder) as channel:
            await handler(channel)

    await trio.serve_tcp(framed, port, **kwargs)
