"""The compiled core and the pure twin driven through the same random sequence of public calls
(hypothesis' RuleBasedStateMachine): decoders fed, read through get_buffer(), taken from in
every way, ended, reset and re-initialised; a BufferPool acquired from and released to, views
held; a Slab allocated, freed, read and written with good and bad values. Every result and every
exception (type and message) must be the same in both builds, and every frame held must stay as
it was taken.

A long run: ``HYPOTHESIS_PROFILE=fuzz pytest tests/test_stateful.py`` (docs/guarantees.md)."""

from __future__ import annotations

import itertools
import re
from types import ModuleType
from typing import Any, Callable

import pytest
from conftest import IMPLEMENTATIONS
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from framekit import testing
from framekit._contract import PoolStats

pytestmark = pytest.mark.skipif(
    "cython" not in IMPLEMENTATIONS, reason="the compiled core is not under test"
)

CORE: ModuleType | None = IMPLEMENTATIONS.get("cython")
PURE: ModuleType = IMPLEMENTATIONS["python"]
HANDLE_BITS = (1 << 48) - 1  # slot and generation; the slab id differs between the two slabs


def _normal(value: Any) -> Any:
    """A result as comparable data."""
    if isinstance(value, memoryview):
        return ("view", value.tobytes(), value.readonly, value.format, value.ndim)
    if isinstance(value, (bytes, bytearray)):
        return (type(value).__name__, bytes(value))
    if isinstance(value, PoolStats):
        return tuple(value)
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    if isinstance(value, float) and value != value:
        return "nan"
    return value


def _message(err: BaseException) -> str:
    return re.sub(r"0x[0-9a-f]+", "0x_", str(err))


def _outcome(call: Callable[[], Any], normal: Callable[[Any], Any]) -> tuple[Any, ...]:
    try:
        result = call()
    except StopIteration:
        return ("stop",)
    except Exception as err:
        extra = tuple(
            getattr(err, name, None) for name in ("frame_length", "max_frame_length", "partial")
        )
        return ("raise", type(err).__name__, _message(err), extra)
    return ("ok", normal(result))


