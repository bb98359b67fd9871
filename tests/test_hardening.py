"""Regression tests for the defects found by trying every public door as a hostile user would:
each written before its fix, in both builds (issue "Hardening")."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import IMPLEMENTATIONS
from test_adapters import run  # noqa: F401  (the fixture: asyncio and uvloop loops)

import framekit
from framekit import CorruptFrameError, FrameTooLongError
from framekit import asyncio as fk_asyncio

ROOT = Path(__file__).resolve().parent.parent
needs_refcounts = pytest.mark.skipif(
    not hasattr(sys, "getrefcount"), reason="this interpreter keeps no reference counts"
)


# --- every public door: construction -------------------------------------------------------------


def _classes(module: ModuleType) -> list[type]:
    return [
        obj
        for name, obj in vars(module).items()
        if inspect.isclass(obj)
        and getattr(obj, "__module__", "").startswith("framekit")
        and not name.startswith("_")
    ]


HOSTILE_SCRIPT = textwrap.dedent(
    """
    import inspect, itertools, sys, importlib
    mod = importlib.import_module(sys.argv[1])
    ARGS = [(), (0,), (1,), (-1,), (None,), (b"",), (b"abc",), (memoryview(b"ab"),),
            (bytearray(4),), ("x",), (1, "x"), (0, 1), (True,), (2**70,), ([],)]
    done = 0
    for name, cls in sorted(vars(mod).items()):
        if not inspect.isclass(cls) or not cls.__module__.startswith("framekit"):
            continue
        for make in (lambda: cls.__new__(cls), cls):
            try:
                obj = make()
                names = dir(obj)
            except Exception:
                continue
            for attr in names:
                if attr in ("__del__", "__dealloc__", "__init_subclass__", "__class__"):
                    continue
                try:
                    member = getattr(obj, attr)
                except Exception:
                    continue
                if not callable(member):
                    continue
                for args in ARGS:
                    try:
                        result = member(*args)
                        if hasattr(result, "__next__"):
                            list(itertools.islice(result, 3))
                    except BaseException:
                        pass
                    done += 1
            for use in (memoryview, bytes, len, repr, str, iter, bool, hash):
                try:
                    use(obj)
                except Exception:
                    pass
    print("calls", done)
    """
)


@pytest.mark.parametrize(
    "module",
    [
        "framekit._core",
        "framekit._pure",
        "framekit._contract",
        "framekit.asyncio",
        "framekit.trio",
        "framekit.errors",
    ],
)
def test_no_public_door_crashes_the_process(module: str, tmp_path: Path) -> None:
    """Every class of both builds, made normally or by ``__new__`` alone (skipping
    ``__init__``), every callable member called with hostile arguments: exceptions are fine, a
    crash is not (``PooledBuffer().release()`` was a segmentation fault)."""
    if module == "framekit._core" and framekit.implementation != "cython":
        pytest.skip("the compiled core is not built here")
    script = tmp_path / "hostile.py"
    script.write_text(HOSTILE_SCRIPT)
    result = subprocess.run(
        [sys.executable, str(script), module], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert int(result.stdout.split()[-1]) > 100


def test_pooled_buffer_construction_is_refused(fk: ModuleType) -> None:
    with pytest.raises(TypeError, match=r"BufferPool\.acquire"):
        fk.PooledBuffer()
    with pytest.raises(TypeError):
        fk.PooledBuffer(10)
    bare = fk.PooledBuffer.__new__(fk.PooledBuffer)
    with pytest.raises(ValueError, match="not acquired from a pool"):
        bare.release()
    with bare:  # nothing to give back
        pass
    assert len(bare) == 0


def test_every_public_class_works_or_refuses_with_type_error(fk: ModuleType) -> None:
    """Constructed directly with its documented defaults, a class works; one that cannot be made
    that way refuses with TypeError (never a half-made object)."""
    for cls in _classes(fk):
        if issubclass(cls, BaseException):
            continue
        try:
            obj: Any = cls()
        except TypeError:
            continue
        if hasattr(obj, "feed"):
            obj.feed(b"\x00\x00\x00\x00")
            with contextlib.suppress(CorruptFrameError):  # (not a netstring, nor RESP)
                obj.next_frame()
        elif hasattr(obj, "encode"):
            obj.encode(b"abc")
        elif hasattr(obj, "acquire"):
            obj.acquire(10).release()
        elif hasattr(obj, "answer"):  # a delimiter kernel: where the frame ends
            assert obj.answer(b"ab\n", 0, False) == (True, 2, 1)
        elif callable(obj):  # a protocol's framing rule: an answer, or corrupt
            with contextlib.suppress(CorruptFrameError):
                obj(b"*1\r\n")
        else:  # pragma: no cover - a new class: decide what "works" means for it
            raise AssertionError(f"{cls.__name__}() constructed: add a check for it")


@pytest.mark.skipif("cython" not in IMPLEMENTATIONS, reason="the core's own kernels")
def test_rule_kernels_made_without_init_answer_safely() -> None:
    """The core's rule kernels are classes too: one made by __new__ alone either cannot be made
    or answers without touching memory it does not have."""
    core = IMPLEMENTATIONS["cython"]
    with pytest.raises(TypeError):
        core.DelimiterRule.__new__(core.DelimiterRule)
    with pytest.raises(TypeError, match="non-empty bytes"):
        core.DelimiterRule((b"",))
    assert core.LengthFieldRule.__new__(core.LengthFieldRule).answer(b"\x05") == 0
    with pytest.raises(CorruptFrameError, match="max_length_bytes=0"):
        core.VarintRule.__new__(core.VarintRule).answer(b"\x05")


def test_decoder_made_without_init_takes_nothing(fk: ModuleType) -> None:
    for cls in (fk.LengthFieldDecoder, fk.LineDecoder, fk.FixedLengthDecoder):
        dec = cls.__new__(cls)
        with pytest.raises((TypeError, AttributeError)):
            dec.feed(b"\x01a")
        with pytest.raises((TypeError, AttributeError)):
            dec.get_buffer()


# --- frames that never change --------------------------------------------------------------------


def _received(dec: Any, wire: bytes, keep: slice) -> tuple[Any, memoryview]:
    """Write ``wire`` through get_buffer() while keeping a slice of the region."""
    window = dec.get_buffer(64)
    kept = window[keep]
    window[: len(wire)] = wire
    dec.buffer_updated(len(wire))
    return window, kept


@pytest.mark.parametrize(
    "derive",
    [
        lambda w: w[1:4],
        lambda w: memoryview(w),
        lambda w: w.cast("B")[1:],
        lambda w: w[:][1:4],
    ],
    ids=["slice", "memoryview", "cast", "slice-of-slice"],
)
def test_a_kept_view_of_the_window_cannot_change_frames(fk: ModuleType, derive: Any) -> None:
    """A view cut from the get_buffer() region and kept past buffer_updated() still writes into
    that memory: the decoder leaves it, so a frame already returned stays b"abc"."""
    dec = fk.LengthFieldDecoder(1)
    window = dec.get_buffer(64)
    kept = derive(window)
    window[:6] = b"\x03abc\x02d"
    dec.buffer_updated(6)
    frame = dec.next_frame()
    assert frame == b"abc"
    kept[: len(kept)] = b"X" * len(kept)
    assert bytes(frame) == b"abc"
    # what was buffered behind the frame survives too, and decoding goes on
    dec.feed(b"e\x01f")
    assert [bytes(f) for f in dec] == [b"de", b"f"]
    kept[: len(kept)] = b"Y" * len(kept)
    assert bytes(frame) == b"abc"


def test_a_view_of_an_abandoned_window_cannot_change_frames(fk: ModuleType) -> None:
    """get_buffer() twice: the first region's slice, kept, must not reach the second region's
    frames (they are the same memory)."""
    dec = fk.LengthFieldDecoder(1)
    kept = dec.get_buffer(64)[0:8]
    window = dec.get_buffer(64)
    window[:4] = b"\x03abc"
    dec.buffer_updated(4)
    frame = dec.next_frame()
    kept[:] = b"Z" * 8
    assert bytes(frame) == b"abc"
    # and a reset decoder does not write where the stale view sees
    kept2 = dec.get_buffer(16)[:4]
    dec.reset()
    dec.feed(bytearray(b"\x03xyz"))
    frame2 = dec.next_frame()
    kept2[:] = b"WWWW"
    assert bytes(frame2) == b"xyz"


def test_window_released_cleanly_is_not_copied(fk: ModuleType) -> None:
    """Without a kept view, received bytes are framed where they landed (zero-copy)."""
    if fk.__name__.endswith("_pure") and not hasattr(sys, "getrefcount"):
        pytest.skip("without reference counts the twin moves every received region")
    dec = fk.LengthFieldDecoder(1)
    window = dec.get_buffer(64)
    window[:4] = b"\x03abc"
    address = _address(window)
    dec.buffer_updated(4)
    frame = dec.next_frame()
    assert _address(frame) == address + 1


def _address(view: Any) -> int:
    import numpy

    return int(numpy.frombuffer(view, dtype=numpy.uint8).ctypes.data)


@needs_refcounts
def test_an_idle_decoder_keeps_no_fed_bytes(fk: ModuleType) -> None:
    """Once every frame of a fed bytes object was taken and dropped, the decoder holds no
    reference to it (the core's frame cache kept 1 MB alive)."""
    data = b"\x00\x00\x00\x0c" + b"x" * 12
    data = data * 65536
    base = sys.getrefcount(data)
    dec = fk.LengthFieldDecoder()
    dec.feed(data)
    for frame in dec:
        assert len(frame) == 12
    del frame
    assert dec.next_frame() is None
    assert sys.getrefcount(data) == base
    # the same through next_frame(), and copy=True
    dec = fk.LengthFieldDecoder(copy=True)
    dec.feed(data)
    while dec.next_frame() is not None:
        pass
    assert sys.getrefcount(data) == base


def test_reinit_from_copy_to_views(fk: ModuleType) -> None:
    """__init__ again with copy=False after copy=True frames: the bytes frames kept for reuse
    are not mistaken for views (the core read a bytes object's hash as a buffer pointer)."""
    dec = fk.LengthFieldDecoder(1, copy=True)
    dec.feed(b"\x02ab" * 8)
    assert [bytes(f) for f in dec] == [b"ab"] * 8
    dec.__init__(1, copy=False)
    dec.feed(b"\x02cd" * 8)
    frames = list(dec)
    assert all(isinstance(f, memoryview) for f in frames)
    assert [bytes(f) for f in frames] == [b"cd"] * 8


# --- one behaviour in both builds ----------------------------------------------------------------


def test_next_on_a_decoder(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    dec.feed(b"\x01a\x01b")
    assert bytes(next(dec)) == b"a"
    assert bytes(next(dec)) == b"b"
    with pytest.raises(StopIteration):
        next(dec)
    dec.feed(b"\x01c")
    assert [bytes(f) for f in dec] == [b"c"]


def test_slab_alloc_reports_the_first_bad_field_in_field_order(fk: ModuleType) -> None:
    slab = fk.Slab([("id", "Q"), ("price", "d"), ("qty", "I"), ("side", "B")], 4)
    with pytest.raises(OverflowError, match="'id'"):
        slab.alloc(qty=-1, id=-1)
    with pytest.raises(KeyError, match="nope"):
        slab.alloc(nope=1, qty=1)
    with pytest.raises((OverflowError, ValueError), match="'qty'"):
        slab.alloc(nope=1, qty=-1)
    assert len(slab) == 0


def test_slab_values_out_of_range_raise_and_print_nothing(
    fk: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A value too large for its field is an OverflowError, and nothing is reported as an
    ignored exception on the way (the core printed one from a noexcept fast path)."""
    ignored: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", ignored.append)
    slab = fk.Slab([("id", "Q"), ("n", "b")], 4)
    for name, value in [("id", 2**64), ("id", -1), ("n", 128), ("n", -(2**70))]:
        with pytest.raises(OverflowError, match=repr(name)):
            slab.alloc(**{name: value})
    assert len(slab) == 0
    assert ignored == []


@pytest.mark.parametrize("size", [True, False, 1.0, "1", None])
def test_buffer_pool_acquire_refuses_non_int_sizes(fk: ModuleType, size: object) -> None:
    with pytest.raises(TypeError, match="size must be an int"):
        fk.BufferPool().acquire(size)


def test_buffer_pool_acquire_by_keyword_and_int_subclass(fk: ModuleType) -> None:
    import enum

    class Size(enum.IntEnum):
        SMALL = 7

    pool = fk.BufferPool()
    assert len(pool.acquire(size=5)) == 5
    assert len(pool.acquire(Size.SMALL)) == 7
    with pytest.raises(ValueError, match=">= 0"):
        pool.acquire(-1)


def test_pooled_buffer_sequence_behaviour(fk: ModuleType) -> None:
    pool = fk.BufferPool()
    buf = pool.acquire(3)
    buf[:] = b"abc"
    assert buf[0] == 97
    assert buf[-1] == 99
    assert bytes(buf[0:2]) == b"ab"
    assert buf == b"abc"
    assert buf == bytearray(b"abc")
    assert buf != b"abd"
    assert buf.__eq__("abc") is NotImplemented
    buf[1] = 0x7A
    assert bytes(buf) == b"azc"
    assert list(buf) == [97, 122, 99]
    with pytest.raises(IndexError):
        buf[3]
    with pytest.raises(TypeError):
        hash(buf)
    buf.release()


def test_reinit_of_a_decoder_starts_afresh(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    dec.feed(b"\x05ab")
    assert dec.buffered == 3
    dec.__init__(2)
    assert dec.buffered == 0
    dec.feed(b"\x00\x02hi")
    assert [bytes(f) for f in dec] == [b"hi"]
    line = fk.LineDecoder()
    line.feed(b"abc")
    line.__init__(strip_delimiter=False)
    line.feed(b"x\n")
    assert [bytes(f) for f in line] == [b"x\n"]


def test_reinit_of_a_decoder_clears_a_corrupt_state(fk: ModuleType) -> None:
    dec = fk.VarintLengthDecoder(max_length_bytes=1)
    dec.feed(b"\xff\xff")
    with pytest.raises(CorruptFrameError):
        dec.next_frame()
    dec.__init__()
    dec.feed(b"\x01z")
    assert bytes(dec.next_frame()) == b"z"


def test_reinit_of_pools_is_refused(fk: ModuleType) -> None:
    pool = fk.BufferPool()
    with pytest.raises(RuntimeError, match="called twice"):
        pool.__init__()
    slab = fk.Slab([("a", "B")], 2)
    with pytest.raises(RuntimeError, match="called twice"):
        slab.__init__([("a", "B")], 2)
    # a bad configuration is reported as such first, in both
    with pytest.raises(ValueError):
        pool.__init__((0,))
    assert len(pool.acquire(3)) == 3
    assert slab.alloc(a=1) >= 0


# --- Netty's order of checks ---------------------------------------------------------------------


def test_too_long_wins_over_strip_past_end(fk: ModuleType) -> None:
    """A frame both longer than max_frame_length and shorter than initial_bytes_to_strip is
    too long (recoverable), as in Netty, which checks the maximum first."""
    dec = fk.LengthFieldDecoder(
        1,
        length_adjustment=2,
        initial_bytes_to_strip=5,
        max_frame_length=2,
        byteorder="little",
        fail_fast=False,
    )
    dec.feed(bytes.fromhex("006516"))
    with pytest.raises(FrameTooLongError) as info:
        dec.next_frame()
    assert info.value.frame_length == 3
    assert dec.next_frame() is None
    # a frame within the maximum that is shorter than the strip is still corrupt
    dec = fk.LengthFieldDecoder(1, initial_bytes_to_strip=3, max_frame_length=10)
    dec.feed(b"\x01a")
    with pytest.raises(CorruptFrameError, match="strip"):
        dec.next_frame()
    varint = fk.VarintLengthDecoder(initial_bytes_to_strip=5, max_frame_length=2)
    varint.feed(b"\x02ab")
    with pytest.raises(FrameTooLongError):
        varint.next_frame()
    assert varint.next_frame() is None


# --- start_server: errors of the client callback -------------------------------------------------


@pytest.mark.parametrize("kind", ["coroutine", "function"])
def test_start_server_reports_callback_errors(run: Any, kind: str) -> None:  # noqa: F811
    """As asyncio.start_server: the error reaches the loop's exception handler and the
    connection is closed (the client sees the end of stream)."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        seen: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _loop, context: seen.append(context))

        async def failing_coroutine(reader: Any, writer: Any) -> None:
            await reader.read_frame()
            raise RuntimeError("boom")

        def failing_function(reader: Any, writer: Any) -> None:
            raise RuntimeError("boom")

        callback = failing_coroutine if kind == "coroutine" else failing_function
        server = await fk_asyncio.start_server(
            callback,
            "127.0.0.1",
            0,
            decoder_factory=lambda: framekit.LengthFieldDecoder(),
        )
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"\x00\x00\x00\x01x")
        assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the server
        writer.close()
        server.close()
        await server.wait_closed()
        errors = [c for c in seen if isinstance(c.get("exception"), RuntimeError)]
        assert len(errors) == 1, seen
        assert errors[0]["message"] == "Unhandled exception in client_connected_cb"
        assert str(errors[0]["exception"]) == "boom"

    run(main())


# --- 32-bit and free-threaded builds: refused at compile time ------------------------------------


@pytest.mark.parametrize(
    ("define", "message"),
    [
        (
            "#undef SIZEOF_SIZE_T\n#define SIZEOF_SIZE_T 4",
            "needs a 64-bit Py_ssize_t",
        ),
        ("#define Py_GIL_DISABLED 1", "does not support free-threaded CPython"),
    ],
    ids=["32-bit", "free-threaded"],
)
def test_compat_header_refuses_unsupported_builds(
    define: str, message: str, tmp_path: Path
) -> None:
    if platform.python_implementation() != "CPython":
        pytest.skip("the compiled core is built for CPython only (these are its headers)")
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler here")
    source = tmp_path / "probe.c"
    source.write_text(f'#include <Python.h>\n{define}\n#include "_compat.h"\nint main(void){{}}\n')
    include = sysconfig.get_paths()["include"]
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}  # (scripts/sanitize.sh)
    result = subprocess.run(
        [cc, "-fsyntax-only", f"-I{include}", f"-I{ROOT / 'framekit'}", str(source)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode != 0
    assert message in result.stderr
    # and the header compiles as it is
    plain = tmp_path / "plain.c"
    plain.write_text('#include <Python.h>\n#include "_compat.h"\nint main(void){}\n')
    ok = subprocess.run(
        [cc, "-fsyntax-only", f"-I{include}", f"-I{ROOT / 'framekit'}", str(plain)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert ok.returncode == 0, ok.stderr


def test_free_threaded_interpreters_are_told_the_pure_build_is_used(tmp_path: Path) -> None:
    """On a free-threaded CPython the core is not built; import framekit says so (simulated:
    this machine has no such interpreter)."""
    code = textwrap.dedent(
        """
        import sysconfig, warnings
        real = sysconfig.get_config_var
        sysconfig.get_config_var = lambda name: 1 if name == "Py_GIL_DISABLED" else real(name)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            import framekit
        print([str(w.message) for w in caught if w.category is RuntimeWarning])
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRAMEKIT_")}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "does not support free-threaded CPython" in result.stdout
    env["FRAMEKIT_PURE"] = "1"
    quiet = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert quiet.stdout.strip() == "[]"


# --- found by the lockstep machine (tests/test_stateful.py) -------------------------------------


def test_releasing_a_viewed_empty_buffer_is_refused(fk: ModuleType) -> None:
    """The twin let go of a 0-byte buffer whose view was alive (deleting nothing from a
    bytearray does not check its exports); the core refused."""
    if not getattr(fk, "_RESIZE_REFUSED_WHILE_VIEWED", True):
        pytest.skip("this interpreter does not track a bytearray's views (docs/pools.md)")
    pool = fk.BufferPool()
    buf = pool.acquire(0)
    view = memoryview(buf)
    with pytest.raises(BufferError, match="still alive"):
        buf.release()
    view.release()
    buf.release()
    assert pool.stats.in_use_bytes == 0


def test_an_empty_feed_drops_ahead_as_any_feed(fk: ModuleType) -> None:
    """After frames were taken, an empty feed runs the drop-ahead step as every feed does: a
    too-long line at the read position is dropped, so buffered agrees in both builds."""
    dec = fk.LineDecoder(strip_delimiter=False, max_frame_length=0, fail_fast=False)
    window = dec.get_buffer(-1)
    window[:3] = b"\n\r\x00"
    dec.buffer_updated(3)
    assert bytes(next(iter(dec))) == b"\n"
    dec.feed(b"")
    assert dec.buffered == 0


def test_a_mutable_feed_is_held_as_the_core_holds_it(fk: ModuleType) -> None:
    """A bytearray is copied into the store in both builds (the twin framed its copy in place),
    so a fail-fast error drops the same bytes and buffered agrees."""
    dec = fk.DelimiterDecoder(
        [b"abb", b"b"], strip_delimiter=False, max_frame_length=0, fail_fast=True
    )
    with pytest.raises(FrameTooLongError):
        dec.decode(b"aa")
    assert dec.buffered == 1
    dec.feed(bytearray(b"baaa"))
    with pytest.raises(FrameTooLongError):
        next(dec)
    assert dec.buffered == 1
