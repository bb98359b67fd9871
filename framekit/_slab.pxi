# Slabs of fixed-layout records (SPEC §4, §10), and the big zeroed blocks they and index() use;
# included by _core.pyx after _pools.pxi.


cdef enum FieldKind:
    OTHER = 0
    SIGNED = 1
    UNSIGNED = 2
    DOUBLE = 3
    SINGLE = 4
    BYTES = 5
    BOOL = 6


cdef char _field_kind(str code):
    if code in "bhilqn":
        return SIGNED
    if code in "BHILQN":
        return UNSIGNED
    return {"d": DOUBLE, "f": SINGLE, "s": BYTES, "?": BOOL}.get(code, OTHER)


cdef array.array _HANDLES = array.array("Q")


cdef inline array.array _handle_array(Py_ssize_t count):
    """An ``array("Q")`` of ``count`` items, not initialised: the caller writes them all."""
    return array.clone(_HANDLES, count, False)


cdef int _refuse_pair(int64_t start, int64_t end, Py_ssize_t length, Py_ssize_t size) except -1:
    """Slab.extend's error for a (start, end) pair out of bounds or not ``size`` long."""
    if not 0 <= start <= end <= length:
        raise ValueError(C.msg_bad_pair(start, end, length))
    raise ValueError(C.msg_record_size(size, end - start))


cdef void *_zero_extended(void *block, Py_ssize_t old, Py_ssize_t new) except NULL:
    """``block`` (from framekit_zeroed, or NULL) resized from ``old`` to ``new`` bytes, the
    added ones zero."""
    cdef char *grown = framekit_zeroed(new) if block == NULL else framekit_resized(<char *>block, new)
    if grown == NULL:
        raise MemoryError()
    if block != NULL and new > old:
        memset(grown + old, 0, new - old)
    return grown


cdef char *FORMAT_Q = "q"


@cython.final
@cython.auto_pickle(False)  # it holds raw pointers: never pickled
cdef class _Memory:
    """A big block of memory of its own (a slab's records, ``index()``'s positions), zeroed and
    lazily mapped (see _memory.h), exported as 1-D items of ``itemsize`` bytes (``"B"`` or
    ``"q"``). Its exports are counted: it is never moved or freed under a view."""

    cdef char *data
    cdef Py_ssize_t size           # bytes
    cdef Py_ssize_t items          # size // itemsize: the exported shape
    cdef Py_ssize_t itemsize
    cdef Py_ssize_t exports
    cdef bint readonly

    def __cinit__(self, Py_ssize_t size, Py_ssize_t itemsize=1, bint readonly=False):
        self.data = framekit_zeroed(size)
        if self.data == NULL:
            raise MemoryError()
        self.size = size
        self.itemsize = itemsize
        self.items = size // itemsize
        self.readonly = readonly

    def __dealloc__(self):
        PyMem_RawFree(self.data)

    cdef int resize(self, Py_ssize_t size) except -1:
        """Keep the first ``size`` bytes (more are not initialised); only with no export."""
        cdef char *data
        if self.exports:
            raise BufferError("cannot resize memory while a view of it is alive")
        data = framekit_resized(self.data, size)
        if data == NULL:
            raise MemoryError()
        self.data = data
        self.size = size
        self.items = size // self.itemsize
        return 0

    def __getbuffer__(self, Py_buffer *view, int flags):
        if flags & PyBUF_WRITABLE and self.readonly:
            raise BufferError("read-only memory")
        view.buf = self.data
        view.len = self.items * self.itemsize
        view.readonly = self.readonly
        view.itemsize = self.itemsize
        view.format = NULL
        if flags & PyBUF_FORMAT:
            view.format = FORMAT_B if self.itemsize == 1 else FORMAT_Q
        view.ndim = 1
        view.shape = &self.items if flags & PyBUF_ND else NULL
        view.strides = &view.itemsize if flags & PyBUF_STRIDES else NULL
        view.suboffsets = NULL
        view.internal = NULL
        view.obj = self
        self.exports += 1

    def __releasebuffer__(self, Py_buffer *view):
        self.exports -= 1


