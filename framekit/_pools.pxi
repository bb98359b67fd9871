# Memory pools (SPEC §4), included by _core.pyx.
#
# Thread safety: every state change below happens while holding the GIL, with no call into
# Python code between reading and writing the pool's counters (objects are created before the
# counters change), so a pool can be shared between threads. A free-threaded build would need
# a lock here.


@cython.final
@cython.auto_pickle(False)  # it holds raw pointers: never pickled
@cython.no_gc_clear  # __dealloc__ gives its memory back to its pool: the pool must still be there
cdef class PooledBuffer:
    """A writable buffer of exactly the size asked for, from a :class:`BufferPool`. Give it
    back with ``release()``, ``pool.release(buf)`` or a ``with`` block; after that, using it
    raises ``ValueError``."""

    cdef BufferPool _pool
    cdef char *_data
    cdef Py_ssize_t _size
    cdef Py_ssize_t _capacity
    cdef Py_ssize_t _exports
    cdef bint _released

    def __init__(self, *args, **kwargs):
        # only BufferPool.acquire() makes them (it does not call __init__)
        raise TypeError("PooledBuffer objects come from BufferPool.acquire()")

    def __getbuffer__(self, Py_buffer *view, int flags):
        if self._released or self._pool is None:
            raise ValueError("operation on a released pooled buffer")
        _fill_view(view, flags, self._data, &self._size, False)
        view.obj = self
        self._exports += 1

    def __releasebuffer__(self, Py_buffer *view):
        self._exports -= 1

    def release(self):
        """Give the buffer back to its pool."""
        if self._pool is None:
            raise ValueError("this buffer was not acquired from a pool")
        self._pool._release(self)

    # the sequence behaviour of the pure twin's bytearray-based buffer
    def __getitem__(self, index):
        return memoryview(self)[index]

    def __setitem__(self, index, value):
        memoryview(self)[index] = value

    def __eq__(self, other):
        try:
            theirs = memoryview(other)
        except TypeError:
            return NotImplemented
        return memoryview(self) == theirs

    def __ne__(self, other):
        result = self.__eq__(other)
        return result if result is NotImplemented else not result

    __hash__ = None

    @property
    def released(self):
        return self._released

    @property
    def capacity(self):
        """The size class it came from (its own size when it was too large for any)."""
        return self._capacity

    def __len__(self):
        return 0 if self._released else self._size

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if not self._released and self._pool is not None:
            self._pool._release(self)

    def __dealloc__(self):
        if not self._released and self._pool is not None:
            self._pool._give_back(self._data, self._capacity)  # dropped without release()


