# The C kernels of the protocols' framing rules (SPEC §8), included by _core.pyx.
#
# Each answers exactly as its pure-Python rule in framekit/_protocols.py (the twin's), with the
# same messages: tests/test_protocols.py feeds both random bytes. RuleDecoder calls a kernel's
# scan() directly; calling the kernel object from Python answers as a Python rule does.

from . import _protocols as P
from ._protocols import ProxyProtocolDecoder  # (once per connection: one class, both builds)

# the rules' constants and codes, as C values (a module attribute lookup per scan is slow)
cdef Py_ssize_t NETSTRING_DIGITS = P.NETSTRING_DIGITS
cdef Py_ssize_t NETSTRING_LEADING_ZERO = P.NETSTRING_LEADING_ZERO
cdef Py_ssize_t NETSTRING_NOT_A_NUMBER = P.NETSTRING_NOT_A_NUMBER
cdef Py_ssize_t NETSTRING_NO_COMMA = P.NETSTRING_NO_COMMA
cdef Py_ssize_t NETSTRING_TOO_MANY_DIGITS = P.NETSTRING_TOO_MANY_DIGITS
cdef Py_ssize_t OCTET_DIGITS = P.OCTET_DIGITS
cdef Py_ssize_t OCTET_LEADING_ZERO = P.OCTET_LEADING_ZERO
cdef Py_ssize_t OCTET_NOT_A_COUNT = P.OCTET_NOT_A_COUNT
cdef Py_ssize_t OCTET_NO_SPACE = P.OCTET_NO_SPACE
cdef Py_ssize_t OCTET_TOO_MANY_DIGITS = P.OCTET_TOO_MANY_DIGITS
cdef Py_ssize_t RESP_BAD_LENGTH = P.RESP_BAD_LENGTH
cdef Py_ssize_t RESP_DIGITS = P.RESP_DIGITS
cdef Py_ssize_t RESP_NESTED_TOO_LONG = P.RESP_NESTED_TOO_LONG
cdef Py_ssize_t RESP_NO_CRLF = P.RESP_NO_CRLF
cdef Py_ssize_t RESP_TOO_DEEP = P.RESP_TOO_DEEP
cdef Py_ssize_t RESP_TOO_LONG = P.RESP_TOO_LONG
cdef Py_ssize_t RESP_UNKNOWN_TYPE = P.RESP_UNKNOWN_TYPE
cdef Py_ssize_t MAX_FRAME_LENGTH_LIMIT = C.MAX_FRAME_LENGTH_LIMIT
cdef Py_ssize_t DELIMITER_WINDOW = P.DELIMITER_WINDOW
cdef Py_ssize_t JSON_STRAY = P.JSON_STRAY
cdef Py_ssize_t JSON_UNBALANCED = P.JSON_UNBALANCED
cdef Py_ssize_t JSON_BAD_LITERAL = P.JSON_BAD_LITERAL
cdef Py_ssize_t JSON_TOO_DEEP = P.JSON_TOO_DEEP
cdef Py_ssize_t JSON_TOO_LONG = P.JSON_TOO_LONG
cdef Py_ssize_t JSON_MAX_DEPTH = P.JSON_MAX_DEPTH
cdef Py_ssize_t CHUNK_DIGITS = P.CHUNK_DIGITS
cdef Py_ssize_t CHUNK_NOT_HEX = P.CHUNK_NOT_HEX
cdef Py_ssize_t CHUNK_SIZE_TOO_LONG = P.CHUNK_SIZE_TOO_LONG
cdef Py_ssize_t CHUNK_BAD_SIZE_LINE = P.CHUNK_BAD_SIZE_LINE
cdef Py_ssize_t CHUNK_BAD_LINE_END = P.CHUNK_BAD_LINE_END
cdef Py_ssize_t CHUNK_LINE_TOO_LONG = P.CHUNK_LINE_TOO_LONG
cdef Py_ssize_t CHUNK_NO_CRLF = P.CHUNK_NO_CRLF
cdef Py_ssize_t CHUNK_TRAILERS_TOO_LONG = P.CHUNK_TRAILERS_TOO_LONG
cdef Py_ssize_t WS_LENGTH_TOP_BIT = P.WS_LENGTH_TOP_BIT
cdef Py_ssize_t WS_LENGTH_NOT_SHORTEST = P.WS_LENGTH_NOT_SHORTEST
cdef Py_ssize_t WS_CONTROL_FRAGMENTED = P.WS_CONTROL_FRAGMENTED
cdef Py_ssize_t WS_CONTROL_TOO_LONG = P.WS_CONTROL_TOO_LONG
cdef Py_ssize_t WS_RESERVED_OPCODE = P.WS_RESERVED_OPCODE
cdef Py_ssize_t WS_MASK_UNEXPECTED = P.WS_MASK_UNEXPECTED
cdef Py_ssize_t WS_MASK_EXPECTED = P.WS_MASK_EXPECTED
cdef Py_ssize_t MSGPACK_NEVER_USED = P.MSGPACK_NEVER_USED
cdef Py_ssize_t MSGPACK_TOO_DEEP = P.MSGPACK_TOO_DEEP
cdef Py_ssize_t MSGPACK_NESTED_TOO_LONG = P.MSGPACK_NESTED_TOO_LONG
cdef Py_ssize_t MSGPACK_TOO_LONG = P.MSGPACK_TOO_LONG

