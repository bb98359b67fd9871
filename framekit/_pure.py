"""The pure-Python twin of ``framekit._core``: the same public API, the same frames and errors.

It is the reference the Cython core is tested against, and what runs where no compiler exists.
The engine's logic is ``_engine.py``, which both builds run (the core compiles it); what is here
is this build's kernels over memory (storage, cutting a frame, its batches) and the decoder
classes.

How bytes are held. A decoder has two places for bytes that are not yet part of a frame, in stream
order: its own *store* (a ``bytearray``, bytes ``[rpos, wpos)``) and one *chunk*, an immutable
``bytes`` object that was fed and is framed in place (bytes ``[cpos, len)``). Frames are read-only
memoryview slices of one or the other. The store is never written where a live frame views it:
before the store is compacted or grown, its read-only view is released and the ``bytearray`` is
resized, which CPython refuses (``BufferError``) while any frame still views it; the decoder then
moves on to a fresh ``bytearray`` and leaves the old one to the frames that hold it. PyPy resizes a
``bytearray`` under its views, so there the twin cannot tell and assumes a view is alive: it moves
on to fresh storage every time, and never gives pooled storage back while the decoder lives.
"""

from __future__ import annotations

import array
import ctypes
import struct
import sys
import threading
from collections.abc import Iterable, Iterator
from itertools import chain, repeat
from operator import add
from typing import Any, Callable, Optional, Union

from . import _contract as C
from . import _protocols as P
from ._contract import PoolStats, SlabRecord
from ._engine import (
    PARSE_CORRUPT,
    PARSE_HUGE,
    PARSE_RAISED,
    RULE_ASK,
    asked_before,
    before_feed,
    before_index,
    complete_frame,
    cut_next,
    decode_all,
    delimited_eof_error,
    detach_rest,
    end_of_stream,
    end_of_stream_error,
    grown,
    held,
    raise_first_error,
    region_size,
    region_written,
    reset_state,
    rule_answered,
    settle_delimited,
    take,
    trim_past_frame,
)
from ._protocols import (
    ChunkedRule,
    JsonStreamRule,
    NetstringRule,
    OctetCountingRule,
    ProxyProtocolDecoder,
    RespRule,
    WebSocketFrame,
    WebSocketRule,
    unmask,
)
from .errors import (
    CorruptFrameError,
    DoubleFreeError,
    FrameError,
    FrameTooLongError,
    PoolExhaustedError,
    StaleHandleError,
)

__all__ = [
    "BufferPool",
    "ChunkedRule",
    "DelimiterDecoder",
    "DelimiterEncoder",
    "FixedLengthDecoder",
    "JsonStreamRule",
    "LengthFieldDecoder",
    "LengthFieldEncoder",
    "LineDecoder",
    "NetstringRule",
    "OctetCountingRule",
    "PooledBuffer",
    "ProxyProtocolDecoder",
    "RespRule",
    "RuleDecoder",
    "Slab",
    "SlabRecord",
    "VarintLengthDecoder",
    "VarintLengthEncoder",
    "WebSocketFrame",
    "WebSocketRule",
    "unmask",
]

_Buf = Union[bytes, bytearray]
#: At most this many frames are cut at once: fewer than the cyclic GC's first threshold (700
#: allocations), so that frames alive together are not promoted to older generations.
_BATCH = range(256)


def _as_bytes(data: object) -> bytes:
    """Bytes of any C-contiguous buffer (a copy, unless ``data`` already is ``bytes``)."""
    if type(data) is bytes:
        return data
    try:
        view = memoryview(data)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(C.msg_not_buffer(data)) from None
    if not view.c_contiguous:
        raise TypeError(C.msg_not_buffer(data))
    return view.tobytes()


