"""Coverage-guided fuzzing of the decoders with atheris: random configurations and byte
streams, split at random points, through the compiled core and the pure twin. Fails on any
difference in frames or errors, any crash, any exception that is not a FrameError.

    pip install atheris
    python fuzz/fuzz_decoders.py -max_total_time=600      # ten minutes
    python fuzz/fuzz_decoders.py -runs=20000               # a fixed number of inputs

(libFuzzer options: -max_len, -jobs, a corpus directory as last argument ...)
"""

from __future__ import annotations

import sys
from typing import Any

import atheris

with atheris.instrument_imports():
    from framekit import _core, _kinds, _pure
    from framekit._adapters import write_through_buffer
    from framekit.errors import FrameError
    from framekit.testing import PrefixedRule, describe

KINDS = tuple(_kinds.BY_NAME)  # every kind of decoder framekit has


def config(fdp: atheris.FuzzedDataProvider, kind: str) -> dict[str, Any]:
    if kind == "length":
        width = fdp.PickValueInList([1, 2, 3, 4, 8])
        offset = fdp.ConsumeIntInRange(0, 3)
        return {
            "length_field_length": width,
            "length_field_offset": offset,
            "length_adjustment": fdp.ConsumeIntInRange(-5, 5),
            "initial_bytes_to_strip": fdp.PickValueInList([None, 0, 1, offset + width]),
            "byteorder": fdp.PickValueInList(["big", "little"]),
            "max_frame_length": offset + width + fdp.ConsumeIntInRange(0, 300),
            "fail_fast": fdp.ConsumeBool(),
            "copy": fdp.ConsumeBool(),
        }
    if kind == "varint":
        offset = fdp.ConsumeIntInRange(0, 2)
        return {
            "length_field_offset": offset,
            "length_adjustment": fdp.ConsumeIntInRange(-3, 3),
            "max_length_bytes": fdp.ConsumeIntInRange(1, 10),
            "max_frame_length": offset + 1 + fdp.ConsumeIntInRange(0, 300),
            "fail_fast": fdp.ConsumeBool(),
        }
    if kind == "delimiter":
        count = fdp.ConsumeIntInRange(1, 3)
        delimiters = [fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 3)) or b"\n" for _ in range(count)]
        return {
            "delimiters": delimiters,
            "strip_delimiter": fdp.ConsumeBool(),
            "max_frame_length": fdp.ConsumeIntInRange(0, 40),
            "fail_fast": fdp.ConsumeBool(),
        }
    if kind == "line":
        return {"max_frame_length": fdp.ConsumeIntInRange(0, 60), "fail_fast": fdp.ConsumeBool()}
    if kind == "rule":
        return {
            "rule": PrefixedRule(fdp.PickValueInList([1, 2])),
            "max_frame_length": fdp.ConsumeIntInRange(1, 300),
            "copy": fdp.ConsumeBool(),
        }
    if kind == "fixed":
        return {"frame_length": fdp.ConsumeIntInRange(1, 9)}
    if kind == "chunked":
        return {
            "max_frame_length": fdp.ConsumeIntInRange(0, 60),
            "max_line_length": fdp.ConsumeIntInRange(1, 30),
        }
    if kind == "resp":
        return {
            "max_frame_length": fdp.ConsumeIntInRange(1, 300),
            "max_depth": fdp.ConsumeIntInRange(1, 5),
        }
    # any other kind (a protocol's): max_frame_length, copy, and its option's value if it has
    # one (its registry entry's choices); a protocol with options of its own may add them above
    entry = _kinds.BY_NAME[kind]
    cfg = {"max_frame_length": fdp.ConsumeIntInRange(1, 300), "copy": fdp.ConsumeBool()}
    if entry.keyword is not None:
        cfg[entry.keyword] = fdp.PickValueInList(entry.argument["choices"])
    return cfg


def run(module: Any, kind: str, cfg: dict[str, Any], pieces: list[bytes], how: str) -> list[Any]:
    decoder = getattr(module, _kinds.BY_NAME[kind].decoder)(**cfg)
    out: list[Any] = []
    try:
        for piece in pieces:
            if how == "recv":
                write_through_buffer(decoder, piece, max(1, len(piece) // 2))
            else:
                decoder.feed(bytearray(piece) if how == "mutable" else piece)
            while True:
                try:
                    frame = decoder.next_frame() if how != "iterate" else next(iter(decoder), None)
                except FrameError as err:
                    out.append(describe(err))
                    if err.__class__.__name__ == "CorruptFrameError":
                        return out
                    continue
                if frame is None:
                    break
                out.append(bytes(frame))
        try:
            decoder.feed_eof()
        except FrameError as err:
            out.append(describe(err))
        out.extend(bytes(f) for f in decoder)
    except FrameError as err:
        out.append(describe(err))
    return out


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    kind = fdp.PickValueInList(list(KINDS))
    cfg = config(fdp, kind)
    how = fdp.PickValueInList(["bytes", "mutable", "recv", "iterate"])
    cuts = sorted(fdp.ConsumeIntInRange(0, 64) for _ in range(fdp.ConsumeIntInRange(0, 8)))
    stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)]) if a < b]
    reference = run(_pure, kind, cfg, [stream], "bytes")
    for module in (_core, _pure):
        got = run(module, kind, cfg, pieces, how)
        if got != reference:
            raise AssertionError(f"{module.__name__} {kind} {cfg} {how}: {got!r} != {reference!r}")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