class Lockstep(RuleBasedStateMachine):
    """One decoder, one pool and one slab per build, driven alike."""

    def __init__(self) -> None:
        super().__init__()
        self.decoders: list[Any] = []
        self.stream = b""
        self.held: list[tuple[Any, Any, bytes]] = []  # (core frame, twin frame, bytes then)
        self.pools: list[Any] = []
        self.buffers: list[tuple[Any, Any]] = []
        self.views: list[tuple[memoryview, memoryview]] = []
        self.slabs: list[Any] = []
        self.handles: list[tuple[int, int]] = []

    def both(
        self, call: Callable[[Any], Any], objects: list[Any], normal: Callable[[Any], Any] = _normal
    ) -> tuple[Any, Any]:
        """Run ``call`` on the core's object and the twin's; the outcomes (``normal`` of the
        results, or the exceptions) must agree."""
        results: list[Any] = []
        outcomes = []
        for obj in objects:
            box: list[Any] = []

            def run(obj: Any = obj, box: list[Any] = box) -> Any:
                box.append(call(obj))
                return box[0]

            outcomes.append(_outcome(run, normal))
            results.append(box[0] if box else None)
        assert outcomes[0] == outcomes[1], outcomes
        return results[0], results[1]

    # --- the decoders ---------------------------------------------------------------------------

    @initialize(case=testing.decoder_cases(), growable=st.booleans())
    def setup(self, case: tuple[str, dict[str, Any], bytes], growable: bool) -> None:
        assert CORE is not None
        self.kind, cfg, self.stream = case
        self.decoders = [self._make(CORE, cfg), self._make(PURE, cfg)]
        self.pools = [CORE.BufferPool((16, 256, 4096)), PURE.BufferPool((16, 256, 4096))]
        fields = [("id", "Q"), ("price", "d"), ("qty", "i"), ("side", "B"), ("sym", "4s")]
        self.slabs = [
            CORE.Slab(fields, 3, growable=growable),
            PURE.Slab(fields, 3, growable=growable),
        ]

    def _make(self, module: ModuleType, cfg: dict[str, Any]) -> Any:
        return getattr(module, self.kind)(**cfg)

    def _take(self, n: int) -> bytes:
        data, self.stream = self.stream[:n], self.stream[n:]
        return data if data else bytes([10, 13, 0, 1, 97][: n % 6])

    def _keep(self, pair: tuple[Any, Any], keep: bool) -> None:
        core, twin = pair
        if keep and core is not None and twin is not None:
            self.held.append((core, twin, bytes(core)))

    @rule(n=st.integers(0, 40), form=st.sampled_from(["bytes", "bytearray", "memoryview"]))
    def feed(self, n: int, form: str) -> None:
        data = self._take(n)
        wrapped: Any = {
            "bytes": data,
            "bytearray": bytearray(data),
            "memoryview": memoryview(bytearray(data)),
        }[form]
        self.both(lambda d: d.feed(wrapped), self.decoders)

    @rule(
        n=st.integers(0, 40),
        sizehint=st.sampled_from([-1, 0, 1, 7, 64, 5000]),
        misuse=st.sampled_from(["none", "none", "none", "too-many", "negative", "interleave"]),
    )
    def receive(self, n: int, sizehint: int, misuse: str) -> None:
        data = self._take(n)
        # what the region holds before it is written is unspecified (the core's is not zeroed)
        windows = self.both(
            lambda d: d.get_buffer(sizehint), self.decoders, lambda w: (len(w), w.readonly)
        )
        if windows[0] is None:
            return
        size = len(windows[0])
        assert len(windows[1]) == size
        k = min(size, len(data))
        for window in windows:
            window[:k] = data[:k]
        if misuse == "too-many":
            self.both(lambda d: d.buffer_updated(size + 1), self.decoders)
        elif misuse == "negative":
            self.both(lambda d: d.buffer_updated(-1), self.decoders)
        elif misuse == "interleave":
            self.both(lambda d: d.buffered, self.decoders)  # a property: no call on the decoder
        self.both(lambda d: d.buffer_updated(k), self.decoders)

    @rule(keep=st.booleans())
    def next_frame(self, keep: bool) -> None:
        self._keep(self.both(lambda d: d.next_frame(), self.decoders), keep)

    @rule(keep=st.booleans())
    def next_builtin(self, keep: bool) -> None:
        self._keep(self.both(lambda d: next(d), self.decoders), keep)

    @rule(n=st.integers(1, 6), keep=st.booleans())
    def iterate(self, n: int, keep: bool) -> None:
        frames = self.both(lambda d: list(itertools.islice(iter(d), n)), self.decoders)
        if frames[0] is not None:
            for pair in zip(*frames):
                self._keep(pair, keep)

    @rule(n=st.integers(0, 40))
    def decode(self, n: int) -> None:
        data = self._take(n)
        self.both(lambda d: d.decode(data), self.decoders)

    @rule()
    def feed_eof(self) -> None:
        self.both(lambda d: d.feed_eof(), self.decoders)

    @rule()
    def reset(self) -> None:
        self.both(lambda d: d.reset(), self.decoders)

    @rule(data=st.data())
    def reinit(self, data: st.DataObject) -> None:
        configs, _ = testing.KINDS[self.kind]
        cfg = data.draw(configs())
        self.both(lambda d: d.__init__(**cfg), self.decoders)

    @invariant()
    def same_buffered(self) -> None:
        if self.decoders:
            self.both(lambda d: d.buffered, self.decoders)

    @invariant()
    def held_frames_unchanged(self) -> None:
        for core, twin, then in self.held:
            assert bytes(core) == then
            assert bytes(twin) == then

    # --- BufferPool -----------------------------------------------------------------------------

    @rule(size=st.sampled_from([-1, 0, 1, 16, 17, 256, 300, 4096, 5000, True, 2.0]))
    def acquire(self, size: Any) -> None:
        bufs = self.both(lambda p: p.acquire(size), self.pools, lambda b: (len(b), b.released))
        if bufs[0] is not None:
            self.both(len, list(bufs))
            self.both(lambda b: b.capacity, list(bufs))
            self.buffers.append(bufs)

    @precondition(lambda self: self.buffers)
    @rule(i=st.integers(0, 50), through_pool=st.booleans())
    def release(self, i: int, through_pool: bool) -> None:
        pair = self.buffers[i % len(self.buffers)]
        if through_pool:
            self.both(lambda b: self.pools[0 if b is pair[0] else 1].release(b), list(pair))
        else:
            self.both(lambda b: b.release(), list(pair))

    @precondition(lambda self: self.buffers)
    @rule(i=st.integers(0, 50))
    def view_buffer(self, i: int) -> None:
        pair = self.buffers[i % len(self.buffers)]
        if pair[0].released:
            return  # the twin hands back an empty buffer where the core refuses (SPEC §4)
        # a fresh buffer's bytes are unspecified (the core's come from a cache, not zeroed)
        views = self.both(memoryview, list(pair), lambda v: (len(v), v.readonly))
        if views[0] is not None:
            self.views.append(views)

    @precondition(lambda self: self.views)
    @rule()
    def drop_view(self) -> None:
        for view in self.views.pop():
            view.release()

    @rule()
    def trim(self) -> None:
        self.both(lambda p: p.trim(), self.pools)

    @invariant()
    def same_pool_stats(self) -> None:
        if self.pools:
            self.both(lambda p: p.stats, self.pools)

    # --- Slab -----------------------------------------------------------------------------------

    @rule(
        values=st.dictionaries(
            st.sampled_from(["id", "price", "qty", "side", "sym", "nope"]),
            st.sampled_from([0, 1, -1, 255, 256, 2**31, 2**64, 1.5, b"ab", b"abcdef", True, "x"]),
            max_size=4,
        )
    )
    def alloc(self, values: dict[str, Any]) -> None:
        handles = self.both(lambda s: s.alloc(**values), self.slabs, lambda h: h & HANDLE_BITS)
        if handles[0] is not None:
            self.handles.append(handles)

    def _handle(self, i: int) -> Callable[[Any], int]:
        pair = self.handles[i % len(self.handles)]
        return lambda s: pair[0 if s is self.slabs[0] else 1]

    @precondition(lambda self: self.handles)
    @rule(i=st.integers(0, 50))
    def free(self, i: int) -> None:
        handle = self._handle(i)
        self.both(lambda s: s.free(handle(s)), self.slabs)

    @precondition(lambda self: self.handles)
    @rule(i=st.integers(0, 50), name=st.sampled_from(["id", "price", "qty", "side", "sym", "x"]))
    def get(self, i: int, name: str) -> None:
        handle = self._handle(i)
        self.both(lambda s: s.get(handle(s), name), self.slabs)
        self.both(lambda s: getattr(s.record(handle(s)), name), self.slabs)

    @precondition(lambda self: self.handles)
    @rule(
        i=st.integers(0, 50),
        name=st.sampled_from(["id", "price", "qty", "side", "sym", "x"]),
        value=st.sampled_from([0, 7, -7, 2**40, 2**70, 0.25, b"xyz", "s", None]),
    )
    def set(self, i: int, name: str, value: Any) -> None:
        handle = self._handle(i)
        self.both(lambda s: s.set(handle(s), name, value), self.slabs)

    @precondition(lambda self: self.handles)
    @rule(i=st.integers(0, 50))
    def view_record(self, i: int) -> None:
        handle = self._handle(i)
        self.both(lambda s: s.view(handle(s)).tobytes(), self.slabs)

    @rule(handle=st.sampled_from([-1, 0, 2**63, 2**64, True, "h", 1.0]))
    def foreign_handle(self, handle: Any) -> None:
        self.both(lambda s: s.get(handle, "id"), self.slabs)
        self.both(lambda s: s.free(handle), self.slabs)

    @invariant()
    def same_slab(self) -> None:
        if self.slabs:
            self.both(len, self.slabs)
            self.both(lambda s: s.capacity, self.slabs)
            self.both(lambda s: s.buffer().tobytes(), self.slabs)
            self.both(lambda s: s.numpy().tobytes(), self.slabs)

    def teardown(self) -> None:
        for views in self.views:
            for view in views:
                view.release()


Lockstep.TestCase.settings = settings(stateful_step_count=40)  # on top of the loaded profile
TestLockstep = Lockstep.TestCase