class _FrameDecoder:
    """Storage, feeding, errors and end of stream; subclasses give the framing rule (``_parse``)."""

    __slots__ = (
        "_batch",
        "_batch_extra",
        "_batch_iter",
        "_batch_sizes",
        "_batch_wire",
        "_chunk",
        "_chunk_view",
        "_clen",
        "_config",
        "_copy",
        "_corrupt",
        "_cpos",
        "_delimiter_length",
        "_discard",
        "_discard_error",
        "_discarded",
        "_discarding",
        "_droppable",
        "_eof",
        "_fail_fast",
        "_in",
        "_max_frame_length",
        "_max_total",
        "_pending",
        "_pool",
        "_raised",
        "_read_size",
        "_retired",
        "_rpos",
        "_scanned",
        "_small_reads",
        "_start",
        "_starved",
        "_store",
        "_store_view",
        "_trim",
        "_window",
        "_window_refs",
        "_wpos",
    )

    _config: tuple[tuple[str, object], ...]  # the constructor's arguments, for repr()
    # set by the engine's reset_state(), in every build:
    _read_size: int  # get_buffer(-1)'s region, from recent reads
    _small_reads: int  # reads in a row that a smaller region would have held
    _starved: bool  # the store holds at most one incomplete frame, and no chunk
    _discard: int  # bytes of an oversized frame still to be discarded
    _discard_error: Optional[FrameTooLongError]  # raised once discarding ends
    _discarding: bool  # dropping a too-long delimited frame until its delimiter
    _discarded: int  # bytes of it dropped so far
    _pending: Optional[FrameError]  # raised before anything else is returned
    _corrupt: Optional[CorruptFrameError]
    _eof: bool

    def __repr__(self) -> str:
        return C.config_repr(self, self._config)

    def __init__(
        self,
        max_frame_length: int,
        fail_fast: bool,
        copy: bool,
        max_total: Optional[int] = None,
        pool: Optional[BufferPool] = None,
    ) -> None:
        self.pool = pool
        self._retired: list[PooledBuffer] = []  # pooled stores that frames still view
        self._max_frame_length = max_frame_length
        # a wire length above this is too long (delimited frames bound their content instead)
        self._max_total = max_frame_length if max_total is None else max_total
        self._fail_fast = bool(fail_fast)
        self._copy = bool(copy)
        self._store = bytearray()
        self._store_view: Optional[memoryview] = None
        self._rpos = 0
        self._wpos = 0
        self._chunk: Optional[bytes] = None
        self._chunk_view: Optional[memoryview] = None
        self._cpos = 0
        self._clen = 0
        self._in = b""  # feed(): the bytes being taken, while it runs
        self._window: Optional[memoryview] = None
        self._window_refs = 0  # references to the store before the window was cut from it
        self._start = 0  # where the delivered part of the frame just parsed begins
        self._trim = 0  # bytes at its end that are not delivered (a stripped delimiter)
        self._delimiter_length = 0  # the delimiter ending it
        self._droppable = 0  # set with PARSE_OVERSIZED: bytes at the read position to drop now
        self._batch: list[C.Frame] = []  # frames cut at once, handed out by _batch_iter
        self._batch_iter: Optional[Iterator[C.Frame]] = None
        self._batch_wire: Optional[memoryview] = None
        self._raised: Optional[BaseException] = None
        self._clear()

    def _clear(self) -> int:
        reset_state(self)
        return 0

    # --- the framing rule ----------------------------------------------------------------------

    def _parse(self, buf: _Buf, pos: int, end: int) -> int:
        """The wire length of the frame starting at ``pos``; ``-n`` if its header needs ``n``
        more bytes (-1: at least one); or ``PARSE_OVERSIZED`` with ``self._droppable`` set when the
        frame is certainly too long and that many of its bytes can be dropped now. Sets
        ``self._start`` and ``self._trim``. Raises ``CorruptFrameError``."""
        raise NotImplementedError

    def _huge_length(self) -> int:
        """The length of the payload _parse() found too long (``PARSE_HUGE``)."""
        raise AssertionError("only a protocol's rule reports a payload too long")

    def _huge_wire(self) -> int:
        """The wire bytes of the frame whose payload is too long (``PARSE_HUGE``)."""
        raise AssertionError("only a protocol's rule reports a payload too long")

    def _eof_error(self) -> Optional[FrameError]:
        """What the end of stream makes of the bytes held (None: nothing); they are dropped."""
        return end_of_stream_error(self)

    def _corrupt_error(self) -> CorruptFrameError:
        """The error of the frame _parse() found corrupt: the rule raised it."""
        err, self._raised = self._raised, None
        assert isinstance(err, CorruptFrameError)
        return err

    # --- the kernels the engine's decisions (_engine.py) take from this build -----------------

    def _parse_held(self) -> int:
        """The rule's answer at the read position in the store."""
        return self._answer(self._store, self._rpos, self._wpos)

    def _parse_chunk(self) -> int:
        """The rule's answer at the read position in the chunk."""
        assert self._chunk is not None
        return self._answer(self._chunk, self._cpos, self._clen)

    def _answer(self, buf: _Buf, pos: int, end: int) -> int:
        """_parse(), with a corrupt stream answered PARSE_CORRUPT, as the core's kernels answer
        it (the rule's error kept for _corrupt_error())."""
        try:
            return self._parse(buf, pos, end)
        except CorruptFrameError as err:
            self._raised = err
            return PARSE_CORRUPT

    def _held_bytes(self) -> bytes:
        """The bytes held in the store, from the read position."""
        return bytes(self._store[self._rpos : self._wpos])

    @property
    def pool(self) -> Optional[BufferPool]:
        """The :class:`BufferPool` the storage comes from (None: plain memory). May be set at
        any time; storage taken after that comes from the new pool."""
        return self._pool

    @pool.setter
    def pool(self, pool: Optional[BufferPool]) -> None:
        if pool is not None and not isinstance(pool, BufferPool):
            raise TypeError(f"pool must be a framekit._pure.BufferPool, not {type(pool).__name__}")
        self._pool = pool

    # --- public interface ----------------------------------------------------------------------

    @property
    def buffered(self) -> int:
        """Bytes held that are not yet part of a returned frame."""
        return held(self)

    def feed(self, data: C.BytesLike) -> None:
        """Take the next bytes of the stream. ``bytes`` are framed in place; others are copied."""
        before_feed(self)
        owner = data if type(data) is bytes else None  # framed in place; others are copied
        self._in = _as_bytes(data)
        try:
            take(self, owner, len(self._in))
        finally:
            self._in = b""

    def next_frame(self) -> Optional[C.Frame]:
        """The next complete frame, or ``None`` when more data is needed."""
        if self._batch_iter is not None:
            frame = next(self._batch_iter, None)
            if frame is not None:
                return frame
            self._end_batch()
        return cut_next(self)

    #: next_frame(), as the engine calls it (the core's name). A decoder that makes its frames
    #: of these overrides _next(), as in the core: see __init_subclass__
    _next = next_frame

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_next" in vars(cls):
            # its frames are _next()'s (_protocol_decoders.py): next_frame() and iteration go
            # through it, one frame at a time
            cls.next_frame = _FrameDecoder._through_next  # type: ignore[method-assign]
            cls._cut_batch = _FrameDecoder._cut_batch  # type: ignore[method-assign]

    def _through_next(self) -> Any:
        """The next complete frame, or ``None`` when more data is needed."""
        return self._next()

    def _cut_held(self, pos: int, total: int) -> C.Frame:
        """The frame of ``total`` wire bytes at ``pos``, the read position in the store: a view
        of its delivered bytes (``copy``: ``bytes``). The read position moves past it."""
        self._rpos = pos + total
        return self._store_frame(pos + self._start, pos + total - self._trim)

    def _cut_chunk(self, pos: int, total: int) -> C.Frame:
        """The same in the chunk."""
        self._cpos = pos + total
        if self._copy:
            assert self._chunk is not None
            return self._chunk[pos + self._start : pos + total - self._trim]
        assert self._chunk_view is not None
        return self._chunk_view[pos + self._start : pos + total - self._trim]

    def __iter__(self) -> Iterator[C.Frame]:
        """Yield complete frames until more data is needed."""
        return chain.from_iterable(self._batches())

    def __next__(self) -> C.Frame:
        """The next complete frame; ``StopIteration`` when more data is needed."""
        frame = self.next_frame()
        if frame is None:
            raise StopIteration
        return frame

    def _batches(self) -> Iterator[Iterator[C.Frame]]:
        """Frames in batches: all the complete frames that lie in the buffer at the read position
        are cut at once (``_cut_batch``) and handed out through one list iterator, which
        next_frame() draws from too, so frames keep their order however they are taken. What a
        batch cannot hold (errors, frames across feeds) comes one at a time from next_frame()."""
        while True:
            if (
                self._batch_iter is None
                and self._pending is None
                and self._corrupt is None
                and not self._discarding
            ):
                if self._rpos < self._wpos:
                    view = self._store_view
                    if view is None:
                        view = self._store_view = memoryview(self._store).toreadonly()
                    end, frames = self._cut_batch(self._store, view, self._rpos, self._wpos)
                    if frames:
                        self._start_batch(frames)
                        self._batch_wire = view[self._rpos : end]
                        self._rpos = end
                elif self._chunk is not None:
                    assert self._chunk_view is not None
                    end, frames = self._cut_batch(
                        self._chunk, self._chunk_view, self._cpos, len(self._chunk)
                    )
                    if frames:
                        self._start_batch(frames)
                        self._batch_wire = self._chunk_view[self._cpos : end]
                        self._cpos = end
                batch = self._batch_iter
                if batch is not None:
                    yield batch
                    if self._batch_iter is batch:  # drawn to its end
                        self._end_batch()
                    continue
            frame = self.next_frame()
            if frame is None:
                return
            yield iter((frame,))

    def _cut_batch(
        self, buf: _Buf, view: memoryview, pos: int, end: int
    ) -> tuple[int, list[C.Frame]]:
        """The complete, valid frames from ``pos`` that need no more than ``buf`` holds, in
        order, and where they end; ``self._batch_sizes`` gets the wire size of each. Anything
        else (an error, a frame not complete) stops the batch, for next_frame() to handle."""
        return pos, []

    def _start_batch(self, frames: list[C.Frame]) -> None:
        self._batch = frames
        self._batch_iter = iter(frames)
        self._scanned = 0

    def _batch_left(self) -> int:
        """How many cut frames are still to be returned."""
        if self._batch_iter is None:
            return 0
        return self._batch_iter.__length_hint__()  # type: ignore[attr-defined, no-any-return]

    def _forget_frames(self) -> None:
        """Drop the frames cut and not yet handed out (an iteration in progress ends)."""
        self._batch.clear()
        self._end_batch()

    def _batch_bytes(self) -> int:
        """The wire bytes of the frames cut and not yet handed out."""
        left = self._batch_left()
        return sum(self._batch_sizes[-left:]) + left * self._batch_extra if left else 0

    def _end_batch(self) -> None:
        self._batch = []
        self._batch_iter = None
        self._batch_sizes: list[int] = []  # wire bytes of each frame of the batch,
        self._batch_extra = 0  # and how many more each has (its delimiter)
        self._batch_wire = None  # the bytes the batch was cut from

    def _batch_rest(self) -> bytes:
        """The wire bytes of the frames cut and not yet returned (detach() hands them on)."""
        left = self._batch_left()
        if not left:
            return b""
        assert self._batch_wire is not None
        return bytes(self._batch_wire[len(self._batch_wire) - self._batch_bytes() :])

    def decode(self, data: C.BytesLike) -> list[C.Frame]:
        """``feed(data)``, then all complete frames. An error met after k >= 1 frames is raised by
        the next call instead, after those frames are returned."""
        return decode_all(self, data)

    def index(self, data: C.BytesLike) -> tuple[memoryview, int]:
        """The positions of every complete frame in ``data``, without a Python object per
        frame: ``(positions, consumed)``, ``positions`` a read-only memoryview of format
        ``"q"`` holding the start and end of each frame's delivered bytes within ``data``,
        ``consumed`` the bytes those frames occupy. It stops before the first incomplete
        frame, and before a bad one after others; a bad frame first raises its error, as
        ``next_frame()`` would. The decoder must hold nothing, and is not changed."""
        before_index(self)
        buf = _as_bytes(data)
        positions = array.array("q")
        append = positions.append
        pos, end = 0, len(buf)
        max_total = self._max_total
        try:
            while pos < end:
                try:
                    total = self._parse(buf, pos, end)
                except CorruptFrameError:
                    break
                if total < 0 or total > max_total or total > end - pos:
                    break
                append(pos + self._start)
                append(pos + total - self._trim)
                pos += total
                self._scanned = 0
        finally:
            self._scanned = 0
        if not positions and pos < end:
            raise_first_error(self, data)
        return memoryview(positions).toreadonly(), pos

    def get_buffer(self, sizehint: int = -1) -> memoryview:
        """A writable region of the decoder's storage for ``recv_into``; see ``buffer_updated``.

        When a frame's length is known and its bytes have not all arrived, the region is where the
        rest of that frame will live, large enough to hold all of it."""
        want = region_size(self, sizehint)
        self._reserve(want)
        self._window_refs = _refs(self._store)
        self._window = memoryview(self._store)[self._wpos : self._wpos + want]
        return self._window

    def buffer_updated(self, nbytes: int) -> None:
        """``nbytes`` bytes were written at the start of the region ``get_buffer()`` returned."""
        region_written(self, nbytes)

    def feed_eof(self) -> None:
        """End of stream. Raises the error it causes at once when nothing complete comes before
        it; otherwise ``next_frame()`` returns what comes first and then raises it."""
        end_of_stream(self)

    def reset(self) -> None:
        """Drop all buffered data and any error state; the decoder is as new."""
        self._clear()

    def detach(self) -> bytes:
        """The bytes received and not yet returned as frames, in stream order (complete frames
        not yet taken included; what was dropped of a too-long frame not), for another decoder
        to go on with; this one is then reset. Frames returned before stay valid."""
        return detach_rest(self)

    # --- internals -----------------------------------------------------------------------------

    def _check_usable(self) -> None:
        if self._corrupt is not None:
            raise self._corrupt

    def _release_storage(self) -> None:
        """Nothing is held: give the storage back (SPEC §9). Frames still viewing it keep it
        alive; pooled storage goes back to its pool when they go (collected, the pool forgets
        it)."""
        store = self._store
        self._store = bytearray()
        self._store_view = None
        self._rpos = self._wpos = 0
        for buf in [*self._retired, store]:
            if isinstance(buf, PooledBuffer) and not buf.released:
                self._give_back(buf)
        self._retired = []

    def _adopt(self, owner: bytes, pos: int, n: int) -> None:
        """Frame the ``bytes`` being fed in place, from ``pos``: they become the chunk."""
        self._chunk = owner
        self._clen = n
        self._chunk_view = memoryview(owner)
        self._cpos = pos

    def _copy_in(self, pos: int, n: int, room: int) -> None:
        """Copy ``n`` of the bytes being fed, from ``pos``, into the store (``room``: the
        core's reservation; the store grows as it needs here)."""
        self._append(memoryview(self._in)[pos : pos + n])

    def _absorb_chunk(self) -> None:
        """Move the unread rest of the chunk into the store (it must precede what comes next)."""
        if self._chunk is not None:
            assert self._chunk_view is not None
            rest = self._chunk_view[self._cpos :]
            self._chunk = self._chunk_view = None
            self._append(rest)

    def _complete(self, pos: int, n: int) -> int:
        """complete_frame(); a rule may copy otherwise (DelimiterDecoder)."""
        return complete_frame(self, pos, n)

    def _append(self, data: memoryview) -> None:
        n = len(data)
        self._reserve(n)
        self._store[self._wpos : self._wpos + n] = data
        self._wpos += n

    def _reserve(self, n: int) -> None:
        """Make room for ``n`` bytes at ``wpos`` without touching memory a live frame views."""
        store = self._store
        if self._wpos + n <= len(store):
            return
        unread = self._wpos - self._rpos
        size = grown(unread, n)
        if self._store_view is not None:
            self._store_view.release()
            self._store_view = None
        if self._pool is not None:
            self._reserve_pooled(unread, n, size)
            return
        if _RESIZE_REFUSED_WHILE_VIEWED:
            try:
                # Resizing raises BufferError while any frame still views the store.
                del store[: self._rpos]
                if len(store) < size:
                    store.extend(bytes(size - len(store)))
                self._rpos, self._wpos = 0, unread
                return
            except BufferError:
                pass
        fresh = bytearray(size)
        fresh[:unread] = store[self._rpos : self._wpos]
        self._store = fresh
        self._rpos, self._wpos = 0, unread

    def _reserve_pooled(self, unread: int, n: int, size: int) -> None:
        """_reserve with storage from the pool: compact in place when nothing views the
        store, else move to a fresh pooled store and give the old back once nothing does."""
        assert self._pool is not None
        store = self._store
        if unread + n <= len(store) and not _viewed(store):
            store[:unread] = store[self._rpos : self._wpos]
        else:
            fresh = self._pool.acquire(size)
            fresh[:unread] = store[self._rpos : self._wpos]
            self._store = fresh
            if isinstance(store, PooledBuffer) and _RESIZE_REFUSED_WHILE_VIEWED:
                self._retired.append(store)  # (elsewhere it goes back once collected)
            self._retired = [b for b in self._retired if not self._give_back(b)]
        self._rpos, self._wpos = 0, unread

    def __del__(self) -> None:
        # pooled storage goes back with the decoder (a store frames still view stays theirs)
        if getattr(self, "_pool", None) is not None:
            self._store_view = None
            for buf in [*self._retired, self._store]:
                if isinstance(buf, PooledBuffer) and not buf.released:
                    self._give_back(buf)

    def _give_back(self, buf: PooledBuffer) -> bool:
        if not _RESIZE_REFUSED_WHILE_VIEWED:
            return False  # frames may still view it, and release() would empty it under them
        try:
            buf.release()
        except BufferError:
            return False  # frames still view it
        return True

    def _store_frame(self, start: int, end: int) -> C.Frame:
        if self._copy:
            return bytes(self._store[start:end])
        view = self._store_view
        if view is None:
            view = self._store_view = memoryview(self._store).toreadonly()
        return view[start:end]

    def _drop_buffered(self) -> None:
        self._scanned = 0  # bytes of the frame at the read position known to hold no delimiter
        self._rpos = self._wpos  # positions move back only through _reserve's check
        self._chunk = self._chunk_view = None

    def _release_window(self) -> bool:
        """Release the get_buffer() view, so that it cannot write into the store any more. True
        when a view cut from it (a slice, a cast, a memoryview() of it) may still be alive and
        write into the region, which the caller must then leave (_evacuate): the store has more
        references than before the window was cut (each live view's managed buffer holds one).
        Where that cannot be told (an export of the window itself still alive, as uvloop holds
        one until buffer_updated() returns; an interpreter without reference counts), it is
        assumed: the received bytes are then moved, a copy the compiled core does not make."""
        window, self._window = self._window, None
        if window is None:
            return False
        try:
            window.release()
        except BufferError:
            return True
        return not _REFCOUNTS or _refs(self._store) > self._window_refs

    def _leave_window(self) -> None:
        """Release the get_buffer() view; leave its memory to any view still cut from it."""
        if self._release_window():
            self._evacuate()

    def _evacuate(self) -> None:
        """Move the unread bytes to a fresh store and leave the current one to the stale views
        of a get_buffer() region that could still write into it."""
        store = self._store
        unread = self._wpos - self._rpos
        size = grown(unread, 0)
        self._store_view = None
        fresh = bytearray(size) if self._pool is None else self._pool.acquire(size)
        fresh[:unread] = store[self._rpos : self._wpos]
        self._store = fresh
        if isinstance(store, PooledBuffer) and _RESIZE_REFUSED_WHILE_VIEWED:
            self._retired.append(store)  # given back once no view of it is alive
        self._rpos, self._wpos = 0, unread