cdef enum:
    RULE_UNDECIDED = -1             # scan(): the rule cannot tell yet
    RULE_BROKEN = 0                 # scan(): corrupt; error() says how
    CR = 13
    LF = 10


cdef class _Kernel:
    """A framing rule with a C kernel. ``scan(p, avail, cut)`` answers the wire length of the
    frame at ``p`` (>= 1; the delivered bytes are ``[cut[0], cut[1])``), ``-k`` (it needs ``k``
    bytes in all, ``k > avail``), RULE_UNDECIDED or RULE_BROKEN."""

    cdef int _code                  # the rule broken, P.<CODE>
    cdef public bint resume         # the engine asks again about the frame it asked about last
                                    #   (a rule that keeps its scan's state may go on from it)
    cdef Py_ssize_t _exact          # > 0: the payload told, beyond what a Py_ssize_t frame
                                    #   length can carry (cut[1] says LIMIT + 1)
    cdef Py_ssize_t _at             # where in the frame
    cdef long long _value           # the byte or length concerned

    cdef Py_ssize_t scan(self, const unsigned char *p, Py_ssize_t avail,
                         Py_ssize_t *cut) noexcept:
        return RULE_UNDECIDED

    cdef inline Py_ssize_t _broken(self, int code, Py_ssize_t at, long long value) noexcept:
        self._code = code
        self._at = at
        self._value = value
        return RULE_BROKEN

    cdef object error(self):
        """The CorruptFrameError of the last scan that answered RULE_BROKEN."""
        return CorruptFrameError(P.message(self._code, self._at, self._value))

    cdef int _count(self, const unsigned char *p, Py_ssize_t avail, Py_ssize_t max_digits,
                    unsigned char end_byte, int not_number, int leading_zero, int too_many,
                    int wrong_end, Py_ssize_t *size, Py_ssize_t *digits) noexcept:
        """The decimal count at ``p`` up to ``end_byte`` (_protocols._count): 1 and ``size``/``digits``
        set, RULE_UNDECIDED or RULE_BROKEN."""
        cdef Py_ssize_t n = avail if avail < max_digits + 1 else max_digits + 1
        cdef Py_ssize_t k, value = 0
        cdef unsigned char byte
        cdef bint zero_ok = leading_zero == NETSTRING_LEADING_ZERO
        for k in range(n):
            byte = p[k]
            if byte == end_byte and k:
                size[0] = value
                digits[0] = k
                return 1
            if byte < 48 or byte > 57:
                return self._broken(wrong_end if k else not_number, k, byte)
            if p[0] == 48 and (k == 1 or not zero_ok):
                return self._broken(leading_zero, 0, 0)
            if k == max_digits:
                return self._broken(too_many, k, 0)
            value = value * 10 + (byte - 48)
        return RULE_UNDECIDED

    def __call__(self, buffer):
        """The rule's answer for ``buffer`` (the bytes from a frame's first byte), as a
        ``RuleDecoder`` rule answers."""
        cdef Py_buffer view
        cdef Py_ssize_t cut[2]
        cdef Py_ssize_t total
        _get_payload(buffer, &view)
        try:
            total = self.scan(<const unsigned char *>view.buf, view.len, cut)
        finally:
            PyBuffer_Release(&view)
        if total == RULE_BROKEN:
            raise self.error()
        if total == RULE_UNDECIDED:
            return None
        if total < 0:
            return total
        return (total, cut[0], cut[1])


cdef inline bint _plain_count(const unsigned char *p, Py_ssize_t avail, Py_ssize_t max_digits,
                              unsigned char end_byte, Py_ssize_t *size,
                              Py_ssize_t *digits) noexcept:
    """The common case of _Kernel._count, inline: a count of 1 to ``max_digits`` digits, no
    leading zero, then ``end_byte``, all within ``avail``. False for anything else, which
    _count() then answers (undecided, or the corruption)."""
    cdef Py_ssize_t k = 0, value = 0, n = avail if avail < max_digits else max_digits
    if n == 0 or p[0] == 48:
        return False
    while k < n and 48 <= p[k] <= 57:
        value = value * 10 + (p[k] - 48)
        k += 1
    if k == 0 or k == avail or p[k] != end_byte:
        return False
    size[0] = value
    digits[0] = k
    return True


