"""asyncio (and uvloop): a ``BufferedProtocol`` that receives into the decoder's storage, and
stream-style ``open_connection`` / ``start_server`` in the manner of asyncio's own.

.. code-block:: python

    import framekit
    from framekit.asyncio import open_connection

    reader, writer = await open_connection(
        "127.0.0.1", 9000,
        decoder=framekit.LengthFieldDecoder(), encoder=framekit.LengthFieldEncoder(),
    )
    writer.write_frame(b"hello")
    await writer.drain()
    async for frame in reader:
        print(bytes(frame))
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Coroutine, Iterable
from typing import Any, Callable, Optional, Union

from ._adapters import adopt_pool, gather, hand_over, ready_frames
from ._contract import BytesLike, Frame, check_max_frames
from ._protocols import ProxyHeader, ProxyProtocolDecoder
from .errors import CorruptFrameError, FrameError

__all__ = ["FrameReader", "FrameWriter", "FramedProtocol", "open_connection", "start_server"]

#: Reading pauses while the decoder holds more bytes than this and the reader is busy ...
DEFAULT_HIGH_WATER = 256 * 1024
#: ... and resumes once fewer than this are.
DEFAULT_LOW_WATER = 64 * 1024


class FramedProtocol(asyncio.BufferedProtocol):
    """Receives through ``decoder.get_buffer()`` (no copy on the way in) and calls
    :meth:`frame_received` for each frame, :meth:`frame_error` for bad input. Subclass it::

        class Echo(FramedProtocol):
            def frame_received(self, frame):
                self.send_frame(frame)

        await loop.create_server(lambda: Echo(LengthFieldDecoder(), LengthFieldEncoder()), ...)

    A frame is valid for as long as it is held (the decoder never reuses memory a frame views).
    At the end of stream, frames the end completes are delivered, an incomplete frame reaches
    :meth:`frame_error`, and the transport is closed (return True from :meth:`eof_received` in a
    subclass to keep writing). :meth:`set_decoder` switches protocols mid-stream.
    """

    # (slots: a server holds one per connection; a subclass without them gets a __dict__)
    __slots__ = (
        "__weakref__",
        "_delivering",
        "_eof",
        "_pool",
        "_region_open",
        "decoder",
        "encoder",
        "transport",
    )

    def __init__(self, decoder: Any, encoder: Any = None, *, pool: Any = None) -> None:
        self._eof = False  # the end of stream has come
        self._delivering = False
        # the decoder of a get_buffer() region, until buffer_updated() or the loop's next turn
        self._region_open: Any = None
        self._pool = pool
        adopt_pool(decoder, pool)
        self.decoder = decoder
        self.encoder = encoder
        self.transport: Optional[asyncio.Transport] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def get_buffer(self, sizehint: int) -> memoryview:
        """The decoder's own storage, for the transport to receive into: as much as recent
        reads took (SPEC §9), whatever the transport suggests (uvloop asks for 64 KiB each
        time, which a server with many connections would hold while its readers are busy)."""
        decoder = self.decoder
        if self._region_open is None and not decoder.buffered:
            # uvloop asks again after a read that filled the region, finds nothing to read and
            # says nothing: the region, and the storage under it, would stay with an idle
            # connection. Once the loop has moved on, the region is given back.
            self._region_open = decoder
            asyncio.get_running_loop().call_soon(self._region_unused)
        return decoder.get_buffer(-1)  # type: ignore[no-any-return]

    def _region_unused(self) -> None:
        decoder, self._region_open = self._region_open, None
        if decoder is not None and decoder is self.decoder:
            # (ValueError: the region is gone already; the end of stream took it back)
            with contextlib.suppress(ValueError):
                decoder.buffer_updated(0)

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` arrived: deliver every frame they complete."""
        self._region_open = None
        self.decoder.buffer_updated(nbytes)
        self._deliver()

    def eof_received(self) -> Optional[bool]:
        self._eof = True
        try:
            self.decoder.feed_eof()
        except FrameError as exc:
            self.frame_error(exc)
        else:
            self._deliver()
        return None

    def set_decoder(self, decoder: Any) -> None:
        """Frame the rest of the stream with ``decoder`` (a PROXY header, then the protocol;
        PostgreSQL's startup packet, then its messages; an HTTP upgrade, then WebSocket): it
        gets every byte after the last frame delivered, those already received included.
        Called from :meth:`frame_received`, it applies from the next frame."""
        error = hand_over(self.decoder, decoder, self._eof, self._pool)
        self.decoder = decoder
        if error is not None:
            self.frame_error(error)
        elif not self._delivering:
            self._deliver()

    def _deliver(self) -> None:
        self._delivering = True
        try:
            while True:
                try:
                    self._take_ready()
                    return
                except FrameError as exc:
                    self.frame_error(exc)
                    if isinstance(exc, CorruptFrameError) or self._closing():
                        return
        finally:
            self._delivering = False

    def _take_ready(self) -> None:
        """Hand on every frame the decoder has ready (a FrameError stops it, in its place);
        after a set_decoder() from frame_received(), the new decoder's."""
        while True:
            decoder = self.decoder
            for frame in decoder:
                self.frame_received(frame)
                if self.decoder is not decoder:
                    break
            if self.decoder is decoder:
                return

    def _closing(self) -> bool:
        return self.transport is None or self.transport.is_closing()

    def frame_received(self, frame: Frame) -> None:
        """Called for each frame, in order."""

    def frame_error(self, exc: FrameError) -> None:
        """Called for bad input, in its place in the stream; by default closes the transport.
        (A ``FrameTooLongError`` is recoverable: override to log it and go on.)"""
        if self.transport is not None:
            self.transport.close()

    def send_frame(self, payload: BytesLike) -> None:
        """Frame ``payload`` with the encoder and write it (large payloads are not copied)."""
        self.send_frames((payload,))

    def send_frames(self, payloads: Iterable[BytesLike]) -> None:
        """Frame and write several payloads at once; nothing if the encoder refuses one."""
        assert self.transport is not None, "not connected"
        self.transport.writelines(gather(self.encoder, payloads))


