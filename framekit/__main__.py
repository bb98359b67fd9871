"""The framekit command line: ``python -m framekit`` (also installed as ``framekit``).

    framekit bench [--quick] [--json FILE] [--netty FILE]

compares framekit's decoders with asyncio streams, Twisted (when installed) and careful plain
Python on length-prefixed and line streams, and prints frames/s with ratios.

    framekit decode [--preset NAME | --length-field N [--offset K] [--adjust A] [--strip S]
                    [--little-endian] | --varint | --lines | --delimiter HEX ... | --fixed N
                    | --netstring | --octet-counting | --resp | --chunked | --json
                    | --websocket ROLE
                    | --rule MODULE:FUNCTION]
                    [--max-frame-length N] [--proxy] [--format table|hex|jsonl] [FILE|-]

splits a capture (or stdin) into frames and prints each with its offset in the stream, its
length and a readable preview; errors are shown in place, and decoding goes on where the rules
allow (after a too-long frame; not after a corrupt stream). Exit status 1 when errors were met.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any, Optional, Union

import framekit
from framekit import presets
from framekit._kinds import KINDS, Kind

PRESETS = sorted(presets.__all__)
CHUNK = 65536


class UsageError(Exception):
    """A command-line argument that cannot be used: reported with its flag, exit status 2."""

    def __init__(self, flag: str, message: str) -> None:
        super().__init__(f"{flag}: {message}")


def _dest(flag: str) -> str:
    return flag[2:].replace("-", "_")


# the ways of framing, each an option: a preset, or a kind of decoder (framekit._kinds)
WAYS = {"preset": None, **{_dest(kind.flag): kind for kind in KINDS}}
# which decoder options each way of framing takes (the rest are refused, not ignored)
APPLIES = {
    way: kind.options if kind is not None else frozenset({"max_frame_length"})
    for way, kind in WAYS.items()
}
# a constructor parameter named in an error, and the flag that sets it (longest names first)
FLAGS = {
    "length_field_length": "--length-field",
    "length_field_offset": "--offset",
    "initial_bytes_to_strip": "--strip",
    "max_frame_length": "--max-frame-length",
    "length_adjustment": "--adjust",
    "frame_length": "--fixed",
    "delimiter": "--delimiter",
    "rule": "--rule",
}


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _given(value: object) -> bool:
    return value is not None and value is not False


def _delimiters(values: list[str]) -> list[bytes]:
    """``--delimiter`` values: each one or several hex delimiters (spaces or commas between)."""
    found = []
    for value in values:
        parts = value.replace(",", " ").split()
        if not parts:
            raise UsageError("--delimiter", "an empty delimiter")
        for part in parts:
            try:
                found.append(bytes.fromhex(part))
            except ValueError:
                raise UsageError("--delimiter", f"{part!r} is not hex") from None
    return found


def _decoder(args: argparse.Namespace) -> Any:
    way = next(w for w in APPLIES if _given(getattr(args, w)))
    for option in ("offset", "adjust", "strip", "little_endian", "max_frame_length"):
        if _given(getattr(args, option)) and option not in APPLIES[way]:
            raise UsageError(_flag(option), f"{_flag(option)} does not apply to {_flag(way)}")
    limit: dict[str, Any] = {}
    if args.max_frame_length is not None:
        limit["max_frame_length"] = args.max_frame_length
    try:
        return _make(args, way, limit)
    except (ValueError, TypeError) as exc:
        flag = next((f for name, f in FLAGS.items() if name in str(exc)), _flag(way))
        raise UsageError(flag, str(exc)) from None


def _rule(spec: str) -> Any:
    """``--rule MODULE:FUNCTION``: the function, imported (from the current directory too)."""
    module, _, name = spec.partition(":")
    if not module or not name:
        raise UsageError("--rule", f"{spec!r} is not MODULE:FUNCTION")
    sys.path.insert(0, "")
    try:
        found = importlib.import_module(module)
    except ImportError as exc:
        raise UsageError("--rule", f"cannot import {module}: {exc}") from None
    finally:
        sys.path.remove("")
    try:
        return getattr(found, name)
    except AttributeError:
        raise UsageError("--rule", f"{module} has no {name}") from None


# how the engine's kinds of decoder and a user's rule are made from the options; every other
# kind (the protocols') is its class with max_frame_length, and the option's value as the
# keyword its registry entry names (_built)
BUILDERS: dict[str, Callable[[argparse.Namespace, dict[str, Any], dict[str, Any]], Any]] = {
    "length": lambda args, field, limit: framekit.LengthFieldDecoder(
        args.length_field, byteorder="little" if args.little_endian else "big", **field, **limit
    ),
    "varint": lambda args, field, limit: framekit.VarintLengthDecoder(**field, **limit),
    "line": lambda args, field, limit: framekit.LineDecoder(**limit),
    "delimiter": lambda args, field, limit: framekit.DelimiterDecoder(
        _delimiters(args.delimiter), **limit
    ),
    "fixed": lambda args, field, limit: framekit.FixedLengthDecoder(args.fixed),
    "rule": lambda args, field, limit: framekit.RuleDecoder(_rule(args.rule), **limit),
}


def _built(kind: Kind, args: argparse.Namespace, limit: dict[str, Any]) -> Any:
    """A protocol's decoder, as its registry entry says."""
    keywords = dict(limit)
    if kind.keyword is not None:
        keywords[kind.keyword] = getattr(args, _dest(kind.flag))
    return getattr(framekit, kind.decoder)(**keywords)