cdef inline void _prefetch_comma(const unsigned char *p, Py_ssize_t avail) noexcept:
    """Start fetching the comma of the netstring at ``p``, if its length is there to read.

    Its header sits in the cache line the previous comma came in; its comma, a frame's length
    further on, is checked right after that header is read, and would otherwise stall the scan
    on memory once a frame: netstrings of 1000 B framed 2.5x slower than octet-counted ones,
    which read nothing past their header. A hint only: a wrong or cut-off length fetches
    nothing useful and changes no answer."""
    cdef Py_ssize_t k = 0, n = avail if avail < 12 else 12, size = 0
    while k < n and 48 <= p[k] <= 57:
        size = size * 10 + (p[k] - 48)
        k += 1
    # unconditional, whatever was read: gcc drops a prefetch behind a branch
    framekit_prefetch(p + k + size + 1)


cdef class NetstringRule(_Kernel):
    """djb's netstrings (_protocols.NetstringRule, in C)."""

    cdef readonly Py_ssize_t max_payload

    def __init__(self, Py_ssize_t max_payload=P.DEFAULT_NETSTRING_MAX):
        self.max_payload = max_payload

    def __repr__(self):
        return f"NetstringRule({self.max_payload})"

    cdef Py_ssize_t scan(self, const unsigned char *p, Py_ssize_t avail,
                         Py_ssize_t *cut) noexcept:
        cdef Py_ssize_t size, digits, start, total
        cdef int found
        if not _plain_count(p, avail, NETSTRING_DIGITS, 58, &size, &digits):
            found = self._count(
                p, avail, NETSTRING_DIGITS, 58, NETSTRING_NOT_A_NUMBER,
                NETSTRING_LEADING_ZERO, NETSTRING_TOO_MANY_DIGITS, NETSTRING_NOT_A_NUMBER,
                &size, &digits,
            )
            if found != 1:
                return found
        start = digits + 1
        total = start + size + 1
        if size <= self.max_payload:
            if avail < total:
                return -total
            if p[total - 1] != 44:  # ','
                return self._broken(NETSTRING_NO_COMMA, total - 1, p[total - 1])
            _prefetch_comma(p + total, avail - total)
        cut[0] = start
        cut[1] = start + size
        return total


cdef class OctetCountingRule(_Kernel):
    """Syslog octet counting (_protocols.OctetCountingRule, in C)."""

    def __repr__(self):
        return "OctetCountingRule()"

    cdef Py_ssize_t scan(self, const unsigned char *p, Py_ssize_t avail,
                         Py_ssize_t *cut) noexcept:
        cdef Py_ssize_t size, digits
        cdef int found
        if not _plain_count(p, avail, OCTET_DIGITS, 32, &size, &digits):
            found = self._count(
                p, avail, OCTET_DIGITS, 32, OCTET_NOT_A_COUNT, OCTET_LEADING_ZERO,
                OCTET_TOO_MANY_DIGITS, OCTET_NO_SPACE, &size, &digits,
            )
            if found != 1:
                return found
        cut[0] = digits + 1
        cut[1] = digits + 1 + size
        return digits + 1 + size


cdef inline bint _is_line(unsigned char kind) noexcept:
    return (kind == 43 or kind == 45 or kind == 58 or kind == 95 or kind == 44 or kind == 35
            or kind == 40)  # + - : _ , # (


cdef inline bint _is_string(unsigned char kind) noexcept:
    return kind == 36 or kind == 33 or kind == 61  # $ ! =


cdef inline int _elements(unsigned char kind) noexcept:
    """Elements per count of an aggregate type (0: not one)."""
    if kind == 42 or kind == 126 or kind == 62:  # * ~ >
        return 1
    if kind == 37 or kind == 124:  # % |
        return 2
    return 0


cdef class _NestedKernel(_Kernel):
    """A kernel that follows nested values with a stack of ``max_depth`` element counts held by
    the rule, and, asked again about the same frame after a ``-k`` answer, goes on from the
    value it stopped in (_protocols._NestedRule, in C)."""

    cdef readonly Py_ssize_t max_frame
    cdef readonly Py_ssize_t max_depth
    cdef int64_t *_counts           # elements still to come in each open value
    cdef bint _partial              # the last answer was -k: where its scan stopped is kept,
    cdef Py_ssize_t _i              #   the value it stopped in,
    cdef Py_ssize_t _depth          #   and the values open around it

    def __cinit__(self, *args, **kwargs):
        self._counts = NULL

    def __dealloc__(self):
        PyMem_Free(self._counts)

    def __repr__(self):
        return f"{type(self).__name__}({self.max_frame}, {self.max_depth})"

    cdef int _stack(self, Py_ssize_t max_frame, Py_ssize_t max_depth, Py_ssize_t most) except -1:
        """Set up for values nested ``max_depth`` deep (at most ``most``)."""
        if not 1 <= max_depth <= most:
            raise ValueError(f"max_depth must be in 1..{most}, got {max_depth}")
        PyMem_Free(self._counts)
        self._counts = <int64_t *>PyMem_Malloc(max_depth * sizeof(int64_t))
        if self._counts == NULL:
            raise MemoryError()
        self.max_frame = max_frame
        self.max_depth = max_depth
        return 0

    cdef inline Py_ssize_t _start(self, Py_ssize_t *depth) noexcept:
        """Where this scan starts, and (``depth``) how many values are open there: where the last
        one stopped, when asked again about its frame, else at the frame's first byte."""
        cdef bint resuming = self.resume and self._partial
        self._partial = False
        depth[0] = self._depth if resuming else 0
        return self._i if resuming else 0

    cdef inline Py_ssize_t _wait(self, Py_ssize_t i, Py_ssize_t depth,
                                 Py_ssize_t answer) noexcept:
        """Answer ``-k``, keeping where the scan stopped: the value that starts at ``i``."""
        if answer < 0:
            self._i = i
            self._depth = depth
            self._partial = True
        return answer