class _StreamProtocol(FramedProtocol):
    """The connection under a FrameReader and a FrameWriter, with flow control both ways.
    Frames stay in the decoder until the reader takes them, so that set_decoder() can hand on
    every byte after the last frame read; reading pauses while more than ``high_water`` bytes
    are held and the reader is busy, and resumes once it has taken them down to ``low_water``
    (or needs more bytes to complete a frame)."""

    __slots__ = (
        "_closed",
        "_connected",
        "_dead",
        "_end_error",
        "_high_water",
        "_lost",
        "_low_water",
        "_pending",
        "_readable",
        "_reading_paused",
        "_task",
        "_writable",
        "proxy_header",
    )

    def __init__(
        self,
        decoder: Any,
        encoder: Any,
        high_water: int,
        low_water: int,
        connected: Optional[Callable[[FrameReader, FrameWriter], Any]] = None,
        pool: Any = None,
    ) -> None:
        super().__init__(decoder, encoder, pool=pool)
        self._high_water = high_water
        self._low_water = low_water
        self._reading_paused = False
        self._lost: Optional[BaseException] = None
        self._end_error: Optional[FrameError] = None  # what the end of stream cut short
        self._pending: Optional[FrameError] = None  # raised by the read after the frames before it
        self._dead = False  # corrupt: the reader has had its error, and reads nothing more
        self._closed = asyncio.get_running_loop().create_future()
        self._readable: Optional[asyncio.Future[None]] = None
        self._writable: Optional[asyncio.Future[None]] = None
        self._connected = connected
        self._task: Optional[asyncio.Task[Any]] = None
        #: the PROXY protocol header the connection began with (start_server(proxy_protocol=))
        self.proxy_header: Optional[ProxyHeader] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self._connected is not None:
            try:
                result = self._connected(FrameReader(self), FrameWriter(self))
            except Exception as exc:
                self._callback_failed(exc)
                return
            if asyncio.iscoroutine(result):
                self._task = asyncio.get_running_loop().create_task(result)
                self._task.add_done_callback(self._callback_done)

    def _callback_done(self, task: asyncio.Task[Any]) -> None:
        # as asyncio.start_server does: an error is reported, and the connection closed
        if task.cancelled():
            if self.transport is not None:
                self.transport.close()
            return
        exc = task.exception()
        if exc is not None:
            self._callback_failed(exc)

    def _callback_failed(self, exc: BaseException) -> None:
        asyncio.get_running_loop().call_exception_handler(
            {
                "message": "Unhandled exception in client_connected_cb",
                "exception": exc,
                "transport": self.transport,
            }
        )
        if self.transport is not None:
            self.transport.close()

    def _take_ready(self) -> None:
        # the reader takes the frames; here, only wake it, and stop reading while it is busy
        # and much is held
        readable = self._readable
        if readable is not None and not readable.done():
            readable.set_result(None)  # (it resumes reading if it needs more to go on)
        elif (
            not self._reading_paused
            and self.decoder.buffered > self._high_water
            and not self._closing()
        ):
            assert self.transport is not None
            self.transport.pause_reading()
            self._reading_paused = True

    def frame_error(self, exc: FrameError) -> None:
        self._end_error = exc  # (feed_eof's, or a new decoder's at the end)
        self._wake()

    def eof_received(self) -> bool:
        super().eof_received()
        self._wake()
        return True  # half-close: this side may still write, as with asyncio streams

    def set_decoder(self, decoder: Any) -> None:
        error = hand_over(self.decoder, decoder, self._eof, self._pool)
        self._end_error = error or self._end_error
        self.decoder = decoder
        self._wake()

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self._eof = True
        self._lost = exc
        if not self._closed.done():
            self._closed.set_result(None)
        self._wake()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        self._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    def _wake(self) -> None:
        if self._readable is not None and not self._readable.done():
            self._readable.set_result(None)

    def next_ready(self) -> Optional[Frame]:
        """The next frame if one is ready (None if not), or the error in its place."""
        if self._pending is not None:
            error, self._pending = self._pending, None
            raise error
        if self._dead:
            return None
        try:
            frame = self.decoder.next_frame()
        except CorruptFrameError:
            self._corrupted()
            raise
        if self._reading_paused:
            self._taken()
        return frame  # type: ignore[no-any-return]

    def ready(self, most: Optional[int]) -> list[Frame]:
        """Every frame ready (at most ``most``); an error after some waits for the next call."""
        if self._pending is not None:
            error, self._pending = self._pending, None
            raise error
        if self._dead:
            return []
        try:
            frames, self._pending = ready_frames(self.decoder, most)
        except CorruptFrameError:
            self._corrupted()
            raise
        if isinstance(self._pending, CorruptFrameError):
            self._corrupted()
        if self._reading_paused:
            self._taken()
        return frames

    def _corrupted(self) -> None:
        # the reader gets the error once; then the stream ends, and the connection is closed
        self._dead = True
        if self.transport is not None:
            self.transport.close()

    def _taken(self) -> None:
        if self.decoder.buffered < self._low_water and not self._closing():
            assert self.transport is not None
            self.transport.resume_reading()
            self._reading_paused = False

    def more(self) -> Optional[asyncio.Future[None]]:
        """A future done when more bytes come, to await; None at the end of stream (raising
        what the end cut short, or the error the connection was lost to). (A future, not a
        coroutine: an idle connection's reader then keeps one coroutine less.)"""
        if self._eof or self._dead:
            if self._end_error is not None:
                error, self._end_error = self._end_error, None
                raise error
            if self._lost is not None and not self._dead:
                raise self._lost
            return None
        if self._reading_paused and not self._closing():
            assert self.transport is not None
            self.transport.resume_reading()  # a frame longer than the mark needs its rest
            self._reading_paused = False
        # (done, or cancelled with the task awaiting it, it is replaced by the next call)
        self._readable = asyncio.get_running_loop().create_future()
        return self._readable

    async def read_many(self, most: Optional[int]) -> list[Frame]:
        while True:
            frames = self.ready(most)
            if frames:
                return frames
            more = self.more()
            if more is None:
                return frames
            await more

    async def drain(self) -> None:
        if self._lost is not None:
            raise ConnectionResetError("connection lost") from self._lost
        if self.transport is not None and self.transport.is_closing():
            await asyncio.sleep(0)  # let connection_lost run, as asyncio streams do
        if self._writable is not None:
            await self._writable


