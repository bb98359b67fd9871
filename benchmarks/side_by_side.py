"""Two installs of framekit measured side by side in one run: the decoders on PERFORMANCE.md's
streams, each interpreter in turn (old, new, old, new ...), best of the rounds.

    python benchmarks/side_by_side.py --old /path/to/old-venv/bin/python [--new PYTHON]
                                      [--rounds N] [--callgrind]

Install the commit before a change into a second virtual environment (``pip install .`` from a
checkout of it) and pass its interpreter as ``--old``. With ``--callgrind``, each stream is also
run under ``valgrind --tool=callgrind``, collecting inside the decoders' own functions only,
and the instructions per frame are printed: they do not drift with the machine's load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

# (name, decoder expression, one frame's wire bytes)
STREAMS = [
    ("length 16 B", "framekit.LengthFieldDecoder()", "b'\\x00\\x00\\x00\\x10' + b'x' * 16"),
    ("length 256 B", "framekit.LengthFieldDecoder()", "b'\\x00\\x00\\x01\\x00' + b'x' * 256"),
    ("length 4096 B", "framekit.LengthFieldDecoder()", "b'\\x00\\x00\\x10\\x00' + b'x' * 4096"),
    ("length 16 B copy", "framekit.LengthFieldDecoder(copy=True)",
     "b'\\x00\\x00\\x00\\x10' + b'x' * 16"),
    ("varint 16 B", "framekit.VarintLengthDecoder()", "b'\\x10' + b'x' * 16"),
    ("varint 300 B", "framekit.VarintLengthDecoder()", "b'\\xac\\x02' + b'x' * 300"),
    ("lines 16 B", "framekit.LineDecoder()", "b'x' * 14 + b'\\r\\n'"),
    ("lines 100 B", "framekit.LineDecoder()", "b'x' * 98 + b'\\r\\n'"),
    ("lines 1000 B", "framekit.LineDecoder()", "b'x' * 998 + b'\\r\\n'"),
    ("delimiter 16 B", "framekit.DelimiterDecoder([b'\\r\\n'])", "b'x' * 14 + b'\\r\\n'"),
    ("netstring 16 B", "framekit.NetstringDecoder()", "b'16:' + b'x' * 16 + b','"),
    ("RESP 16 B", "framekit.RespDecoder()", "b'$16\\r\\n' + b'x' * 16 + b'\\r\\n'"),
    ("length 16 B recv", "framekit.LengthFieldDecoder()", "b'\\x00\\x00\\x00\\x10' + b'x' * 16"),
    ("lines 100 B recv", "framekit.LineDecoder()", "b'x' * 98 + b'\\r\\n'"),
]  # fmt: skip
# Streams named "... recv" are written into get_buffer()'s regions, as recv_into() would, the
# others fed as bytes.

PROGRAM = """
import sys, time, framekit
decoder = {decoder}
frame = {frame}
total = int(sys.argv[1])
data = frame * (total // len(frame))
chunks = [data[i : i + 65536] for i in range(0, len(data), 65536)]
count = len(data) // len(frame)
best = None
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    for chunk in chunks:
        {take}
        for f in decoder:
            pass
    t = time.perf_counter() - t
    best = t if best is None else min(best, t)
print(count / best if best else count)
"""
FEED = "decoder.feed(chunk)"
RECV = """mv = memoryview(chunk)
        while mv:
            region = decoder.get_buffer(len(mv))
            n = min(len(region), len(mv))
            region[:n] = mv[:n]
            decoder.buffer_updated(n)
            mv = mv[n:]"""


def program(decoder: str, frame: str, recv: bool) -> str:
    return PROGRAM.format(decoder=decoder, frame=frame, take=RECV if recv else FEED)


def measure(python: str, decoder: str, frame: str, recv: bool, total: int, repeats: int) -> float:
    """Frames per second (best of ``repeats``), or the frame count when ``repeats`` is 0."""
    code = program(decoder, frame, recv)
    out = subprocess.run(
        [python, "-c", code, str(total), str(repeats)],
        check=True, capture_output=True, text=True, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    return float(out.stdout)


def instructions(python: str, decoder: str, frame: str, recv: bool, total: int) -> int:
    """Instructions executed inside the decoders (and what they call), not in the interpreter's
    loop around them: callgrind collecting only within the Python entry points of the
    decoders' methods (feed, __next__, ...). Those never call one another, so each counts once:
    a pattern that also matched the C functions inside them would toggle collection off again
    within them, and what was counted would change with what the compiler inlines."""
    code = program(decoder, frame, recv)
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             "--toggle-collect=__pyx_pw_*Decoder*",
             python, "-c", code, str(total), "1"],
            check=True, capture_output=True, cwd=tmp, env={**os.environ, "PYTHONHASHSEED": "0"},
        )  # fmt: skip
        with open(out) as f:
            for line in f:
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
    raise RuntimeError("no callgrind totals")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, help="the interpreter with the earlier install")
    ap.add_argument("--new", default=sys.executable)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--bytes", type=int, default=32 << 20)
    ap.add_argument("--callgrind", action="store_true")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    report = {}
    print(f"{'stream':<18} {'old M/s':>9} {'new M/s':>9} {'new/old':>8}", end="")
    print(f" {'old instr/frame':>16} {'new instr/frame':>16}" if args.callgrind else "")
    for name, decoder, frame in STREAMS:
        recv = name.endswith(" recv")
        best = {"old": 0.0, "new": 0.0}
        for _ in range(args.rounds):
            for which in ("old", "new"):
                python = getattr(args, which)
                best[which] = max(best[which], measure(python, decoder, frame, recv, args.bytes, 1))
        row = {"old": best["old"], "new": best["new"], "ratio": best["new"] / best["old"]}
        line = f"{name:<18} {best['old'] / 1e6:9.2f} {best['new'] / 1e6:9.2f} {row['ratio']:8.3f}"
        if args.callgrind:
            small, large = 1 << 20, 3 << 20
            frames = (large - small) // len(eval(frame))
            for which in ("old", "new"):
                python = getattr(args, which)
                extra = instructions(python, decoder, frame, recv, large) - instructions(
                    python, decoder, frame, recv, small
                )
                row[f"{which}_instructions"] = extra / frames
            line += f" {row['old_instructions']:16.1f} {row['new_instructions']:16.1f}"
        report[name] = row
        print(line, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