cdef class RespRule(_NestedKernel):
    """Redis' RESP2 and RESP3 (_protocols.RespRule, in C); each open aggregate's count comes
    with whether it is an attribute."""

    cdef char *_attributes          # whether that aggregate is an attribute

    def __cinit__(self, *args, **kwargs):
        self._attributes = NULL

    def __init__(self, Py_ssize_t max_frame=P.DEFAULT_RESP_MAX,
                 Py_ssize_t max_depth=P.DEFAULT_RESP_DEPTH):
        self._stack(max_frame, max_depth, P.MAX_RESP_DEPTH)
        PyMem_Free(self._attributes)
        self._attributes = <char *>PyMem_Malloc(max_depth)
        if self._attributes == NULL:
            raise MemoryError()

    def __dealloc__(self):
        PyMem_Free(self._attributes)

    cdef Py_ssize_t _number(self, const unsigned char *p, Py_ssize_t i, Py_ssize_t avail,
                            int64_t *value) noexcept:
        """The length or count whose digits start at ``i`` (_protocols.RespRule._number): where its
        line ends (past the CRLF), RULE_UNDECIDED or RULE_BROKEN."""
        cdef Py_ssize_t n = avail - i
        cdef Py_ssize_t j = 0, digits = 0
        cdef bint negative = False
        cdef int64_t v = 0
        if n > RESP_DIGITS + 3:
            n = RESP_DIGITS + 3
        if n and p[i] == 45:  # '-'
            negative = True
            j = 1
        while j < n and 48 <= p[i + j] <= 57:
            if digits == RESP_DIGITS:
                return self._broken(RESP_BAD_LENGTH, i + j, 0)
            v = v * 10 + (p[i + j] - 48)
            j += 1
            digits += 1
        if j == n:
            return RULE_UNDECIDED
        if p[i + j] != CR or not digits:
            return self._broken(RESP_BAD_LENGTH, i + j, 0)
        if j + 1 == n:
            return RULE_UNDECIDED
        if p[i + j + 1] != LF:
            return self._broken(RESP_NO_CRLF, i + j + 1, 0)
        value[0] = -v if negative else v
        return i + j + 2

    cdef inline Py_ssize_t _more(self, Py_ssize_t avail, bint cut_short) noexcept:
        """The answer when the value needs more than the ``avail`` bytes read."""
        if cut_short:
            return self._broken(RESP_TOO_LONG, avail, self.max_frame)
        return -(avail + 1)

    cdef Py_ssize_t scan(self, const unsigned char *p, Py_ssize_t avail,
                         Py_ssize_t *cut) noexcept:
        cdef Py_ssize_t i, j, next_i, end
        cdef Py_ssize_t depth
        cdef int64_t value
        cdef unsigned char kind
        cdef bint cut_short = avail > self.max_frame
        i = self._start(&depth)
        if cut_short:
            avail = self.max_frame
        while True:
            if i == avail:
                return self._wait(i, depth, self._more(avail, cut_short))
            kind = p[i]
            if _is_line(kind):
                j = i + 1
                while j < avail and p[j] != CR and p[j] != LF:
                    j += 1
                if j == avail:
                    return self._wait(i, depth, self._more(avail, cut_short))
                if p[j] == LF:
                    return self._broken(RESP_NO_CRLF, j, 0)
                if j + 1 == avail:
                    return self._wait(i, depth, self._more(avail, cut_short))
                if p[j + 1] != LF:
                    return self._broken(RESP_NO_CRLF, j + 1, 0)
                i = j + 2
            elif _is_string(kind) or _elements(kind):
                next_i = self._number(p, i + 1, avail, &value)
                if next_i == RULE_UNDECIDED:
                    return self._wait(i, depth, self._more(avail, cut_short))
                if next_i == RULE_BROKEN:
                    return RULE_BROKEN
                if value < 0:
                    if value != -1 or (kind != 36 and kind != 42):  # '$' and '*' may be null
                        return self._broken(RESP_BAD_LENGTH, i + 1, 0)
                    i = next_i
                elif _is_string(kind):
                    end = next_i + value + 2
                    if end > self.max_frame:
                        if depth:
                            return self._broken(RESP_NESTED_TOO_LONG, i, value)
                        cut[0] = 0
                        cut[1] = end
                        return end
                    if end > avail:
                        return self._wait(i, depth, -end)
                    if p[end - 2] != CR or p[end - 1] != LF:
                        return self._broken(RESP_NO_CRLF, end - 2, 0)
                    i = end
                else:
                    if depth == self.max_depth:
                        return self._broken(RESP_TOO_DEEP, i, self.max_depth)
                    i = next_i
                    if value:
                        self._counts[depth] = value * _elements(kind)
                        self._attributes[depth] = kind == 124
                        depth += 1
                        continue
                    if kind == 124:
                        continue  # an empty attribute: the value it belongs to follows
            else:
                return self._broken(RESP_UNKNOWN_TYPE, i, kind)
            # a value ended at i: it completes the aggregates it ends
            while depth:
                self._counts[depth - 1] -= 1
                if self._counts[depth - 1]:
                    break
                depth -= 1
                if self._attributes[depth]:
                    break  # the value the attribute belongs to comes next
            else:
                cut[0] = 0
                cut[1] = i
                return i


