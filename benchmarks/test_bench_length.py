"""pytest-benchmark suite: decoders and encoders of this release, both implementations.

    pytest benchmarks/ --benchmark-only [--benchmark-group-by=param:payload]

Each decoder benchmark decodes one ~1 MiB stream fed in 64 KiB chunks, dropping every frame
before the next (a connection's steady state). Rates for the side-by-side with asyncio, Twisted
and Netty come from ``python benchmarks/compare_length.py``.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Sequence
from types import ModuleType
from typing import Any, Callable

import pytest

CHUNK = 65536
MiB = 1 << 20


def _available() -> dict[str, ModuleType]:
    found = {}
    for name, module in (("cython", "framekit._core"), ("python", "framekit._pure")):
        with contextlib.suppress(ImportError):
            found[name] = importlib.import_module(module)
    return found


IMPLEMENTATIONS = _available()


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def fk(request: pytest.FixtureRequest) -> ModuleType:
    """The module of one implementation that imports."""
    return IMPLEMENTATIONS[request.param]


def _chunks(stream: bytes) -> list[bytes]:
    return [stream[i : i + CHUNK] for i in range(0, len(stream), CHUNK)]


def _feed_all(dec: Any, chunks: Sequence[bytes]) -> int:
    count = 0
    for chunk in chunks:
        dec.feed(chunk)
        for _frame in dec:
            count += 1
    return count


def _recv_all(dec: Any, chunks: Sequence[bytes]) -> int:
    count = 0
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            buf = dec.get_buffer(len(view))
            n = min(len(buf), len(view))
            buf[:n] = view[:n]
            dec.buffer_updated(n)
            view = view[n:]
        for _frame in dec:
            count += 1
    return count


def _run(benchmark: Any, make: Callable[[], Any], chunks: list[bytes], how: str) -> None:
    drive = _recv_all if how == "recv" else _feed_all
    expected = drive(make(), chunks)
    assert benchmark(lambda: drive(make(), chunks)) == expected


@pytest.mark.parametrize("payload", [16, 256, 4096])
@pytest.mark.parametrize("how", ["feed", "recv", "copy"])
def test_length_field(benchmark: Any, fk: ModuleType, payload: int, how: str) -> None:
    frame = (payload).to_bytes(4, "big") + b"x" * payload
    chunks = _chunks(frame * (MiB // len(frame)))
    copy = how == "copy"
    _run(benchmark, lambda: fk.LengthFieldDecoder(4, copy=copy), chunks, how)


@pytest.mark.parametrize("payload", [16, 1000])
def test_varint(benchmark: Any, fk: ModuleType, payload: int) -> None:
    enc = fk.VarintLengthEncoder()
    chunks = _chunks(enc.encode(b"v" * payload) * (MiB // (payload + 2)))
    _run(benchmark, fk.VarintLengthDecoder, chunks, "feed")


def test_fixed_length(benchmark: Any, fk: ModuleType) -> None:
    chunks = _chunks(b"f" * MiB)
    _run(benchmark, lambda: fk.FixedLengthDecoder(32), chunks, "feed")


@pytest.mark.parametrize("kind", ["LengthFieldEncoder", "VarintLengthEncoder"])
def test_encode_many(benchmark: Any, fk: ModuleType, kind: str) -> None:
    enc = getattr(fk, kind)()
    payloads = [b"p" * (i % 300) for i in range(5000)]
    wire = benchmark(enc.encode_many, payloads)
    assert [bytes(f) for f in enc.decoder().decode(wire)] == payloads


@pytest.mark.parametrize("kind", ["LengthFieldEncoder", "VarintLengthEncoder"])
def test_encode_one(benchmark: Any, fk: ModuleType, kind: str) -> None:
    enc = getattr(fk, kind)()
    assert benchmark(enc.encode, b"p" * 100)[-100:] == b"p" * 100