def _make(args: argparse.Namespace, way: str, limit: dict[str, Any]) -> Any:
    field: dict[str, Any] = {
        "length_field_offset": args.offset or 0,
        "length_adjustment": args.adjust or 0,
        "initial_bytes_to_strip": args.strip,
    }
    kind = WAYS[way]
    if kind is None:
        return getattr(presets, args.preset)(**limit)
    if kind.name in BUILDERS:
        return BUILDERS[kind.name](args, field, limit)
    return _built(kind, args, limit)


Event = tuple[int, Union[bytes, framekit.ProxyHeader, framekit.FrameError]]


#: PostgreSQL startup-phase requests after which the client sends another startup-phase message
#: (SSLRequest, GSSENCRequest: then the StartupMessage)
POSTGRES_REQUESTS = {80877103, 80877104}


def _postgres_phases(limit: dict[str, int]) -> Callable[[bytes], Any]:
    """After a StartupMessage (or CancelRequest), typed messages: postgres() from there on."""

    def switch(frame: bytes) -> Any:
        if int.from_bytes(frame[4:8], "big") in POSTGRES_REQUESTS:
            return None
        return presets.postgres(**limit)

    return switch


def events(
    decoder: Any, source: IO[bytes], switch: Optional[Callable[[Any], Any]] = None
) -> Iterator[Event]:
    """(offset, frame or error) in stream order; ``offset`` is where it starts on the wire.
    ``switch(frame)`` may answer a decoder for the rest of the stream (``detach()`` hands it
    every byte after the frame), or None."""
    fed = 0
    start = 0  # where the next frame or error begins

    def drain() -> Iterator[Event]:
        nonlocal start, decoder, switch
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
            frame = frame if isinstance(frame, framekit.ProxyHeader) else bytes(frame)
            yield start, frame
            start = fed - decoder.buffered
            if switch is not None:
                following = switch(frame)
                if following is not None:
                    following.feed(decoder.detach())
                    decoder, switch = following, None

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
    if isinstance(item, framekit.ProxyHeader):
        if fmt == "jsonl":
            header = {
                **item._asdict(),
                "tlvs": [[kind, value.hex()] for kind, value in item.tlvs],
                "raw": item.raw.hex(),
            }
            out.write(json.dumps({"offset": offset, "proxy": header}) + "\n")
        else:
            out.write(f"{offset:>10}  {'PROXY':>8}  {item}\n")
    elif isinstance(item, framekit.FrameError):
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


class _Counted:
    """A binary source that counts the bytes read from it."""

    def __init__(self, source: IO[bytes]) -> None:
        self.source = source
        self.count = 0

    def read(self, n: int) -> bytes:
        data = self.source.read(n)
        self.count += len(data)
        return data


def decode(args: argparse.Namespace, out: IO[str]) -> int:
    decoder = _decoder(args)
    source = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")  # noqa: SIM115
    switch = None
    if args.preset == "postgres" and source.peek(1)[:1] == b"\x00":  # type: ignore[union-attr]
        # a client's capture from its start: startup-phase messages (untyped; their length
        # field comes first, and is below 2**24), then typed ones
        limit = {} if args.max_frame_length is None else {"max_frame_length": args.max_frame_length}
        decoder = presets.postgres_startup(**limit)
        switch = _postgres_phases(limit)
    if args.proxy:  # a PROXY header first, then the stream as the other options say
        rest, decoder = decoder, framekit.ProxyProtocolDecoder()
        switch = lambda header: rest  # noqa: E731
    errors = 0
    swallowing: Optional[tuple[int, int]] = None  # a too-long frame's (offset, claimed length)
    counted = _Counted(source)
    try:
        if args.format == "table":
            out.write(f"{'offset':>10}  {'length':>8}  preview\n")
        for event in events(decoder, counted, switch):  # type: ignore[arg-type]
            offset, item = event
            errors += isinstance(item, framekit.FrameError)
            if isinstance(item, framekit.FrameTooLongError) and item.frame_length is not None:
                swallowing = (offset, item.frame_length)
            _print(event, args.format, out)
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    if swallowing is not None and sum(swallowing) > counted.count:
        offset, claimed = swallowing
        note = (
            f"the frame at offset {offset} claimed {claimed} bytes; the stream ended "
            f"{counted.count - offset} bytes into it: everything after offset {offset} was "
            "skipped as part of it"
        )
        out.write(json.dumps({"offset": offset, "note": note}) if args.format == "jsonl" else note)
        out.write("\n")
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
    for kind in KINDS:
        how.add_argument(kind.flag, **kind.argument)
    field = "(--length-field, --varint)"
    dec.add_argument("--offset", type=int, help=f"length field offset {field} (default: 0)")
    dec.add_argument("--adjust", type=int, help=f"length adjustment {field} (default: 0)")
    dec.add_argument(
        "--strip", type=int, help=f"initial bytes to strip {field} (default: the header)"
    )
    dec.add_argument(
        "--little-endian", action="store_true", help="a little-endian field (--length-field)"
    )
    dec.add_argument(
        "--max-frame-length",
        type=int,
        metavar="N",
        help="frames longer than this are errors, and skipped (default: the decoder's, 8 MiB; "
        "64 KiB for lines and delimiters)",
    )
    dec.add_argument(
        "--proxy",
        action="store_true",
        help="the capture begins with a PROXY protocol header (v1 or v2): show it, then split "
        "the rest",
    )
    dec.add_argument(
        "--format", choices=["table", "hex", "jsonl"], default="table", help="(default: table)"
    )
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
    except (UsageError, OSError) as exc:
        print(f"framekit: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