cdef class WebSocketRule(_Kernel):
    """RFC 6455 §5.2 base framing (_protocols.WebSocketRule, in C). The header of the frame
    last told whole stays in ``fin``, ``rsv``, ``opcode``, ``mask`` for the decoder."""

    cdef readonly bint masked
    cdef readonly bint fin
    cdef readonly int rsv
    cdef readonly int opcode
    cdef uint32_t _key               # the mask key, as it lies in memory
    cdef bint _has_key

    def __init__(self, masked=True):
        self.masked = bool(masked)

    def __repr__(self):
        return f"WebSocketRule({self.masked})"

    @property
    def mask(self):
        """The last frame's 4-byte mask key, or b""."""
        return PyBytes_FromStringAndSize(<char *>&self._key, 4) if self._has_key else b""

    cdef Py_ssize_t scan(self, const unsigned char *p, Py_ssize_t avail,
                         Py_ssize_t *cut) noexcept:
        cdef unsigned char first, second
        cdef int opcode
        cdef Py_ssize_t start = 2, k
        cdef uint64_t size
        if avail == 0:
            return RULE_UNDECIDED
        first = p[0]
        opcode = first & 0x0F
        if not (opcode <= 2 or 8 <= opcode <= 10):
            return self._broken(WS_RESERVED_OPCODE, 0, opcode)
        if avail < 2:
            return -2
        second = p[1]
        if ((second & 0x80) != 0) != self.masked:
            return self._broken(WS_MASK_EXPECTED if self.masked else WS_MASK_UNEXPECTED, 1, 0)
        size = second & 0x7F
        if opcode >= 8:
            if size > 125:
                return self._broken(WS_CONTROL_TOO_LONG, 1, <long long>size)
            if not first & 0x80:
                return self._broken(WS_CONTROL_FRAGMENTED, 0, 0)
        if size == 126:
            start = 4
        elif size == 127:
            start = 10
        if avail < start:
            return -start
        if size == 126:
            size = (<uint64_t>p[2] << 8) | p[3]
            if size < 126:
                return self._broken(WS_LENGTH_NOT_SHORTEST, 2, <long long>size)
        elif size == 127:
            if p[2] & 0x80:
                return self._broken(WS_LENGTH_TOP_BIT, 2, 0)
            size = 0
            for k in range(2, 10):
                size = (size << 8) | p[k]
            if size < 65536:
                return self._broken(WS_LENGTH_NOT_SHORTEST, 2, <long long>size)
        self._exact = 0
        if size > <uint64_t>MAX_FRAME_LENGTH_LIMIT:
            self._exact = <Py_ssize_t>size  # (the top bit is clear: it fits)
            size = <uint64_t>MAX_FRAME_LENGTH_LIMIT + 1  # too long either way
        if self.masked:
            start += 4
            if avail < start:
                return -start
            memcpy(&self._key, p + start - 4, 4)
        self._has_key = self.masked
        self.fin = (first & 0x80) != 0
        self.rsv = (first >> 4) & 7
        self.opcode = opcode
        cut[0] = start
        cut[1] = start + <Py_ssize_t>size
        return start + <Py_ssize_t>size


cdef void _unmask_into(char *out, const char *data, Py_ssize_t n, uint32_t key) noexcept:
    """``out`` = ``data`` XOR the key repeated (RFC 6455 §5.3), eight bytes at a time."""
    cdef uint64_t wide = (<uint64_t>key << 32) | key
    cdef uint64_t word
    cdef Py_ssize_t i = 0
    while i + 8 <= n:
        memcpy(&word, data + i, 8)
        word ^= wide
        memcpy(out + i, &word, 8)
        i += 8
    cdef const unsigned char *k = <const unsigned char *>&key
    while i < n:
        out[i] = data[i] ^ k[i & 3]
        i += 1