def _refs(store: bytearray) -> int:
    """The references to ``store`` (a live memoryview's managed buffer holds one); 0 where the
    interpreter keeps no count (PyPy)."""
    return sys.getrefcount(store) if _REFCOUNTS else 0


_REFCOUNTS = hasattr(sys, "getrefcount")


def _resize_refused_while_viewed() -> bool:
    probe = bytearray(1)
    view = memoryview(probe)
    try:
        probe.append(0)
    except BufferError:
        return True
    finally:
        view.release()
    return False


#: CPython refuses to resize a ``bytearray`` while a view of it is alive, which is how the twin
#: knows whether frames still view its storage; PyPy resizes it under the view.
_RESIZE_REFUSED_WHILE_VIEWED = _resize_refused_while_viewed()


def _viewed(buf: bytearray) -> bool:
    """Whether any view of ``buf`` may be alive (CPython refuses to resize it then; where the
    interpreter does not say, the answer is yes)."""
    if not _RESIZE_REFUSED_WHILE_VIEWED:
        return True
    try:
        buf.append(0)
    except BufferError:
        return True
    del buf[-1]
    return False


class LengthFieldDecoder(_FrameDecoder):
    """Frames carrying their own length in a fixed-width unsigned integer field (Netty's
    ``LengthFieldBasedFrameDecoder``).

    A frame on the wire is ``header_end + value + length_adjustment`` bytes from its first byte,
    where ``header_end = length_field_offset + length_field_length``; the frame delivered is the
    wire bytes ``[initial_bytes_to_strip, total)`` (``None``: from ``header_end``, the payload)::

        length_field_length=2 (defaults otherwise)
        BEFORE (14 bytes)               AFTER (12 bytes)
        +--------+----------------+      +----------------+
        | 0x000C | "HELLO, WORLD" | ---> | "HELLO, WORLD" |
        +--------+----------------+      +----------------+
    """

    # _parse: the rule's own parse(), bound once (no call of a method in between, per frame)
    __slots__ = ("_parse", "_rule")

    def __init__(
        self,
        length_field_length: int = 4,
        *,
        length_field_offset: int = 0,
        length_adjustment: int = 0,
        initial_bytes_to_strip: Optional[int] = None,
        byteorder: str = "big",
        max_frame_length: int = C.DEFAULT_MAX_FRAME_LENGTH,
        fail_fast: bool = True,
        copy: bool = False,
        pool: Optional[BufferPool] = None,
    ) -> None:
        width, offset, adjustment, strip, big, max_len = C.check_length_field(
            length_field_length,
            length_field_offset,
            length_adjustment,
            initial_bytes_to_strip,
            byteorder,
            max_frame_length,
        )
        super().__init__(max_len, fail_fast, copy, pool=pool)
        self._rule = P.LengthFieldRule(width, offset, adjustment, strip, big, self._max_total)
        self._parse = self._rule.parse  # type: ignore[method-assign]
        self._start = strip
        self._config = (
            ("length_field_length", length_field_length),
            ("length_field_offset", length_field_offset),
            ("length_adjustment", length_adjustment),
            ("initial_bytes_to_strip", initial_bytes_to_strip),
            ("byteorder", byteorder),
            ("max_frame_length", max_frame_length),
            ("fail_fast", fail_fast),
            ("copy", copy),
            ("pool", pool),
        )  # for repr()

    def _cut_batch(
        self, buf: _Buf, view: memoryview, pos: int, end: int
    ) -> tuple[int, list[C.Frame]]:
        rule = self._rule
        unpack = rule.unpack
        frames: list[C.Frame] = []
        if unpack is None:
            return pos, frames
        header_end = rule.header_end
        field = rule.offset
        base = header_end + rule.adjustment  # total = base + value
        strip = rule.strip
        smallest = max(header_end, strip)  # a shorter total is corrupt: next_frame() says so
        largest = self._max_total
        cut: Union[bytes, memoryview] = view
        if self._copy and isinstance(buf, bytes):
            cut = buf  # slices of bytes are the copies
        sizes = self._batch_sizes = []
        self._batch_extra = 0
        append = frames.append
        last = end - header_end  # the last position a header can start at
        for _ in _BATCH:
            if pos > last:
                break
            total = base + unpack(buf, pos + field)[0]
            nxt = pos + total
            if nxt > end or total < smallest or total > largest:
                break
            sizes.append(total)
            append(cut[pos + strip : nxt])
            pos = nxt
        if self._copy and cut is view:
            frames = [bytes(f) for f in frames]
        return pos, frames