@cython.final
@cython.auto_pickle(False)  # it holds raw pointers: never pickled
cdef class Slab:
    """Typed fixed-size records in one contiguous block of memory, addressed by handles.

    ``fields`` are named ``struct`` codes, e.g. ``[("id", "Q"), ("price", "d"), ("qty", "I"),
    ("symbol", "8s")]``; with ``byteorder="native"`` fields are naturally aligned, with
    ``"little"``/``"big"`` packed. ``align=64`` gives each record its own cache line(s).
    ``alloc(**values)`` returns an int handle (slot and generation; unset fields are zero).
    A freed or foreign handle raises :class:`StaleHandleError`, a second free
    :class:`DoubleFreeError`, a full slab :class:`PoolExhaustedError` unless ``growable``
    (growth needs no view of the slab to be alive: the memory moves).
    """

    cdef object _layout
    cdef dict _index              # field name -> position
    cdef tuple _structs
    cdef tuple _offsets
    cdef tuple _codes
    cdef Py_ssize_t _record_size
    cdef Py_ssize_t _align
    cdef Py_ssize_t _capacity
    cdef Py_ssize_t _high         # slots [0, high) have been handed out at least once
    cdef Py_ssize_t _count        # live records
    cdef uint32_t *_generations
    cdef unsigned char *_live
    cdef uint32_t *_free          # freed slots, reused first
    cdef Py_ssize_t _nfree
    cdef _Memory _memory
    cdef Py_ssize_t _offset       # where the aligned records begin in _memory
    cdef uint64_t _id
    cdef bint _growable
    cdef tuple _names
    cdef Py_ssize_t _nfields
    cdef char *_kinds             # per field: its struct code (the letter)
    cdef Py_ssize_t *_widths      # its size in bytes
    cdef Py_ssize_t *_starts      # its offset in the record
    cdef bint _swap               # fields are stored in the other byte order than the host's
    cdef bint _dense              # the fields cover every byte of a record (no padding)

    def __init__(self, fields, capacity, *, byteorder="native", align=None, growable=False):
        layout = C.SlabLayout(fields, byteorder, align)
        capacity = C._int("capacity", capacity)
        if not 0 < capacity <= C.MAX_SLOTS:
            raise ValueError(f"capacity must be in 1..{C.MAX_SLOTS}, got {capacity}")
        if self._memory is not None:
            raise RuntimeError("Slab.__init__ called twice")
        self._layout = layout
        self._index = {name: i for i, name in enumerate(layout.names)}
        self._structs = layout.structs
        self._offsets = layout.offsets
        self._codes = layout.codes
        self._record_size = layout.record_size
        self._align = layout.align
        self._id = C.next_slab_id()
        self._growable = bool(growable)
        self._names = layout.names
        self._nfields = len(layout.names)
        self._kinds = <char *>PyMem_Malloc(self._nfields)
        self._widths = <Py_ssize_t *>PyMem_Malloc(self._nfields * sizeof(Py_ssize_t))
        self._starts = <Py_ssize_t *>PyMem_Malloc(self._nfields * sizeof(Py_ssize_t))
        if not (self._kinds and self._widths and self._starts):
            raise MemoryError()
        for i in range(self._nfields):
            code = layout.codes[i]
            self._kinds[i] = _field_kind(code[len(code) - 1])
            self._widths[i] = layout.structs[i].size
            self._starts[i] = layout.offsets[i]
        self._swap = layout.prefix != "@" and (layout.prefix == "<") != HOST_LITTLE
        self._dense = sum([self._widths[i] for i in range(self._nfields)]) == self._record_size
        self._resize(capacity)

    def __dealloc__(self):
        PyMem_Free(self._kinds)
        PyMem_Free(self._widths)
        PyMem_Free(self._starts)
        PyMem_RawFree(self._generations)
        PyMem_RawFree(self._live)
        PyMem_RawFree(self._free)

    cdef int _resize(self, Py_ssize_t capacity) except -1:
        cdef _Memory memory
        cdef Py_ssize_t address, offset, used = self._capacity * self._record_size
        if self._memory is not None and self._memory.exports:
            raise BufferError("cannot grow the slab while a view of it is alive")
        memory = _Memory(capacity * self._record_size + self._align - 1)
        address = <Py_ssize_t>memory.data
        offset = (self._align - address % self._align) % self._align
        if used:
            memcpy(memory.data + offset, self._memory.data + self._offset, used)
        self._generations = <uint32_t *>_zero_extended(self._generations, 4 * self._capacity, 4 * capacity)
        self._free = <uint32_t *>_zero_extended(self._free, 4 * self._capacity, 4 * capacity)
        self._live = <unsigned char *>_zero_extended(self._live, self._capacity, capacity)
        self._memory = memory
        self._offset = offset
        self._capacity = capacity
        return 0

    cdef inline char *_record_at(self, Py_ssize_t slot) noexcept:
        return self._memory.data + self._offset + slot * self._record_size

    cdef Py_ssize_t _decode(self, object handle, uint32_t *generation) except -1:
        cdef uint64_t value
        cdef Py_ssize_t slot
        if PyLong_CheckExact(handle):
            value = _as_unsigned(handle)  # (uint64_t)-1 on error: never a handle (bit 63)
            if value == <uint64_t>-1:
                PyErr_Clear()
        elif isinstance(handle, bool) or not isinstance(handle, int):
            raise TypeError(f"a handle is an int, not {type(handle).__name__}")
        elif handle < 0 or handle >> 63:
            value = <uint64_t>-1
        else:
            value = handle
        generation[0] = (value >> C_SLOT_BITS) & ((1 << C_GENERATION_BITS) - 1)
        slot = value & ((1 << C_SLOT_BITS) - 1)
        if value >> 63 or value >> (C_SLOT_BITS + C_GENERATION_BITS) != self._id or slot >= self._high:
            raise StaleHandleError(f"handle {handle:#x} does not belong to this slab")
        return slot

    cdef Py_ssize_t _slot(self, object handle) except -1:
        """The slot of a live record's handle, or StaleHandleError."""
        cdef uint32_t generation
        cdef Py_ssize_t slot = self._decode(handle, &generation)
        if self._generations[slot] != generation or not self._live[slot]:
            raise StaleHandleError(f"handle {handle:#x} is stale (its record was freed)")
        return slot

    cdef int _room(self, Py_ssize_t n) except -1:
        """Make room for ``n`` more records, or raise PoolExhaustedError with nothing done."""
        cdef Py_ssize_t free = self._nfree + self._capacity - self._high
        cdef Py_ssize_t needed
        if n <= free:
            return 0
        needed = self._capacity + n - free
        if not self._growable or needed > C_MAX_SLOTS:
            raise PoolExhaustedError(f"slab full ({self._capacity} records)")
        self._resize(min(max(2 * self._capacity, needed), C_MAX_SLOTS))
        return 0

    cdef inline Py_ssize_t _new_slot(self) except -1:
        """A zeroed record's slot, now live."""
        cdef Py_ssize_t slot = self._take_slot()
        memset(self._record_at(slot), 0, self._record_size)
        return slot

    cdef inline Py_ssize_t _take_slot(self) except -1:
        """A record's slot, now live, holding what it last held: for a caller that writes
        every byte of it."""
        cdef Py_ssize_t slot
        if self._nfree:
            self._nfree -= 1
            slot = self._free[self._nfree]
        else:
            if self._high == self._capacity:
                self._room(1)
            slot = self._high
            self._high += 1
        self._live[slot] = 1
        self._count += 1
        return slot

    cdef inline uint64_t _handle_of(self, Py_ssize_t slot) noexcept:
        return (
            (self._id << (C_SLOT_BITS + C_GENERATION_BITS))
            | (<uint64_t>self._generations[slot] << C_SLOT_BITS)
            | <uint64_t>slot
        )

    def alloc(self, *values, **named):
        """alloc(*values, **named)
        A new record: ``values`` fill the fields in order, ``named`` by name, the rest are
        zero. Returns its handle."""
        # (replaced at import by a METH_FASTCALL entry that takes its arguments as a C vector,
        # with no tuple or dict built per call: _slab_alloc below; this one documents it)
        return _slab_alloc(self, NULL, 0, NULL)  # pragma: no cover

    cdef object _alloc_vector(self, PyObject **args, Py_ssize_t nargs, PyObject *kwnames):
        """alloc() with its arguments as CPython's vectorcall hands them over."""
        cdef Py_ssize_t slot, i
        cdef char *record
        if kwnames != NULL or nargs > self._nfields:
            return self._alloc_named(args, nargs, kwnames)
        if nargs == self._nfields and self._dense:
            slot = self._take_slot()  # every byte is written below
        else:
            slot = self._new_slot()
        record = self._record_at(slot)
        for i in range(nargs):  # the common exact types, written straight in
            if not self._store(i, record, <object>args[i]):
                return self._alloc_rest(slot, args, nargs, i, None)
        return self._handle_of(slot)

    cdef object _alloc_named(self, PyObject **args, Py_ssize_t nargs, PyObject *kwnames):
        cdef Py_ssize_t i, nkw = PyTuple_GET_SIZE(<object>kwnames) if kwnames != NULL else 0
        cdef dict named = {(<object>kwnames)[i]: <object>args[nargs + i] for i in range(nkw)}
        if nargs > self._nfields or (nargs and nkw):
            values = tuple([<object>args[i] for i in range(nargs)])
            C.check_positional(self._names, values, named if nkw else ())
        return self._alloc_rest(self._new_slot(), args, nargs, 0, named)

    cdef object _alloc_rest(
        self, Py_ssize_t slot, PyObject **args, Py_ssize_t nargs, Py_ssize_t first, dict named
    ):
        """Fill a new record from positional value ``first`` on, then ``named``; the record is
        freed again if a value is refused."""
        cdef Py_ssize_t i
        try:
            for i in range(first, nargs):
                if not self._store(i, self._record_at(slot), <object>args[i]):
                    self._set(slot, self._names[i], <object>args[i])
            if named:
                self._fill(slot, named, nargs)
        except BaseException:
            self._release_slot(slot)
            raise
        return self._handle_of(slot)

    def alloc_many(self, n):
        """``n`` new records, all fields zero; their handles in an ``array("Q")``."""
        cdef Py_ssize_t i, count = C.check_count(n)
        cdef uint64_t[::1] out
        self._room(count)
        handles = _handle_array(count)
        if count:
            out = handles
            for i in range(count):
                out[i] = self._handle_of(self._new_slot())
        return handles

    def extend(self, frames, *, positions=None):
        """One record per frame, its bytes copied in, in one call: ``frames`` is any iterable
        of bytes-like objects of exactly ``record_size`` bytes each (the handles come back as a
        list), or, with ``positions`` (as ``index()`` gives them), the buffer those frames lie
        in (the handles come back as an ``array("Q")``: no Python object per frame). Nothing is
        allocated when a frame is refused."""
        cdef _Payloads batch
        cdef Py_buffer data
        cdef Py_ssize_t i, count, slot, size = self._record_size
        cdef int64_t start, end
        cdef list handles
        cdef const int64_t[::1] pairs
        cdef uint64_t[::1] written
        if positions is None:
            batch = _Payloads(frames)
            for i in range(batch.count):
                if batch.views[i].len != size:
                    raise ValueError(C.msg_record_size(size, batch.views[i].len))
            self._room(batch.count)
            handles = []
            for i in range(batch.count):
                slot = self._take_slot()
                memcpy(self._record_at(slot), batch.views[i].buf, size)
                handles.append(self._handle_of(slot))
            return handles
        pairs = C.int64_pairs(positions)
        count = pairs.shape[0] // 2
        _get_payload(frames, &data)
        try:
            if count and not self._nfree and count <= self._capacity - self._high:
                # Fresh slots, one after the other, with generation 0: checked and copied in
                # one pass, and nothing taken if a pair is refused.
                out = _handle_array(count)
                written = out
                i = framekit_gather(
                    self._record_at(self._high), <const char *>data.buf, data.len, &pairs[0],
                    count, size, &written[0], self._handle_of(self._high),
                )
                if i < count:
                    _refuse_pair(pairs[2 * i], pairs[2 * i + 1], data.len, size)
                memset(self._live + self._high, 1, count)
                self._high += count
                self._count += count
                return out
            for i in range(count):  # all checked before anything is allocated
                start, end = pairs[2 * i], pairs[2 * i + 1]
                if not 0 <= start <= end <= data.len or end - start != size:
                    _refuse_pair(start, end, data.len, size)
            self._room(count)
            out = _handle_array(count)  # no Python object per frame
            if count:
                written = out
                for i in range(count):
                    slot = self._take_slot()
                    memcpy(self._record_at(slot), <const char *>data.buf + pairs[2 * i], size)
                    written[i] = self._handle_of(slot)
        finally:
            PyBuffer_Release(&data)
        return out

    def live(self):
        """Which slots hold a live record: a boolean per row of ``numpy()`` (format ``"?"``),
        so ``slab.numpy()[slab.live()]`` is the live records. A snapshot."""
        return memoryview(PyBytes_FromStringAndSize(<char *>self._live, self._capacity)).cast("?")

    def __iter__(self):
        """The handles of the live records, in slot order (a snapshot)."""
        cdef Py_ssize_t slot
        return iter([self._handle_of(slot) for slot in range(self._high) if self._live[slot]])

    def slot(self, handle):
        """The slot of a live record: its row in ``numpy()`` and ``live()``."""
        return self._slot(handle)

    cdef int _fill(self, Py_ssize_t slot, dict values, Py_ssize_t first) except -1:
        """Set the fields ``values`` names from field ``first`` on, in field order (so errors
        come in a fixed order)."""
        cdef Py_ssize_t i, used = 0
        cdef PyObject *value
        for i in range(first, self._nfields):
            value = PyDict_GetItem(values, self._names[i])
            if value != NULL:
                used += 1
                if not self._store(i, self._record_at(slot), <object>value):
                    self._set(slot, self._names[i], <object>value)
        if used != len(values):
            for name in values:
                if name not in self._index:
                    raise KeyError(name)
        return 0

    cdef inline bint _store(self, Py_ssize_t i, char *record, object value) noexcept:
        """Write the common exact types (int, float, bytes, bool) straight into the record;
        False leaves everything else, errors included, to the struct packer."""
        cdef int kind = self._kinds[i]
        cdef Py_ssize_t width = self._widths[i], k
        cdef char *at = record + self._starts[i]
        cdef uint64_t bits = 0
        cdef long long number
        cdef int overflow
        cdef double real
        cdef float single
        if kind == SIGNED or kind == UNSIGNED:
            if type(value) is not int:
                return False
            if framekit_compact_int(value, &number):
                overflow = 0
            else:
                number = PyLong_AsLongLongAndOverflow(value, &overflow)
            if overflow:
                if kind == SIGNED or overflow < 0:
                    return False
                bits = _as_unsigned(value)
                if bits == <uint64_t>-1 and PyErr_Occurred():
                    PyErr_Clear()
                    return False
            elif kind == SIGNED:
                if width < 8 and not (
                    -(1LL << (8 * width - 1)) <= number < (1LL << (8 * width - 1))
                ):
                    return False
                bits = <uint64_t>number
            else:
                if number < 0:
                    return False
                bits = <uint64_t>number
            if width < 8 and kind == UNSIGNED and bits >> (8 * width):
                return False
        elif kind == DOUBLE and type(value) is float:
            real = value
            memcpy(&bits, &real, 8)
        elif kind == SINGLE and type(value) is float:
            real = value
            single = <float>real
            if single - single != 0 and real - real == 0:
                return False  # too large for a float: struct says so
            memcpy(&bits, &single, 4)
        elif kind == BYTES and type(value) is bytes:
            k = PyBytes_GET_SIZE(value) if PyBytes_GET_SIZE(value) < width else width
            memcpy(at, PyBytes_AS_STRING(value), k)
            memset(at + k, 0, width - k)
            return True
        elif kind == BOOL and type(value) is bool:
            at[0] = 1 if value is True else 0
            return True
        else:
            return False
        return framekit_put(at, bits, width, self._swap)

    cdef void _release_slot(self, Py_ssize_t slot) noexcept:
        self._live[slot] = 0
        self._generations[slot] = (self._generations[slot] + 1) & ((1 << C_GENERATION_BITS) - 1)
        self._free[self._nfree] = <uint32_t>slot
        self._nfree += 1
        self._count -= 1

    def free(self, handle, /):
        """free(handle, /)
        Free a record; its handle (and any copy of it) becomes stale."""
        # (replaced at import by a METH_O entry, called with no argument parsing: _slab_free)
        return _slab_free(self, handle)  # pragma: no cover

    cdef inline object _free_handle(self, object handle):
        cdef uint64_t value
        cdef Py_ssize_t slot
        if PyLong_CheckExact(handle):  # the common case, checked in one go
            value = _as_unsigned(handle)
            slot = value & ((1 << C_SLOT_BITS) - 1)
            if (
                value >> (C_SLOT_BITS + C_GENERATION_BITS) == self._id
                and slot < self._high
                and self._live[slot]
                and self._generations[slot] == (value >> C_SLOT_BITS) & ((1 << C_GENERATION_BITS) - 1)
            ):
                self._release_slot(slot)
                return None
            if value == <uint64_t>-1:
                PyErr_Clear()
        return self._free_checked(handle)

    cdef object _free_checked(self, object handle):
        """free() of anything but a live handle of this slab: the error that says why."""
        cdef uint32_t generation
        cdef Py_ssize_t slot = self._decode(handle, &generation)
        cdef uint32_t current = self._generations[slot]
        if not self._live[slot] and generation == ((current - 1) & ((1 << C_GENERATION_BITS) - 1)):
            raise DoubleFreeError(f"handle {handle:#x} freed twice")
        if generation != current or not self._live[slot]:
            raise StaleHandleError(f"handle {handle:#x} is stale (its record was freed)")
        self._release_slot(slot)
        return None

    cdef int _set(self, Py_ssize_t slot, object name, object value) except -1:
        index = self._index.get(name)
        if index is None:
            raise KeyError(name)
        try:
            self._structs[index].pack_into(
                self._memory, self._offset + slot * self._record_size + self._offsets[index], value
            )
        except struct_error as exc:
            raise C.slab_value_error(name, self._codes[index], value, exc) from None
        return 0

    def get(self, handle, name):
        """The value of field ``name`` of a record."""
        index = self._index.get(name)
        if index is None:
            raise KeyError(name)
        cdef Py_ssize_t slot = self._slot(handle)
        return self._structs[index].unpack_from(
            self._memory, self._offset + slot * self._record_size + self._offsets[index]
        )[0]

    def set(self, handle, name, value):
        """Set field ``name`` of a record (OverflowError or ValueError if it does not fit)."""
        if name not in self._index:
            raise KeyError(name)
        self._set(self._slot(handle), name, value)

    def record(self, handle):
        """A proxy with attribute access to a record's fields."""
        self._slot(handle)
        return SlabRecord(self, handle)

    def view(self, handle):
        """The record's bytes, writable and zero-copy (to and from the wire)."""
        cdef Py_ssize_t start = self._offset + self._slot(handle) * self._record_size
        return memoryview(self._memory)[start : start + self._record_size]

    def buffer(self):
        """All records as one writable memoryview (``numpy.frombuffer`` can view it)."""
        return memoryview(self._memory)[
            self._offset : self._offset + self._capacity * self._record_size
        ]

    def numpy(self):
        """The records as a numpy structured array: a view, not a copy (needs numpy)."""
        return C.numpy_records(self.buffer(), self._layout)

    def __len__(self):
        return self._count

    @property
    def capacity(self):
        return self._capacity

    @property
    def record_size(self):
        return self._record_size

    @property
    def fields(self):
        return self._layout.names