cdef bytes _unmasked(object data, uint32_t key):
    """``data`` XORed with ``key``, as it lies in memory, repeated: a new ``bytes``."""
    cdef Py_buffer view
    _get_payload(data, &view)
    try:
        out = PyBytes_FromStringAndSize(NULL, view.len)
        _unmask_into(PyBytes_AS_STRING(out), <const char *>view.buf, view.len, key)
    finally:
        PyBuffer_Release(&view)
    return out


cdef object unmasked_payload(WebSocketRule rule, object frame):
    """The payload of the frame ``rule`` told last, unmasked into a new ``bytes``; None when it
    was not masked (_protocols.unmasked_payload, in C)."""
    return _unmasked(frame, rule._key) if rule._has_key else None


def unmask(data, key):
    """``data`` XORed with the 4-byte ``key`` repeated (RFC 6455 §5.3), in C."""
    cdef uint32_t k
    key = bytes(key)
    if len(key) != 4:
        raise ValueError("the key is 4 bytes")
    memcpy(&k, PyBytes_AS_STRING(key), 4)
    return _unmasked(data, k)


cdef inline int _hex_value(unsigned char byte) noexcept:
    """The value of a hex digit, or -1 (_protocols._hex)."""
    if 48 <= byte <= 57:
        return byte - 48
    if 97 <= byte <= 102 or 65 <= byte <= 70:
        return (byte | 0x20) - 87
    return -1


cdef class ChunkedRule(_Kernel):
    """HTTP/1.1 chunked transfer coding (_protocols.ChunkedRule, in C); ``last`` is set when
    the frame told is the last chunk with its trailer section."""

    cdef readonly Py_ssize_t max_payload
    cdef readonly Py_ssize_t max_line
    cdef readonly bint last
    cdef readonly bytes trailers     # the last chunk's trailer section

    def __init__(self, Py_ssize_t max_payload=P.DEFAULT_CHUNK_MAX,
                 Py_ssize_t max_line=P.DEFAULT_MAX_LINE):
        self.max_payload = max_payload
        self.max_line = max_line
        self.trailers = b""

    def __repr__(self):
        return f"ChunkedRule({self.max_payload}, {self.max_line})"

    cdef Py_ssize_t _line_end(self, const unsigned char *p, Py_ssize_t i,
                              Py_ssize_t avail) noexcept:
        """Where the line from ``i`` ends (past its CRLF), -1 when it has not all arrived, or
        RULE_BROKEN."""
        cdef Py_ssize_t n = avail - i
        cdef Py_ssize_t k = 0
        if n > self.max_line + 1:
            n = self.max_line + 1
        while k < n and p[i + k] != CR and p[i + k] != LF:
            k += 1
        if k < n and p[i + k] == LF:
            return self._broken(CHUNK_BAD_LINE_END, i + k, 0)
        if k == n:
            if n > self.max_line:
                return self._broken(CHUNK_LINE_TOO_LONG, i, self.max_line)
            return -1
        if i + k + 1 == avail:
            return -1
        if p[i + k + 1] != LF:
            return self._broken(CHUNK_BAD_LINE_END, i + k + 1, 0)
        return i + k + 2

    cdef Py_ssize_t scan(self, const unsigned char *p, Py_ssize_t avail,
                         Py_ssize_t *cut) noexcept:
        cdef Py_ssize_t n, k, digits = 0, start, total, i, end
        cdef int64_t size = 0
        cdef int value
        cdef unsigned char byte
        if avail == 0:
            return RULE_UNDECIDED
        self.last = False
        n = avail if avail < CHUNK_DIGITS + 1 else CHUNK_DIGITS + 1
        for k in range(n):
            value = _hex_value(p[k])
            if value < 0:
                break
            if digits == CHUNK_DIGITS:
                return self._broken(CHUNK_SIZE_TOO_LONG, digits, 0)
            size = size * 16 + value
            digits += 1
        if digits == avail:
            return RULE_UNDECIDED
        if not digits:
            return self._broken(CHUNK_NOT_HEX, 0, p[0])
        byte = p[digits]
        if byte != 59 and byte != CR and byte != 9 and byte != 32:  # ; CR HT SP
            return self._broken(CHUNK_BAD_SIZE_LINE, digits, byte)
        start = self._line_end(p, 0, avail)
        if start == RULE_BROKEN:
            return RULE_BROKEN
        if start < 0:
            return RULE_UNDECIDED
        if size:
            total = start + <Py_ssize_t>size + 2
            if size <= self.max_payload:
                if avail < total:
                    return -total
                if p[total - 2] != CR or p[total - 1] != LF:
                    return self._broken(CHUNK_NO_CRLF, total - 2, 0)
            cut[0] = start
            cut[1] = start + <Py_ssize_t>size
            return total
        i = start  # the trailer section: lines, then an empty one
        while True:
            if i - start > self.max_line:
                return self._broken(CHUNK_TRAILERS_TOO_LONG, start, self.max_line)
            if i == avail:
                return RULE_UNDECIDED
            if p[i] == CR:
                if i + 1 == avail:
                    return RULE_UNDECIDED
                if p[i + 1] != LF:
                    return self._broken(CHUNK_BAD_LINE_END, i + 1, 0)
                self.last = True
                self.trailers = PyBytes_FromStringAndSize(<const char *>p + start, i - start)
                cut[0] = i + 2
                cut[1] = i + 2
                return i + 2
            end = self._line_end(p, i, avail)
            if end == RULE_BROKEN:
                return RULE_BROKEN
            if end < 0:
                return RULE_UNDECIDED
            i = end


