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

from collections.abc import Iterable
from typing import Any, Callable, Optional

import trio

from ._adapters import BatchReceiver, adopt_pool, coalesced
from ._contract import BytesLike, Frame
from ._protocols import ProxyHeader, ProxyProtocolDecoder
from .errors import FrameError

__all__ = ["FramedStream", "open_tcp_framed_stream", "serve_tcp_framed"]

RECEIVE_SIZE = 65536


class FramedStream(BatchReceiver, trio.abc.Channel[Frame]):
    """Frames over ``stream``: ``await send(payload)`` / ``send_many(payloads)``, ``await
    receive()`` (raising ``trio.EndOfChannel`` at a clean end of stream, a ``FrameError`` for
    bad input in its place) / ``receive_many()`` (every frame ready, one ``await`` per batch),
    ``async for``, ``send_eof()``, ``aclose()``. Not for concurrent use by several tasks at
    once."""

    def __init__(
        self, stream: trio.abc.Stream, decoder: Any, encoder: Any = None, *, pool: Any = None
    ) -> None:
        self.stream = stream
        self._pool = pool
        #: the PROXY protocol header the connection began with (serve_tcp_framed(proxy_protocol=))
        self.proxy_header: Optional[ProxyHeader] = None
        adopt_pool(decoder, pool)
        self.decoder = decoder
        self.encoder = encoder
        # trio.SocketStream exposes its socket: receive into the decoder's storage directly
        self._socket: Optional[Any] = getattr(stream, "socket", None)

    async def send(self, value: BytesLike) -> None:
        await self.send_many((value,))

    async def send_many(self, values: Iterable[BytesLike]) -> None:
        """Frame and send several payloads, small ones together in one ``send_all``; nothing
        is sent if the encoder refuses one."""
        for buffer in coalesced(self.encoder, values):
            await self.stream.send_all(buffer)

    async def send_eof(self) -> None:
        """Half-close: the peer sees the end of stream, and frames can still be received.
        ``NotImplementedError`` on a stream that cannot (not a ``trio.abc.HalfCloseableStream``,
        such as a TLS stream)."""
        if not isinstance(self.stream, trio.abc.HalfCloseableStream):
            raise NotImplementedError(
                f"{type(self.stream).__name__} cannot half-close (send_eof needs a "
                "trio.abc.HalfCloseableStream, such as trio.SocketStream)"
            )
        await self.stream.send_eof()

    async def receive(self) -> Frame:
        frames = await self.receive_many(1)
        if not frames:
            raise trio.EndOfChannel
        return frames[0]

    async def _receive_some(self) -> None:
        if self._socket is not None:
            try:
                n = await self._socket.recv_into(self.decoder.get_buffer(-1))  # to recent reads
            except OSError as exc:  # as trio.SocketStream.receive_some() says it
                raise trio.BrokenResourceError from exc
            if n:
                self.decoder.buffer_updated(n)
                return
        else:
            data = await self.stream.receive_some(RECEIVE_SIZE)
            if data:
                self.decoder.feed(data)
                return
        self._end()

    async def aclose(self) -> None:
        await self.stream.aclose()


async def open_tcp_framed_stream(
    host: str, port: int, *, decoder: Any, encoder: Any = None, pool: Any = None, **kwargs: Any
) -> FramedStream:
    """Connect with ``trio.open_tcp_stream`` and frame the connection."""
    stream = await trio.open_tcp_stream(host, port, **kwargs)
    return FramedStream(stream, decoder, encoder, pool=pool)


async def serve_tcp_framed(
    handler: Callable[[FramedStream], Any],
    port: int,
    *,
    decoder_factory: Callable[[], Any],
    encoder_factory: Optional[Callable[[], Any]] = None,
    reuse_port: bool = False,
    pool: Any = None,
    proxy_protocol: bool = False,
    task_status: Any = trio.TASK_STATUS_IGNORED,
    **kwargs: Any,
) -> None:
    """``trio.serve_tcp`` with each connection framed (its own decoder and encoder) and closed
    when ``handler`` returns. ``reuse_port=True`` sets ``SO_REUSEPORT`` on the listening socket
    (``host=`` its address, default all IPv4 ones; ``backlog=``), so that several processes can
    serve one port and the kernel spreads connections among them.

    ``proxy_protocol=True``: each connection begins with a PROXY protocol header (v1 or v2, from
    a load balancer such as HAProxy); it is read first, then ``handler`` runs with
    ``stream.proxy_header`` set (its ``source`` is the real client). A connection that does not
    begin with one is closed."""

    async def framed(stream: trio.SocketStream) -> None:
        encoder = encoder_factory() if encoder_factory is not None else None
        first = ProxyProtocolDecoder() if proxy_protocol else decoder_factory()
        async with FramedStream(stream, first, encoder, pool=pool) as channel:
            if proxy_protocol:
                try:
                    channel.proxy_header = await channel.receive()  # type: ignore[assignment]
                except (FrameError, trio.EndOfChannel):
                    return
                channel.set_decoder(decoder_factory())
            await handler(channel)

    if not reuse_port:
        await trio.serve_tcp(framed, port, task_status=task_status, **kwargs)
        return
    listener = await _reuse_port_listener(port, **kwargs)
    await trio.serve_listeners(framed, [listener], task_status=task_status)


async def _reuse_port_listener(
    port: int, *, host: str = "0.0.0.0", backlog: int = 4096
) -> trio.SocketListener:
    import socket

    sock = trio.socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        await sock.bind((host, port))
        sock.listen(backlog)
    except BaseException:
        sock.close()
        raise
    return trio.SocketListener(sock)