class VarintLengthDecoder(_FrameDecoder):
    """Frames whose length is an unsigned base-128 varint (protobuf / LEB128: 7 bits a byte,
    least significant group first, high bit set on every byte but the last)::

        BEFORE (302 bytes)              AFTER (300 bytes)
        +-----------+--------------+     +--------------+
        | 0xAC 0x02 | 300 bytes    | --> | 300 bytes    |
        +-----------+--------------+     +--------------+

    Options as in :class:`LengthFieldDecoder`; ``header_end`` is where the varint ends.
    """

    __slots__ = ("_rule",)

    def __init__(
        self,
        *,
        length_field_offset: int = 0,
        length_adjustment: int = 0,
        initial_bytes_to_strip: Optional[int] = None,
        max_length_bytes: int = 10,
        max_frame_length: int = C.DEFAULT_MAX_FRAME_LENGTH,
        fail_fast: bool = True,
        copy: bool = False,
        pool: Optional[BufferPool] = None,
    ) -> None:
        offset, adjustment, strip, nbytes, max_len = C.check_varint(
            length_field_offset,
            length_adjustment,
            initial_bytes_to_strip,
            max_length_bytes,
            max_frame_length,
        )
        super().__init__(max_len, fail_fast, copy, pool=pool)
        self._rule = P.VarintRule(offset, adjustment, strip, nbytes, self._max_total)
        self._config = (
            ("length_field_offset", length_field_offset),
            ("length_adjustment", length_adjustment),
            ("initial_bytes_to_strip", initial_bytes_to_strip),
            ("max_length_bytes", max_length_bytes),
            ("max_frame_length", max_frame_length),
            ("fail_fast", fail_fast),
            ("copy", copy),
            ("pool", pool),
        )  # for repr()

    def _parse(self, buf: _Buf, pos: int, end: int) -> int:
        rule = self._rule
        total = rule.parse(buf, pos, end)
        self._start = rule.start
        return total


class RuleDecoder(_FrameDecoder):
    """Frames cut by ``rule``, a framing rule written in Python (SPEC §7), with every guarantee
    of the built-in decoders. ``rule(buffer)`` gets a read-only memoryview of the bytes from the
    first byte of the next frame (maybe less than a frame, maybe more; valid during the call)
    and answers ``None`` (it cannot tell yet), ``-k`` (the frame needs at least ``k`` bytes in
    all: it is not asked again before), ``n`` (the frame is the next ``n`` bytes) or
    ``(n, start, end)`` (the frame occupies ``n`` bytes; ``[start, end)`` of them are
    delivered). It may raise ``CorruptFrameError`` (sticky); any other error propagates from
    the call that ran the rule and changes nothing.

    A frame longer than ``max_frame_length`` is a ``FrameTooLongError`` and is discarded; more
    than ``max_frame_length`` bytes held while the rule cannot tell is corrupt."""

    __slots__ = (
        "_done",
        "_huge",
        "_huge_total",
        "_payload_limit",
        "_resumable",
        "_rule",
        "_undecided_limit",
    )

    def __init__(
        self,
        rule: Callable[[memoryview], Any],
        *,
        max_frame_length: int = C.DEFAULT_MAX_FRAME_LENGTH,
        copy: bool = False,
        pool: Optional[BufferPool] = None,
    ) -> None:
        C.check_rule(rule)
        max_len = C.check_max_frame_length(max_frame_length, 1)
        self._use(rule, max_len, copy, pool, -1)
        self._config = (
            ("rule", rule),
            ("max_frame_length", max_frame_length),
            ("copy", copy),
            ("pool", pool),
        )  # for repr()

    def _use(
        self,
        rule: Callable[[memoryview], Any],
        max_len: int,
        copy: bool,
        pool: Optional[BufferPool],
        overhead: int,
    ) -> None:
        """Set up for ``rule``. With an ``overhead`` >= 0 (a protocol's decoders), max_len bounds
        the delivered payload rather than the frame, and up to max_len + overhead bytes may be
        held while the rule cannot tell yet."""
        payload_limit = overhead >= 0
        super().__init__(
            max_len, True, copy, pool=pool, max_total=PARSE_HUGE - 1 if payload_limit else None
        )
        self._rule = rule
        self._resumable = isinstance(rule, P.RESUMABLE)  # (it keeps its scan's state)
        self._payload_limit = payload_limit
        self._undecided_limit = max_len + max(overhead, 0)
        self._huge = self._huge_total = 0

    def _huge_length(self) -> int:
        return self._huge

    def _huge_wire(self) -> int:
        return self._huge_total

    def _clear(self) -> int:
        super()._clear()
        # the protocol's message ended: what follows is not framed (held for detach(), not an
        # error at end of stream)
        self._done = False
        return 0

    def _eof_error(self) -> Optional[FrameError]:
        if self._done:
            return None  # the bytes after the message stay, for detach()
        return super()._eof_error()

    def _parse(self, buf: _Buf, pos: int, end: int) -> int:
        # self._scanned: > 0, the rule asked for that many bytes; < 0, it gave the length
        avail = end - pos
        before = asked_before(self, avail)
        if before != RULE_ASK:
            return before
        if buf is self._store:
            view = self._store_view
            if view is None:
                view = self._store_view = memoryview(self._store).toreadonly()
        elif buf is self._chunk and self._chunk_view is not None:
            view = self._chunk_view
        else:
            view = memoryview(buf)  # index()
        if self._resumable:
            self._rule.resume = self._scanned > 0  # type: ignore[attr-defined]  # (the same frame)
        try:
            answer = C.rule_answer(self._rule(view[pos:end]), avail)
        except CorruptFrameError:
            raise
        except BaseException as exc:  # (KeyboardInterrupt too: next_frame() raises it)
            self._raised = exc
            return PARSE_RAISED
        return rule_answered(self, answer, avail)

    def _cut_batch(
        self, buf: _Buf, view: memoryview, pos: int, end: int
    ) -> tuple[int, list[C.Frame]]:
        # the complete frames the rule finds one after another; anything else (an error, a
        # frame not complete or too long) stops the batch, for next_frame() to handle
        # (the common answers are checked here; anything else is left to next_frame(), which
        # runs the rule again and says what is wrong with its answer)
        rule = self._rule
        largest = self._max_total
        payload = self._max_frame_length if self._payload_limit else largest
        frames: list[C.Frame] = []
        sizes = self._batch_sizes = []
        self._batch_extra = 0
        append = frames.append
        for _ in _BATCH:
            avail = end - pos
            if not avail:
                break
            try:
                answer = rule(view[pos:end])
            except Exception:
                break  # raised again by next_frame(), in its place
            if type(answer) is tuple and len(answer) == 3:
                total, start, stop = answer
                if not (
                    type(total) is int
                    and type(start) is int
                    and type(stop) is int
                    and 0 <= start <= stop <= total <= avail
                    and 0 < total <= largest
                    and stop - start <= payload
                ):
                    break
            elif type(answer) is int and 0 < answer <= avail and answer <= largest:
                total, start, stop = answer, 0, answer
            else:
                break
            sizes.append(total)
            append(view[pos + start : pos + stop])
            pos += total
        if self._copy:
            frames = [bytes(f) for f in frames]
        return pos, frames