class FrameReader:
    """Frames from a connection: ``await read_frames()`` (every frame ready, one ``await`` per
    batch), ``await read_frame()``, or ``async for frame in reader``; ``set_decoder()`` to
    switch protocols mid-stream."""

    __slots__ = ("__weakref__", "_protocol")

    def __init__(self, protocol: _StreamProtocol) -> None:
        self._protocol = protocol

    def read_frames(self, max_frames: Optional[int] = None) -> Coroutine[Any, Any, list[Frame]]:
        """``await`` it: every frame ready now (at most ``max_frames``), at least one, waiting
        when none is; ``[]`` at a clean end of stream. A ``FrameError`` for bad input is raised
        by the call after the one that returns the frames before it. (It returns the protocol's
        coroutine itself: a reader waiting on an idle connection holds one coroutine less.)"""
        if max_frames is not None:
            max_frames = check_max_frames(max_frames)
        return self._protocol.read_many(max_frames)

    async def read_frame(self) -> Frame:
        """The next frame. ``EOFError`` at a clean end of stream; a ``FrameError`` for bad
        input, in its place (after the frames before it)."""
        protocol = self._protocol
        while True:
            frame = protocol.next_ready()
            if frame is not None:
                return frame
            more = protocol.more()
            if more is None:
                raise EOFError("end of stream")
            await more

    def set_decoder(self, decoder: Any) -> None:
        """Frame the rest of the stream with ``decoder``: from the byte after the last frame
        read, those already received included. Switch after ``read_frame()`` or within
        ``async for`` (a frame at a time); ``read_frames()`` takes every frame ready, and so
        reads on with the old decoder."""
        self._protocol.set_decoder(decoder)

    @property
    def decoder(self) -> Any:
        """The decoder in use."""
        return self._protocol.decoder

    def __aiter__(self) -> AsyncIterator[Frame]:
        return self

    async def __anext__(self) -> Frame:
        protocol = self._protocol
        while True:
            frame = protocol.next_ready()
            if frame is not None:
                return frame
            more = protocol.more()
            if more is None:
                raise StopAsyncIteration
            await more

    @property
    def buffered(self) -> int:
        """Bytes received and not read yet (held by the decoder)."""
        return self._protocol.decoder.buffered  # type: ignore[no-any-return]

    @property
    def proxy_header(self) -> Optional[ProxyHeader]:
        """The PROXY protocol header the connection began with, when the server was started
        with ``proxy_protocol=True`` (its ``source`` is the real client); else None."""
        return self._protocol.proxy_header


