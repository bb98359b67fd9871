"""The decoder engine's decisions, written once for both builds (SPEC §7).

One source, two builds. ``_core.pyx`` includes this file (``include "_engine.py"``): Cython reads
its decorators and annotations as C declarations, and each function becomes a C function of the
core that reads the decoder's fields directly, in the same C file as the rest of the core, where
gcc may inline it. The pure twin imports it as a module and runs the same lines as Python:
``_purecython`` gives the decorators and type names their plain meaning.

What is here: next_frame()'s loop, feed(), get_buffer() sizing and a read into its region,
discarding a frame too long (fail-fast and fail-slow), the end of stream, reset(), detach(), and
how a delimiter rule's or a Python rule's answer is read. Each function takes the decoder ``d``;
what differs between the builds is what the decoder gives them, its kernels over memory
(``_parse_held()``, ``_cut_held()``, ``_copy_in()``... the table in docs/contributing.md).

Rules for this file: names the core defines (the decoder's class, C types) come from ``cython``
or are imported only for the type checker; nothing may run at import that the core cannot.
"""

from typing import TYPE_CHECKING, Optional

from . import _contract as C
from . import _purecython as cython
from .errors import CorruptFrameError, FrameError, FrameTooLongError, IncompleteFrameError

if not cython.compiled:  # (Cython drops this block: there, these are the core's)
    if TYPE_CHECKING:
        from ._pure import RuleDecoder, _FrameDecoder
    else:
        _FrameDecoder = RuleDecoder = object

    def likely(condition: bool) -> bool:
        """A hint to the C compiler that ``condition`` is the hot path (its likely())."""
        return condition


# What a rule's _parse() answers besides a frame's wire length (>= 0) and -need (< 0, above all
# of these):
#: the stream is corrupt (a compiled rule's answer; a rule in Python raises CorruptFrameError)
PARSE_CORRUPT = cython.declare(cython.Py_ssize_t, -(1 << 62))
#: the (delimited) frame is certainly too long; drop ``_droppable`` of its bytes now
PARSE_OVERSIZED = cython.declare(cython.Py_ssize_t, -(1 << 62) + 1)
#: a framing rule raised: ``_raised`` is next_frame()'s to raise (elsewhere: wait for it)
PARSE_RAISED = cython.declare(cython.Py_ssize_t, -(1 << 62) + 2)
#: a framing rule cannot tell yet how long the frame is (a need of at least one byte)
PARSE_UNDECIDED = cython.declare(cython.Py_ssize_t, -(1 << 62) + 3)
#: a frame longer than any max_frame_length; its length is ``_huge_length()``, its wire bytes
#: ``_huge_wire()``
PARSE_HUGE = cython.declare(cython.Py_ssize_t, 1 << 62)
#: (RuleDecoder) the rule is to be asked: no answer it gave before settles the frame
RULE_ASK = cython.declare(cython.Py_ssize_t, -(1 << 62) - 1)

DEFAULT_READ_SIZE = cython.declare(cython.Py_ssize_t, C.DEFAULT_READ_SIZE)
INITIAL_READ_SIZE = cython.declare(cython.Py_ssize_t, C.INITIAL_READ_SIZE)
MIN_READ_SIZE = cython.declare(cython.Py_ssize_t, C.MIN_READ_SIZE)
READ_SIZE_STEP = cython.declare(cython.Py_ssize_t, C.READ_SIZE_STEP)
SMALL_READS = cython.declare(cython.Py_ssize_t, C.SMALL_READS)


# --- the decoder's state ------------------------------------------------------------------------