@cython.final
@cython.auto_pickle(False)  # it holds raw pointers: never pickled
cdef class BufferPool:
    """Reusable writable buffers in size classes. ``acquire(size)`` gives a buffer of exactly
    ``size`` bytes from the smallest class that fits; requests above the largest class are
    served unpooled and not retained. At most ``max_retained_bytes`` are cached; going over
    ``max_in_use_bytes`` raises :class:`PoolExhaustedError`. Safe to share between threads."""

    cdef tuple _classes
    cdef Py_ssize_t _nclasses
    cdef Py_ssize_t *_sizes
    cdef char ***_stacks          # per class, the cached blocks
    cdef Py_ssize_t *_depth       # how many each stack holds
    cdef Py_ssize_t *_room        # how many each stack can hold before it grows
    cdef Py_ssize_t _max_retained
    cdef Py_ssize_t _max_in_use   # -1: no limit
    cdef Py_ssize_t _in_use
    cdef Py_ssize_t _retained
    cdef Py_ssize_t _peak
    cdef Py_ssize_t _hits
    cdef Py_ssize_t _misses
    cdef object _recent           # buffers released lately: reused when only we hold them
    cdef object _older

    def __cinit__(self, *args, **kwargs):
        self._recent = None
        self._older = None

    def __init__(
        self,
        size_classes=(256, 1024, 4096, 16384, 65536),
        *,
        max_retained_bytes=64 * 1024 * 1024,
        max_in_use_bytes=None,
    ):
        cdef Py_ssize_t i
        classes, self._max_retained, self._max_in_use = C.check_size_classes(
            size_classes, max_retained_bytes, max_in_use_bytes
        )
        if self._sizes != NULL:
            raise RuntimeError("BufferPool.__init__ called twice")
        self._classes = classes
        self._nclasses = len(classes)
        self._sizes = <Py_ssize_t *>PyMem_Malloc(self._nclasses * sizeof(Py_ssize_t))
        self._stacks = <char ***>PyMem_Malloc(self._nclasses * sizeof(char **))
        self._depth = <Py_ssize_t *>PyMem_Malloc(self._nclasses * sizeof(Py_ssize_t))
        self._room = <Py_ssize_t *>PyMem_Malloc(self._nclasses * sizeof(Py_ssize_t))
        if not (self._sizes and self._stacks and self._depth and self._room):
            raise MemoryError()
        for i in range(self._nclasses):
            self._sizes[i] = classes[i]
            self._stacks[i] = NULL
            self._depth[i] = 0
            self._room[i] = 0

    def __dealloc__(self):
        self._free_cached()
        PyMem_Free(self._stacks)
        PyMem_Free(self._sizes)
        PyMem_Free(self._depth)
        PyMem_Free(self._room)

    cdef Py_ssize_t _free_cached(self) noexcept:
        cdef Py_ssize_t i, j, freed = 0
        if self._stacks == NULL:
            return 0
        for i in range(self._nclasses):
            for j in range(self._depth[i]):
                framekit_storage_free(self._stacks[i][j], self._sizes[i])
                freed += self._sizes[i]
            PyMem_Free(self._stacks[i])
            self._stacks[i] = NULL
            self._depth[i] = 0
            self._room[i] = 0
        self._retained = 0
        return freed

    cdef inline Py_ssize_t _class_of(self, Py_ssize_t size) noexcept:
        cdef Py_ssize_t i
        for i in range(self._nclasses):
            if self._sizes[i] >= size:
                return i
        return -1

    def acquire(self, size):
        """A writable buffer of exactly ``size`` bytes."""
        cdef Py_ssize_t index, capacity
        cdef char *data
        cdef PooledBuffer buf
        cdef Py_ssize_t n
        if type(size) is not int:
            size = C.check_acquire_size(size)  # TypeError for bool and non-ints, as the twin
        if size < 0:
            raise ValueError(f"size must be >= 0, got {size}")
        n = size
        index = self._class_of(n)
        capacity = self._sizes[index] if index >= 0 else n
        if 0 <= self._max_in_use < self._in_use + capacity:
            raise PoolExhaustedError(
                f"acquiring {capacity} bytes would exceed max_in_use_bytes={self._max_in_use}"
            )
        buf = self._buffer_object()
        if index >= 0 and self._depth[index]:
            self._depth[index] -= 1
            data = self._stacks[index][self._depth[index]]
            self._retained -= capacity
            self._hits += 1
        else:
            data = framekit_storage(capacity)
            if data == NULL:
                raise MemoryError()
            self._misses += 1
        self._in_use += capacity
        if self._in_use > self._peak:
            self._peak = self._in_use
        buf._pool = self
        buf._data = data
        buf._size = n
        buf._capacity = capacity
        buf._exports = 0
        buf._released = False
        return buf

    cdef PooledBuffer _buffer_object(self):
        # A buffer object released two acquisitions ago that nobody else holds is reused; its
        # old holder has dropped it, so nobody can tell.
        cdef object old = self._older
        if old is not None and Py_REFCNT(<PyObject *>self._older) == 2:  # _older and `old`
            self._older = None
            return <PooledBuffer>old
        return PooledBuffer.__new__(PooledBuffer)

    def release(self, buf):
        """Give ``buf`` back. ``BufferError`` while a view of it is alive (nothing changes);
        :class:`DoubleFreeError` if it was released already."""
        if not isinstance(buf, PooledBuffer) or (<PooledBuffer>buf)._pool is not self:
            raise ValueError("this buffer was not acquired from this pool")
        self._release(<PooledBuffer>buf)

    cdef int _release(self, PooledBuffer buf) except -1:
        if buf._released:
            raise DoubleFreeError("buffer released twice")
        if buf._exports:
            raise BufferError("a view of this buffer is still alive; release it first")
        buf._released = True
        self._give_back(buf._data, buf._capacity)
        buf._data = NULL
        self._older = self._recent
        self._recent = buf
        return 0

    cdef void _give_back(self, char *data, Py_ssize_t capacity) noexcept:
        cdef Py_ssize_t index = self._class_of(capacity)
        cdef char **stack
        self._in_use -= capacity
        if (
            index >= 0
            and self._sizes[index] == capacity
            and self._retained + capacity <= self._max_retained
        ):
            if self._depth[index] == self._room[index]:
                stack = <char **>PyMem_Realloc(
                    self._stacks[index], (2 * self._room[index] + 4) * sizeof(char *)
                )
                if stack == NULL:
                    framekit_storage_free(data, capacity)
                    return
                self._stacks[index] = stack
                self._room[index] = 2 * self._room[index] + 4
            self._stacks[index][self._depth[index]] = data
            self._depth[index] += 1
            self._retained += capacity
        else:
            framekit_storage_free(data, capacity)

    def trim(self):
        """Give cached memory back; returns how many bytes that was."""
        return self._free_cached()

    @property
    def stats(self):
        return PoolStats(self._in_use, self._retained, self._peak, self._hits, self._misses)