class FrameWriter:
    """Frames to a connection: ``write_frame(s)``, ``await drain()``, ``close()``."""

    __slots__ = ("__weakref__", "_protocol", "transport")

    def __init__(self, protocol: _StreamProtocol) -> None:
        self._protocol = protocol
        assert protocol.transport is not None
        self.transport = protocol.transport

    def write_frame(self, payload: BytesLike) -> None:
        """Frame ``payload`` with the encoder and write it."""
        self._protocol.send_frames((payload,))

    def write_frames(self, payloads: Iterable[BytesLike]) -> None:
        """Frame and write several payloads at once; nothing if the encoder refuses one."""
        self._protocol.send_frames(payloads)

    def write(self, data: BytesLike) -> None:
        """Write raw bytes, not framed (a handshake, a protocol header), in order with frames."""
        self.transport.write(data)

    def writelines(self, buffers: Iterable[BytesLike]) -> None:
        """Write several raw buffers, not framed."""
        self.transport.writelines(buffers)

    async def drain(self) -> None:
        """Wait until the transport's write buffer is below its high-water mark."""
        await self._protocol.drain()

    def write_eof(self) -> None:
        self.transport.write_eof()

    def can_write_eof(self) -> bool:
        return self.transport.can_write_eof()

    def close(self) -> None:
        self.transport.close()

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    async def wait_closed(self) -> None:
        await self._protocol._closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """As the transport's; behind a PROXY protocol header, ``"peername"`` is the real
        client's address (the header's ``source``) when it names one."""
        header = self._protocol.proxy_header
        if name == "peername" and header is not None and header.source is not None:
            return header.source
        return self.transport.get_extra_info(name, default)