@cython.cfunc
@cython.exceptval(-1)
def reset_state(d: _FrameDecoder) -> cython.bint:
    """reset(): drop all bytes held and any error state."""
    d._forget_frames()
    d._drop_buffered()
    d._leave_window()
    d._release_storage()
    d._read_size = INITIAL_READ_SIZE  # get_buffer(-1)'s region, from recent reads
    d._small_reads = 0  # reads in a row that a smaller region would have held
    d._starved = True  # the store holds at most one incomplete frame, and no chunk
    d._discard = 0  # bytes of an oversized frame still to be discarded
    d._discard_error = None  # raised once discarding ends
    d._discarding = False  # dropping a too-long delimited frame until its delimiter
    d._discarded = 0  # bytes of it dropped so far
    d._pending = None  # raised before anything else is returned
    d._corrupt = None
    d._raised = None
    d._eof = False
    return False


@cython.cfunc
@cython.exceptval(-1)
def held(d: _FrameDecoder) -> cython.Py_ssize_t:
    """``buffered``: the bytes held that are not yet part of a returned frame."""
    n: cython.Py_ssize_t = d._wpos - d._rpos + d._batch_bytes()
    if d._chunk is not None:
        n += d._clen - d._cpos
    return n


@cython.cfunc
def decode_all(d: _FrameDecoder, data: "C.BytesLike") -> list:  # type: ignore[type-arg]
    """decode(): feed(data), then all complete frames. An error met after k >= 1 frames is
    raised by the next call instead, after those frames are returned."""
    d.feed(data)
    frames = []
    try:
        frame = d._next()
        while frame is not None:
            frames.append(frame)
            frame = d._next()
    except FrameError as err:
        if not frames:
            raise
        d._pending = err
    return frames


@cython.cfunc
@cython.exceptval(-1)
def before_index(d: _FrameDecoder) -> cython.bint:
    """What index() checks first: the decoder must hold nothing."""
    d._check_usable()
    if held(d) or d._eof or d._pending is not None or d._discard:
        raise ValueError(C.MSG_INDEX_BUFFERED)
    return False


@cython.cfunc
@cython.exceptval(-1)
def raise_first_error(d: _FrameDecoder, data: "C.BytesLike") -> cython.bint:
    """index() found no frame to index: raise what next_frame() raises first for ``data``
    (nothing if it waits); the decoder then holds nothing again."""
    try:
        d.feed(data)
        d._next()
    finally:
        d._clear()
    return False


@cython.cfunc
def detach_rest(d: _FrameDecoder) -> bytes:
    """detach(): the bytes received and not yet returned as frames, in stream order; the
    decoder is then reset."""
    d._check_usable()
    d._leave_window()
    rest: bytes = d._batch_rest() + d._held_bytes()
    if d._chunk is not None and d._cpos < d._clen:
        rest += d._chunk[d._cpos : d._clen]
    d._clear()
    return rest


# --- get_buffer() sizing -----------------------------------------------------------------------


