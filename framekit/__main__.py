"""The framekit command line: ``python -m framekit`` (also installed as ``framekit``).

    framekit bench [--quick] [--json FILE] [--netty FILE]

compares framekit's decoders with asyncio streams, Twisted (when installed) and careful plain
Python on length-prefixed and line streams, and prints frames/s with ratios.

    framekit decode [--preset NAME | --length-field N [--offset K] [--adjust A] [--strip S]
                    [--little-endian] | --varint | --lines | --delimiter HEX | --fixed N]
                    [--max-frame-length N] [--format table|hex|jsonl] [FILE|-]

splits a capture (or stdin) into frames and prints each with its offset in the stream, its
length and a readable preview; errors are shown in place, and decoding goes on where the rules
allow (after a too-long frame; not after a corrupt stream). Exit status 1 when errors were met.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from typing import IO, Any, Optional, Union

import framekit
from framekit import presets

PRESETS = sorted(presets.__all__)
CHUNK = 65536


def _decoder(args: argparse.Namespace) -> Any:
    limit = {} if args.max_frame_length is None else {"max_frame_length": args.max_frame_length}
    if args.preset:
        return getattr(presets, args.preset)(**limit)
    if args.length_field is not None:
        return framekit.LengthFieldDecoder(
            args.length_field,
            length_field_offset=args.offset,
            length_adjustment=args.adjust,
            initial_bytes_to_strip=args.strip,
            byteorder="little" if args.little_endian else "big",
            **limit,
        )
    if args.varint:
        return framekit.VarintLengthDecoder(
            length_field_offset=args.offset,
            length_adjustment=args.adjust,
            initial_bytes_to_strip=args.strip,
            **limit,
        )
    if args.lines:
        return framekit.LineDecoder(**limit)
    if args.delimiter is not None:
        return framekit.DelimiterDecoder(bytes.fromhex(args.delimiter), **limit)
    return framekit.FixedLengthDecoder(args.fixed)


Event = tuple[int, Union[bytes, framekit.FrameError]]


def events(decoder: Any, source: IO[bytes]) -> Iterator[Event]:
    """(offset, frame or error) in stream order; ``offset`` is where it starts on the wire."""
    fed = 0
    start = 0  # where the next frame or error begins

    def drain() -> Iterator[Event]:
        nonlocal start
        while True:
            try:
                frame = decoder.next_frame()
            except framekit.FrameError as exc:
                yield start, exc
                start = fed - decoder.buffered
                if isinstance(exc, framekit.CorruptFrameError):
                    raise _Stop from None
                continue
            if frame is None:
                return
            yield start, bytes(frame)
            start = fed - decoder.buffered

    try:
        while True:
            chunk = source.read(CHUNK)
            if not chunk:
                break
            decoder.feed(chunk)
            fed += len(chunk)
            yield from drain()
        try:
            decoder.feed_eof()
        except framekit.FrameError as exc:
            yield start, exc
        else:
            yield from drain()
    except _Stop:
        return


class _Stop(Exception):
    pass


def _preview(data: bytes, width: int = 48) -> str:
    text = "".join(chr(b) if 32 <= b < 127 else "." for b in data[:width])
    return text + ("..." if len(data) > width else "")


def _print(event: Event, fmt: str, out: IO[str]) -> None:
    offset, item = event
    if isinstance(item, framekit.FrameError):
        if fmt == "jsonl":
            record: dict[str, Any] = {"offset": offset, "error": type(item).__name__}
            record["message"] = str(item)
            out.write(json.dumps(record) + "\n")
        else:
            out.write(f"{offset:>10}  {'ERROR':>8}  {type(item).__name__}: {item}\n")
    elif fmt == "jsonl":
        out.write(json.dumps({"offset": offset, "length": len(item), "hex": item.hex()}) + "\n")
    elif fmt == "hex":
        out.write(f"{offset:>10}  {len(item):>8}  {item.hex(' ')}\n")
    else:
        out.write(f"{offset:>10}  {len(item):>8}  {_preview(item)}\n")


def decode(args: argparse.Namespace, out: IO[str]) -> int:
    decoder = _decoder(args)
    errors = 0
    if args.format == "table":
        out.write(f"{'offset':>10}  {'length':>8}  preview\n")
    source = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    try:
        for event in events(decoder, source):
            errors += isinstance(event[1], framekit.FrameError)
            _print(event, args.format, out)
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    return 1 if errors else 0


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="framekit", description="Split byte streams into frames.")
    sub = ap.add_subparsers(dest="command", required=True)
    bench = sub.add_parser("bench", help="compare framekit with asyncio, Twisted, plain Python")
    bench.add_argument("--quick", action="store_true", help="smaller streams (under a minute)")
    bench.add_argument("--json", metavar="FILE", help="write the figures to this file")
    bench.add_argument("--netty", metavar="FILE", help="output of a Netty run on the streams")
    dec = sub.add_parser("decode", help="split a capture or stdin into frames and show them")
    how = dec.add_mutually_exclusive_group(required=True)
    how.add_argument("--preset", choices=PRESETS, help="a protocol's framing")
    how.add_argument("--length-field", type=int, metavar="N", help="an N-byte length field")
    how.add_argument("--varint", action="store_true", help="a varint length field")
    how.add_argument("--lines", action="store_true", help=r"lines ending in \n or \r\n")
    how.add_argument("--delimiter", metavar="HEX", help="frames ending at these bytes (hex)")
    how.add_argument("--fixed", type=int, metavar="N", help="frames of N bytes")
    dec.add_argument("--offset", type=int, default=0, help="length field offset")
    dec.add_argument("--adjust", type=int, default=0, help="length adjustment")
    dec.add_argument("--strip", type=int, default=None, help="initial bytes to strip")
    dec.add_argument("--little-endian", action="store_true", help="a little-endian field")
    dec.add_argument("--max-frame-length", type=int, default=None, metavar="N")
    dec.add_argument("--format", choices=["table", "hex", "jsonl"], default="table")
    dec.add_argument("file", nargs="?", default="-", help="the capture (default: stdin)")
    return ap


def main(argv: Optional[Sequence[str]] = None, out: Optional[IO[str]] = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "bench":
        from . import _bench

        options = ["--quick"] * args.quick + ["--json", args.json] * bool(args.json)
        return _bench.main(options + ["--netty", args.netty] * bool(args.netty))
    try:
        return decode(args, out or sys.stdout)
    except (ValueError, TypeError, OSError) as exc:
        print(f"framekit: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