class FixedLengthDecoder(_FrameDecoder):
    """Frames of exactly ``frame_length`` bytes (Netty's ``FixedLengthFrameDecoder``)::

        frame_length=3
        +---+----+------+----+      +-----+-----+-----+
        | A | BC | DEFG | HI | ---> | ABC | DEF | GHI |
        +---+----+------+----+      +-----+-----+-----+

    At the end of stream, a short last frame is an ``IncompleteFrameError``.
    """

    __slots__ = ("_frame_length",)

    def __init__(
        self, frame_length: int, *, copy: bool = False, pool: Optional[BufferPool] = None
    ) -> None:
        length = C.check_fixed(frame_length)
        super().__init__(length, True, copy, pool=pool)
        self._frame_length = length
        self._config = (
            ("frame_length", frame_length),
            ("copy", copy),
            ("pool", pool),
        )  # for repr()

    def _parse(self, buf: _Buf, pos: int, end: int) -> int:
        return self._frame_length


class DelimiterDecoder(_FrameDecoder):
    """Frames ending at a delimiter (Netty's ``DelimiterBasedFrameDecoder``, made exact).

    A frame ends at the earliest delimiter occurrence; when several delimiters match there, the
    longest wins. While a delimiter that starts earlier, or at the same place and is longer, may
    still be arriving, the decoder waits for more data or the end of stream::

        DelimiterDecoder([b"\\r\\n", b"\\n"])
        +--------------------+      +-------+  +-------+
        | "ABC\\r\\nDEF\\nGH"     | ---> | "ABC" |  | "DEF" |   ("GH" waits for its delimiter)
        +--------------------+      +-------+  +-------+

    ``max_frame_length`` bounds a frame without its delimiter. A longer frame raises
    :class:`FrameTooLongError` as soon as it is certain to be too long (``fail_fast``, with
    ``frame_length=None``) or when its delimiter arrives (with its length); its bytes through
    the delimiter are discarded as they arrive and decoding resumes after it.
    """

    __slots__ = ("_rule", "_strip_delimiter")

    def __init__(
        self,
        delimiters: Union[C.BytesLike, Iterable[C.BytesLike]],
        *,
        strip_delimiter: bool = True,
        max_frame_length: int = C.DEFAULT_MAX_LINE_LENGTH,
        fail_fast: bool = True,
        copy: bool = False,
        pool: Optional[BufferPool] = None,
    ) -> None:
        checked = C.check_delimiters(delimiters)
        max_len = C.check_max_frame_length(max_frame_length, 0)
        super().__init__(
            max_len, fail_fast, copy, max_total=C.MAX_FRAME_LENGTH_LIMIT * 2, pool=pool
        )
        self._strip_delimiter = bool(strip_delimiter)
        self._rule = P.DelimiterRule(checked)
        self._config = (
            ("delimiters", C.shown_delimiters(checked)),
            ("strip_delimiter", strip_delimiter),
            ("max_frame_length", max_frame_length),
            ("fail_fast", fail_fast),
            ("copy", copy),
            ("pool", pool),
        )  # for repr()

    def _parse(self, buf: _Buf, pos: int, end: int) -> int:
        settled, at, length = self._rule.search(buf, pos + self._scanned, end, self._eof)
        return settle_delimited(self, settled, at - pos, length, self._strip_delimiter)

    def _cut_batch(
        self, buf: _Buf, view: memoryview, pos: int, end: int
    ) -> tuple[int, list[C.Frame]]:
        # With one delimiter, bytes.split cuts exactly where the rule does: at each earliest
        # occurrence, left to right.
        if len(self._rule.delimiters) != 1:
            return pos, []
        (delimiter,) = self._rule.delimiters
        stop = _batch_window(buf, delimiter, pos, pos + self._scanned, end)
        if stop < 0:
            return pos, []
        parts = bytes(buf[pos:stop]).split(delimiter)  # (a slice of buf: see LineDecoder)
        parts.pop()  # the rest, not terminated
        return self._batch_of(view, pos, parts, delimiter, 0)

    def _batch_of(
        self, view: memoryview, pos: int, parts: list[bytes], ending: bytes, cr: int
    ) -> tuple[int, list[C.Frame]]:
        """The frames of ``parts``, the pieces between endings (``ending`` follows each) from
        ``pos`` on; ``cr`` is 1 when each part ends in the ``\\r`` of a ``\\r\\n``, 0 when none
        does, -1 when some do."""
        step = len(ending)
        largest = self._max_frame_length + (cr > 0)
        if max(map(len, parts)) > largest and (cr >= 0 or self._any_too_long(parts)):
            first = next(
                i for i, p in enumerate(parts) if self._content(p, cr) > largest - (cr > 0)
            )
            if not first:
                return pos, []  # next_frame() reports it
            del parts[first:]
        sizes = list(map(len, parts))
        end = pos + sum(sizes) + step * len(parts)
        self._batch_sizes = sizes
        self._batch_extra = step
        strip = self._strip_delimiter
        if self._copy:  # the parts are the copies (a bytes slice is cheaper than a view's bytes)
            copies: list[C.Frame]
            if not strip:
                copies = list(map(add, parts, repeat(ending)))
            elif cr == 0:
                copies = [*parts]
            elif cr > 0:
                copies = [p[:-1] for p in parts]
            else:
                copies = [p[:-1] if p[-1:] == b"\r" else p for p in parts]
            return end, copies
        frames: list[C.Frame] = []
        append = frames.append
        a = pos
        if cr >= 0 or not strip:
            keep = step if not strip else -cr
            for w in sizes:
                append(view[a : a + w + keep])
                a += w + step
        else:
            for p in parts:
                w = len(p)
                append(view[a : a + w - (p[-1:] == b"\r")])
                a += w + step
        return end, frames

    def _content(self, part: bytes, cr: int) -> int:
        return len(part) - (cr > 0 or (cr < 0 and part[-1:] == b"\r"))

    def _any_too_long(self, parts: list[bytes]) -> bool:
        return any(self._content(p, -1) > self._max_frame_length for p in parts)

    def _complete(self, pos: int, n: int) -> int:
        # Copy the incomplete frame's rest: through the first delimiter in the bytes being fed
        # and room to settle a longer one. A delimiter straddling the two ends sooner; copying
        # more is safe.
        stop = n
        for d in self._rule.delimiters:
            at = self._in.find(d, pos)
            if at >= 0:
                stop = min(stop, at + len(d) + self._rule.longest - 1)
        self._copy_in(pos, stop - pos, stop - pos)
        return stop - trim_past_frame(self, stop - pos)

    def _eof_error(self) -> Optional[FrameError]:
        return delimited_eof_error(self)


def _batch_window(buf: _Buf, delimiter: bytes, pos: int, start: int, end: int) -> int:
    """Where a batch of delimited frames from ``pos`` stops (-1: no delimiter from ``start``):
    after the last delimiter within room for about as many frames as the first one is long
    would make a batch of ``len(_BATCH)``."""
    first = buf.find(delimiter, start, end)
    if first < 0:
        return -1
    room = pos + (first + len(delimiter) - pos) * len(_BATCH)
    return buf.rfind(delimiter, first, min(end, room)) + len(delimiter)


