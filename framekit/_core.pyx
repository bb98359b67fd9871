# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The Cython core of framekit: the same API, frames and errors as ``framekit._pure``.

The engine's logic is ``_engine.py``, included below and compiled with this file; the twin runs
the same file as Python. What is here is this build's kernels over memory (storage, cutting a
frame, the rules' C kernels) and the decoder classes (docs/contributing.md).

Storage. A decoder keeps bytes not yet part of a frame in two places, in stream order: its own
*store* (a ``_Block`` of malloc'd memory, bytes ``[rpos, wpos)``) and one *chunk*, a ``bytes``
object that was fed and is framed in place (bytes ``[cpos, clen)``). A frame is a read-only
memoryview cut from a base memoryview of the block or chunk: it shares the base's managed buffer,
so it keeps that memory alive, and costs a single allocation.

Lifetime. The store is written only past ``wpos``, which no frame views. Before it is compacted,
grown or reused, ``_pinned()`` checks that no frame still holds the base's managed buffer and that
no get_buffer() window is still exported; if either is alive the decoder moves to a fresh block and
leaves the old one to whoever holds it. Every raw pointer used below points into an object this
decoder holds a reference to for as long as the pointer is used.
"""

cimport cython
from cpython.buffer cimport (
    PyBUF_FORMAT,
    PyBUF_FULL_RO,
    PyBUF_ND,
    PyBUF_STRIDES,
    PyBUF_WRITABLE,
    PyBuffer_IsContiguous,
    PyBuffer_Release,
    PyObject_GetBuffer,
)
from cpython.bytes cimport (
    PyBytes_AS_STRING,
    PyBytes_CheckExact,
    PyBytes_FromStringAndSize,
    PyBytes_GET_SIZE,
)
from cpython cimport array
from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_Resize
from cpython.dict cimport PyDict_GetItem
from cpython.exc cimport PyErr_Clear, PyErr_Occurred
from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_CheckExact
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.object cimport PyObject, PyTypeObject
from cpython.tuple cimport PyTuple_GET_SIZE
from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.string cimport memchr, memcmp, memcpy, memmove, memset

from . import _contract as C
import array
import sys
from struct import error as struct_error

from ._contract import PoolStats, SlabRecord
from .errors import (
    CorruptFrameError,
    DoubleFreeError,
    FrameError,
    FrameTooLongError,
    IncompleteFrameError,
    PoolExhaustedError,
    StaleHandleError,
)


cdef extern from "Python.h":
    Py_buffer *PyMemoryView_GET_BUFFER(object view)
    # CPython's own layout (Include/memoryobject.h, cpython/memoryobject.h from 3.13)
    ctypedef struct PyMemoryViewObject:
        PyObject *mbuf
        Py_ssize_t exports
    object PyMemoryView_FromObject(object obj)
    Py_ssize_t Py_REFCNT(PyObject *obj)
    # errors checked by hand (in noexcept code Cython's own check would print them as ignored)


cdef extern from "_compat.h":
    # every use of CPython's internals, each behind its own switch (see the header)
    bint FRAMEKIT_REUSE_FRAMES
    bint framekit_view_reusable(PyObject *frame, PyObject *base) noexcept
    void framekit_point(PyObject *view, const char *start, Py_ssize_t length) noexcept
    bint framekit_view_shared(PyObject *view) noexcept
    bint framekit_bytes_reusable(PyObject *o, Py_ssize_t length) noexcept
    void framekit_forget_hash(PyObject *o) noexcept
    bint framekit_compact_int(object o, long long *value) noexcept


cdef extern from *:
    # Cython's own branch hints, for gcc's estimate of which path is hot
    bint likely(bint) noexcept nogil


cdef extern from "_memory.h":
    # big zeroed blocks (in huge pages where the system has them), and a record field's bytes
    char *framekit_zeroed(size_t size) noexcept
    char *framekit_resized(char *p, size_t size) noexcept
    # receive storage (big blocks mapped from the system, so that they go back to it)
    char *framekit_storage(size_t size) noexcept
    void framekit_storage_free(char *p, size_t size) noexcept
    char *framekit_storage_resized(char *p, size_t old, size_t size) noexcept
    void PyMem_RawFree(void *p) noexcept
    uint64_t _as_unsigned "framekit_as_u64" (object obj) noexcept  # errors checked by hand
    Py_ssize_t framekit_gather(
        char *dst, const char *src, Py_ssize_t len, const int64_t *pairs, Py_ssize_t count,
        Py_ssize_t size, uint64_t *handles, uint64_t first) noexcept
    bint framekit_put(char *at, uint64_t bits, Py_ssize_t width, bint swap) noexcept
    void framekit_prefetch(const void *p) noexcept


cdef bint HOST_LITTLE = sys.byteorder == "little"
cdef int C_SLOT_BITS = C.SLOT_BITS
cdef int C_GENERATION_BITS = C.GENERATION_BITS
cdef Py_ssize_t C_MAX_SLOTS = C.MAX_SLOTS
# A block left to frames still alive is kept for reuse once they are gone, if it is this small.
cdef Py_ssize_t SPARE_BLOCK_LIMIT = 4 * C.DEFAULT_READ_SIZE
cdef class _FrameDecoder
cdef class RuleDecoder

# The engine's decisions, one source with the pure twin's: C functions here (see _engine.py).
include "_engine.py"

cdef uint64_t VALUE_LIMIT = <uint64_t>1 << 62

cdef enum Corruption:
    SHORT_FRAME = 1
    STRIP_PAST_END = 2
    VARINT_TOO_LONG = 3
    VARINT_OVER_64 = 4


cdef char *FORMAT_B = "B"


cdef inline void _fill_view(
    Py_buffer *view, int flags, char *buf, Py_ssize_t *length, bint readonly
) noexcept:
    """A 1-D buffer of unsigned bytes; ``length`` must outlive the export."""
    view.buf = buf
    view.len = length[0]
    view.readonly = readonly
    view.itemsize = 1
    view.format = FORMAT_B if flags & PyBUF_FORMAT else NULL
    view.ndim = 1
    view.shape = length if flags & PyBUF_ND else NULL
    view.strides = &view.itemsize if flags & PyBUF_STRIDES else NULL
    view.suboffsets = NULL
    view.internal = NULL


cdef class _Payloads


include "_pools.pxi"
include "_slab.pxi"


@cython.final
@cython.auto_pickle(False)  # it holds raw pointers: never pickled
@cython.no_gc_clear  # __dealloc__ needs its owner: a cycle's collection must not clear it first
cdef class _Block:
    """Decoder storage. Exports read-only views of all of it (frames are cut from one)."""

    cdef char *data
    cdef Py_ssize_t size
    cdef Py_ssize_t exports
    cdef PooledBuffer owner  # the pool's buffer holding the memory, if it came from a pool

    def __cinit__(self, Py_ssize_t size, BufferPool pool=None):
        if pool is not None:
            self.owner = pool.acquire(size)
            self.data = self.owner._data
        else:
            self.data = framekit_storage(size)
            if self.data == NULL:
                raise MemoryError()
        self.size = size

    def __dealloc__(self):
        # Runs once no frame views the block any more: its memory goes back.
        if self.owner is not None:
            self.owner._pool._release(self.owner)
        else:
            framekit_storage_free(self.data, self.size)

    cdef int resize(self, Py_ssize_t size) except -1:
        # Only ever called with no export alive, on memory of its own (see _reserve).
        cdef char *data = framekit_storage_resized(self.data, self.size, size)
        if data == NULL:
            raise MemoryError()
        self.data = data
        self.size = size
        return 0

    def __getbuffer__(self, Py_buffer *view, int flags):
        if flags & PyBUF_WRITABLE:
            raise BufferError("framekit frames are read-only")
        _fill_view(view, flags, self.data, &self.size, True)
        view.obj = self
        self.exports += 1

    def __releasebuffer__(self, Py_buffer *view):
        self.exports -= 1


@cython.final
@cython.auto_pickle(False)  # it holds raw pointers: never pickled
cdef class _Window:
    """The writable region of a block that get_buffer() hands out."""

    cdef _Block block
    cdef Py_ssize_t offset
    cdef Py_ssize_t length

    def __getbuffer__(self, Py_buffer *view, int flags):
        if self.block is None:
            raise BufferError("not a get_buffer() region")
        _fill_view(view, flags, self.block.data + self.offset, &self.length, False)
        view.obj = self
        self.block.exports += 1

    def __releasebuffer__(self, Py_buffer *view):
        if self.block is not None:
            self.block.exports -= 1


cdef inline object _cut(object base, const char *start, Py_ssize_t length):
    """A memoryview of ``length`` bytes at ``start``, sharing ``base``'s managed buffer (which
    keeps the memory alive). ``start`` must lie inside ``base``."""
    cdef object view = PyMemoryView_FromObject(base)
    framekit_point(<PyObject *>view, start, length)
    return view


cdef inline bint _viewed(_Block block, object base) noexcept:
    """Whether anything but ``base`` (the block's one read-only view, which the decoder holds)
    views ``block``: a frame cut from ``base``, or a get_buffer() window."""
    return Py_REFCNT((<PyMemoryViewObject *>base).mbuf) > 1 or block.exports > 1


cdef _Block _EMPTY_BLOCK = _Block(0)
cdef object _EMPTY_VIEW = PyMemoryView_FromObject(_EMPTY_BLOCK)
cdef BufferPool _shared_pool = None


def shared_pool():
    """The process's one :class:`BufferPool`, which the adapters give a decoder that has none
    (default size classes; it caches at most ``C.SHARED_POOL_RETAINED`` bytes)."""
    global _shared_pool
    if _shared_pool is None:
        _shared_pool = BufferPool(max_retained_bytes=C.SHARED_POOL_RETAINED)
    return _shared_pool


cdef class _FrameDecoder:
    """Storage, feeding, errors and end of stream; subclasses give the framing rule."""

    cdef _Block _block
    cdef object _store_view          # read-only memoryview of all of _block
    cdef BufferPool _pool            # where blocks come from, if given
    cdef _Block _spare               # the previous block, reused when no frame views it any more
    cdef object _spare_view          # its read-only memoryview
    cdef Py_ssize_t _rpos
    cdef Py_ssize_t _wpos
    cdef object _chunk               # bytes framed in place, or None
    cdef object _chunk_view          # memoryview of _chunk
    cdef const char *_cdata
    cdef const char *_in             # feed(): the bytes being taken, while it runs (else NULL)
    cdef Py_ssize_t _clen
    cdef Py_ssize_t _cpos
    cdef object _window              # the memoryview get_buffer() handed out, or None
    cdef object _recent              # the last frame returned, and the one before it: reused
    cdef object _older               #   when the caller has dropped them (see _frame_view)
    cdef Py_ssize_t _start           # where the delivered part of the parsed frame begins
    cdef Py_ssize_t _max_frame_length
    cdef Py_ssize_t _max_total       # a wire length above this is too long (not for delimiters)
    cdef bint _fail_fast
    cdef bint _copy
    cdef bint _starved               # the store holds at most one incomplete frame, no chunk
    cdef bint _eof
    cdef Py_ssize_t _discard         # bytes of an oversized frame still to discard
    cdef object _discard_error       # raised once discarding ends (fail_fast=False)
    cdef object _pending             # raised before anything else is returned
    cdef object _corrupt             # sticky CorruptFrameError
    cdef object _raised              # what a framing rule raised (PARSE_RAISED)
    cdef Py_ssize_t _trim            # bytes at the parsed frame's end not delivered
    cdef Py_ssize_t _delimiter_length
    cdef Py_ssize_t _droppable       # with PARSE_OVERSIZED: bytes to drop now
    cdef Py_ssize_t _scanned         # bytes of the frame at the read position without delimiter
    cdef bint _discarding            # dropping a too-long delimited frame until its delimiter
    cdef Py_ssize_t _discarded       # bytes of it dropped so far
    cdef bint _configured            # __init__ ran: a decoder made by __new__ alone takes nothing
    cdef Py_ssize_t _read_size       # get_buffer(-1)'s region, from recent reads
    cdef int _small_reads            # reads in a row that a smaller region would have held

    cdef tuple _config               # the constructor's arguments, for repr()

    def __repr__(self):
        return C.config_repr(self, self._config or ())

    def __init__(self, *args, **kwargs):
        raise TypeError("_FrameDecoder is the decoders' common base; use one of the decoders")

    def __cinit__(self, *args, **kwargs):
        self._block = _EMPTY_BLOCK
        self._store_view = _EMPTY_VIEW
        self._spare = None
        self._spare_view = None
        self._chunk = None
        self._chunk_view = None
        self._window = None
        self._recent = None
        self._older = None
        self._clear()

    cdef int _setup(
        self, Py_ssize_t max_frame_length, bint fail_fast, bint copy, object pool
    ) except -1:
        # calling __init__ again starts afresh, with the new configuration (as the twin does)
        self.pool = pool
        self._clear()
        self._spare = None
        self._spare_view = None
        self._max_frame_length = max_frame_length
        self._max_total = max_frame_length
        self._fail_fast = fail_fast
        self._copy = copy
        self._configured = True
        return 0

    cdef int _clear(self) except -1:
        reset_state(self)
        return 0

    # --- the framing rule ----------------------------------------------------------------------

    cdef Py_ssize_t _parse(self, const unsigned char *p, Py_ssize_t avail) noexcept:
        """The wire length of the frame at ``p`` (may exceed max_frame_length; PARSE_HUGE when
        it does not fit), ``-n`` when its header needs ``n`` more bytes, or PARSE_CORRUPT.
        Sets ``self._start``."""
        return PARSE_CORRUPT

    cdef Py_ssize_t _least_frame(self) noexcept:
        """No complete frame occupies fewer bytes than this (at least 1)."""
        return 1

    cdef object _huge_length(self):
        """The exact length of the frame _parse() answered PARSE_HUGE for (its rule's to say)."""
        raise NotImplementedError

    cdef Py_ssize_t _huge_wire(self) noexcept:
        """The wire bytes of a frame found too long as PARSE_HUGE (PARSE_HUGE: all that come)."""
        return PARSE_HUGE

    cdef object _corrupt_error(self):
        """The CorruptFrameError of the frame _parse() answered PARSE_CORRUPT for (its rule's
        to say)."""
        raise NotImplementedError

    cdef object _eof_error(self):
        """What the end of stream makes of the bytes held (None: nothing); they are dropped."""
        return end_of_stream_error(self)

    # --- the kernels the engine's decisions (_engine.py) take from this build -----------------

    cdef inline Py_ssize_t _parse_held(self) noexcept:
        """The rule's answer at the read position in the store."""
        return self._parse(<const unsigned char *>self._block.data + self._rpos,
                           self._wpos - self._rpos)

    cdef inline Py_ssize_t _parse_chunk(self) noexcept:
        """The rule's answer at the read position in the chunk."""
        return self._parse(<const unsigned char *>self._cdata + self._cpos, self._clen - self._cpos)

    cdef inline object _held_bytes(self):
        """The bytes held in the store, from the read position."""
        return PyBytes_FromStringAndSize(self._block.data + self._rpos, self._wpos - self._rpos)

    cdef inline Py_ssize_t _batch_left(self) noexcept:
        """Frames cut and not yet handed out: none here (frames are cut one at a time)."""
        return 0

    cdef inline Py_ssize_t _batch_bytes(self) noexcept:
        """The wire bytes of frames cut and not yet handed out: none here."""
        return 0

    cdef inline bytes _batch_rest(self):
        """Those wire bytes: none here."""
        return b""

    @property
    def pool(self):
        """The :class:`BufferPool` the storage comes from (None: plain memory). May be set at
        any time; storage taken after that comes from the new pool."""
        return self._pool

    @pool.setter
    def pool(self, pool):
        if pool is not None and not isinstance(pool, BufferPool):
            raise TypeError(
                f"pool must be a framekit._core.BufferPool, not {type(pool).__name__}"
            )
        self._pool = pool

    # --- public interface ----------------------------------------------------------------------

    @property
    def buffered(self):
        """Bytes held that are not yet part of a returned frame."""
        return held(self)

    def feed(self, data):
        """Take the next bytes of the stream. ``bytes`` are framed in place; others are copied."""
        cdef Py_buffer view
        before_feed(self)
        if PyBytes_CheckExact(data):
            self._in = PyBytes_AS_STRING(data)
            try:
                take(self, data, PyBytes_GET_SIZE(data))
            finally:
                self._in = NULL
            return
        try:
            PyObject_GetBuffer(data, &view, PyBUF_FULL_RO)
        except (TypeError, BufferError):
            raise TypeError(C.msg_not_buffer(data)) from None
        try:
            if not PyBuffer_IsContiguous(&view, b'C'):
                raise TypeError(C.msg_not_buffer(data))
            self._in = <const char *>view.buf
            take(self, None, view.len)
        finally:
            self._in = NULL
            PyBuffer_Release(&view)

    def next_frame(self):
        """The next complete frame, or ``None`` when more data is needed."""
        return self._next()

    def __iter__(self):
        """Yield complete frames until more data is needed."""
        return self

    def __next__(self):
        frame = self._next()
        if frame is None:
            raise StopIteration
        return frame

    def decode(self, data):
        """``feed(data)``, then all complete frames. An error met after k >= 1 frames is raised by
        the next call instead, after those frames are returned."""
        return decode_all(self, data)

    def index(self, data):
        """The positions of every complete frame in ``data``, without a Python object per
        frame: ``(positions, consumed)``, ``positions`` a read-only memoryview of format
        ``"q"`` holding the start and end of each frame's delivered bytes within ``data``,
        ``consumed`` the bytes those frames occupy. It stops before the first incomplete
        frame, and before a bad one after others; a bad frame first raises its error, as
        ``next_frame()`` would. The decoder must hold nothing, and is not changed."""
        cdef Py_buffer view
        cdef const unsigned char *p
        cdef Py_ssize_t pos = 0, end, total, n = 0, room = 0
        cdef Py_ssize_t max_total = self._max_total
        cdef int64_t *out
        cdef _Memory positions
        before_index(self)
        _get_payload(data, &view)
        try:
            # Room for as many frames as could fit: memory that is never written costs nothing
            # (the system maps it when first written), and the end is given back below.
            room = 2 * (view.len // self._least_frame() + 1)  # int64s
            try:
                positions = _Memory(room * 8, 8, True)
            except MemoryError:  # a system that will not promise that much: grow as needed
                room = 4096
                positions = _Memory(room * 8, 8, True)
            out = <int64_t *>positions.data
            p = <const unsigned char *>view.buf
            end = view.len
            while pos < end:
                total = self._parse(p + pos, end - pos)
                if total < 0 or total > max_total or total > end - pos:
                    break  # incomplete, or a bad frame (corrupt ones are negative)
                if n == room:
                    room *= 2
                    positions.resize(room * 8)  # (nothing views it yet)
                    out = <int64_t *>positions.data
                out[n] = pos + self._start
                out[n + 1] = pos + total - self._trim
                n += 2
                pos += total
                self._scanned = 0
        finally:
            self._scanned = 0
            PyBuffer_Release(&view)
        positions.resize(n * 8)
        if n == 0 and pos < end:
            raise_first_error(self, data)
        return memoryview(positions), pos

    def get_buffer(self, sizehint=-1):
        """A writable region of the decoder's storage for ``recv_into``; see ``buffer_updated``.

        When a frame's length is known and its bytes have not all arrived, the region is where the
        rest of that frame will live, large enough to hold all of it."""
        cdef Py_ssize_t want = region_size(self, sizehint)
        cdef _Window window
        self._reserve(want)
        window = _Window.__new__(_Window)
        window.block = self._block
        window.offset = self._wpos
        window.length = want
        self._window = PyMemoryView_FromObject(window)
        return self._window

    def buffer_updated(self, nbytes):
        """``nbytes`` bytes were written at the start of the region ``get_buffer()`` returned."""
        region_written(self, nbytes)

    def feed_eof(self):
        """End of stream. Raises the error it causes at once when nothing complete comes before
        it; otherwise ``next_frame()`` returns what comes first and then raises it."""
        end_of_stream(self)

    def reset(self):
        """Drop all buffered data and any error state; the decoder is as new."""
        self._clear()

    def detach(self):
        """The bytes received and not yet returned as frames, in stream order (complete frames
        not yet taken included; what was dropped of a too-long frame not), for another decoder
        to go on with; this one is then reset. Frames returned before stay valid."""
        return detach_rest(self)

    # --- internals -----------------------------------------------------------------------------

    cdef inline int _check_usable(self) except -1:
        if self._corrupt is not None:
            raise self._corrupt
        if not self._configured:
            raise TypeError(f"{type(self).__name__}.__init__() was never called")
        return 0

    cdef object _next(self):
        return cut_next(self)

    cdef inline object _cut_held(self, Py_ssize_t pos, Py_ssize_t total):
        """The frame of ``total`` wire bytes at ``pos``, the read position in the store: a view
        of its delivered bytes (``copy``: ``bytes``). The read position moves past it."""
        cdef const char *start = self._block.data + pos + self._start
        self._rpos = pos + total
        if self._copy:
            return self._frame_bytes(start, total - self._start - self._trim)
        return self._frame_view(self._store_view, start, total - self._start - self._trim)

    cdef inline object _cut_chunk(self, Py_ssize_t pos, Py_ssize_t total):
        """The same in the chunk."""
        cdef const char *start = self._cdata + pos + self._start
        self._cpos = pos + total
        if self._copy:
            return self._frame_bytes(start, total - self._start - self._trim)
        return self._frame_view(self._chunk_view, start, total - self._start - self._trim)

    cdef inline object _frame_view(self, object base, const char *start, Py_ssize_t length):
        """A frame cut from ``base``. In a loop like ``for frame in decoder`` the frame returned
        two calls ago has been dropped by then; reusing it saves an allocation per frame."""
        cdef object view
        if self._older is not None and framekit_view_reusable(
            <PyObject *>self._older, <PyObject *>base
        ):
            view = self._older
            framekit_point(<PyObject *>view, start, length)
        else:
            view = _cut(base, start, length)
        self._older = self._recent
        self._recent = view
        return view

    cdef inline object _frame_bytes(self, const char *start, Py_ssize_t length):
        """A ``bytes`` frame (copy=True). As with views, the ``bytes`` returned two calls ago is
        reused when nothing but this decoder references it and it has the right size."""
        cdef object frame
        if self._older is not None and framekit_bytes_reusable(<PyObject *>self._older, length):
            frame = self._older
            memcpy(PyBytes_AS_STRING(frame), start, length)
            framekit_forget_hash(<PyObject *>frame)
        else:
            frame = PyBytes_FromStringAndSize(start, length)
        self._older = self._recent
        self._recent = frame
        return frame

    cdef int _forget_frames(self) except -1:
        """Drop our references to returned frames (they would pin the memory they view)."""
        self._recent = None
        self._older = None
        return 0

    cdef int _release_storage(self) except -1:
        """Nothing is held: give the storage back (SPEC §9). Frames still viewing it keep it
        alive; it goes back to its pool, or is freed, when the last of them goes."""
        self._forget_frames()
        self._spare = None
        self._spare_view = None
        self._block = _EMPTY_BLOCK
        self._store_view = _EMPTY_VIEW
        self._rpos = 0
        self._wpos = 0
        return 0

    cdef int _adopt(self, object owner, Py_ssize_t pos, Py_ssize_t n) except -1:
        """Frame the ``bytes`` being fed in place, from ``pos``: they become the chunk."""
        self._forget_frames()
        self._chunk = owner
        self._chunk_view = PyMemoryView_FromObject(owner)
        self._cdata = self._in
        self._clen = n
        self._cpos = pos
        return 0

    cdef int _copy_in(self, Py_ssize_t pos, Py_ssize_t n, Py_ssize_t room) except -1:
        """Copy ``n`` of the bytes being fed, from ``pos``, into the store, with room for
        ``room`` there."""
        self._reserve(room)
        return self._append(self._in + pos, n)

    cdef int _absorb_chunk(self) except -1:
        """Move the unread rest of the chunk into the store (it must precede what comes next)."""
        if self._chunk is not None:
            # the chunk stays referenced until the copy is done
            self._append(self._cdata + self._cpos, self._clen - self._cpos)
            self._chunk = None
            self._chunk_view = None
            # frames kept for reuse view the chunk: they would keep it alive, and cannot be
            # re-pointed into the store anyway
            self._forget_frames()
        return 0

    cdef Py_ssize_t _complete(self, Py_ssize_t pos, Py_ssize_t n) except -1:
        """complete_frame(); a rule may copy otherwise (DelimiterDecoder)."""
        return complete_frame(self, pos, n)

    cdef int _append(self, const char *data, Py_ssize_t n) except -1:
        self._reserve(n)
        memcpy(self._block.data + self._wpos, data, n)
        self._wpos += n
        return 0

    cdef inline bint _pinned(self) noexcept:
        """Whether a frame or a get_buffer() window still views the current block."""
        return _viewed(self._block, self._store_view)

    cdef int _reserve(self, Py_ssize_t n) except -1:
        """Make room for ``n`` bytes at ``wpos`` without touching memory a live frame views."""
        cdef Py_ssize_t unread, size
        cdef _Block fresh
        if self._wpos + n <= self._block.size:
            return 0
        unread = self._wpos - self._rpos
        size = grown(unread, n)
        self._forget_frames()
        # grown in place only when nothing views it, and by realloc only when it is not (and
        # should not be) pool memory; the empty block is never
        if self._block.size and not self._pinned() and (
            unread + n <= self._block.size or (self._block.owner is None and self._pool is None)
        ):
            if self._rpos:
                memmove(self._block.data, self._block.data + self._rpos, unread)
                self._rpos = 0
                self._wpos = unread
            if unread + n > self._block.size:
                self._store_view = None  # releases the block's only export
                self._block.resize(size)
                self._store_view = PyMemoryView_FromObject(self._block)
            return 0
        # Frames still view this block: move on, to the spare block if nothing views it now.
        if (
            self._spare is not None
            and self._spare.size >= unread + n
            and not _viewed(self._spare, self._spare_view)
        ):
            fresh, fresh_view = self._spare, self._spare_view
        else:
            fresh = _Block(size, self._pool)
            fresh_view = PyMemoryView_FromObject(fresh)
        memcpy(fresh.data, self._block.data + self._rpos, unread)
        if 0 < self._block.size <= SPARE_BLOCK_LIMIT:
            self._spare, self._spare_view = self._block, self._store_view
        else:
            self._spare, self._spare_view = None, None
        self._block, self._store_view = fresh, fresh_view
        self._rpos = 0
        self._wpos = unread
        return 0

    cdef int _drop_buffered(self) except -1:
        self._scanned = 0
        self._rpos = self._wpos  # positions move back only through _reserve's check
        self._chunk = None
        self._chunk_view = None
        return 0

    cdef bint _release_window(self) except -1:
        """Release the get_buffer() view, so that it cannot write into the storage any more.
        True when views cut from it (slices, casts, memoryview()s of it) are still alive: they
        could still write into the region, which the caller must then leave (_evacuate).
        An export of the view itself may outlive this (uvloop holds one until buffer_updated()
        returns): the block then counts as viewed until it ends, and is not reused before."""
        cdef bint shared
        if self._window is None:
            return False
        shared = framekit_view_shared(<PyObject *>self._window)
        try:
            self._window.release()
        except BufferError:
            pass
        self._window = None
        return shared

    cdef int _leave_window(self) except -1:
        """Release the get_buffer() view; leave its memory to any view still cut from it."""
        if self._release_window():
            self._evacuate()
        return 0

    cdef int _evacuate(self) except -1:
        """Move the unread bytes to a fresh block and leave the current one to the stale views
        of a get_buffer() region that could still write into it."""
        cdef Py_ssize_t unread = self._wpos - self._rpos
        cdef _Block fresh = _Block(grown(unread, 0), self._pool)
        self._forget_frames()
        memcpy(fresh.data, self._block.data + self._rpos, unread)
        self._block, self._store_view = fresh, PyMemoryView_FromObject(fresh)
        self._rpos = 0
        self._wpos = unread
        return 0


cdef inline uint64_t _read_uint(const unsigned char *p, Py_ssize_t width, bint big) noexcept:
    cdef uint64_t value = 0
    cdef Py_ssize_t i
    if big:
        if width == 4:
            return (<uint64_t>p[0] << 24) | (<uint64_t>p[1] << 16) | (<uint64_t>p[2] << 8) | p[3]
        if width == 2:
            return (<uint64_t>p[0] << 8) | p[1]
        for i in range(width):
            value = (value << 8) | p[i]
    else:
        if width == 4:
            return (<uint64_t>p[3] << 24) | (<uint64_t>p[2] << 16) | (<uint64_t>p[1] << 8) | p[0]
        if width == 2:
            return (<uint64_t>p[1] << 8) | p[0]
        for i in range(width - 1, -1, -1):
            value = (value << 8) | p[i]
    return value


@cython.final
cdef class LengthFieldRule:
    """LengthFieldDecoder's rule, in C (the twin's is _protocols.LengthFieldRule; both answer
    alike, with the same messages): the frame at ``p`` is ``header_end + value + adjustment``
    bytes, its length field ``width`` bytes at ``offset``."""

    cdef readonly Py_ssize_t width
    cdef readonly Py_ssize_t offset
    cdef readonly Py_ssize_t header_end
    cdef readonly Py_ssize_t adjustment
    cdef readonly Py_ssize_t strip
    cdef readonly Py_ssize_t start
    cdef readonly bint big
    cdef readonly Py_ssize_t max_total
    cdef int _code                  # the corruption found: SHORT_FRAME or STRIP_PAST_END
    cdef int64_t _total             # the frame length it concerns
    cdef uint64_t _value            # the field of a frame too long to count (PARSE_HUGE)

    def __init__(self, Py_ssize_t width, Py_ssize_t offset, Py_ssize_t adjustment,
                 Py_ssize_t strip, bint big, Py_ssize_t max_total):
        self.width = width
        self.offset = offset
        self.header_end = offset + width
        self.adjustment = adjustment
        self.strip = self.start = strip
        self.big = big
        self.max_total = max_total

    def __repr__(self):
        return P._rule_repr(self, ("width", "offset", "adjustment", "strip", "big", "max_total"))

    cdef inline Py_ssize_t parse(self, const unsigned char *p, Py_ssize_t avail) noexcept:
        """The frame's wire length, ``-n`` when the header needs ``n`` more bytes, PARSE_HUGE
        or PARSE_CORRUPT (as _FrameDecoder._parse)."""
        cdef Py_ssize_t header_end = self.header_end
        if avail < header_end:
            return avail - header_end
        cdef uint64_t value = _read_uint(p + self.offset, self.width, self.big)
        if value > VALUE_LIMIT:
            self._value = value
            return PARSE_HUGE
        cdef Py_ssize_t total = header_end + <Py_ssize_t>value + self.adjustment
        if total < header_end:
            self._code = SHORT_FRAME
            self._total = total
            return PARSE_CORRUPT
        # Too long is checked first (by the caller), as Netty does: such a frame is discarded
        if self.strip > total and total <= self.max_total:
            self._code = STRIP_PAST_END
            self._total = total
            return PARSE_CORRUPT
        return total

    cdef object error(self):
        if self._code == SHORT_FRAME:
            return CorruptFrameError(C.msg_short_frame(self._total, self.header_end))
        return CorruptFrameError(C.msg_strip(self.strip, self._total))

    cdef object huge_length(self):
        return int(self.header_end) + int(self._value) + self.adjustment

    def answer(self, buffer):
        """parse() of the bytes of ``buffer``, from Python, as the twin's rule answers: a
        length PARSE_HUGE stands for is the exact int; corruption is raised."""
        return _length_answer(self, None, buffer)


@cython.final
cdef class VarintRule:
    """VarintLengthDecoder's rule, in C (the twin's is _protocols.VarintRule): an unsigned
    base-128 varint at ``offset``, at most ``max_length_bytes`` long."""

    cdef readonly Py_ssize_t offset
    cdef readonly Py_ssize_t adjustment
    cdef readonly Py_ssize_t strip          # -1: where the varint ends
    cdef readonly Py_ssize_t start          # where the last frame parsed is delivered from
    cdef readonly Py_ssize_t max_length_bytes
    cdef readonly Py_ssize_t max_total
    cdef int _code                  # the corruption found
    cdef int64_t _total             # the frame length it concerns
    cdef Py_ssize_t _at             # where its varint ends (the strip, for STRIP_PAST_END)
    cdef uint64_t _value            # the varint of a frame too long to count (PARSE_HUGE)

    def __init__(self, Py_ssize_t offset, Py_ssize_t adjustment, Py_ssize_t strip,
                 Py_ssize_t max_length_bytes, Py_ssize_t max_total):
        self.offset = offset
        self.adjustment = adjustment
        self.strip = strip
        self.start = 0
        self.max_length_bytes = max_length_bytes
        self.max_total = max_total

    def __repr__(self):
        return P._rule_repr(
            self, ("offset", "adjustment", "strip", "max_length_bytes", "max_total")
        )

    cdef inline Py_ssize_t parse(self, const unsigned char *p, Py_ssize_t avail) noexcept:
        cdef Py_ssize_t offset = self.offset
        cdef Py_ssize_t i, header_end = 0, strip, total
        cdef uint64_t value = 0, byte
        cdef int shift = 0
        if avail <= offset:
            return avail - offset - 1
        for i in range(self.max_length_bytes):
            if offset + i >= avail:
                return -1
            byte = p[offset + i]
            if shift == 63 and byte > 1:
                self._code = VARINT_OVER_64
                return PARSE_CORRUPT
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                header_end = offset + i + 1
                break
            shift += 7
        else:
            self._code = VARINT_TOO_LONG
            return PARSE_CORRUPT
        if value > VALUE_LIMIT:
            self._value = value
            self._at = header_end
            return PARSE_HUGE
        total = header_end + <Py_ssize_t>value + self.adjustment
        if total < header_end:
            self._code = SHORT_FRAME
            self._total = total
            self._at = header_end
            return PARSE_CORRUPT
        strip = header_end if self.strip < 0 else self.strip
        if strip > total and total <= self.max_total:  # too long is checked first
            self._code = STRIP_PAST_END
            self._total = total
            self._at = strip
            return PARSE_CORRUPT
        self.start = strip
        return total

    cdef object error(self):
        if self._code == SHORT_FRAME:
            return CorruptFrameError(C.msg_short_frame(self._total, self._at))
        if self._code == STRIP_PAST_END:
            return CorruptFrameError(C.msg_strip(self._at, self._total))
        if self._code == VARINT_TOO_LONG:
            return CorruptFrameError(C.msg_varint_long(self.max_length_bytes))
        return CorruptFrameError(C.MSG_VARINT_64)

    cdef object huge_length(self):
        return int(self._at) + int(self._value) + self.adjustment

    def answer(self, buffer):
        """parse() of the bytes of ``buffer``, from Python, as the twin's rule answers."""
        return _length_answer(None, self, buffer)


cdef object _length_answer(LengthFieldRule field, VarintRule varint, object buffer):
    """LengthFieldRule.answer() or VarintRule.answer(), whichever rule is given."""
    cdef Py_buffer view
    cdef Py_ssize_t total
    _get_payload(buffer, &view)
    try:
        if field is not None:
            total = field.parse(<const unsigned char *>view.buf, view.len)
        else:
            total = varint.parse(<const unsigned char *>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)
    if total == PARSE_CORRUPT:
        raise field.error() if field is not None else varint.error()
    if total == PARSE_HUGE:
        return field.huge_length() if field is not None else varint.huge_length()
    return total


cdef class LengthFieldDecoder(_FrameDecoder):
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

    cdef LengthFieldRule _rule

    def __init__(
        self,
        length_field_length=4,
        *,
        length_field_offset=0,
        length_adjustment=0,
        initial_bytes_to_strip=None,
        byteorder="big",
        max_frame_length=C.DEFAULT_MAX_FRAME_LENGTH,
        fail_fast=True,
        copy=False,
        pool=None,
    ):
        width, offset, adjustment, strip, big, max_len = C.check_length_field(
            length_field_length,
            length_field_offset,
            length_adjustment,
            initial_bytes_to_strip,
            byteorder,
            max_frame_length,
        )
        self._setup(max_len, bool(fail_fast), bool(copy), pool)
        self._rule = LengthFieldRule(width, offset, adjustment, strip, big, self._max_total)
        self._start = strip
        self._config = (  # for repr()
            ("length_field_length", length_field_length),
            ("length_field_offset", length_field_offset),
            ("length_adjustment", length_adjustment),
            ("initial_bytes_to_strip", initial_bytes_to_strip),
            ("byteorder", byteorder),
            ("max_frame_length", max_frame_length),
            ("fail_fast", fail_fast),
            ("copy", copy),
            ("pool", pool),
        )

    cdef Py_ssize_t _least_frame(self) noexcept:
        return self._rule.header_end if self._rule.header_end > 0 else 1

    cdef Py_ssize_t _parse(self, const unsigned char *p, Py_ssize_t avail) noexcept:
        return self._rule.parse(p, avail)

    cdef object _huge_length(self):
        return self._rule.huge_length()

    cdef object _corrupt_error(self):
        return self._rule.error()


cdef class VarintLengthDecoder(_FrameDecoder):
    """Frames whose length is an unsigned base-128 varint (protobuf / LEB128: 7 bits a byte,
    least significant group first, high bit set on every byte but the last)::

        BEFORE (302 bytes)              AFTER (300 bytes)
        +-----------+--------------+     +--------------+
        | 0xAC 0x02 | 300 bytes    | --> | 300 bytes    |
        +-----------+--------------+     +--------------+

    Options as in :class:`LengthFieldDecoder`; ``header_end`` is where the varint ends.
    """

    cdef VarintRule _rule

    def __init__(
        self,
        *,
        length_field_offset=0,
        length_adjustment=0,
        initial_bytes_to_strip=None,
        max_length_bytes=10,
        max_frame_length=C.DEFAULT_MAX_FRAME_LENGTH,
        fail_fast=True,
        copy=False,
        pool=None,
    ):
        offset, adjustment, strip, nbytes, max_len = C.check_varint(
            length_field_offset,
            length_adjustment,
            initial_bytes_to_strip,
            max_length_bytes,
            max_frame_length,
        )
        self._setup(max_len, bool(fail_fast), bool(copy), pool)
        self._rule = VarintRule(offset, adjustment, strip, nbytes, self._max_total)
        self._config = (  # for repr()
            ("length_field_offset", length_field_offset),
            ("length_adjustment", length_adjustment),
            ("initial_bytes_to_strip", initial_bytes_to_strip),
            ("max_length_bytes", max_length_bytes),
            ("max_frame_length", max_frame_length),
            ("fail_fast", fail_fast),
            ("copy", copy),
            ("pool", pool),
        )

    cdef Py_ssize_t _parse(self, const unsigned char *p, Py_ssize_t avail) noexcept:
        cdef Py_ssize_t total = self._rule.parse(p, avail)
        self._start = self._rule.start
        return total

    cdef object _huge_length(self):
        return self._rule.huge_length()

    cdef object _corrupt_error(self):
        return self._rule.error()


include "_protocol_rules.pxi"


cdef inline bint _small_int(object o, long long *value) noexcept:
    """Whether ``o`` is an ``int`` that fits a long long (then stored in ``value``)."""
    cdef int overflow = 0
    if type(o) is not int:
        return False
    value[0] = PyLong_AsLongLongAndOverflow(o, &overflow)
    return overflow == 0


cdef class RuleDecoder(_FrameDecoder):
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

    cdef object _rule
    cdef _Kernel _kernel             # the rule's C kernel, if it has one (a protocol's)
    cdef object _index_view          # index(): a read-only view of the data indexed
    cdef object _huge                # the length (payload's, with _payload_limit) found too
                                     #   long (PARSE_HUGE),
    cdef bint _payload_limit         # max_frame_length bounds the delivered bytes (protocols)
    cdef Py_ssize_t _undecided_limit  # bytes held while the rule cannot tell yet, at most
    cdef Py_ssize_t _huge_total      #   and its frame's wire length (PARSE_HUGE: past counting)
    cdef Py_ssize_t _undecided       # bytes held when the rule still could not tell: corrupt
    cdef bint _done                  # the protocol's message ended: what follows is not framed
                                     #   (held for detach(), not an error at end of stream)

    def __init__(self, rule, *, max_frame_length=C.DEFAULT_MAX_FRAME_LENGTH, copy=False,
                 pool=None):
        C.check_rule(rule)
        cdef Py_ssize_t max_len = C.check_max_frame_length(max_frame_length, 1)
        self._use(rule, max_len, copy, pool, -1)
        self._config = (
            ("rule", rule),
            ("max_frame_length", max_frame_length),
            ("copy", copy),
            ("pool", pool),
        )

    cdef int _use(self, object rule, Py_ssize_t max_len, object copy, object pool,
                  Py_ssize_t overhead) except -1:
        """Set up for ``rule``. With an ``overhead`` >= 0 (a protocol's decoders), max_len
        bounds the delivered payload rather than the frame, and up to max_len + overhead bytes
        may be held while the rule cannot tell yet."""
        self._setup(max_len, True, copy, pool)
        self._rule = rule
        self._kernel = rule if isinstance(rule, _Kernel) else None
        self._payload_limit = overhead >= 0
        if self._payload_limit:
            self._max_total = PARSE_HUGE - 1
        self._undecided_limit = max_len + (overhead if overhead > 0 else 0)
        return 0

    def index(self, data):
        cdef Py_buffer view
        _get_payload(data, &view)  # (the same checks as the engine's, first)
        PyBuffer_Release(&view)
        self._index_view = memoryview(data).cast("B").toreadonly()
        try:
            return _FrameDecoder.index(self, data)
        finally:
            self._index_view = None

    cdef object _huge_length(self):
        return self._huge

    cdef int _clear(self) except -1:
        _FrameDecoder._clear(self)
        self._done = False
        return 0

    cdef object _eof_error(self):
        if self._done:
            return None  # the bytes after the message stay, for detach()
        return _FrameDecoder._eof_error(self)

    cdef Py_ssize_t _huge_wire(self) noexcept:
        return self._huge_total

    cdef object _corrupt_error(self):
        err = self._raised
        self._raised = None
        if err is None:  # a kernel's answer
            if self._undecided:
                err = CorruptFrameError(C.msg_undecided(self._undecided, self._max_frame_length))
                self._undecided = 0
            else:
                err = self._kernel.error()
        return err

    cdef inline Py_ssize_t _kernel_parse(self, const unsigned char *p, Py_ssize_t avail) noexcept:
        """_parse() with the rule's C kernel: as with a Python rule, without a Python call."""
        cdef Py_ssize_t cut[2]
        self._kernel.resume = self._scanned > 0  # asked again about the same frame
        cdef Py_ssize_t total = self._kernel.scan(p, avail, cut)
        if total > 0:
            if self._payload_limit and cut[1] - cut[0] > self._max_frame_length:
                self._huge = cut[1] - cut[0]
                self._huge_total = total
                if self._kernel._exact:  # a payload too long to count: discard what comes
                    self._huge = self._kernel._exact
                    self._huge_total = PARSE_HUGE
                return PARSE_HUGE
            return known(self, total, cut[0], cut[1], avail)
        if total == RULE_BROKEN:
            return PARSE_CORRUPT
        if avail > self._undecided_limit:
            self._undecided = avail
            return PARSE_CORRUPT
        if total == RULE_UNDECIDED:
            return PARSE_UNDECIDED
        return needs(self, -total, avail)

    cdef object _view_of(self, const unsigned char *p, Py_ssize_t avail):
        """A read-only view of the ``avail`` bytes at ``p``, sharing the memory's owner."""
        cdef const char *at = <const char *>p
        cdef Py_buffer *whole
        if self._chunk is not None and self._cdata <= at < self._cdata + self._clen:
            return _cut(self._chunk_view, at, avail)
        if self._block.data <= at < self._block.data + self._block.size:
            return _cut(self._store_view, at, avail)
        if self._index_view is not None:
            whole = PyMemoryView_GET_BUFFER(self._index_view)
            if <const char *>whole.buf <= at and at + avail <= <const char *>whole.buf + whole.len:
                return _cut(self._index_view, at, avail)
        return memoryview(PyBytes_FromStringAndSize(at, avail))

    cdef Py_ssize_t _parse(self, const unsigned char *p, Py_ssize_t avail) noexcept:
        cdef long long n, start, end
        cdef Py_ssize_t before = asked_before(self, avail)
        if before != RULE_ASK:
            return before
        if self._kernel is not None:
            return self._kernel_parse(p, avail)
        try:
            answer = self._rule(self._view_of(p, avail))
            # the common answers, checked here; the rest (and every bad one) by C.rule_answer
            if type(answer) is tuple and PyTuple_GET_SIZE(answer) == 3:
                if (
                    _small_int((<tuple>answer)[0], &n)
                    and _small_int((<tuple>answer)[1], &start)
                    and _small_int((<tuple>answer)[2], &end)
                    and 1 <= n <= self._max_total and 0 <= start <= end <= n
                ):
                    return known(self, n, start, end, avail)
            elif _small_int(answer, &n) and 1 <= n <= self._max_total:
                return known(self, n, 0, n, avail)
            return rule_answered(self, C.rule_answer(answer, avail), avail)
        except CorruptFrameError as err:
            self._raised = err
            return PARSE_CORRUPT
        except BaseException as err:
            self._raised = err
            return PARSE_RAISED


# --- protocols (SPEC §8): the engine with the kernels of _protocol_rules.pxi -----------------


cdef class WebSocketFrame:
    """One WebSocket frame: ``fin``, ``rsv`` (the three RSV bits, 0-7), ``opcode`` and its
    ``payload``, unmasked (a read-only memoryview; ``bytes`` with ``copy=True``).
    ``bytes(frame)`` is the payload."""

    cdef readonly bint fin
    cdef readonly int rsv
    cdef readonly int opcode
    cdef readonly object payload

    def __init__(self, fin, rsv, opcode, payload):
        self.fin = fin
        self.rsv = rsv
        self.opcode = opcode
        self.payload = payload

    def __bytes__(self):
        return bytes(self.payload)

    def __len__(self):
        return len(self.payload)

    def __eq__(self, other):
        if not hasattr(other, "opcode") or not hasattr(other, "payload"):
            return NotImplemented
        return P.frame_fields(self) == P.frame_fields(other)

    __hash__ = None

    def __repr__(self):
        return P.frame_repr(self)


include "_protocol_decoders.py"


cdef class FixedLengthDecoder(_FrameDecoder):
    """Frames of exactly ``frame_length`` bytes (Netty's ``FixedLengthFrameDecoder``)::

        frame_length=3
        +---+----+------+----+      +-----+-----+-----+
        | A | BC | DEFG | HI | ---> | ABC | DEF | GHI |
        +---+----+------+----+      +-----+-----+-----+

    At the end of stream, a short last frame is an ``IncompleteFrameError``.
    """

    cdef Py_ssize_t _frame_length

    def __init__(self, frame_length, *, copy=False, pool=None):
        length = C.check_fixed(frame_length)
        self._setup(length, True, bool(copy), pool)
        self._frame_length = length
        self._start = 0
        self._config = (  # for repr()
            ("frame_length", frame_length),
            ("copy", copy),
            ("pool", pool),
        )

    cdef Py_ssize_t _least_frame(self) noexcept:
        return self._frame_length

    cdef Py_ssize_t _parse(self, const unsigned char *p, Py_ssize_t avail) noexcept:
        return self._frame_length


cdef extern from *:
    """
    #include <string.h>
    /* The first occurrence of needle in haystack: glibc's two-way memmem where there is one,
       else memchr on the first byte and memcmp on the rest. */
    static Py_ssize_t framekit_find(const char *hay, Py_ssize_t n, const char *needle,
                                    Py_ssize_t m) {
        if (m > n) return -1;
        if (m == 1) {
            const char *at = (const char *)memchr(hay, needle[0], (size_t)n);
            return at ? at - hay : -1;
        }
    #if defined(__GLIBC__)
        {
            const char *at = (const char *)memmem(hay, (size_t)n, needle, (size_t)m);
            return at ? at - hay : -1;
        }
    #else
        {
            Py_ssize_t i = 0;
            while (i <= n - m) {
                const char *at = (const char *)memchr(hay + i, needle[0], (size_t)(n - m + 1 - i));
                if (!at) return -1;
                i = at - hay;
                if (memcmp(at + 1, needle + 1, (size_t)(m - 1)) == 0) return i;
                i++;
            }
            return -1;
        }
    #endif
    }
    """
    Py_ssize_t framekit_find(const char *hay, Py_ssize_t n, const char *needle, Py_ssize_t m) noexcept


@cython.final
cdef class DelimiterRule:
    """DelimiterDecoder's rule, in C (the twin's is _protocols.DelimiterRule; both answer alike):
    the frame ends at the earliest delimiter, the longest where several end there, once none
    that starts earlier, or there and is longer, may still be arriving."""

    cdef readonly tuple delimiters      # bytes objects: they own the memory search() reads
    cdef readonly Py_ssize_t longest
    cdef bint _several                  # more than one: each search is bounded (_reach)

    def __cinit__(self, tuple delimiters not None):
        # (in __cinit__: no DelimiterRule exists without its delimiters, even one made by
        # __new__ alone)
        if not delimiters or not all(type(d) is bytes and d for d in delimiters):
            raise TypeError("DelimiterRule needs a tuple of non-empty bytes delimiters")
        self.delimiters = delimiters
        self.longest = max(len(d) for d in delimiters)
        self._several = len(delimiters) > 1

    def __repr__(self):
        return f"DelimiterRule({self.delimiters!r})"

    cdef inline bint _arriving(self, const unsigned char *p, Py_ssize_t n) noexcept:
        """Whether the last ``n`` bytes at ``p`` are a proper prefix of a delimiter."""
        cdef bytes d
        for d in self.delimiters:
            if PyBytes_GET_SIZE(d) > n and memcmp(PyBytes_AS_STRING(d), p, n) == 0:
                return True
        return False

    cdef inline bint search(self, const unsigned char *p, Py_ssize_t start, Py_ssize_t avail,
                            bint eof, Py_ssize_t *found) noexcept:
        """Search ``p[start:avail]``: True with the delimiter that ends the frame at
        ``found[0]`` (``found[1]`` bytes long), or False with where one may still be arriving
        at ``found[0]`` (``avail``: nowhere)."""
        cdef Py_ssize_t match = -1, length = 0, at, limit, q, first
        cdef Py_ssize_t cap = self._reach(p, start, avail) if self._several else avail
        cdef bytes d
        for d in self.delimiters:
            limit = cap if match < 0 else min(cap, match + PyBytes_GET_SIZE(d))
            at = framekit_find(
                <const char *>p + start, limit - start, PyBytes_AS_STRING(d), PyBytes_GET_SIZE(d)
            )
            if at >= 0:
                at += start
                if match < 0 or at < match or (at == match and PyBytes_GET_SIZE(d) > length):
                    match = at
                    length = PyBytes_GET_SIZE(d)
        first = match if match >= 0 else avail
        if not eof:
            q = max(start, avail - self.longest + 1)
            while q <= first and q < avail:
                if self._arriving(p + q, avail - q):
                    found[0] = q
                    found[1] = 0
                    return False
                q += 1
        found[0] = first
        found[1] = length
        return match >= 0

    cdef Py_ssize_t _reach(self, const unsigned char *p, Py_ssize_t start,
                           Py_ssize_t avail) noexcept:
        """How far the search for each delimiter must look (_protocols.DelimiterRule._reach):
        past the end of the first occurrence of any, found in windows that double in size."""
        cdef Py_ssize_t width = DELIMITER_WINDOW, at, found
        cdef bytes d
        while start + width < avail:
            found = -1
            for d in self.delimiters:
                at = framekit_find(<const char *>p + start, width, PyBytes_AS_STRING(d),
                                   PyBytes_GET_SIZE(d))
                if at >= 0 and (found < 0 or at < found):
                    found = at
            if found >= 0:
                return min(avail, start + found + self.longest)
            width *= 2
        return avail

    def answer(self, buffer, Py_ssize_t start, bint eof):
        """search() of the bytes of ``buffer``, from Python: ``(settled, at, length)``."""
        return _search_answer(self, None, buffer, start, eof)


@cython.final
cdef class LineRule:
    """LineDecoder's rule, in C: DelimiterRule((b"\\r\\n", b"\\n")) with one memchr for the
    ``\\n``; ``\\r\\n`` when a ``\\r`` precedes it. A trailing ``\\r`` is the only ending that can
    still be arriving, and only when no ``\\n`` was found."""

    def __repr__(self):
        return "LineRule()"

    cdef inline bint search(self, const unsigned char *p, Py_ssize_t start, Py_ssize_t avail,
                            bint eof, Py_ssize_t *found) noexcept:
        cdef const unsigned char *nl = <const unsigned char *>memchr(p + start, 10, avail - start)
        cdef Py_ssize_t at
        if nl != NULL:
            at = nl - p
            if at > 0 and p[at - 1] == 13:
                found[0] = at - 1
                found[1] = 2
            else:
                found[0] = at
                found[1] = 1
            return True
        found[0] = avail - 1 if avail > start and p[avail - 1] == 13 and not eof else avail
        found[1] = 0
        return False

    def answer(self, buffer, Py_ssize_t start, bint eof):
        """search() of the bytes of ``buffer``, from Python: ``(settled, at, length)``."""
        return _search_answer(None, self, buffer, start, eof)


cdef object _search_answer(DelimiterRule delimited, LineRule lines, object buffer,
                           Py_ssize_t start, bint eof):
    cdef Py_buffer view
    cdef Py_ssize_t found[2]
    cdef bint settled
    _get_payload(buffer, &view)
    try:
        if not 0 <= start <= view.len:
            raise ValueError(f"start={start} is not within the {view.len} bytes")
        if delimited is not None:
            settled = delimited.search(<const unsigned char *>view.buf, start, view.len, eof,
                                       found)
        else:
            settled = lines.search(<const unsigned char *>view.buf, start, view.len, eof, found)
    finally:
        PyBuffer_Release(&view)
    return (settled, found[0], found[1])


cdef class DelimiterDecoder(_FrameDecoder):
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

    cdef bint _strip_delimiter
    cdef DelimiterRule _rule        # (its delimiters own the memory _complete() reads)

    def __init__(
        self,
        delimiters,
        *,
        strip_delimiter=True,
        max_frame_length=C.DEFAULT_MAX_LINE_LENGTH,
        fail_fast=True,
        copy=False,
        pool=None,
    ):
        delimiters = C.check_delimiters(delimiters)
        max_len = C.check_max_frame_length(max_frame_length, 0)
        self._setup(max_len, bool(fail_fast), bool(copy), pool)
        self._max_total = C.MAX_FRAME_LENGTH_LIMIT * 2  # the content is bounded, in _parse
        self._strip_delimiter = bool(strip_delimiter)
        self._rule = DelimiterRule(delimiters)
        self._config = (  # for repr()
            ("delimiters", C.shown_delimiters(delimiters)),
            ("strip_delimiter", strip_delimiter),
            ("max_frame_length", max_frame_length),
            ("fail_fast", fail_fast),
            ("copy", copy),
            ("pool", pool),
        )

    cdef Py_ssize_t _parse(self, const unsigned char *p, Py_ssize_t avail) noexcept:
        cdef Py_ssize_t found[2]
        cdef bint settled = self._rule.search(p, self._scanned, avail, self._eof, found)
        return settle_delimited(self, settled, found[0], found[1], self._strip_delimiter)

    cdef Py_ssize_t _complete(self, Py_ssize_t pos, Py_ssize_t n) except -1:
        # Copy the incomplete frame's rest: through the first delimiter in the bytes being fed
        # and room to settle a longer one. A delimiter straddling the two ends sooner; copying
        # more is safe.
        cdef Py_ssize_t stop = n, at
        cdef bytes d
        for d in self._rule.delimiters:
            at = framekit_find(self._in + pos, n - pos, PyBytes_AS_STRING(d), PyBytes_GET_SIZE(d))
            if at >= 0:
                at += pos + PyBytes_GET_SIZE(d) + self._rule.longest - 1
                if at < stop:
                    stop = at
        self._copy_in(pos, stop - pos, stop - pos)
        return stop - trim_past_frame(self, stop - pos)

    cdef object _eof_error(self):
        return delimited_eof_error(self)


cdef class LineDecoder(DelimiterDecoder):
    """Lines ending in ``\\n`` or ``\\r\\n`` (Netty's ``LineBasedFrameDecoder``)::

        +----------------------+      +-------+  +-------+
        | "ABC\\r\\nDEF\\nGHI\\r"   | ---> | "ABC" |  | "DEF" |   ("GHI\\r" waits)
        +----------------------+      +-------+  +-------+

    A lone ``\\r`` ends nothing. ``max_frame_length`` bounds a line without its line ending.
    """

    cdef LineRule _lines

    def __init__(
        self,
        *,
        strip_delimiter=True,
        max_frame_length=C.DEFAULT_MAX_LINE_LENGTH,
        fail_fast=True,
        copy=False,
        pool=None,
    ):
        DelimiterDecoder.__init__(
            self,
            (b"\r\n", b"\n"),
            strip_delimiter=strip_delimiter,
            max_frame_length=max_frame_length,
            fail_fast=fail_fast,
            copy=copy,
            pool=pool,
        )
        self._lines = LineRule()
        self._config = (  # for repr()
            ("strip_delimiter", strip_delimiter),
            ("max_frame_length", max_frame_length),
            ("fail_fast", fail_fast),
            ("copy", copy),
            ("pool", pool),
        )

    cdef Py_ssize_t _parse(self, const unsigned char *p, Py_ssize_t avail) noexcept:
        cdef Py_ssize_t found[2]
        cdef bint settled = self._lines.search(p, self._scanned, avail, self._eof, found)
        return settle_delimited(self, settled, found[0], found[1], self._strip_delimiter)


cdef class DelimiterEncoder:
    """Appends ``delimiter`` to each payload. With ``check``, a payload the decoder would not
    read back whole is refused (``ValueError``): one containing the delimiter (it would smuggle
    in a second frame), or ending in a part of a self-overlapping delimiter that forms the
    delimiter with the start of the one appended (``b"xab" + b"aba"``)."""

    cdef bytes _delimiter
    cdef bint _check

    cdef tuple _config

    def __repr__(self):
        return C.config_repr(self, self._config or ())

    def __init__(self, delimiter, *, check=True):
        (self._delimiter,) = C.check_delimiters(delimiter)
        self._check = bool(check)
        self._config = (("delimiter", self._delimiter), ("check", check))  # for repr()

    cdef bytes _payload(self, object payload):
        cdef Py_buffer view
        _get_payload(payload, &view)
        try:
            data = PyBytes_FromStringAndSize(<const char *>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        if self._check:
            C.check_delimited_payload(data, self._delimiter)
        return data

    def encode(self, payload):
        """The payload followed by the delimiter."""
        return self._payload(payload) + self._delimiter

    def encode_many(self, payloads):
        """Every payload followed by the delimiter, in one ``bytes``; nothing if any is refused."""
        parts = [self._payload(p) for p in payloads]
        if not parts:
            return b""
        return self._delimiter.join(parts) + self._delimiter

    def decoder(self, **overrides):
        """The decoder that reads back exactly what this encoder writes (given ``check``)."""
        return DelimiterDecoder(self._delimiter, **overrides)


# --- encoders -----------------------------------------------------------------------------------


@cython.auto_pickle(False)  # it holds raw pointers: never pickled
cdef class _Payloads:
    """The buffers of a batch of payloads, held while they are measured and then copied."""

    cdef Py_buffer *views
    cdef Py_ssize_t count

    def __cinit__(self, payloads):
        cdef Py_ssize_t i = 0
        items = payloads if isinstance(payloads, (list, tuple)) else list(payloads)
        self.views = <Py_buffer *>PyMem_Malloc(len(items) * sizeof(Py_buffer) + 1)
        if self.views == NULL:
            raise MemoryError()
        for item in items:
            _get_payload(item, &self.views[i])
            i += 1
            self.count = i

    def __dealloc__(self):
        cdef Py_ssize_t i
        for i in range(self.count):
            PyBuffer_Release(&self.views[i])
        PyMem_Free(self.views)


cdef int _get_payload(object payload, Py_buffer *view) except -1:
    try:
        PyObject_GetBuffer(payload, view, PyBUF_FULL_RO)
    except (TypeError, BufferError):
        raise TypeError(C.msg_not_buffer(payload)) from None
    if not PyBuffer_IsContiguous(view, b'C'):
        PyBuffer_Release(view)
        raise TypeError(C.msg_not_buffer(payload))
    return 0


cdef int _check_payload_length(object payload_length) except -1:
    if isinstance(payload_length, bool) or not isinstance(payload_length, int):
        raise TypeError(f"payload_length must be an int, not {type(payload_length).__name__}")
    if payload_length < 0:
        raise ValueError(f"payload_length must be >= 0, got {payload_length}")
    return 0


cdef class LengthFieldEncoder:
    """Prefixes each payload with its length (Netty's ``LengthFieldPrepender``).

    The field holds ``len(payload) + length_adjustment`` (plus the field's own width when
    ``length_includes_header``)::

        length_field_length=2
        +----------------+      +--------+----------------+
        | "HELLO, WORLD" | ---> | 0x000C | "HELLO, WORLD" |
        +----------------+      +--------+----------------+
    """

    cdef Py_ssize_t _width
    cdef bint _big
    cdef Py_ssize_t _adjustment
    cdef bint _includes_header
    cdef Py_ssize_t _max_frame_length

    cdef tuple _config

    def __repr__(self):
        return C.config_repr(self, self._config or ())

    def __init__(
        self,
        length_field_length=4,
        *,
        byteorder="big",
        length_adjustment=0,
        length_includes_header=False,
        max_frame_length=C.DEFAULT_MAX_FRAME_LENGTH,
    ):
        (
            self._width,
            self._big,
            self._adjustment,
            self._includes_header,
            self._max_frame_length,
        ) = C.check_length_encoder(
            length_field_length, byteorder, length_adjustment, length_includes_header,
            max_frame_length,
        )
        self._config = (  # for repr()
            ("length_field_length", length_field_length),
            ("byteorder", byteorder),
            ("length_adjustment", length_adjustment),
            ("length_includes_header", length_includes_header),
            ("max_frame_length", max_frame_length),
        )

    cdef uint64_t _value(self, Py_ssize_t payload_length) except? 0xFFFFFFFFFFFFFFFF:
        """The field's value for a payload; raises (writing nothing) what cannot be framed."""
        cdef Py_ssize_t total = self._width + payload_length
        if total > self._max_frame_length:
            raise FrameTooLongError(total, self._max_frame_length)
        cdef Py_ssize_t value = payload_length + self._adjustment
        if self._includes_header:
            value += self._width
        if value < 0:
            raise ValueError(f"length field value {value} is negative")
        if self._width < 8 and (<uint64_t>value >> (8 * self._width)):
            raise FrameTooLongError(total, self._max_frame_length)
        return <uint64_t>value

    cdef void _write(self, char *out, uint64_t value) noexcept:
        cdef Py_ssize_t i, width = self._width
        for i in range(width):
            out[width - 1 - i if self._big else i] = <char>(value & 0xFF)
            value >>= 8

    def encode_header(self, payload_length):
        """The length field for a payload of ``payload_length`` bytes."""
        _check_payload_length(payload_length)
        if payload_length > self._max_frame_length:
            raise FrameTooLongError(self._width + payload_length, self._max_frame_length)
        cdef uint64_t value = self._value(payload_length)
        out = PyBytes_FromStringAndSize(NULL, self._width)
        self._write(PyBytes_AS_STRING(out), value)
        return out

    def encode(self, payload):
        """Header and payload as one ``bytes``."""
        cdef Py_buffer view
        _get_payload(payload, &view)
        try:
            value = self._value(view.len)
            out = PyBytes_FromStringAndSize(NULL, self._width + view.len)
            self._write(PyBytes_AS_STRING(out), value)
            memcpy(PyBytes_AS_STRING(out) + self._width, view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        return out

    def encode_many(self, payloads):
        """Every payload framed, in one contiguous ``bytes``; nothing if any is refused."""
        cdef _Payloads batch = _Payloads(payloads)
        cdef Py_ssize_t i, total = 0
        cdef char *out
        for i in range(batch.count):
            self._value(batch.views[i].len)
            total += self._width + batch.views[i].len
        result = PyBytes_FromStringAndSize(NULL, total)
        out = PyBytes_AS_STRING(result)
        for i in range(batch.count):
            self._write(out, self._value(batch.views[i].len))
            out += self._width
            memcpy(out, batch.views[i].buf, batch.views[i].len)
            out += batch.views[i].len
        return result

    def decoder(self, **overrides):
        """The decoder that reads back exactly what this encoder writes."""
        kwargs = {
            "length_adjustment": -self._adjustment - (self._width if self._includes_header else 0),
            "byteorder": "big" if self._big else "little",
            "max_frame_length": self._max_frame_length,
        }
        kwargs.update(overrides)
        return LengthFieldDecoder(self._width, **kwargs)


cdef inline Py_ssize_t _varint_size(uint64_t value) noexcept:
    cdef Py_ssize_t n = 1
    while value >= 0x80:
        value >>= 7
        n += 1
    return n


cdef inline char *_write_varint(char *out, uint64_t value) noexcept:
    while value >= 0x80:
        out[0] = <char>((value & 0x7F) | 0x80)
        out += 1
        value >>= 7
    out[0] = <char>value
    return out + 1


cdef class VarintLengthEncoder:
    """Prefixes each payload with its length as a base-128 varint (protobuf's delimited form)."""

    cdef Py_ssize_t _max_frame_length

    cdef tuple _config

    def __repr__(self):
        return C.config_repr(self, self._config or ())

    def __init__(self, *, max_frame_length=C.DEFAULT_MAX_FRAME_LENGTH):
        self._max_frame_length = C.check_max_frame_length(max_frame_length, 1)
        self._config = (("max_frame_length", max_frame_length),)  # for repr()

    cdef int _check(self, Py_ssize_t payload_length) except -1:
        cdef Py_ssize_t total = _varint_size(payload_length) + payload_length
        if total > self._max_frame_length:
            raise FrameTooLongError(total, self._max_frame_length)
        return 0

    def encode_header(self, payload_length):
        """The varint for a payload of ``payload_length`` bytes."""
        cdef char buf[10]
        _check_payload_length(payload_length)
        if payload_length > self._max_frame_length:
            header = C.varint(payload_length)
            raise FrameTooLongError(len(header) + payload_length, self._max_frame_length)
        self._check(payload_length)
        return PyBytes_FromStringAndSize(buf, _write_varint(buf, payload_length) - buf)

    def encode(self, payload):
        """Header and payload as one ``bytes``."""
        cdef Py_buffer view
        cdef char *out
        _get_payload(payload, &view)
        try:
            self._check(view.len)
            result = PyBytes_FromStringAndSize(NULL, _varint_size(view.len) + view.len)
            out = _write_varint(PyBytes_AS_STRING(result), view.len)
            memcpy(out, view.buf, view.len)
        finally:
            PyBuffer_Release(&view)
        return result

    def encode_many(self, payloads):
        """Every payload framed, in one contiguous ``bytes``; nothing if any is refused."""
        cdef _Payloads batch = _Payloads(payloads)
        cdef Py_ssize_t i, total = 0
        cdef char *out
        for i in range(batch.count):
            self._check(batch.views[i].len)
            total += _varint_size(batch.views[i].len) + batch.views[i].len
        result = PyBytes_FromStringAndSize(NULL, total)
        out = PyBytes_AS_STRING(result)
        for i in range(batch.count):
            out = _write_varint(out, batch.views[i].len)
            memcpy(out, batch.views[i].buf, batch.views[i].len)
            out += batch.views[i].len
        return result

    def decoder(self, **overrides):
        """The decoder that reads back exactly what this encoder writes."""
        kwargs = {"max_frame_length": self._max_frame_length}
        kwargs.update(overrides)
        return VarintLengthDecoder(**kwargs)


# inspect.signature() and help() show each public class's constructor parameters, the pure
# twin's (Cython gives an extension type no signature of its own to show)
from ._kinds import CLASSES as _CLASSES
for _name in _CLASSES:
    _public = globals()[_name]
    framekit_type_attr(<PyTypeObject *>_public, "__signature__", C.PureSignature(_public))
del _public, _name, _CLASSES
