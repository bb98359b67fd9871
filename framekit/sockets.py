"""Blocking sockets: frames received with ``recv_into`` straight into the decoder's storage,
frames sent with ``sendmsg`` gathering headers and payloads without copying large ones.

.. code-block:: python

    import socket, framekit
    from framekit.sockets import iter_frames, send_frames

    sock = socket.create_connection(("127.0.0.1", 9000))
    send_frames(sock, framekit.LengthFieldEncoder(), [b"hello", b"world"])
    for frame in iter_frames(sock, framekit.LengthFieldDecoder()):
        print(bytes(frame))
"""

from __future__ import annotations

import socket
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from ._adapters import adopt_pool, gather
from ._contract import BytesLike, Frame

__all__ = ["iter_frames", "send_frame", "send_frames"]

#: sendmsg() takes at most this many buffers at once (IOV_MAX is 1024 on Linux).
_MAX_BUFFERS = 512


def iter_frames(
    sock: socket.socket, decoder: Any, *, bufsize: int = -1, pool: Any = None
) -> Iterator[Frame]:
    """Frames read from ``sock`` until a clean end of stream. Bad input raises the decoder's
    ``FrameError`` in its place; an end of stream inside a frame, ``IncompleteFrameError``.
    Each read asks the decoder for ``bufsize`` bytes of room (-1: as much as recent reads
    took); a decoder without a pool of its own gets ``pool``, by default the shared one."""
    adopt_pool(decoder, pool)
    while True:
        n = sock.recv_into(decoder.get_buffer(bufsize))
        if n == 0:
            decoder.feed_eof()
            yield from decoder
            return
        decoder.buffer_updated(n)
        yield from decoder


def send_frame(sock: socket.socket, encoder: Any, payload: BytesLike) -> None:
    """Send one frame, all of it (handling partial sends)."""
    send_frames(sock, encoder, (payload,))


def send_frames(sock: socket.socket, encoder: Any, payloads: Iterable[BytesLike]) -> None:
    """Send frames with as few system calls as ``sendmsg`` allows (``sendall`` per buffer where
    there is no ``sendmsg``: Windows), all of them; nothing is sent when the encoder refuses a
    payload."""
    buffers = deque(memoryview(b).cast("B") for b in gather(encoder, payloads))
    if not hasattr(sock, "sendmsg"):  # Windows: one sendall per buffer, still no copies
        for buffer in buffers:
            sock.sendall(buffer)
        return
    while buffers:
        sent = sock.sendmsg(list(islice(buffers, _MAX_BUFFERS)))
        while buffers and sent >= len(buffers[0]):
            sent -= len(buffers.popleft())
        if sent:
            buffers[0] = buffers[0][sent:]