class LineDecoder(DelimiterDecoder):
    """Lines ending in ``\\n`` or ``\\r\\n`` (Netty's ``LineBasedFrameDecoder``)::

        +----------------------+      +-------+  +-------+
        | "ABC\\r\\nDEF\\nGHI\\r"   | ---> | "ABC" |  | "DEF" |   ("GHI\\r" waits)
        +----------------------+      +-------+  +-------+

    A lone ``\\r`` ends nothing. ``max_frame_length`` bounds a line without its line ending.
    """

    __slots__ = ()

    def _cut_batch(
        self, buf: _Buf, view: memoryview, pos: int, end: int
    ) -> tuple[int, list[C.Frame]]:
        # Split at "\n"; a line that ends in "\r" ended in "\r\n".
        stop = _batch_window(buf, b"\n", pos, pos + self._scanned, end)
        if stop < 0:
            return pos, []
        # a slice of buf, not bytes() of the view: PyPy copies a read-only view of a bytearray
        # a byte at a time (1 ms for 25 KB, against 1.5 us)
        data = bytes(buf[pos:stop])
        parts = data.split(b"\n")
        parts.pop()
        if len(parts) * 64 < len(data):  # long lines: looking at each end is cheaper
            crlf = sum(map(bytes.endswith, parts, repeat(b"\r")))
        else:
            crlf = data.count(b"\r\n")
        cr = 0 if not crlf else 1 if crlf == len(parts) else -1
        return self._batch_of(view, pos, parts, b"\n", cr)

    def __init__(
        self,
        *,
        strip_delimiter: bool = True,
        max_frame_length: int = C.DEFAULT_MAX_LINE_LENGTH,
        fail_fast: bool = True,
        copy: bool = False,
        pool: Optional[BufferPool] = None,
    ) -> None:
        super().__init__(
            (b"\r\n", b"\n"),
            strip_delimiter=strip_delimiter,
            max_frame_length=max_frame_length,
            fail_fast=fail_fast,
            copy=copy,
            pool=pool,
        )
        self._config = (
            ("strip_delimiter", strip_delimiter),
            ("max_frame_length", max_frame_length),
            ("fail_fast", fail_fast),
            ("copy", copy),
            ("pool", pool),
        )  # for repr()


class DelimiterEncoder:
    """Appends ``delimiter`` to each payload. With ``check``, a payload the decoder would not
    read back whole is refused (``ValueError``): one containing the delimiter (it would smuggle
    in a second frame), or ending in a part of a self-overlapping delimiter that forms the
    delimiter with the start of the one appended (``b"xab" + b"aba"``)."""

    __slots__ = ("_check", "_config", "_delimiter")

    _config: tuple[tuple[str, object], ...]  # the constructor's arguments, for repr()

    def __repr__(self) -> str:
        return C.config_repr(self, self._config)

    def __init__(self, delimiter: C.BytesLike, *, check: bool = True) -> None:
        (self._delimiter,) = C.check_delimiters(delimiter)
        self._check = bool(check)
        self._config = (("delimiter", self._delimiter), ("check", check))  # for repr()

    def _payload(self, payload: C.BytesLike) -> bytes:
        data = _as_bytes(payload)
        if self._check:
            C.check_delimited_payload(data, self._delimiter)
        return data

    def encode(self, payload: C.BytesLike) -> bytes:
        """The payload followed by the delimiter."""
        return self._payload(payload) + self._delimiter

    def encode_many(self, payloads: Iterable[C.BytesLike]) -> bytes:
        """Every payload followed by the delimiter, in one ``bytes``; nothing if any is refused."""
        parts = [self._payload(p) for p in payloads]
        if not parts:
            return b""
        return self._delimiter.join(parts) + self._delimiter

    def decoder(self, **overrides: object) -> DelimiterDecoder:
        """The decoder that reads back exactly what this encoder writes (given ``check``)."""
        return DelimiterDecoder(self._delimiter, **overrides)  # type: ignore[arg-type]


# --- protocols (SPEC §8): the engine with framekit._protocols' rules ----------------------------


# --- encoders -----------------------------------------------------------------------------------


class _PrefixEncoder:
    """Encoders that put a header computed from the payload's length before it."""

    __slots__ = ("_config",)

    _config: tuple[tuple[str, object], ...]  # the constructor's arguments, for repr()

    def __repr__(self) -> str:
        return C.config_repr(self, self._config)

    def encode_header(self, payload_length: int) -> bytes:
        raise NotImplementedError

    def encode(self, payload: C.BytesLike) -> bytes:
        """Header and payload as one ``bytes``."""
        data = _as_bytes(payload)
        return self.encode_header(len(data)) + data

    def encode_many(self, payloads: Iterable[C.BytesLike]) -> bytes:
        """Every payload framed, in one contiguous ``bytes``; nothing if any is refused."""
        parts: list[bytes] = []
        for payload in payloads:
            data = _as_bytes(payload)
            parts.append(self.encode_header(len(data)))
            parts.append(data)
        return b"".join(parts)


class LengthFieldEncoder(_PrefixEncoder):
    """Prefixes each payload with its length (Netty's ``LengthFieldPrepender``).

    The field holds ``len(payload) + length_adjustment`` (plus the field's own width when
    ``length_includes_header``)::

        length_field_length=2
        +----------------+      +--------+----------------+
        | "HELLO, WORLD" | ---> | 0x000C | "HELLO, WORLD" |
        +----------------+      +--------+----------------+
    """

    __slots__ = ("_adjustment", "_big", "_includes_header", "_max_frame_length", "_width")

    def __init__(
        self,
        length_field_length: int = 4,
        *,
        byteorder: str = "big",
        length_adjustment: int = 0,
        length_includes_header: bool = False,
        max_frame_length: int = C.DEFAULT_MAX_FRAME_LENGTH,
    ) -> None:
        (
            self._width,
            self._big,
            self._adjustment,
            self._includes_header,
            self._max_frame_length,
        ) = C.check_length_encoder(
            length_field_length,
            byteorder,
            length_adjustment,
            length_includes_header,
            max_frame_length,
        )
        self._config = (
            ("length_field_length", length_field_length),
            ("byteorder", byteorder),
            ("length_adjustment", length_adjustment),
            ("length_includes_header", length_includes_header),
            ("max_frame_length", max_frame_length),
        )  # for repr()

    def encode_header(self, payload_length: int) -> bytes:
        """The length field for a payload of ``payload_length`` bytes."""
        if isinstance(payload_length, bool) or not isinstance(payload_length, int):
            raise TypeError(f"payload_length must be an int, not {type(payload_length).__name__}")
        if payload_length < 0:
            raise ValueError(f"payload_length must be >= 0, got {payload_length}")
        width = self._width
        total = width + payload_length
        if total > self._max_frame_length:
            raise FrameTooLongError(total, self._max_frame_length)
        value = payload_length + self._adjustment + (width if self._includes_header else 0)
        if value < 0:
            raise ValueError(f"length field value {value} is negative")
        if value >> (8 * width):
            raise FrameTooLongError(total, self._max_frame_length)
        return value.to_bytes(width, "big" if self._big else "little")

    def decoder(self, **overrides: object) -> LengthFieldDecoder:
        """The decoder that reads back exactly what this encoder writes."""
        width = self._width
        kwargs: dict[str, object] = {
            "length_adjustment": -self._adjustment - (width if self._includes_header else 0),
            "byteorder": "big" if self._big else "little",
            "max_frame_length": self._max_frame_length,
        }
        kwargs.update(overrides)
        return LengthFieldDecoder(width, **kwargs)  # type: ignore[arg-type]


class VarintLengthEncoder(_PrefixEncoder):
    """Prefixes each payload with its length as a base-128 varint (protobuf's delimited form)."""

    __slots__ = ("_max_frame_length",)

    def __init__(self, *, max_frame_length: int = C.DEFAULT_MAX_FRAME_LENGTH) -> None:
        self._max_frame_length = C.check_max_frame_length(max_frame_length, 1)
        self._config = (("max_frame_length", max_frame_length),)  # for repr()

    def encode_header(self, payload_length: int) -> bytes:
        """The varint for a payload of ``payload_length`` bytes."""
        if isinstance(payload_length, bool) or not isinstance(payload_length, int):
            raise TypeError(f"payload_length must be an int, not {type(payload_length).__name__}")
        if payload_length < 0:
            raise ValueError(f"payload_length must be >= 0, got {payload_length}")
        header = C.varint(payload_length)
        total = len(header) + payload_length
        if total > self._max_frame_length:
            raise FrameTooLongError(total, self._max_frame_length)
        return header

    def decoder(self, **overrides: object) -> VarintLengthDecoder:
        """The decoder that reads back exactly what this encoder writes."""
        kwargs: dict[str, object] = {"max_frame_length": self._max_frame_length}
        kwargs.update(overrides)
        return VarintLengthDecoder(**kwargs)  # type: ignore[arg-type]