async def open_connection(
    host: Optional[str] = None,
    port: Optional[int] = None,
    *,
    decoder: Any,
    encoder: Any = None,
    high_water: int = DEFAULT_HIGH_WATER,
    low_water: int = DEFAULT_LOW_WATER,
    pool: Any = None,
    **kwargs: Any,
) -> tuple[FrameReader, FrameWriter]:
    """Connect, as ``asyncio.open_connection`` does (``sock=`` a connected socket instead of
    ``host`` and ``port``), and return a (FrameReader, FrameWriter)."""
    loop = asyncio.get_running_loop()
    address: Any = (host, port)  # (None, None) with sock=
    _, protocol = await loop.create_connection(
        lambda: _StreamProtocol(decoder, encoder, high_water, low_water, pool=pool),
        *address,
        **kwargs,
    )
    return FrameReader(protocol), FrameWriter(protocol)


async def start_server(
    client_connected_cb: Callable[[FrameReader, FrameWriter], Union[Awaitable[None], None]],
    host: Any = None,
    port: Optional[int] = None,
    *,
    decoder_factory: Callable[[], Any],
    encoder_factory: Optional[Callable[[], Any]] = None,
    high_water: int = DEFAULT_HIGH_WATER,
    low_water: int = DEFAULT_LOW_WATER,
    pool: Any = None,
    proxy_protocol: bool = False,
    **kwargs: Any,
) -> asyncio.Server:
    """Serve, as ``asyncio.start_server`` does: ``client_connected_cb(reader, writer)`` is called
    (or scheduled, when it is a coroutine function) for each connection, each with its own
    decoder and encoder from the factories.

    ``proxy_protocol=True``: each connection begins with a PROXY protocol header (v1 or v2, from
    a load balancer such as HAProxy); it is read first, then the callback runs with
    ``reader.proxy_header`` set and ``writer.get_extra_info("peername")`` the real client. A
    connection that does not begin with one is closed."""
    loop = asyncio.get_running_loop()
    if proxy_protocol:
        client_connected_cb, decoder_factory = _behind_proxy(client_connected_cb, decoder_factory)

    def factory() -> _StreamProtocol:
        encoder = encoder_factory() if encoder_factory is not None else None
        return _StreamProtocol(
            decoder_factory(), encoder, high_water, low_water, client_connected_cb, pool
        )

    return await loop.create_server(factory, host, port, **kwargs)


def _behind_proxy(
    callback: Callable[[FrameReader, FrameWriter], Union[Awaitable[None], None]],
    decoder_factory: Callable[[], Any],
) -> tuple[Callable[[FrameReader, FrameWriter], Awaitable[None]], Callable[[], Any]]:
    """A callback that reads the PROXY header first, then frames the rest with the decoder."""

    async def connected(reader: FrameReader, writer: FrameWriter) -> None:
        try:
            header = await reader.read_frame()
        except (FrameError, EOFError):
            writer.close()
            return
        reader._protocol.proxy_header = header  # type: ignore[assignment]
        reader.set_decoder(decoder_factory())
        result = callback(reader, writer)
        if inspect.isawaitable(result):
            await result

    return connected, ProxyProtocolDecoder
