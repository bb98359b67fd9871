"""The contract both implementations keep: the ``Decoder`` and ``Encoder`` protocols, configuration
checks, messages, what a framing rule may answer, and the objects both hand out (pool
statistics, slab records).

Configuration is validated here once, in Python, so the Cython core and the pure twin accept and
refuse exactly the same arguments with the same messages.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple, Optional, Protocol, Union, runtime_checkable

if sys.version_info >= (3, 12):  # pragma: no cover - depends on the interpreter
    from collections.abc import Buffer as BytesLike
else:  # pragma: no cover
    BytesLike = Union[bytes, bytearray, memoryview]

__all__ = ["BytesLike", "Decoder", "Frame"]

#: A frame: a read-only ``memoryview`` into decoder storage, or ``bytes`` with ``copy=True``.
Frame = Union[memoryview, bytes]

KiB = 1024
MiB = 1024 * KiB
DEFAULT_MAX_FRAME_LENGTH = 8 * MiB
DEFAULT_MAX_LINE_LENGTH = 64 * KiB
#: ``get_buffer()`` given no size hint sizes its region from recent reads (SPEC §9, as Netty's
#: adaptive receive-buffer allocator): it starts at INITIAL_READ_SIZE, grows READ_SIZE_STEP-fold
#: after a read that fills it (up to DEFAULT_READ_SIZE), and shrinks as much after SMALL_READS
#: reads in a row that a region READ_SIZE_STEP times smaller would have held (down to
#: MIN_READ_SIZE). The steps are the default BufferPool's size classes. While a partial frame
#: of unknown length is held, the region is what the read size leaves of the block (at least
#: half of it), so that the block stays in one size class.
DEFAULT_READ_SIZE = 64 * KiB
INITIAL_READ_SIZE = 1 * KiB
#: The shared pool (``shared_pool()``) caches at most this much: memory follows the reads in
#: flight, and a burst on many connections leaves no more than this behind.
SHARED_POOL_RETAINED = 1 * MiB
MIN_READ_SIZE = 256
READ_SIZE_STEP = 4
SMALL_READS = 2
#: ``get_buffer(sizehint)`` never reserves more than this for a read, whatever the hint says.
MAX_READ_SIZE = 4 * MiB
#: Bounds that keep every length computation exact in 64-bit arithmetic in the Cython core.
MAX_FRAME_LENGTH_LIMIT = 1 << 61
MAX_OFFSET = (1 << 31) - 1
MAX_ADJUSTMENT = 1 << 31


class Decoder(Protocol):
    """The interface every framekit decoder implements (sans-IO)."""

    def feed(self, data: BytesLike) -> None: ...
    def next_frame(self) -> Optional[Frame]: ...
    def __iter__(self) -> Iterator[Frame]: ...
    def decode(self, data: BytesLike) -> list[Frame]: ...
    def get_buffer(self, sizehint: int = -1) -> memoryview: ...
    def buffer_updated(self, nbytes: int) -> None: ...
    def feed_eof(self) -> None: ...
    def reset(self) -> None: ...
    def detach(self) -> bytes: ...
    @property
    def buffered(self) -> int: ...


@runtime_checkable
class Encoder(Protocol):
    """What the adapters need to send frames: any object with these two methods is an encoder
    (framekit's own encoders, a preset's, a user's), checked with ``isinstance(x, Encoder)``.

    Two members are optional, used when present: ``encode_header(payload_length) -> bytes``,
    the bytes that go before a payload, lets the adapters send a large payload from its own
    buffer after its header, without copying it; ``decoder()`` returns the decoder that reads
    what the encoder writes.
    """

    def encode(self, payload: BytesLike) -> bytes:
        """One payload, framed."""
        ...

    def encode_many(self, payloads: Iterable[BytesLike]) -> bytes:
        """Several payloads framed into one buffer; nothing if any payload is refused."""
        ...


class Kind(NamedTuple):
    """One kind of decoder, as the registry (``framekit._kinds``) has it."""

    name: str  #: a short name: test ids, the fuzz harness, framekit.testing's strategies
    decoder: str  #: the decoder class, in framekit
    encoder: Optional[str]  #: its encoder class, if it has one of its own
    flag: str  #: the ``framekit decode`` option that chooses it
    argument: dict[str, Any]  #: that option's ``argparse`` keywords
    options: frozenset[str]  #: the other ``framekit decode`` options that apply to it
    #: the decoder's keyword argument that the option's value goes to (None: a switch)
    keyword: Optional[str] = None


#: the ``framekit decode`` option that applies to every kind with a ``max_frame_length``
LIMIT_OPTION = frozenset({"max_frame_length"})


def _int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


def check_max_frame_length(max_frame_length: object, at_least: int) -> int:
    value = _int("max_frame_length", max_frame_length)
    if not at_least <= value <= MAX_FRAME_LENGTH_LIMIT:
        raise ValueError(
            f"max_frame_length must be in {at_least}..{MAX_FRAME_LENGTH_LIMIT}, got {value}"
        )
    return value


def check_byteorder(byteorder: object) -> bool:
    """True for big-endian."""
    if byteorder not in ("big", "little"):
        raise ValueError(f"byteorder must be 'big' or 'little', got {byteorder!r}")
    return byteorder == "big"


def check_common(
    length_field_offset: object, length_adjustment: object, initial_bytes_to_strip: object
) -> tuple[int, int, Optional[int]]:
    offset = _int("length_field_offset", length_field_offset)
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError(f"length_field_offset must be in 0..{MAX_OFFSET}, got {offset}")
    adjustment = _int("length_adjustment", length_adjustment)
    if not -MAX_ADJUSTMENT <= adjustment <= MAX_ADJUSTMENT:
        raise ValueError(
            f"length_adjustment must be in -{MAX_ADJUSTMENT}..{MAX_ADJUSTMENT}, got {adjustment}"
        )
    strip: Optional[int] = None
    if initial_bytes_to_strip is not None:
        strip = _int("initial_bytes_to_strip", initial_bytes_to_strip)
        if not 0 <= strip <= MAX_FRAME_LENGTH_LIMIT:
            raise ValueError(f"initial_bytes_to_strip must be >= 0, got {strip}")
    return offset, adjustment, strip


def check_length_field(
    length_field_length: object,
    length_field_offset: object,
    length_adjustment: object,
    initial_bytes_to_strip: object,
    byteorder: object,
    max_frame_length: object,
) -> tuple[int, int, int, int, bool, int]:
    """Validated ``(width, offset, adjustment, strip, big_endian, max_frame_length)``."""
    width = _int("length_field_length", length_field_length)
    if not 1 <= width <= 8:
        raise ValueError(f"length_field_length must be in 1..8, got {width}")
    offset, adjustment, strip = check_common(
        length_field_offset, length_adjustment, initial_bytes_to_strip
    )
    header_end = offset + width
    big = check_byteorder(byteorder)
    max_len = check_max_frame_length(max_frame_length, header_end)
    return width, offset, adjustment, header_end if strip is None else strip, big, max_len


def check_varint(
    length_field_offset: object,
    length_adjustment: object,
    initial_bytes_to_strip: object,
    max_length_bytes: object,
    max_frame_length: object,
) -> tuple[int, int, int, int, int]:
    """Validated ``(offset, adjustment, strip, max_length_bytes, max_frame_length)``.

    ``strip`` is -1 when the payload alone is delivered (it then depends on each varint's size).
    """
    offset, adjustment, strip = check_common(
        length_field_offset, length_adjustment, initial_bytes_to_strip
    )
    nbytes = _int("max_length_bytes", max_length_bytes)
    if not 1 <= nbytes <= 10:
        raise ValueError(f"max_length_bytes must be in 1..10, got {nbytes}")
    max_len = check_max_frame_length(max_frame_length, offset + 1)
    return offset, adjustment, -1 if strip is None else strip, nbytes, max_len


def check_fixed(frame_length: object) -> int:
    value = _int("frame_length", frame_length)
    if not 1 <= value <= MAX_FRAME_LENGTH_LIMIT:
        raise ValueError(f"frame_length must be in 1..{MAX_FRAME_LENGTH_LIMIT}, got {value}")
    return value


def check_length_encoder(
    length_field_length: object,
    byteorder: object,
    length_adjustment: object,
    length_includes_header: object,
    max_frame_length: object,
) -> tuple[int, bool, int, bool, int]:
    width = _int("length_field_length", length_field_length)
    if not 1 <= width <= 8:
        raise ValueError(f"length_field_length must be in 1..8, got {width}")
    big = check_byteorder(byteorder)
    adjustment = _int("length_adjustment", length_adjustment)
    if not -MAX_ADJUSTMENT <= adjustment <= MAX_ADJUSTMENT:
        raise ValueError(
            f"length_adjustment must be in -{MAX_ADJUSTMENT}..{MAX_ADJUSTMENT}, got {adjustment}"
        )
    max_len = check_max_frame_length(max_frame_length, width)
    return width, big, adjustment, bool(length_includes_header), max_len


def varint(value: int) -> bytes:
    """``value`` as an unsigned base-128 varint, least significant group first."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _delimiter(value: object) -> bytes:
    try:
        data = memoryview(value).tobytes()  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"a delimiter must be a bytes-like object, not {type(value).__name__!r}"
        ) from None
    if not data:
        raise ValueError("a delimiter must not be empty")
    return data


def check_delimiters(delimiters: object) -> tuple[bytes, ...]:
    """One bytes-like delimiter or a sequence of them, without duplicates, in the given order."""
    if isinstance(delimiters, (str, int)):
        raise TypeError("delimiters must be bytes-like objects, not str or int")
    try:
        memoryview(delimiters)  # type: ignore[arg-type]
    except TypeError:
        items = tuple(_delimiter(d) for d in delimiters)  # type: ignore[attr-defined]
    else:
        items = (_delimiter(delimiters),)
    if not items:
        raise ValueError("at least one delimiter is needed")
    return tuple(dict.fromkeys(items))


def proper_prefixes(delimiters: tuple[bytes, ...]) -> frozenset[bytes]:
    """Every non-empty proper prefix of a delimiter: where one may still be arriving."""
    return frozenset(d[:i] for d in delimiters for i in range(1, len(d)))


def check_delimited_payload(data: bytes, delimiter: bytes) -> None:
    """Refuse a payload that ``data + delimiter`` would not frame as exactly ``data``."""
    if delimiter in data:
        raise ValueError(f"payload contains the delimiter {delimiter!r}")
    if len(delimiter) > 1 and delimiter in data[1 - len(delimiter) :] + delimiter[:-1]:
        raise ValueError(
            f"payload ends in a part of {delimiter!r} that, with the delimiter appended, "
            "would end the frame early"
        )


def check_size_classes(
    size_classes: object, max_retained_bytes: object, max_in_use_bytes: object
) -> tuple[tuple[int, ...], int, int]:
    """Validated ``(classes, max_retained_bytes, max_in_use_bytes)``; -1: no in-use limit."""
    classes = tuple(_int("size class", c) for c in size_classes)  # type: ignore[attr-defined]
    if not classes or any(c <= 0 for c in classes) or list(classes) != sorted(set(classes)):
        raise ValueError(f"size_classes must be positive and increasing, got {classes}")
    retained = _int("max_retained_bytes", max_retained_bytes)
    if retained < 0:
        raise ValueError(f"max_retained_bytes must be >= 0, got {retained}")
    in_use = -1 if max_in_use_bytes is None else _int("max_in_use_bytes", max_in_use_bytes)
    if max_in_use_bytes is not None and in_use < 0:
        raise ValueError(f"max_in_use_bytes must be >= 0, got {in_use}")
    return classes, retained, in_use


def check_acquire_size(size: object) -> int:
    value = _int("size", size)
    if value < 0:
        raise ValueError(f"size must be >= 0, got {value}")
    return value


def check_sizehint(sizehint: object) -> int:
    """The size of the receive region ``get_buffer(sizehint)`` reserves at least; 0 for no hint
    (the decoder's adaptive read size then)."""
    hint = _int("sizehint", sizehint)
    if hint <= 0:
        return 0
    return min(hint, MAX_READ_SIZE)


def check_rule(rule: object) -> None:
    if not callable(rule):
        raise TypeError(f"rule must be callable, not {type(rule).__name__}")


def rule_answer(answer: object, avail: int) -> Optional[tuple[int, int, int]]:
    """What a framing rule's answer means, given ``avail`` bytes (SPEC §7): ``None`` (it cannot
    tell yet), ``(-k, 0, 0)`` (the frame needs at least ``k`` bytes), or ``(n, start, end)``.
    A bad answer raises ``TypeError`` or ``ValueError``. The compiled core checks the common
    answers inline and leaves the rest to this, so both builds say the same."""
    if answer is None:
        return None
    if type(answer) is int:
        if answer >= 1:
            return answer, 0, answer
        if answer == 0:
            raise ValueError("the framing rule answered 0: a frame is at least 1 byte long")
        if -answer <= avail:
            raise ValueError(
                f"the framing rule answered {answer} (at least {-answer} bytes) given {avail} bytes"
            )
        return answer, 0, 0
    if (
        type(answer) is tuple
        and len(answer) == 3
        and type(answer[0]) is int
        and type(answer[1]) is int
        and type(answer[2]) is int
    ):
        n, start, end = answer
        if not (n >= 1 and 0 <= start <= end <= n):
            raise ValueError(
                f"the framing rule answered {answer!r}: (length, start, end) needs "
                "0 <= start <= end <= length and length >= 1"
            )
        return n, start, end
    raise TypeError(
        "a framing rule answers None, an int or a (length, start, end) tuple of ints, "
        f"not {answer!r}"
    )


def msg_undecided(avail: int, max_frame_length: int) -> str:
    return (
        f"the framing rule found no frame in {avail} bytes, more than "
        f"max_frame_length={max_frame_length}"
    )


# --- messages, so both implementations say the same thing ---------------------------------------


def msg_short_frame(total: int, header_end: int) -> str:
    return f"frame length {total} is less than the end of its length field ({header_end})"


def msg_strip(strip: int, total: int) -> str:
    return f"initial_bytes_to_strip={strip} exceeds the frame length {total}"


def msg_varint_long(max_length_bytes: int) -> str:
    return f"varint length field longer than max_length_bytes={max_length_bytes}"


MSG_VARINT_64 = "varint length field exceeds 64 bits"
MSG_AFTER_EOF = "feed() after feed_eof(); call reset() to decode a new stream"
MSG_NO_BUFFER = "buffer_updated() without a preceding get_buffer()"


def msg_bad_nbytes(nbytes: int, size: int) -> str:
    return f"buffer_updated({nbytes}): nbytes must be in 0..{size}, the size of the buffer"


def msg_not_buffer(data: object) -> str:
    return f"a C-contiguous bytes-like object is required, not {type(data).__name__!r}"


# --- slab layout ---------------------------------------------------------------------------------

import struct as _struct  # noqa: E402

_SLAB_CODES = set("bBhHiIlLqQnNefd?")
# numpy's kind of each struct code (e, f, d: "f"), sized by what struct gives the field
_NUMPY_KINDS = {"s": "S", "?": "b", **dict.fromkeys("bhilqn", "i"), **dict.fromkeys("BHILQN", "u")}
SLOT_BITS = 24  #: a slab holds at most 2**24 records
GENERATION_BITS = 24  #: a slot's generation wraps after 2**24 reuses
MAX_SLOTS = 1 << SLOT_BITS


class SlabLayout:
    """Where each field of a record lies, and how it is packed (``struct`` codes)."""

    def __init__(self, fields: object, byteorder: object, align: object) -> None:
        orders = {"native": "@", "little": "<", "big": ">"}
        if byteorder not in orders:
            raise ValueError(f"byteorder must be 'native', 'little' or 'big', got {byteorder!r}")
        prefix = orders[str(byteorder)]
        items = list(fields)  # type: ignore[call-overload]
        if not items:
            raise ValueError("a slab record needs at least one field")
        self.names: tuple[str, ...] = tuple(str(name) for name, _ in items)
        codes = tuple(str(code) for _, code in items)
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"field names must be distinct: {self.names}")
        for name, code in zip(self.names, codes):
            if not name.isidentifier():
                raise ValueError(f"field name {name!r} is not an identifier")
            kind = code.lstrip("0123456789")
            if (
                len(kind) != 1
                or (kind not in _SLAB_CODES and kind != "s")
                or (kind != "s" and kind != code)
            ):
                raise ValueError(f"bad struct code {code!r} for field {name!r}")
        try:
            self.offsets = tuple(
                _struct.calcsize(prefix + "".join(codes[:i]) + "0" + codes[i].lstrip("0123456789"))
                if codes[i][-1] != "s"
                else _struct.calcsize(prefix + "".join(codes[:i]))
                for i in range(len(codes))
            )
            size = _struct.calcsize(prefix + "".join(codes))
            self.structs = tuple(_struct.Struct(prefix + c) for c in codes)
        except _struct.error as exc:
            raise ValueError(f"bad field codes {codes}: {exc}") from None
        # records in an array stay aligned: round up to the largest field alignment (native)
        if prefix == "@":
            widest = max(_struct.calcsize("@" + c.lstrip("0123456789")) for c in codes)
            size = -(-size // widest) * widest
        if align is not None:
            if not isinstance(align, int) or align < 1 or align & (align - 1):
                raise ValueError(f"align must be a power of two, got {align!r}")
            size = -(-size // align) * align
        self.align = 1 if align is None else align
        self.codes = codes
        self.prefix = prefix
        self.record_size = size

    def dtype(self) -> dict[str, object]:
        """A numpy structured dtype description of a record."""
        order = {"@": "=", "<": "<", ">": ">"}[self.prefix]
        formats = []
        for code, packer in zip(self.codes, self.structs):
            # by the size struct gives the field: numpy's "l" is a C long, struct's "<l" 4 bytes
            kind = _NUMPY_KINDS.get(code[-1], "f")
            prefix = "" if kind in "Sb" else order
            formats.append(f"{prefix}{kind}{packer.size}")
        return {
            "names": list(self.names),
            "formats": formats,
            "offsets": list(self.offsets),
            "itemsize": self.record_size,
        }


def slab_value_error(name: str, code: str, value: object, exc: Exception) -> Exception:
    """What a value that does not fit its field raises: OverflowError for an integer out of an
    integer field's range, ValueError otherwise (with struct's own message)."""
    out_of_range = isinstance(value, int) and code in "bBhHiIlLqQnN"
    kind = OverflowError if out_of_range else ValueError
    return kind(f"field {name!r} cannot hold {value!r}: {exc}")


def numpy_records(buffer: memoryview, layout: SlabLayout) -> Any:
    """The records in ``buffer`` as a numpy structured array (a view, not a copy)."""
    import numpy

    return numpy.frombuffer(buffer, dtype=numpy.dtype(layout.dtype()))  # type: ignore[call-overload]


def make_handle(slab_id: int, generation: int, slot: int) -> int:
    return (slab_id << (GENERATION_BITS + SLOT_BITS)) | (generation << SLOT_BITS) | slot


_slab_ids = iter(range(1, 1 << 62))


def next_slab_id() -> int:
    """A 15-bit id for a new slab, so that a handle from another slab is recognised (up to the
    id's wrapping after 32767 slabs)."""
    return next(_slab_ids) % ((1 << 15) - 1) + 1


# --- batches (SPEC §10): what Slab.alloc, Slab.extend and index() check, in both builds ---------

MSG_INDEX_BUFFERED = "index() needs a decoder with nothing buffered and no end of stream"


def check_positional(names: tuple[str, ...], values: tuple[object, ...], named: object) -> None:
    """``Slab.alloc(*values, **named)``: no more values than fields, none given twice."""
    if len(values) > len(names):
        raise TypeError(f"alloc() takes at most {len(names)} field values ({len(values)} given)")
    for name in named:  # type: ignore[attr-defined]
        if name in names[: len(values)]:
            raise TypeError(f"alloc() got multiple values for field {name!r}")


def msg_record_size(record_size: int, got: int) -> str:
    return f"each frame must be exactly the record size, {record_size} bytes; got one of {got}"


def int64_pairs(positions: object) -> memoryview:
    """``positions`` (int64, as index() returns them) as a flat memoryview of format ``"q"``
    holding (start, end) pairs."""
    try:
        view = memoryview(positions)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(msg_not_buffer(positions)) from None
    if view.itemsize != 8 or view.format.lstrip("@=") not in ("q", "l"):
        raise TypeError(f"positions must be int64 (format 'q'), not format {view.format!r}")
    if not view.c_contiguous:
        raise TypeError(msg_not_buffer(positions))
    flat = view.cast("B").cast("q")
    if len(flat) % 2:
        raise ValueError("positions must hold (start, end) pairs: an even count")
    return flat


def msg_bad_pair(start: int, end: int, data_length: int) -> str:
    return f"frame ({start}, {end}) is not within the {data_length} bytes"


def frame_pairs(data_length: int, positions: object, record_size: int) -> list[int]:
    """The (start, end) pairs of ``positions``, flattened, each checked to lie in the data and
    to hold exactly one record."""
    flat = int64_pairs(positions).tolist()
    for i in range(0, len(flat), 2):
        start, end = flat[i], flat[i + 1]
        if not 0 <= start <= end <= data_length:
            raise ValueError(msg_bad_pair(start, end, data_length))
        if end - start != record_size:
            raise ValueError(msg_record_size(record_size, end - start))
    return flat


def check_count(n: object) -> int:
    value = _int("n", n)
    if value < 0:
        raise ValueError(f"n must be >= 0, got {value}")
    return value


def check_max_frames(max_frames: object) -> int:
    """The streams' ``read_frames(max_frames)`` / ``receive_many(max_frames)``."""
    if isinstance(max_frames, bool) or not isinstance(max_frames, int):
        raise TypeError(f"max_frames must be an int or None, not {type(max_frames).__name__}")
    if max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    return max_frames


def shown_delimiters(delimiters: tuple[bytes, ...]) -> object:
    """A DelimiterDecoder's delimiters as repr() shows them: one alone, several as a tuple."""
    return delimiters[0] if len(delimiters) == 1 else delimiters


_SIGNATURES: dict[str, Any] = {}


def config_repr(obj: object, config: tuple[tuple[str, object], ...]) -> str:
    """``repr()`` of a decoder or encoder: its class and the constructor arguments that differ
    from their defaults (the required ones always), as a call that makes the same object."""
    import inspect

    from . import _pure

    name = next(c.__name__ for c in type(obj).__mro__ if hasattr(_pure, c.__name__))
    if name not in _SIGNATURES:
        _SIGNATURES[name] = inspect.signature(getattr(_pure, name)).parameters
    parameters = _SIGNATURES[name]
    shown = []
    for key, value in config:
        parameter = parameters[key]
        if parameter.default is parameter.empty:
            shown.append(repr(value))
        elif value is not parameter.default and value != parameter.default:
            shown.append(f"{key}={value!r}")
    return f"{type(obj).__qualname__}({', '.join(shown)})"


class PureSignature:
    """The ``__signature__`` of a compiled class: its pure twin's (what the API reference
    documents), so that ``inspect.signature()`` and ``help()`` show the constructor's
    parameters on both builds. A subclass, or an instance, has none from here."""

    def __init__(self, owner: type) -> None:
        self.owner = owner
        self.signature: Any = None

    def __get__(self, obj: object, owner: Optional[type] = None) -> Any:
        if obj is not None or owner is not self.owner:
            raise AttributeError("__signature__")
        if self.signature is None:
            import inspect

            from . import _pure

            self.signature = inspect.signature(getattr(_pure, self.owner.__name__))
        return self.signature


# --- objects both implementations hand out: pool statistics, slab record proxies -----------------


class PoolStats(NamedTuple):
    """A snapshot of a :class:`BufferPool`'s counters."""

    in_use_bytes: int  #: capacity of the buffers acquired and not released
    retained_bytes: int  #: capacity cached for reuse
    peak_in_use_bytes: int  #: the most ``in_use_bytes`` has been
    hits: int  #: acquisitions served from the cache
    misses: int  #: acquisitions that needed new memory (all unpooled ones)


class SlabRecord:
    """Attribute access to one record of a :class:`Slab` (``AttributeError`` for unknown
    fields, :class:`StaleHandleError` once the record is freed)."""

    __slots__ = ("_handle", "_slab")

    def __init__(self, slab: Any, handle: int) -> None:
        object.__setattr__(self, "_slab", slab)
        object.__setattr__(self, "_handle", handle)

    @property
    def handle(self) -> int:
        return self._handle  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # a record made without __init__ has no _slab to ask
            raise AttributeError(name)
        try:
            return self._slab.get(self._handle, name)
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        try:
            self._slab.set(self._handle, name, value)
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._slab.fields)
        return f"SlabRecord({fields})"