cdef object _slab_alloc(object self, PyObject **args, Py_ssize_t nargs, PyObject *kwnames):
    # METH_FASTCALL | METH_KEYWORDS: positional arguments, then keyword values named by kwnames
    return (<Slab>self)._alloc_vector(args, nargs, kwnames)


cdef object _slab_free(object self, object handle):
    # METH_O: the one argument as it is
    return (<Slab>self)._free_handle(handle)


cdef extern from *:
    """
    /* Slab.alloc as a METH_FASTCALL | METH_KEYWORDS method: CPython passes the arguments as a
       C vector, so a call with positional values builds no tuple and no dict (a Cython def
       taking *values, **named gets both on every call); Slab.free as METH_O, called with its
       argument and nothing to parse (a Cython def method is a cyfunction behind a bound
       method). Installed into the type's own dictionary once, at import, before any Slab
       exists. */
    static PyMethodDef framekit_slab_alloc_def = {"alloc", NULL, METH_FASTCALL | METH_KEYWORDS,
        "alloc($self, /, *values, **named)\\n--\\n\\n"
        "A new record: ``values`` fill the fields in order, ``named`` by name, the rest are\\n"
        "zero. Returns its handle."};
    static PyMethodDef framekit_slab_free_def = {"free", NULL, METH_O,
        "free($self, handle, /)\\n--\\n\\n"
        "Free a record; its handle (and any copy of it) becomes stale."};
    static int framekit_type_attr(PyTypeObject *type, const char *name, PyObject *value);
    static int framekit_install_fastcall(PyTypeObject *type, PyMethodDef *def, void *meth) {
        PyObject *descr;
        int rc;
        def->ml_meth = (PyCFunction)meth;
        descr = PyDescr_NewMethod(type, def);
        if (descr == NULL) return -1;
        rc = framekit_type_attr(type, def->ml_name, descr);
        Py_DECREF(descr);
        return rc;
    }
    /* Put ``value`` in a static type's own dictionary (which Python code may not write). */
    static int framekit_type_attr(PyTypeObject *type, const char *name, PyObject *value) {
        int rc = PyDict_SetItemString(type->tp_dict, name, value);
        PyType_Modified(type);
        return rc;
    }
    """
    ctypedef struct PyMethodDef:
        pass
    PyMethodDef framekit_slab_alloc_def
    PyMethodDef framekit_slab_free_def
    int framekit_install_fastcall(PyTypeObject *type, PyMethodDef *d, void *meth) except -1
    int framekit_type_attr(PyTypeObject *type, const char *name, object value) except -1


framekit_install_fastcall(<PyTypeObject *>Slab, &framekit_slab_alloc_def, <void *>_slab_alloc)
framekit_install_fastcall(<PyTypeObject *>Slab, &framekit_slab_free_def, <void *>_slab_free)