cdef inline bint _json_separator(unsigned char byte) noexcept:
    return byte == 32 or byte == 9 or byte == 10 or byte == 13 or byte == 0x1E


cdef inline bint _json_number(unsigned char byte) noexcept:
    return (48 <= byte <= 57) or byte == 43 or byte == 45 or byte == 46 or byte == 101 or byte == 69


cdef const char *_LITERAL_TEXT[3]
_LITERAL_TEXT[0] = "true"
_LITERAL_TEXT[1] = "false"
_LITERAL_TEXT[2] = "null"
cdef Py_ssize_t _LITERAL_LENGTH[3]
_LITERAL_LENGTH[0] = 4
_LITERAL_LENGTH[1] = 5
_LITERAL_LENGTH[2] = 4


cdef inline int _literal_match(const unsigned char *p, Py_ssize_t n) noexcept:
    """1: ``p[:n]`` is a whole literal; 0: a prefix of one; -1: neither."""
    cdef int k
    cdef int found = -1
    for k in range(3):
        if n <= _LITERAL_LENGTH[k] and memcmp(p, _LITERAL_TEXT[k], n) == 0:
            if n == _LITERAL_LENGTH[k]:
                return 1
            found = 0
    return found


cdef enum:
    JSON_SEEK = 0
    JSON_CONTAINER = 1
    JSON_STRING = 2
    JSON_NUMBER = 3
    JSON_LITERAL = 4


cdef class JsonStreamRule(_Kernel):
    """A stream of JSON texts (_protocols.JsonStreamRule, in C): the scan of an unfinished
    text resumes where it stopped when ``resume`` is set."""

    cdef readonly Py_ssize_t max_frame
    cdef Py_ssize_t _i
    cdef int _mode
    cdef unsigned char *_stack
    cdef Py_ssize_t _depth
    cdef bint _in_string
    cdef bint _escape
    cdef bint _partial              # the last answer was -k: its scan's state is kept

    def __cinit__(self, *args, **kwargs):
        self._stack = <unsigned char *>PyMem_Malloc(JSON_MAX_DEPTH)
        if self._stack == NULL:
            raise MemoryError()

    def __init__(self, Py_ssize_t max_frame=P.DEFAULT_JSON_MAX):
        self.max_frame = max_frame

    def __dealloc__(self):
        PyMem_Free(self._stack)

    def __repr__(self):
        return f"JsonStreamRule({self.max_frame})"

    cdef Py_ssize_t scan(self, const unsigned char *p, Py_ssize_t avail,
                         Py_ssize_t *cut) noexcept:
        cdef unsigned char first, byte
        cdef Py_ssize_t i, run
        cdef int mode
        cdef bint in_string, escape
        cdef int matched
        cdef bint resuming = self.resume and self._partial
        if avail == 0:
            return RULE_UNDECIDED
        self._partial = False
        if not resuming:
            first = p[0]
            if _json_separator(first):
                run = 1
                while run < avail and _json_separator(p[run]):
                    run += 1
                cut[0] = run
                cut[1] = run
                return run
            self._i = 1
            self._depth = 0
            self._in_string = False
            self._escape = False
            if first == 123 or first == 91:
                self._mode = JSON_CONTAINER
                self._stack[0] = first + 2
                self._depth = 1
            elif first == 34:
                self._mode = JSON_STRING
                self._in_string = True
            elif first == 45 or 48 <= first <= 57:
                self._mode = JSON_NUMBER
            elif first == 116 or first == 102 or first == 110:
                self._mode = JSON_LITERAL
            elif first == 93 or first == 125:
                return self._broken(JSON_UNBALANCED, 0, first)
            else:
                return self._broken(JSON_STRAY, 0, first)
        i = self._i
        mode = self._mode
        in_string = self._in_string
        escape = self._escape
        while i < avail:
            byte = p[i]
            if mode == JSON_NUMBER:
                if not _json_number(byte):
                    cut[0] = 0
                    cut[1] = i
                    return i
            elif mode == JSON_LITERAL:
                if not 97 <= byte <= 122:
                    if _literal_match(p, i) != 1:
                        return self._broken(JSON_BAD_LITERAL, i, byte)
                    cut[0] = 0
                    cut[1] = i
                    return i
                if _literal_match(p, i + 1) < 0:
                    return self._broken(JSON_BAD_LITERAL, i, byte)
            if i >= self.max_frame:
                return self._broken(JSON_TOO_LONG, i, self.max_frame)
            i += 1
            if mode == JSON_NUMBER or mode == JSON_LITERAL:
                continue
            if in_string:
                if escape:
                    escape = False
                elif byte == 92:
                    escape = True
                elif byte == 34:
                    in_string = False
                    if mode == JSON_STRING:
                        cut[0] = 0
                        cut[1] = i
                        return i
            elif byte == 34:
                in_string = True
            elif byte == 123 or byte == 91:
                if self._depth == JSON_MAX_DEPTH:
                    return self._broken(JSON_TOO_DEEP, i - 1, JSON_MAX_DEPTH)
                self._stack[self._depth] = byte + 2
                self._depth += 1
            elif byte == 125 or byte == 93:
                if self._stack[self._depth - 1] != byte:
                    return self._broken(JSON_UNBALANCED, i - 1, byte)
                self._depth -= 1
                if self._depth == 0:
                    cut[0] = 0
                    cut[1] = i
                    return i
        self._i = i
        self._mode = mode
        self._in_string = in_string
        self._escape = escape
        self._partial = True
        return -(avail + 1)