@cython.cfunc
@cython.inline
@cython.exceptval(check=False)
def read_region(size: cython.Py_ssize_t, unread: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """The region get_buffer(-1) offers with ``unread`` bytes held and a read size of ``size``."""
    return size - unread if unread * 2 <= size else size


@cython.cfunc
@cython.inline
@cython.exceptval(check=False)
def grown(unread: cython.Py_ssize_t, n: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """The size of a new block of storage for ``unread`` bytes held and ``n`` more: exactly
    ``n`` when nothing is held (a read's region), else with a quarter more room (at most one
    read's worth), so that a frame growing by small reads is copied a bounded number of times
    per byte, but not past the read size that holds it (a size class of the pool); never below
    MIN_READ_SIZE."""
    needed: cython.Py_ssize_t = unread + n
    room: cython.Py_ssize_t
    step: cython.Py_ssize_t
    if unread:
        room = needed + min(needed >> 2, DEFAULT_READ_SIZE)
        if needed <= DEFAULT_READ_SIZE:  # no further than the read size that holds it
            step = MIN_READ_SIZE
            while step < needed:
                step *= READ_SIZE_STEP
            room = min(room, step)
        needed = room
    return max(needed, MIN_READ_SIZE)


@cython.cfunc
@cython.exceptval(-1)
def region_size(d: _FrameDecoder, sizehint: object) -> cython.Py_ssize_t:
    """get_buffer(sizehint): how large a region to offer. When a frame's length is known and
    its bytes have not all arrived, large enough for all of it."""
    want: cython.Py_ssize_t = C.check_sizehint(sizehint)
    d._check_usable()
    if d._eof:
        raise ValueError(C.MSG_AFTER_EOF)
    d._leave_window()
    d._absorb_chunk()
    if want == 0:
        want = read_region(d._read_size, d._wpos - d._rpos + d._batch_bytes())
    # (after frames cut in a batch and not yet returned, the frame at the read position is not
    # the next one)
    if not d._batch_left():
        want = max(want, rest_of_frame(d))
    return want


@cython.cfunc
@cython.inline
@cython.exceptval(check=False)
def record_read(d: _FrameDecoder, n: cython.Py_ssize_t, offered: cython.Py_ssize_t) -> cython.bint:
    """Adapt get_buffer(-1)'s region to a read of ``n`` bytes into ``offered`` ones: up a step
    after a read that filled it, down a step after SMALL_READS reads in a row that a step
    smaller would have held."""
    if n >= min(offered, d._read_size):
        d._small_reads = 0
        d._read_size = min(d._read_size * READ_SIZE_STEP, DEFAULT_READ_SIZE)
    elif n * READ_SIZE_STEP > d._read_size:
        d._small_reads = 0
    elif d._small_reads + 1 < SMALL_READS:
        d._small_reads += 1
    else:
        d._small_reads = 0
        d._read_size = max(d._read_size // READ_SIZE_STEP, MIN_READ_SIZE)
    return False


@cython.cfunc
@cython.exceptval(-1)
def region_written(d: _FrameDecoder, nbytes: object) -> cython.bint:
    """buffer_updated(): ``nbytes`` bytes were read into the region get_buffer() returned."""
    window = d._window
    if window is None:
        raise ValueError(C.MSG_NO_BUFFER)
    if isinstance(nbytes, bool) or not isinstance(nbytes, int):
        raise TypeError(f"nbytes must be an int, not {type(nbytes).__name__}")
    offered: cython.Py_ssize_t = len(window)
    if not 0 <= nbytes <= offered:
        raise ValueError(C.msg_bad_nbytes(nbytes, offered))
    n: cython.Py_ssize_t = nbytes
    skipped: cython.Py_ssize_t
    record_read(d, n, offered)
    stale: cython.bint = d._release_window()
    if d._discard:
        skipped = discard_bytes(d, n)
        d._wpos += skipped
        d._rpos = d._wpos
        n -= skipped
    if n:
        d._wpos += n
        d._starved = False
    if stale:
        d._evacuate()
    if n:
        drop_ahead(d)
    elif d._rpos == d._wpos and d._chunk is None:
        d._release_storage()  # a read of nothing into an empty decoder keeps nothing
    return False


@cython.cfunc
@cython.exceptval(check=False)
def rest_of_frame(d: _FrameDecoder) -> cython.Py_ssize_t:
    """Bytes still missing of the frame at the read position, when its length is known."""
    have: cython.Py_ssize_t = d._wpos - d._rpos
    if have == 0:
        return 0
    total: cython.Py_ssize_t = d._parse_held()
    if total < 0 or total > d._max_total or total <= have:
        return 0
    return total - have


# --- a delimited frame -------------------------------------------------------------------------


@cython.cfunc
@cython.inline
@cython.exceptval(check=False)
def settle_delimited(
    d: _FrameDecoder,
    settled: cython.bint,
    at: cython.Py_ssize_t,
    length: cython.Py_ssize_t,
    strip: cython.bint,
) -> cython.Py_ssize_t:
    """A delimiter rule's answer, as _parse() gives it: the delimiter that ends the frame at
    ``at`` (``length`` bytes) if ``settled``; else ``at`` is where one may still be arriving.
    ``strip``: the delimiter is not delivered."""
    if not settled:
        if d._eof:
            return -1
        d._scanned = at
        if at > (0 if d._discarding else d._max_frame_length):
            d._droppable = at
            return PARSE_OVERSIZED
        return -1
    if not d._discarding and at > d._max_frame_length:
        d._droppable = at
        return PARSE_OVERSIZED
    d._delimiter_length = length
    d._trim = length if strip else 0
    return at + length


# --- a rule's answer (RuleDecoder) --------------------------------------------------------------


@cython.cfunc
@cython.inline
@cython.exceptval(check=False)
def asked_before(d: RuleDecoder, avail: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """_parse() from what the rule answered before about the frame at the read position
    (``_scanned``: > 0, it needs that many bytes; < 0, its length), or RULE_ASK."""
    before: cython.Py_ssize_t = d._scanned
    if d._done:
        return PARSE_UNDECIDED  # the protocol's message ended: nothing more is framed
    if before < 0:
        return -before
    if avail < before and avail <= d._undecided_limit:
        return avail - before
    return RULE_ASK


@cython.cfunc
@cython.inline
@cython.exceptval(check=False)
def needs(d: _FrameDecoder, need: cython.Py_ssize_t, avail: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """The rule's answer "the frame needs ``need`` bytes in all": not asked again before."""
    d._scanned = need
    if need == avail + 1:
        return PARSE_UNDECIDED  # (not "1 byte short": complete_frame() would go a byte a time)
    return avail - need


@cython.cfunc
@cython.inline
@cython.exceptval(check=False)
def known(
    d: _FrameDecoder,
    total: cython.Py_ssize_t,
    start: cython.Py_ssize_t,
    end: cython.Py_ssize_t,
    avail: cython.Py_ssize_t,
) -> cython.Py_ssize_t:
    """The rule's answer "the frame is ``total`` bytes, ``[start, end)`` delivered", within
    max_frame_length."""
    d._start = start
    d._trim = total - end
    if avail < total:
        d._scanned = -total  # not asked again for this frame
    return total


@cython.cfunc
def rule_answered(
    d: RuleDecoder, got: Optional[tuple[int, int, int]], avail: cython.Py_ssize_t
) -> cython.Py_ssize_t:
    """_parse() for what a rule answered, as ``C.rule_answer()`` reads it (any sizes)."""
    if got is None or got[0] < 0:
        if avail > d._undecided_limit:
            d._raised = CorruptFrameError(C.msg_undecided(avail, d._max_frame_length))
            return PARSE_CORRUPT
        if got is None:
            return PARSE_UNDECIDED
        # a need beyond what may be held undecided: the stream is corrupt once that arrives
        return needs(d, min(-got[0], d._undecided_limit + 1), avail)
    total, start, stop = got
    if d._payload_limit and stop - start > d._max_frame_length:  # a protocol's payload
        d._huge = stop - start
    elif total > d._max_total:
        d._huge = total
    else:
        return known(d, total, start, stop, avail)
    d._huge_total = total if total < PARSE_HUGE else PARSE_HUGE
    return PARSE_HUGE


# --- feed() ------------------------------------------------------------------------------------


@cython.cfunc
@cython.exceptval(-1)
def before_feed(d: _FrameDecoder) -> cython.bint:
    """What feed() checks before it looks at the bytes."""
    d._check_usable()
    if d._eof:
        raise ValueError(C.MSG_AFTER_EOF)
    d._leave_window()
    return False


@cython.cfunc
@cython.exceptval(-1)
def take(d: _FrameDecoder, owner: Optional[bytes], n: cython.Py_ssize_t) -> cython.bint:
    """feed(): take ``n`` bytes, which the build's kernels read while feed() runs. ``owner``
    is the ``bytes`` object they are, framed in place, or None: they belong to a mutable
    buffer, and are copied."""
    pos: cython.Py_ssize_t = 0
    if d._discard:
        pos = discard_bytes(d, n)
    if pos < n:
        if d._chunk is not None and d._cpos == d._clen:
            d._chunk = None
            d._chunk_view = None
        if d._chunk is None and d._rpos == d._wpos:
            pass
        elif d._starved:  # the store holds the start of a frame: complete it from these bytes
            pos = d._complete(pos, n)
        else:
            d._absorb_chunk()
            owner = None
        if pos < n:
            if owner is None:
                d._copy_in(pos, n - pos, n - pos)
            else:
                d._adopt(owner, pos, n)
        d._starved = False
    drop_ahead(d)  # as after any feed, even of nothing
    return False


@cython.cfunc
@cython.exceptval(-1)
def complete_frame(
    d: _FrameDecoder, pos: cython.Py_ssize_t, n: cython.Py_ssize_t
) -> cython.Py_ssize_t:
    """Copy from the bytes being fed (``pos`` to ``n``) into the store what the incomplete
    frame there still lacks (and no more), so that the rest can be framed in place. Returns the
    new position."""
    total: cython.Py_ssize_t
    need: cython.Py_ssize_t
    copied: cython.Py_ssize_t
    while pos < n:
        total = d._parse_held()
        if total in (PARSE_CORRUPT, PARSE_OVERSIZED, PARSE_RAISED, PARSE_UNDECIDED):
            break  # next_frame() raises it in its place (an undecided rule: sees it all)
        if total > d._max_total:
            break
        if total < 0:
            need = -total
        else:
            need = total - (d._wpos - d._rpos)
            if need <= 0:
                break
        copied = min(need, n - pos)
        d._copy_in(pos, copied, need)
        pos += copied
    return pos


@cython.cfunc
@cython.exceptval(-1)
def trim_past_frame(d: _FrameDecoder, copied: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """After ``copied`` bytes were copied into the store to complete a delimited frame: take
    back out what lies past the frame now settled, and return how many. Left in the store, the
    start of the next frame would have the whole rest of the read copied after it."""
    if d._discarding:
        return 0
    total: cython.Py_ssize_t = d._parse_held()
    extra: cython.Py_ssize_t = d._wpos - d._rpos - total
    if total >= 0 and 0 < extra <= copied:
        d._wpos -= extra
        return extra
    return 0


# --- next_frame() ------------------------------------------------------------------------------


@cython.cfunc
def cut_next(d: _FrameDecoder) -> Optional[C.Frame]:
    """next_frame(): the next complete frame, cut by the build's kernels (``_cut_held``,
    ``_cut_chunk``), or None when more bytes are needed; the errors met on the way in their
    place in the stream."""
    total: cython.Py_ssize_t
    pos: cython.Py_ssize_t
    avail: cython.Py_ssize_t
    in_store: cython.bint
    if d._pending is not None:
        err = d._pending
        d._pending = None
        raise err
    if d._corrupt is not None:
        raise d._corrupt
    while True:
        # (a branch for each place the frame may start: each is its own path for the C compiler)
        if d._rpos < d._wpos:
            pos = d._rpos
            avail = d._wpos - pos
            total = d._parse_held()
            if likely(0 <= total <= avail and total <= d._max_total and not d._discarding):
                d._scanned = 0
                return d._cut_held(pos, total)
            in_store = True
        elif d._chunk is not None:
            pos = d._cpos
            avail = d._clen - pos
            total = d._parse_chunk()
            if likely(0 <= total <= avail and total <= d._max_total and not d._discarding):
                d._scanned = 0
                return d._cut_chunk(pos, total)
            in_store = False
        else:
            starve(d)
            return None
        if not not_a_frame(d, total, avail, in_store):
            return None


@cython.cfunc
@cython.exceptval(-1)
def not_a_frame(
    d: _FrameDecoder, total: cython.Py_ssize_t, avail: cython.Py_ssize_t, in_store: cython.bint
) -> cython.bint:
    """next_frame() found no frame to cut where the rule answered ``total`` for ``avail`` bytes
    (in the store, or in the chunk): raise the error there in its place, or drop what a frame
    too long allows. True: look again; False: more bytes are needed (the end of stream's error,
    if it came, is raised)."""
    if total == PARSE_CORRUPT:
        d._corrupt = d._corrupt_error()
        d._drop_buffered()
        raise d._corrupt
    if total == PARSE_RAISED:
        err = d._raised
        d._raised = None
        assert err is not None
        raise err
    if total == PARSE_OVERSIZED:
        oversized(d)
        return True
    if total > d._max_total:
        too_long(d, total)
        return True
    if 0 <= total <= avail:  # the delimiter of a frame being discarded
        end_discarding(d, total)
        return True
    if in_store and d._chunk is not None:  # the frame goes on in the chunk
        d._absorb_chunk()
        return True
    starve(d)
    return False


# --- frames too long ---------------------------------------------------------------------------


@cython.cfunc
@cython.exceptval(check=False)
def skip(d: _FrameDecoder, n: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """Drop up to ``n`` buffered bytes; return how many were dropped."""
    d._scanned = 0
    dropped: cython.Py_ssize_t = min(n, d._wpos - d._rpos)
    more: cython.Py_ssize_t
    d._rpos += dropped
    if d._chunk is not None and dropped < n:
        more = min(n - dropped, d._clen - d._cpos)
        d._cpos += more
        dropped += more
    return dropped


@cython.cfunc
@cython.exceptval(check=False)
def discard_bytes(d: _FrameDecoder, n: cython.Py_ssize_t) -> cython.Py_ssize_t:
    """Discard the first of ``n`` arriving bytes that belong to an oversized frame."""
    dropped: cython.Py_ssize_t = min(d._discard, n)
    d._discard -= dropped
    if not d._discard and d._discard_error is not None:
        d._pending = d._discard_error
        d._discard_error = None
    return dropped


@cython.cfunc
@cython.exceptval(-1)
def too_long(d: _FrameDecoder, total: cython.Py_ssize_t) -> cython.bint:
    """Discard the oversized frame at the read position; raise its error in stream order
    (fail-slow: once its last byte is discarded)."""
    length: Optional[int] = total
    if total == PARSE_HUGE:  # a protocol's payload too long: its length, and the wire bytes
        length = d._huge_length()
        total = d._huge_wire()
    err = FrameTooLongError(length, d._max_frame_length)
    remaining: cython.Py_ssize_t = total - skip(d, total)
    if remaining and not d._eof:
        d._discard = remaining
        if not d._fail_fast:
            d._discard_error = err
            return False
    raise err


@cython.cfunc
@cython.exceptval(-1)
def oversized(d: _FrameDecoder) -> cython.bint:
    """The delimited frame at the read position is certainly too long: drop what of it can be
    dropped now and discard the rest as it comes, until its delimiter."""
    err = None
    if not d._discarding:
        d._discarding = True
        d._discarded = 0
        if d._fail_fast:
            err = FrameTooLongError(None, d._max_frame_length)
    d._discarded += skip(d, d._droppable)
    if err is not None:
        raise err
    return False


@cython.cfunc
@cython.exceptval(-1)
def end_discarding(d: _FrameDecoder, total: cython.Py_ssize_t) -> cython.bint:
    """The delimiter of a too-long frame arrived: drop through it, then report it (fail-slow)."""
    skip(d, total)
    d._discarding = False
    if not d._fail_fast:
        raise FrameTooLongError(d._discarded + total - d._delimiter_length, d._max_frame_length)
    return False


@cython.cfunc
@cython.exceptval(-1)
def drop_ahead(d: _FrameDecoder) -> cython.bint:
    """Drop what the bytes just taken in allow of a too-long frame at the read position, as
    next_frame() would: nothing of it piles up while nobody takes frames (bounded memory). An
    error found here waits for next_frame(), its place in the stream."""
    total: cython.Py_ssize_t
    in_store: cython.bint
    if d._discard or d._batch_left():
        return False
    if d._pending is not None and not d._discarding:
        return False
    total = d._wpos - d._rpos
    if d._chunk is not None:
        total += d._clen - d._cpos
    if total <= d._max_frame_length and not d._discarding:
        return False  # bounded already; and detach() can still hand every byte on
    while True:
        if d._rpos < d._wpos:
            in_store = True
            total = d._parse_held()
        elif d._chunk is not None:
            in_store = False
            total = d._parse_chunk()
        else:
            return False
        if total == PARSE_RAISED:
            return False  # as is a rule's error
        try:
            if total == PARSE_OVERSIZED:
                oversized(d)
                continue
            if total > d._max_total:
                too_long(d, total)
                return False
        except FrameTooLongError as err:
            d._pending = err
            if d._discarding:
                continue
            return False
        if total < 0 and in_store and d._chunk is not None:
            d._absorb_chunk()
            continue
        return False  # a frame, the delimiter of one being discarded, or corrupt: next_frame()


# --- the end of stream -------------------------------------------------------------------------


@cython.cfunc
@cython.exceptval(-1)
def end_of_stream(d: _FrameDecoder) -> cython.bint:
    """feed_eof(): raise the error the end causes at once when nothing complete comes before
    it; otherwise next_frame() returns what comes first, and then raises it."""
    total: cython.Py_ssize_t
    d._check_usable()
    d._leave_window()
    if d._eof:
        return False
    d._eof = True
    if d._pending is not None or d._batch_left():
        return False  # frames or an error come first
    if d._discard:
        d._discard = 0
        err = d._discard_error
        d._discard_error = None
        if err is not None:
            raise err
        return False
    d._absorb_chunk()
    if d._rpos < d._wpos:
        total = d._parse_held()
        if (
            total in (PARSE_CORRUPT, PARSE_OVERSIZED, PARSE_RAISED)
            or 0 <= total <= d._wpos - d._rpos
        ):
            return False  # a frame or an error comes first: next_frame() returns it
        if total > d._max_total:
            return False
    elif not d._discarding:
        return False
    error = d._eof_error()
    if error is not None:
        raise error
    return False


@cython.cfunc
def end_of_stream_error(d: _FrameDecoder) -> Optional[FrameError]:
    """What the end of stream makes of the bytes held (None: nothing); they are dropped."""
    partial = d._held_bytes()
    d._drop_buffered()
    if d._discarding:
        d._discarding = False
        if d._fail_fast:
            return None  # reported when discarding began
        return FrameTooLongError(d._discarded + len(partial), d._max_frame_length)
    return IncompleteFrameError(partial)


@cython.cfunc
def delimited_eof_error(d: _FrameDecoder) -> Optional[FrameError]:
    """end_of_stream_error() for a delimited frame, whose length the end itself may settle."""
    unterminated: cython.Py_ssize_t = d._wpos - d._rpos
    certain: cython.bint
    if not d._discarding and unterminated > d._max_frame_length:
        # As next_frame() just before the end would have it: a fail-fast frame certain to be too
        # long by then is reported without its length, one only the end makes too long with it;
        # so the error does not depend on whether frames were taken before the end.
        d._eof = False
        certain = d._parse_held() == PARSE_OVERSIZED
        d._eof = True
        d._drop_buffered()
        return FrameTooLongError(
            None if d._fail_fast and certain else unterminated, d._max_frame_length
        )
    return end_of_stream_error(d)


@cython.cfunc
@cython.exceptval(-1)
def starve(d: _FrameDecoder) -> cython.bint:
    """No frame is complete: the end of stream's error if it came, and storage given back when
    nothing is held."""
    d._absorb_chunk()
    if d._eof and (d._rpos < d._wpos or d._discarding):
        err = d._eof_error()
        if err is not None:
            raise err
    d._starved = True
    if d._rpos == d._wpos:
        # nothing held: the storage goes back, and with it a get_buffer() region still out
        # (valid until the next call on the decoder, this one; uvloop leaves one after a read
        # that found nothing). A view still cut from it writes where nobody reads.
        d._release_window()
        d._release_storage()
    return False