# --- memory pools -------------------------------------------------------------------------------


class PooledBuffer(bytearray):
    """A writable buffer of exactly the size asked for, from a :class:`BufferPool`. Give it
    back with ``release()``, ``pool.release(buf)`` or a ``with`` block.

    In this pure-Python twin a released buffer is emptied (Python before 3.12 cannot refuse
    access to a buffer, so a stale holder sees zero bytes, never another acquisition's), and
    the pool keeps the same accounting as the compiled core but allocates on each acquire.
    """

    __slots__ = ("_capacity", "_pool", "_released")

    _pool: BufferPool
    _capacity: int
    _released: bool

    def __init__(self, *args: object, **kwargs: object) -> None:
        # only BufferPool.acquire() makes them (it does not call this)
        raise TypeError("PooledBuffer objects come from BufferPool.acquire()")

    def release(self) -> None:
        """Give the buffer back to its pool."""
        pool = getattr(self, "_pool", None)
        if pool is None:
            raise ValueError("this buffer was not acquired from a pool")
        pool.release(self)

    @property
    def released(self) -> bool:
        return self._released

    @property
    def capacity(self) -> int:
        """The size class it came from (its own size when it was too large for any)."""
        return self._capacity

    def __enter__(self) -> PooledBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        if not getattr(self, "_released", True):
            self._pool.release(self)

    def __del__(self) -> None:
        # dropped without release(): its memory goes back, as the compiled core's does. Without
        # the pool's lock: a collection can run this inside any allocation, the pool's own
        # (under its lock) included; the pool counts it at its next operation.
        if not getattr(self, "_released", True):
            self._pool._dropped.append(self._capacity)


class BufferPool:
    """Reusable writable buffers in size classes. ``acquire(size)`` gives a buffer of exactly
    ``size`` bytes from the smallest class that fits; requests above the largest class are
    served unpooled and not retained. At most ``max_retained_bytes`` are cached; going over
    ``max_in_use_bytes`` raises :class:`PoolExhaustedError`. Safe to share between threads."""

    __slots__ = (
        "_cached",
        "_classes",
        "_dropped",
        "_hits",
        "_in_use",
        "_lock",
        "_max_in_use",
        "_max_retained",
        "_misses",
        "_peak",
        "_retained",
    )

    def __init__(
        self,
        size_classes: Iterable[int] = (256, 1024, 4096, 16384, 65536),
        *,
        max_retained_bytes: int = 64 * 1024 * 1024,
        max_in_use_bytes: Optional[int] = None,
    ) -> None:
        checked = C.check_size_classes(size_classes, max_retained_bytes, max_in_use_bytes)
        if hasattr(self, "_classes"):
            raise RuntimeError("BufferPool.__init__ called twice")
        self._classes, self._max_retained, self._max_in_use = checked
        self._cached = dict.fromkeys(self._classes, 0)  # buffers cached per class
        self._lock = threading.Lock()
        self._dropped: list[int] = []  # capacities of buffers dropped unreleased, to count
        self._in_use = self._retained = self._peak = self._hits = self._misses = 0

    def acquire(self, size: int) -> PooledBuffer:
        """A writable buffer of exactly ``size`` bytes."""
        size = C.check_acquire_size(size)
        capacity = next((c for c in self._classes if c >= size), size)
        with self._lock:
            self._count_dropped()
            if 0 <= self._max_in_use < self._in_use + capacity:
                raise PoolExhaustedError(
                    f"acquiring {capacity} bytes would exceed max_in_use_bytes={self._max_in_use}"
                )
            if self._cached.get(capacity):
                self._cached[capacity] -= 1
                self._retained -= capacity
                self._hits += 1
            else:
                self._misses += 1
            self._in_use += capacity
            self._peak = max(self._peak, self._in_use)
        buf = bytearray.__new__(PooledBuffer)
        bytearray.__init__(buf, size)
        buf._capacity = capacity
        buf._pool = self
        buf._released = False
        return buf

    def release(self, buf: PooledBuffer) -> None:
        """Give ``buf`` back. ``BufferError`` while a view of it is alive (nothing changes);
        :class:`DoubleFreeError` if it was released already."""
        if not isinstance(buf, PooledBuffer) or buf._pool is not self:
            raise ValueError("this buffer was not acquired from this pool")
        with self._lock:
            if buf._released:
                raise DoubleFreeError("buffer released twice")
            # CPython refuses to resize it while any view of it is alive (also when empty)
            if _RESIZE_REFUSED_WHILE_VIEWED and _viewed(buf):
                raise BufferError("a view of this buffer is still alive; release it first")
            del buf[:]
            buf._released = True
            self._cache(buf._capacity)
            self._count_dropped()

    def _count_dropped(self) -> None:
        # (under the lock; list.pop() is atomic, so a buffer dropped meanwhile waits its turn)
        while self._dropped:
            self._cache(self._dropped.pop())

    def _cache(self, capacity: int) -> None:
        self._in_use -= capacity
        if capacity in self._cached and self._retained + capacity <= self._max_retained:
            self._cached[capacity] += 1
            self._retained += capacity

    def trim(self) -> int:
        """Give cached memory back; returns how many bytes that was."""
        with self._lock:
            self._count_dropped()
            freed = self._retained
            self._cached = dict.fromkeys(self._classes, 0)
            self._retained = 0
            return freed

    @property
    def stats(self) -> PoolStats:
        with self._lock:
            self._count_dropped()
            return PoolStats(self._in_use, self._retained, self._peak, self._hits, self._misses)


_shared_pool: Optional[BufferPool] = None
_shared_pool_lock = threading.Lock()


def shared_pool() -> BufferPool:
    """The process's one :class:`BufferPool`, which the adapters give a decoder that has none
    (default size classes; it caches at most ``C.SHARED_POOL_RETAINED`` bytes)."""
    global _shared_pool
    with _shared_pool_lock:
        if _shared_pool is None:
            _shared_pool = BufferPool(max_retained_bytes=C.SHARED_POOL_RETAINED)
        return _shared_pool