# MessagePack's formats by first byte (P.MSGPACK_FORMATS, copied in once)
cdef unsigned char _MP_HEAD[256]
cdef unsigned char _MP_FIELD[256]
cdef unsigned char _MP_COUNT[256]
cdef unsigned char _MP_INLINE[256]


cdef int _msgpack_formats() except -1:
    cdef int byte
    for byte in range(256):
        _MP_HEAD[byte], _MP_FIELD[byte], _MP_COUNT[byte], _MP_INLINE[byte] = (
            P.MSGPACK_FORMATS[byte]
        )
    return 0


_msgpack_formats()


cdef class MessagePackRule(_NestedKernel):
    """MessagePack (_protocols.MessagePackRule, in C)."""

    def __init__(self, Py_ssize_t max_frame=P.DEFAULT_MSGPACK_MAX,
                 Py_ssize_t max_depth=P.DEFAULT_MSGPACK_DEPTH):
        self._stack(max_frame, max_depth, P.MAX_MSGPACK_DEPTH)

    cdef Py_ssize_t scan(self, const unsigned char *p, Py_ssize_t avail,
                         Py_ssize_t *cut) noexcept:
        cdef Py_ssize_t i, end, k, field, head
        cdef Py_ssize_t depth
        cdef Py_ssize_t limit = self.max_frame
        cdef int64_t n
        cdef unsigned char byte
        cdef bint cut_short = avail > limit
        if avail == 0:
            return RULE_UNDECIDED
        i = self._start(&depth)
        if cut_short:
            avail = limit
        while True:
            if i == avail:
                if cut_short:
                    return self._broken(MSGPACK_TOO_LONG, i, limit)
                return self._wait(i, depth, -(i + 1))
            byte = p[i]
            head = _MP_HEAD[byte]
            field = _MP_FIELD[byte]
            if head == 0:
                return self._broken(MSGPACK_NEVER_USED, i, byte)
            if _MP_COUNT[byte] and depth == self.max_depth:
                return self._broken(MSGPACK_TOO_DEEP, i, self.max_depth)
            end = i + head
            if end > limit:
                if not depth and not field and not _MP_COUNT[byte]:
                    cut[0] = 0
                    cut[1] = end + _MP_INLINE[byte]  # a number: a frame too long
                    return cut[1]
                return self._broken(MSGPACK_TOO_LONG, i, limit)
            if end > avail:
                return self._wait(i, depth, -end)
            n = _MP_INLINE[byte]
            for k in range(field):
                n = (n << 8) | p[i + 1 + k]
            if _MP_COUNT[byte]:
                i = end
                if n:
                    self._counts[depth] = n * _MP_COUNT[byte]
                    depth += 1
                    continue
            else:
                end += <Py_ssize_t>n  # (at most 2**32 - 1)
                if end > limit:
                    if depth:
                        return self._broken(MSGPACK_NESTED_TOO_LONG, i, end - i)
                    cut[0] = 0
                    cut[1] = end
                    return end
                if end > avail:
                    return self._wait(i, depth, -end)
                i = end
            # an object ended at i: it completes the arrays and maps it ends
            while depth:
                self._counts[depth - 1] -= 1
                if self._counts[depth - 1]:
                    break
                depth -= 1
            else:
                cut[0] = 0
                cut[1] = i
                return i
