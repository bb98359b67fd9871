"""The decoder interface: inputs, get_buffer/buffer_updated, zero-copy, frame lifetime, config."""

from __future__ import annotations

import array
import os
import pickle
import subprocess
import sys
import weakref
from types import ModuleType
from typing import Any

import pytest
from helpers import run_feed

from framekit import FrameTooLongError


@pytest.mark.parametrize("bad", ["text", 5, None, [1, 2], object()])
def test_feed_refuses_non_buffers(fk: ModuleType, bad: object) -> None:
    dec = fk.LengthFieldDecoder(1)
    with pytest.raises(TypeError):
        dec.feed(bad)
    with pytest.raises(TypeError):
        dec.decode(bad)
    assert dec.buffered == 0


def test_feed_refuses_non_contiguous(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    with pytest.raises(TypeError):
        dec.feed(memoryview(b"\x01a\x01b")[::2])
    assert dec.buffered == 0


def test_feed_accepts_any_contiguous_buffer(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    typed = array.array("H", [0x6101, 0x6201])  # little-endian machine bytes: 01 61 01 62
    wire = typed.tobytes()
    two_d = memoryview(bytearray(b"\x01a\x01b")).cast("B", (2, 2))
    for data in (wire, bytearray(wire), memoryview(wire), typed, two_d):
        assert [bytes(f) for f in dec.decode(data)] == [wire[1:2], wire[3:4]]


def test_mutable_input_is_copied(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    data = bytearray(b"\x03abc\x02d")
    frames = dec.decode(data)
    data[:] = b"\x00" * len(data)
    dec.feed(b"e")
    frames += dec.decode(b"")
    assert [bytes(f) for f in frames] == [b"abc", b"de"]


def test_bytes_are_framed_in_place(fk: ModuleType) -> None:
    data = b"\x00\x00\x10\x00" + bytes(range(256)) * 16
    dec = fk.LengthFieldDecoder(4)
    (frame,) = dec.decode(data)
    assert frame.obj is data  # a view of the very bytes object fed: no copy


def test_frames_unchanged_after_many_feeds(fk: ModuleType) -> None:
    """A held frame never changes, whatever is fed later, through either receive path."""
    dec = fk.LengthFieldDecoder(2)
    held = []
    for i in range(3000):
        payload = bytes([i % 256]) * (i % 97)
        wire = len(payload).to_bytes(2, "big") + payload
        if i % 3 == 0:
            dec.feed(bytearray(wire))
        elif i % 3 == 1:
            dec.feed(wire)
        else:
            buf = dec.get_buffer(len(wire))
            buf[: len(wire)] = wire
            dec.buffer_updated(len(wire))
        for frame in dec:
            held.append((frame, payload))
    assert len(held) == 3000
    for frame, payload in held:
        assert bytes(frame) == payload


def test_get_buffer_gives_room_for_the_rest_of_a_known_frame(fk: ModuleType) -> None:
    size = 1 << 20
    payload = os.urandom(size)
    dec = fk.LengthFieldDecoder(4)
    dec.feed(size.to_bytes(4, "big") + payload[:100])
    assert dec.next_frame() is None
    buf = dec.get_buffer(16)
    assert len(buf) >= size - 100  # the whole rest fits: no copy once it lands
    buf[: size - 100] = payload[100:]
    dec.buffer_updated(size - 100)
    frame = dec.next_frame()
    assert frame is not None and bytes(frame) == payload


def test_get_buffer_huge_hint_allocates_little(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(4)
    buf = dec.get_buffer(1 << 40)
    assert 0 < len(buf) <= 4 << 20
    dec.buffer_updated(0)


def test_get_buffer_view_is_writable_then_released(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    buf = dec.get_buffer()
    assert not buf.readonly and len(buf) > 0
    buf[:2] = b"\x01a"
    dec.buffer_updated(2)
    with pytest.raises(ValueError):
        buf[0] = 1  # released: a stale view cannot write into the decoder's storage
    frame = dec.next_frame()
    assert frame is not None and bytes(frame) == b"a"


def test_buffer_updated_misuse(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    with pytest.raises(ValueError, match="without a preceding get_buffer"):
        dec.buffer_updated(1)
    buf = dec.get_buffer(8)
    with pytest.raises(ValueError, match="nbytes must be in"):
        dec.buffer_updated(len(buf) + 1)
    with pytest.raises(ValueError, match="nbytes must be in"):
        dec.buffer_updated(-1)
    with pytest.raises(TypeError):
        dec.buffer_updated(1.0)
    buf[:2] = b"\x01z"
    dec.buffer_updated(2)
    with pytest.raises(ValueError, match="without a preceding get_buffer"):
        dec.buffer_updated(2)  # one update per buffer
    assert [bytes(f) for f in dec] == [b"z"]


def test_get_buffer_twice_invalidates_first(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    first = dec.get_buffer()
    second = dec.get_buffer()
    with pytest.raises(ValueError):
        first[0] = 0
    second[:2] = b"\x01q"
    dec.buffer_updated(2)
    assert [bytes(f) for f in dec] == [b"q"]


def test_feed_between_get_buffer_and_update_invalidates(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    dec.get_buffer()
    dec.feed(b"\x01a")
    with pytest.raises(ValueError, match="without a preceding get_buffer"):
        dec.buffer_updated(1)
    assert [bytes(f) for f in dec] == [b"a"]


def test_get_buffer_discards_oversized_frame(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(4, max_frame_length=1000, fail_fast=False)
    wire = (5000).to_bytes(4, "big") + b"x" * 5000 + b"\x00\x00\x00\x02ok"
    pos = 0
    events: list[object] = []
    while pos < len(wire):
        buf = dec.get_buffer(100)
        n = min(100, len(buf), len(wire) - pos)
        buf[:n] = wire[pos : pos + n]
        dec.buffer_updated(n)
        pos += n
        assert dec.buffered <= 200
        try:
            events.extend(bytes(f) for f in dec)
        except FrameTooLongError as err:
            events.append(err.frame_length)
            events.extend(bytes(f) for f in dec)
    assert events == [5004, b"ok"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"length_field_length": 0},
        {"length_field_length": 9},
        {"length_field_offset": -1},
        {"initial_bytes_to_strip": -1},
        {"byteorder": "middle"},
        {"max_frame_length": 3},
        {"length_field_length": 2, "length_field_offset": 3, "max_frame_length": 4},
    ],
)
def test_length_field_bad_config(fk: ModuleType, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        fk.LengthFieldDecoder(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_length_bytes": 0},
        {"max_length_bytes": 11},
        {"length_field_offset": -2},
        {"max_frame_length": 0},
    ],
)
def test_varint_bad_config(fk: ModuleType, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        fk.VarintLengthDecoder(**kwargs)


def test_config_type_errors(fk: ModuleType) -> None:
    with pytest.raises(TypeError):
        fk.LengthFieldDecoder("4")
    with pytest.raises(TypeError):
        fk.LengthFieldDecoder(4, max_frame_length=1.5)


def test_keyword_only_options(fk: ModuleType) -> None:
    with pytest.raises(TypeError):
        fk.LengthFieldDecoder(4, 0)


def test_decoders_are_iterable_in_for_loops(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    dec.feed(b"\x01a\x01b\x01")
    assert [bytes(f) for f in dec] == [b"a", b"b"]
    dec.feed(b"c")
    assert [bytes(f) for f in dec] == [b"c"]
    assert run_feed(fk.LengthFieldDecoder(1), []) == []


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("FRAMEKIT_")}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import framekit; print(framekit.implementation)"],
        capture_output=True,
        text=True,
        env=full,
        check=False,
    )


def test_framekit_pure_switch() -> None:
    result = _run({"FRAMEKIT_PURE": "1"})
    assert result.returncode == 0 and result.stdout.strip() == "python"


def test_require_extension_fails_loudly_without_it() -> None:
    """Without the compiled core the package falls back, unless the extension is required."""
    code = (
        "import sys; sys.modules['framekit._core'] = None; "  # makes importing it fail
        "import framekit; print(framekit.implementation)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRAMEKIT_")}
    plain = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert plain.returncode == 0 and plain.stdout.strip() == "python"
    env["FRAMEKIT_REQUIRE_EXTENSION"] = "1"
    strict = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert strict.returncode != 0 and "FRAMEKIT_REQUIRE_EXTENSION" in strict.stderr


def _frames_of(fk: ModuleType, count: int) -> Any:
    dec = fk.LengthFieldDecoder(1)
    dec.feed(b"".join(bytes([3]) + bytes([i]) * 3 for i in range(count)))
    return dec


def test_dropped_frames_with_weak_references_keep_their_bytes(fk: ModuleType) -> None:
    refs = []
    for frame in _frames_of(fk, 50):
        refs.append((weakref.ref(frame), bytes(frame)))
    for ref, content in refs:
        alive = ref()
        if alive is not None:
            assert bytes(alive) == content


def test_released_and_sliced_frames_stay_correct(fk: ModuleType) -> None:
    subs = []
    got = []
    for i, frame in enumerate(_frames_of(fk, 60)):
        got.append(bytes(frame))
        if i % 3 == 0:
            frame.release()
        elif i % 3 == 1:
            subs.append((frame[1:], bytes(frame[1:])))
            subs.append((memoryview(frame), bytes(frame)))
    assert got == [bytes([i]) * 3 for i in range(60)]
    for view, content in subs:
        assert bytes(view) == content


def test_hash_of_frames_follows_their_bytes(fk: ModuleType) -> None:
    hashes = [(hash(frame), bytes(frame)) for frame in _frames_of(fk, 40)]
    assert all(h == hash(content) for h, content in hashes)


def test_frames_exported_to_other_objects_stay_correct(fk: ModuleType) -> None:
    exported: list[tuple[Any, bytes]] = []
    for frame in _frames_of(fk, 40):
        exported.append((array.array("B", frame), bytes(frame)))
        exported.append((bytearray(frame), bytes(frame)))
    for obj, content in exported:
        assert bytes(obj) == content


def test_copied_frames_are_independent_bytes(fk: ModuleType) -> None:
    """copy=True frames kept anywhere keep their bytes and a hash that matches them."""
    dec = fk.LengthFieldDecoder(1, copy=True)
    dec.feed(b"".join(b"\x04" + bytes([i]) * 4 for i in range(100)))
    kept = []
    seen = set()
    for i, frame in enumerate(dec):
        assert type(frame) is bytes
        assert hash(frame) == hash(bytes(memoryview(frame)))
        if i % 2:
            kept.append(frame)
        if i % 5 == 0:
            seen.add(frame)
    assert kept == [bytes([i]) * 4 for i in range(1, 100, 2)]
    assert seen == {bytes([i]) * 4 for i in range(0, 100, 5)}


def test_dropped_frames_of_varying_sizes(fk: ModuleType) -> None:
    """Frames dropped as soon as they are read (the common loop) come out right in both kinds."""
    sizes = [(i * 7) % 23 for i in range(300)]
    wire = b"".join(bytes([n]) + bytes([n]) * n for n in sizes)
    for copy in (False, True):
        dec = fk.LengthFieldDecoder(1, copy=copy)
        dec.feed(wire)
        assert [(len(f), f[:1] == bytes([len(f)])[: len(f)]) for f in dec] == [
            (n, True) for n in sizes
        ]


def test_caller_may_hold_the_buffer_during_buffer_updated(fk: ModuleType) -> None:
    """uvloop keeps its export of the get_buffer() view until buffer_updated() returns."""
    dec = fk.LengthFieldDecoder(1)
    buf = dec.get_buffer(16)
    held = pickle.PickleBuffer(buf)  # an export of the view, as uvloop's Py_buffer
    buf[:4] = b"\x01a\x01b"
    dec.buffer_updated(4)
    del held
    assert [bytes(f) for f in dec] == [b"a", b"b"]
    buf2 = dec.get_buffer(16)
    buf2[:2] = b"\x01c"
    dec.buffer_updated(2)
    assert [bytes(f) for f in dec] == [b"c"]


def test_reset_during_iteration(fk: ModuleType) -> None:
    dec = fk.LengthFieldDecoder(1)
    dec.feed(b"\x01a\x01b\x01c\x01d")
    it = iter(dec)
    first = next(it)
    dec.reset()
    assert bytes(first) == b"a"  # a frame already returned stays valid
    assert list(it) == []  # nothing of the dropped data comes out
    assert [bytes(f) for f in dec.decode(b"\x01z")] == [b"z"]


def test_frames_outlive_their_decoder(fk: ModuleType) -> None:
    import gc

    frames = []
    for copy in (False, True):
        dec = fk.LengthFieldDecoder(1, copy=copy)
        frames += dec.decode(bytearray(b"\x03abc\x02de"))
        buf = dec.get_buffer(8)
        buf[:3] = b"\x02fg"
        dec.buffer_updated(3)
        frames += list(dec)
        del dec, buf
    gc.collect()
    assert [bytes(f) for f in frames] == [b"abc", b"de", b"fg"] * 2


def test_threads_misusing_one_decoder_do_not_crash(fk: ModuleType) -> None:
    """Decoders are not thread-safe; misuse may give wrong frames or errors, never a crash."""
    import threading

    dec = fk.LineDecoder(max_frame_length=64)
    stop = threading.Event()

    def hammer(seed: int) -> None:
        i = 0
        while not stop.is_set() and i < 3000:
            i += 1
            try:
                if i % 7 == seed:
                    dec.reset()
                elif i % 2:
                    dec.feed(b"line %d\n" % i)
                else:
                    buf = dec.get_buffer(16)
                    buf[:3] = b"ab\n"
                    dec.buffer_updated(3)
                for frame in dec:
                    bytes(frame)
            except Exception:
                pass  # misuse across threads may raise anything; it must not crash the process

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    stop.set()
    dec.reset()
    assert [bytes(f) for f in dec.decode(b"still\n")] == [b"still"]


@pytest.mark.parametrize("pooled", [False, True])
@pytest.mark.parametrize("way", ["bytes", "mutable", "recv"])
@pytest.mark.parametrize("kind", ["length", "line", "fixed"])
def test_held_frames_survive_storage_reuse(
    fk: ModuleType, kind: str, way: str, pooled: bool
) -> None:
    """Several times the default read size goes through one decoder in pieces that leave partial
    frames behind, so its storage is compacted, grown or recycled many times; every frame held
    meanwhile keeps its bytes. (PyPy lets a bytearray move under a live memoryview: this caught
    the pure twin compacting under held frames there.)"""
    from framekit._adapters import write_through_buffer

    pool = fk.BufferPool((4096, 65536, 262144)) if pooled else None
    payloads = [bytes([i % 251]) * (1 + i % 97) for i in range(6000)]
    if kind == "length":
        dec = fk.LengthFieldDecoder(2, pool=pool)
        wire = fk.LengthFieldEncoder(2).encode_many(payloads)
    elif kind == "line":
        payloads = [p.replace(b"\n", b"n").replace(b"\r", b"r") for p in payloads]
        dec = fk.LineDecoder(pool=pool)
        wire = b"".join(p + b"\n" for p in payloads)
    else:
        payloads = [bytes([i % 251]) * 37 for i in range(9000)]
        dec = fk.FixedLengthDecoder(37, pool=pool)
        wire = b"".join(payloads)
    held: list[Any] = []
    step = 4099  # never a frame boundary for long: a partial frame stays buffered each time
    for start in range(0, len(wire), step):
        piece = wire[start : start + step]
        if way == "recv":
            write_through_buffer(dec, piece)
        else:
            dec.feed(bytearray(piece) if way == "mutable" else piece)
        held.extend(dec)
    assert len(wire) > 4 * 65536
    assert [bytes(f) for f in held] == payloads


@pytest.mark.parametrize("fail_fast", [True, False])
@pytest.mark.parametrize("way", ["bytes", "mutable", "recv"])
@pytest.mark.parametrize("kind", ["length", "varint", "line", "delimiters"])
def test_oversized_frames_pile_up_nowhere(
    fk: ModuleType, kind: str, way: str, fail_fast: bool
) -> None:
    """A too-long frame at the read position is dropped as it arrives also when nobody takes
    frames (bounded memory, whatever a header claims); the frames and errors are those of a
    decoder whose frames are taken after every read."""
    from framekit._adapters import write_through_buffer
    from framekit.testing import drain, finish, frames_and_errors

    limit = 1000
    if kind == "length":
        make: Any = lambda: fk.LengthFieldDecoder(4, max_frame_length=limit, fail_fast=fail_fast)  # noqa: E731
        head, tail = b"\x00\x10\x00\x00", b"\x00\x00\x00\x02ok"  # claims 1 MiB
    elif kind == "varint":
        make = lambda: fk.VarintLengthDecoder(max_frame_length=limit, fail_fast=fail_fast)  # noqa: E731
        head, tail = b"\x80\x80\x40", b"\x02ok"  # claims 1 MiB
    elif kind == "line":
        make = lambda: fk.LineDecoder(max_frame_length=limit, fail_fast=fail_fast)  # noqa: E731
        head, tail = b"", b"\nok\n"
    else:
        make = lambda: fk.DelimiterDecoder(  # noqa: E731
            [b"\r\n", b"<END>"], max_frame_length=limit, fail_fast=fail_fast
        )
        head, tail = b"", b"<END>ok\r\n"
    wire = head + b"z" * (1 << 20 if head else 300 * 4096)  # the claimed length exactly
    pieces = [wire[i : i + 4096] for i in range(0, len(wire), 4096)] + [tail]
    expected = frames_and_errors(make(), pieces)
    decoder = make()
    for piece in pieces[:-1]:  # nothing taken until the end
        if way == "recv":
            write_through_buffer(decoder, piece)
        else:
            decoder.feed(bytearray(piece) if way == "mutable" else piece)
        assert decoder.buffered <= limit + 4096 + len(head), decoder.buffered
    decoder.feed(pieces[-1])
    events: list[Any] = []
    drain(decoder, events)
    assert finish(decoder, events) == expected
    assert events[-1] == b"ok"
