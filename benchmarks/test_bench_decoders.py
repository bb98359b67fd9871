"""pytest-benchmark suite: every decoder and encoder, both implementations.

    pytest benchmarks/ --benchmark-only [--benchmark-group-by=param:payload]

Each decoder benchmark decodes one ~1 MiB stream fed in 64 KiB chunks, dropping every frame
before the next (a connection's steady state). Rates for the side-by-side with asyncio, Twisted
and Netty come from ``framekit bench``.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

import pytest
from implementations import CHUNK, MiB, implementation_fixture

from framekit._bench import via_feed, via_get_buffer

fk = implementation_fixture()


def _chunks(stream: bytes) -> list[bytes]:
    return [stream[i : i + CHUNK] for i in range(0, len(stream), CHUNK)]


def _run(benchmark: Any, make: Callable[[], Any], chunks: list[bytes], how: str) -> None:
    """Decode ``chunks`` with a new decoder per round, fed or written through get_buffer."""
    drive = (via_get_buffer if how == "recv" else via_feed)(make)
    expected = drive(chunks)
    assert benchmark(drive, chunks) == expected


@pytest.mark.parametrize("payload", [16, 256, 4096])
@pytest.mark.parametrize("how", ["feed", "recv", "copy"])
def test_length_field(benchmark: Any, fk: ModuleType, payload: int, how: str) -> None:
    frame = (payload).to_bytes(4, "big") + b"x" * payload
    chunks = _chunks(frame * (MiB // len(frame)))
    copy = how == "copy"
    _run(benchmark, lambda: fk.LengthFieldDecoder(4, copy=copy), chunks, how)


@pytest.mark.parametrize("length", [16, 100, 1000])
@pytest.mark.parametrize("how", ["feed", "recv", "copy"])
def test_lines(benchmark: Any, fk: ModuleType, length: int, how: str) -> None:
    line = b"y" * length + b"\r\n"
    chunks = _chunks(line * (MiB // len(line)))
    copy = how == "copy"
    _run(benchmark, lambda: fk.LineDecoder(max_frame_length=MiB, copy=copy), chunks, how)


@pytest.mark.parametrize("delimiters", [[b"\0"], [b"<END>"], [b"\r", b"\r\n", b";"]])
def test_delimiters(benchmark: Any, fk: ModuleType, delimiters: list[bytes]) -> None:
    record = b"z" * 60 + delimiters[-1]
    chunks = _chunks(record * (MiB // len(record)))
    _run(benchmark, lambda: fk.DelimiterDecoder(delimiters), chunks, "feed")


def test_long_line_in_small_pieces(benchmark: Any, fk: ModuleType) -> None:
    """Linear time: a 1 MiB line fed 64 bytes at a time."""
    chunks = [b"q" * 64] * (MiB // 64) + [b"\n"]
    _run(benchmark, lambda: fk.LineDecoder(max_frame_length=MiB), chunks, "feed")


@pytest.mark.parametrize("payload", [16, 1000])
def test_varint(benchmark: Any, fk: ModuleType, payload: int) -> None:
    enc = fk.VarintLengthEncoder()
    chunks = _chunks(enc.encode(b"v" * payload) * (MiB // (payload + 2)))
    _run(benchmark, fk.VarintLengthDecoder, chunks, "feed")


def test_fixed_length(benchmark: Any, fk: ModuleType) -> None:
    chunks = _chunks(b"f" * MiB)
    _run(benchmark, lambda: fk.FixedLengthDecoder(32), chunks, "feed")


ENCODERS: dict[str, Callable[[ModuleType], Any]] = {
    "length": lambda fk: fk.LengthFieldEncoder(),
    "varint": lambda fk: fk.VarintLengthEncoder(),
    "delimiter": lambda fk: fk.DelimiterEncoder(b"\r\n"),
}


@pytest.mark.parametrize("kind", sorted(ENCODERS))
def test_encode_many(benchmark: Any, fk: ModuleType, kind: str) -> None:
    enc = ENCODERS[kind](fk)
    payloads = [b"p" * (i % 300) for i in range(5000)]
    wire = benchmark(enc.encode_many, payloads)
    assert [bytes(f) for f in enc.decoder().decode(wire)] == payloads


@pytest.mark.parametrize("kind", sorted(ENCODERS))
def test_encode_one(benchmark: Any, fk: ModuleType, kind: str) -> None:
    enc = ENCODERS[kind](fk)
    assert b"p" * 100 in benchmark(enc.encode, b"p" * 100)


def test_protocols_script_counts_every_frame() -> None:
    """benchmarks/protocols.py: every contender hands out every frame of every stream."""
    import protocols

    results = protocols.main(["--frames", "2000", "--repeats", "1"])
    assert set(results) >= {"netstring 16 B", "octet-counted 1000 B", "RESP replies"}
    assert all(rate > 0 for row in results.values() for rate in row.values())


def test_websocket_script_counts_every_payload() -> None:
    """benchmarks/websocket.py: every reader installed hands out every payload."""
    import websocket

    results = websocket.main(["--frames", "400", "--repeats", "1"])
    assert len(results) == 6 and all(row["framekit"] > 0 for row in results.values())