class Slab:
    """Typed fixed-size records in one contiguous block of memory, addressed by handles.

    ``fields`` are named ``struct`` codes, e.g. ``[("id", "Q"), ("price", "d"), ("qty", "I"),
    ("symbol", "8s")]``; with ``byteorder="native"`` fields are naturally aligned, with
    ``"little"``/``"big"`` packed. ``align=64`` gives each record its own cache line(s).
    ``alloc(**values)`` returns an int handle (slot and generation; unset fields are zero).
    A freed or foreign handle raises :class:`StaleHandleError`, a second free
    :class:`DoubleFreeError`, a full slab :class:`PoolExhaustedError` unless ``growable``
    (growth needs no view of the slab to be alive: the memory moves).
    """

    __slots__ = (
        "_capacity",
        "_free",
        "_generations",
        "_growable",
        "_high",
        "_id",
        "_layout",
        "_live",
        "_lock",
        "_memory",
        "_offset",
    )

    def __init__(
        self,
        fields: Iterable[tuple[str, str]],
        capacity: int,
        *,
        byteorder: str = "native",
        align: Optional[int] = None,
        growable: bool = False,
    ) -> None:
        layout = C.SlabLayout(fields, byteorder, align)
        capacity = C._int("capacity", capacity)
        if not 0 < capacity <= C.MAX_SLOTS:
            raise ValueError(f"capacity must be in 1..{C.MAX_SLOTS}, got {capacity}")
        if hasattr(self, "_memory"):
            raise RuntimeError("Slab.__init__ called twice")
        self._layout = layout
        self._id = C.next_slab_id()
        self._growable = bool(growable)
        self._lock = threading.Lock()
        self._capacity = 0
        self._memory = bytearray()
        self._offset = 0
        self._generations: list[int] = []
        self._live = bytearray()  # 1 where the slot holds a record
        self._free: list[int] = []  # freed slots, reused first
        self._high = 0  # slots [0, high) have been handed out at least once
        self._resize(capacity)

    def _resize(self, capacity: int) -> None:
        size = self._layout.record_size
        align = self._layout.align
        old = self._memory
        if old:
            try:  # resizing is refused while any view of it is alive
                old.append(0)
                del old[-1]
            except BufferError:
                raise BufferError("cannot grow the slab while a view of it is alive") from None
        memory = bytearray(capacity * size + align - 1)
        offset = _address(memory) % align and align - _address(memory) % align
        used = self._capacity * size
        memory[offset : offset + used] = old[self._offset : self._offset + used]
        self._memory, self._offset = memory, offset
        self._generations.extend([0] * (capacity - self._capacity))
        self._live.extend(bytes(capacity - self._capacity))
        self._capacity = capacity

    # --- handles -----------------------------------------------------------------------------

    def _slot(self, handle: int) -> int:
        """The slot of a live record's handle, or StaleHandleError."""
        slot, generation = self._decode(handle)
        if self._generations[slot] != generation or not self._live[slot]:
            raise StaleHandleError(f"handle {handle:#x} is stale (its record was freed)")
        return slot

    def _decode(self, handle: int) -> tuple[int, int]:
        if isinstance(handle, bool) or not isinstance(handle, int):
            raise TypeError(f"a handle is an int, not {type(handle).__name__}")
        slot = handle & (C.MAX_SLOTS - 1)
        generation = (handle >> C.SLOT_BITS) & ((1 << C.GENERATION_BITS) - 1)
        slab_id = handle >> (C.SLOT_BITS + C.GENERATION_BITS)
        if slab_id != self._id or slot >= self._high:
            raise StaleHandleError(f"handle {handle:#x} does not belong to this slab")
        return slot, generation

    def alloc(self, *values: Any, **named: Any) -> int:
        """A new record: ``values`` fill the fields in order, ``named`` by name, the rest are
        zero. Returns its handle."""
        names = self._layout.names
        C.check_positional(names, values, named)
        handle = self._new_record()
        try:
            # in field order, as the compiled core does, so errors come in a fixed order
            for name, value in zip(names, values):
                self.set(handle, name, value)
            for name in names[len(values) :]:
                if name in named:
                    self.set(handle, name, named[name])
            for name in named:
                if name not in names:
                    raise KeyError(name)
        except BaseException:
            self.free(handle)
            raise
        return handle

    def _room(self, n: int) -> None:
        """Make room for ``n`` more records, or raise PoolExhaustedError with nothing done."""
        free = len(self._free) + self._capacity - self._high
        if n <= free:
            return
        needed = self._capacity + n - free
        if not self._growable or needed > C.MAX_SLOTS:
            raise PoolExhaustedError(f"slab full ({self._capacity} records)")
        self._resize(min(max(2 * self._capacity, needed), C.MAX_SLOTS))

    def alloc_many(self, n: int) -> array.array[int]:
        """``n`` new records, all fields zero; their handles in an ``array("Q")``."""
        n = C.check_count(n)
        with self._lock:
            self._room(n)
        return array.array("Q", [self._new_record() for _ in range(n)])

    def extend(self, frames: Any, *, positions: Any = None) -> Any:
        """One record per frame, its bytes copied in, in one call: ``frames`` is any iterable
        of bytes-like objects of exactly ``record_size`` bytes each (the handles come back as a
        list), or, with ``positions`` (as ``index()`` gives them), the buffer those frames lie
        in (the handles come back as an ``array("Q")``: no Python object per frame). Nothing is
        allocated when a frame is refused."""
        size = self._layout.record_size
        if positions is None:
            chunks = []
            for frame in frames:
                view = memoryview(_as_bytes(frame))
                if view.nbytes != size:
                    raise ValueError(C.msg_record_size(size, view.nbytes))
                chunks.append(view)
        else:
            data = memoryview(_as_bytes(frames))
            flat = C.frame_pairs(len(data), positions, size)
            chunks = [data[flat[i] : flat[i + 1]] for i in range(0, len(flat), 2)]
        with self._lock:
            self._room(len(chunks))
        handles = []
        for chunk in chunks:
            handle = self._new_record()
            start = self._offset + self._slot(handle) * size
            self._memory[start : start + size] = chunk
            handles.append(handle)
        return handles if positions is None else array.array("Q", handles)

    def live(self) -> memoryview:  # of bools
        """Which slots hold a live record: a boolean per row of ``numpy()`` (format ``"?"``),
        so ``slab.numpy()[slab.live()]`` is the live records. A snapshot."""
        return memoryview(bytes(self._live[: self._capacity])).cast("?")  # type: ignore[return-value]

    def __iter__(self) -> Iterator[int]:
        """The handles of the live records, in slot order (a snapshot)."""
        live = self._live
        generations = self._generations
        return iter(
            [
                C.make_handle(self._id, generations[slot], slot)
                for slot in range(self._high)
                if live[slot]
            ]
        )

    def slot(self, handle: int) -> int:
        """The slot of a live record: its row in ``numpy()`` and ``live()``."""
        return self._slot(handle)

    def _new_record(self) -> int:
        """Allocate a zeroed record; its handle."""
        with self._lock:
            if self._free:
                slot = self._free.pop()
            else:
                if self._high == self._capacity:
                    if not self._growable or self._capacity == C.MAX_SLOTS:
                        raise PoolExhaustedError(f"slab full ({self._capacity} records)")
                    self._resize(min(2 * self._capacity, C.MAX_SLOTS))
                slot = self._high
                self._high += 1
            start = self._offset + slot * self._layout.record_size
            self._memory[start : start + self._layout.record_size] = bytes(self._layout.record_size)
            self._live[slot] = 1
            return C.make_handle(self._id, self._generations[slot], slot)

    def free(self, handle: int, /) -> None:
        """Free a record; its handle (and any copy of it) becomes stale."""
        with self._lock:
            slot, generation = self._decode(handle)
            current = self._generations[slot]
            if not self._live[slot] and generation == (current - 1) % (1 << C.GENERATION_BITS):
                raise DoubleFreeError(f"handle {handle:#x} freed twice")
            if generation != current or not self._live[slot]:
                raise StaleHandleError(f"handle {handle:#x} is stale (its record was freed)")
            self._live[slot] = 0
            self._generations[slot] = (current + 1) % (1 << C.GENERATION_BITS)
            self._free.append(slot)

    # --- fields ----------------------------------------------------------------------------

    def _field(self, name: str) -> int:
        try:
            return self._layout.names.index(name)
        except ValueError:
            raise KeyError(name) from None

    def get(self, handle: int, name: str) -> Any:
        """The value of field ``name`` of a record."""
        index = self._field(name)
        start = self._offset + self._slot(handle) * self._layout.record_size
        return self._layout.structs[index].unpack_from(
            self._memory, start + self._layout.offsets[index]
        )[0]

    def set(self, handle: int, name: str, value: Any) -> None:
        """Set field ``name`` of a record (OverflowError or ValueError if it does not fit)."""
        index = self._field(name)
        start = self._offset + self._slot(handle) * self._layout.record_size
        try:
            self._layout.structs[index].pack_into(
                self._memory, start + self._layout.offsets[index], value
            )
        except (struct.error, ValueError, OverflowError, TypeError) as exc:
            # (PyPy's struct raises these where CPython's raises struct.error)
            raise C.slab_value_error(name, self._layout.codes[index], value, exc) from None

    def record(self, handle: int) -> SlabRecord:
        """A proxy with attribute access to a record's fields."""
        self._slot(handle)
        return SlabRecord(self, handle)

    def view(self, handle: int) -> memoryview:
        """The record's bytes, writable and zero-copy (to and from the wire)."""
        start = self._offset + self._slot(handle) * self._layout.record_size
        return memoryview(self._memory)[start : start + self._layout.record_size]

    def buffer(self) -> memoryview:
        """All records as one writable memoryview (``numpy.frombuffer`` can view it)."""
        start = self._offset
        return memoryview(self._memory)[start : start + self._capacity * self._layout.record_size]

    def numpy(self) -> Any:
        """The records as a numpy structured array: a view, not a copy (needs numpy)."""
        return C.numpy_records(self.buffer(), self._layout)

    def __len__(self) -> int:
        return self._high - len(self._free)

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def record_size(self) -> int:
        return self._layout.record_size

    @property
    def fields(self) -> tuple[str, ...]:
        return self._layout.names


def _address(buf: bytearray) -> int:
    """Where a bytearray's bytes are in memory (for aligning records)."""
    if not buf:
        return 0
    pointer = ctypes.c_char.from_buffer(buf)
    try:
        return ctypes.addressof(pointer)
    finally:
        del pointer


# the protocols' decoders and encoders: one source for both builds, which needs the classes above
from . import _protocol_decoders  # noqa: E402
from ._protocol_decoders import *  # noqa: E402, F403

__all__ += _protocol_decoders.__all__
