"""``framekit decode``: frames with offsets, errors in place, each output format."""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import subprocess
import sys
from typing import Any

import pytest

import framekit
from framekit.__main__ import main


def run(argv: list[str], data: bytes, tmp_path: os.PathLike[str]) -> tuple[int, str]:
    path = os.path.join(os.fspath(tmp_path), "capture.bin")
    with open(path, "wb") as f:
        f.write(data)
    out = io.StringIO()
    return main(["decode", *argv, path], out), out.getvalue()


def test_table_with_errors_in_place(tmp_path: os.PathLike[str]) -> None:
    wire = b"\x00\x03abc\x00\x09123456789\x00\x02hi\x00\x05xy"
    code, text = run(["--length-field", "2", "--max-frame-length", "8"], wire, tmp_path)
    lines = text.splitlines()
    assert code == 1
    assert lines[0].split() == ["offset", "length", "preview"]
    assert lines[1].split() == ["0", "3", "abc"]
    assert lines[2].split()[:3] == ["5", "ERROR", "FrameTooLongError:"]
    assert lines[3].split() == ["16", "2", "hi"]
    assert lines[4].split()[:3] == ["20", "ERROR", "IncompleteFrameError:"]


def test_clean_stream_exits_zero_and_previews(tmp_path: os.PathLike[str]) -> None:
    code, text = run(["--fixed", "4"], b"ab\x00\xffcdef", tmp_path)
    assert code == 0
    assert [line.split() for line in text.splitlines()[1:]] == [
        ["0", "4", "ab.."],
        ["4", "4", "cdef"],
    ]


def test_jsonl_and_hex(tmp_path: os.PathLike[str]) -> None:
    code, text = run(["--preset", "ndjson", "--format", "jsonl"], b'{"a":1}\r\n{}\nzz', tmp_path)
    records = [json.loads(line) for line in text.splitlines()]
    assert records[0] == {"offset": 0, "length": 7, "hex": b'{"a":1}'.hex()}
    assert records[1] == {"offset": 9, "length": 2, "hex": b"{}".hex()}
    assert records[2]["offset"] == 12 and records[2]["error"] == "IncompleteFrameError"
    code, text = run(["--delimiter", "00", "--format", "hex"], b"ab\x00c\x00", tmp_path)
    assert code == 0 and [line.split() for line in text.splitlines()] == [
        ["0", "2", "61", "62"],
        ["3", "1", "63"],
    ]


def test_corrupt_stream_stops(tmp_path: os.PathLike[str]) -> None:
    # the varint counts itself: 2 is a one-byte frame, 0 is impossible
    code, text = run(["--varint", "--adjust", "-1", "--format", "jsonl"], b"\x02a\x00zz", tmp_path)
    records = [json.loads(line) for line in text.splitlines()]
    assert code == 1
    assert records == [
        {"offset": 0, "length": 1, "hex": "61"},
        {"offset": 2, "error": "CorruptFrameError", "message": records[1]["message"]},
    ]


def test_mqtt_preset_and_little_endian(tmp_path: os.PathLike[str]) -> None:
    code, text = run(["--preset", "mqtt", "--format", "jsonl"], b"\xc0\x00\x30\x02ab", tmp_path)
    assert code == 0
    assert [json.loads(line)["length"] for line in text.splitlines()] == [2, 4]
    _, text = run(
        ["--length-field", "2", "--little-endian", "--strip", "0"], b"\x01\x00z", tmp_path
    )
    assert text.splitlines()[1].split() == ["0", "3", "..z"]


def test_bad_arguments(tmp_path: os.PathLike[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run(["--delimiter", "zz"], b"", tmp_path)
    assert code == 2 and "framekit:" in capsys.readouterr().err
    code, _ = run(["--length-field", "9"], b"", tmp_path)
    assert code == 2
    with pytest.raises(SystemExit):
        main(["decode", "--lines", "--fixed", "3"])


def test_module_runs_on_stdin(tmp_path: os.PathLike[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "framekit", "decode", "--lines"],
        input=b"one\ntwo\n",
        capture_output=True,
        check=False,
        cwd=tmp_path,  # -m puts the working directory first on sys.path: not the source tree
    )
    assert result.returncode == 0
    assert [line.split() for line in result.stdout.decode().splitlines()[1:]] == [
        ["0", "3", "one"],
        ["4", "3", "two"],
    ]


def test_bench_measures_every_contender(tmp_path: os.PathLike[str]) -> None:
    from framekit import _bench

    results = _bench.run(quick=True, progress=False, scale=400)
    # (the core is measured wherever it is built: not on PyPy, where setup.py skips it)
    has_core = importlib.util.find_spec("framekit._core") is not None
    assert set(results) == {
        "length-16", "length-256", "length-4096", "line-16", "line-100", "line-1000",
    }  # fmt: skip
    for row in results.values():
        assert ("cython-feed" in row) == has_core
        assert "pure-feed" in row and "asyncio-streams" in row
        assert all(rate > 0 for rate in row.values())
    text = _bench.table(results)
    assert "framekit x" in text and "length field, 4096 B" in text
    netty = os.path.join(os.fspath(tmp_path), "netty.txt")
    with open(netty, "w") as f:
        f.write("netty length payload=16 frames/s=25000000\nnetty line len=100 frames/s=1e7\n")
    assert _bench.netty_rates(netty) == {"length-16": 25e6, "line-100": 1e7}


def test_bench_json_records_the_run(tmp_path: os.PathLike[str], monkeypatch: Any) -> None:
    """`framekit bench --json FILE` writes the figures with what they were measured on (the
    performance page's chart is drawn from such a file)."""
    from framekit import _bench

    calls: list[dict[str, Any]] = []

    def fake_run(**kwargs: Any) -> dict[str, dict[str, float]]:
        calls.append(kwargs)
        return {"length-16": {"cython-feed": 3e7, "netty": 2e7}}

    monkeypatch.setattr(_bench, "run", fake_run)
    path = os.path.join(os.fspath(tmp_path), "bench.json")
    assert _bench.main(["--quick", "--json", path]) == 0
    with open(path) as f:
        data = json.load(f)
    assert data["results"] == {"length-16": {"cython-feed": 3e7, "netty": 2e7}}
    assert data["quick"] is True and data["python"] == sys.version.split()[0]
    assert {"framekit", "implementation", "platform", "cpus", "date"} <= set(data)
    assert calls[0]["quick"] is True


# --- the command line as users meet it (issue: several delimiters, errors naming the flag, ...) --


def test_several_delimiters_repeated_or_spaced(tmp_path: os.PathLike[str]) -> None:
    wire = b"a\r\nb;c\rd"
    for argv in (
        ["--delimiter", "0d0a", "--delimiter", "3b", "--delimiter", "0d"],
        ["--delimiter", "0d0a 3b,0d"],
    ):
        _, text = run([*argv, "--format", "jsonl"], wire, tmp_path)
        frames = [bytes.fromhex(json.loads(line)["hex"]) for line in text.splitlines()[:3]]
        assert frames == [b"a", b"b", b"c"], argv
    # "0d 0d0a" is two delimiters (\r and \r\n), not the three bytes 0d0d0a (which would find
    # no frame here)
    _, text = run(["--delimiter", "0d 0d0a", "--format", "jsonl"], b"x\r\ny\r", tmp_path)
    assert [json.loads(line)["hex"] for line in text.splitlines()] == ["78", "79"]


def test_argument_errors_name_the_flag(
    tmp_path: os.PathLike[str], capsys: pytest.CaptureFixture[str]
) -> None:
    for argv, flag in [
        (["--delimiter", "zz"], "--delimiter"),
        (["--delimiter", "0d", "--delimiter", ""], "--delimiter"),
        (["--length-field", "9"], "--length-field"),
        (["--fixed", "0"], "--fixed"),
        (["--lines", "--max-frame-length", "-1"], "--max-frame-length"),
        (["--length-field", "2", "--offset", "-1"], "--offset"),
    ]:
        code, out = run(argv, b"", tmp_path)
        err = capsys.readouterr().err
        assert code == 2 and out == "", argv
        assert err.startswith(f"framekit: {flag}:"), (argv, err)


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["--lines", "--strip", "0"], "--strip"),
        (["--lines", "--offset", "1"], "--offset"),
        (["--fixed", "4", "--adjust", "1"], "--adjust"),
        (["--varint", "--little-endian"], "--little-endian"),
        (["--fixed", "4", "--max-frame-length", "9"], "--max-frame-length"),
        (["--preset", "mqtt", "--strip", "2"], "--strip"),
    ],
)
def test_options_that_do_not_apply_are_refused(
    tmp_path: os.PathLike[str], capsys: pytest.CaptureFixture[str], argv: list[str], flag: str
) -> None:
    code, out = run(argv, b"abcd\n", tmp_path)
    assert code == 2 and out == ""
    assert f"{flag} does not apply" in capsys.readouterr().err


def test_missing_file_prints_no_table(capsys: pytest.CaptureFixture[str]) -> None:
    out = io.StringIO()
    assert main(["decode", "--lines", "/nonexistent/capture.bin"], out) == 2
    assert out.getvalue() == ""
    assert "No such file" in capsys.readouterr().err


def test_one_byte_is_singular(tmp_path: os.PathLike[str]) -> None:
    _, text = run(["--length-field", "2"], b"\x00", tmp_path)
    assert "(1 byte received)" in text
    _, text = run(["--length-field", "2"], b"\x00\x05ab", tmp_path)
    assert "(4 bytes received)" in text


def test_a_claimed_frame_that_swallowed_the_rest_is_reported(tmp_path: os.PathLike[str]) -> None:
    # a header claiming 4 GB: too long, so it is skipped, and with it the rest of the capture
    wire = b"\x00\x00\x00\x02hi" + b"\xff\xff\xff\xf0" + b"\x00\x00\x00\x02ok" * 100
    code, text = run(["--length-field", "4"], wire, tmp_path)
    assert code == 1
    assert "FrameTooLongError" in text
    last = text.splitlines()[-1]
    assert "the frame at offset 6 claimed 4294967284 bytes" in last
    assert "the stream ended 604 bytes into it" in last


def test_help_shows_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["decode", "--help"])
    text = capsys.readouterr().out
    assert "(default: table)" in text and "(default: 0)" in text


def _startup(code: int, fields: bytes = b"") -> bytes:
    body = code.to_bytes(4, "big") + fields
    return (len(body) + 4).to_bytes(4, "big") + body


@pytest.mark.parametrize("ssl", [False, True])
def test_postgres_capture_from_the_startup_packet(tmp_path: os.PathLike[str], ssl: bool) -> None:
    """A client's capture from its start: the startup packet (after an SSLRequest, maybe),
    then typed messages; the decoder switches after the StartupMessage (detach())."""
    startup = _startup(196608, b"user\0postgres\0\0")
    query = b"Q" + (4 + 9).to_bytes(4, "big") + b"SELECT 1\0"
    wire = (_startup(80877103) if ssl else b"") + startup + query + b"X\x00\x00\x00\x04"
    status, text = run(["--preset", "postgres", "--format", "jsonl"], wire, tmp_path)
    assert status == 0, text
    records = [json.loads(line) for line in text.splitlines()]
    lengths = [r["length"] for r in records]
    assert lengths == ([8] if ssl else []) + [len(startup), len(query), 5]
    assert bytes.fromhex(records[-2]["hex"]) == query
    # a capture of typed messages only (a server's side) is decoded as before
    status, text = run(["--preset", "postgres", "--format", "jsonl"], query * 2, tmp_path)
    assert status == 0 and [json.loads(line)["length"] for line in text.splitlines()] == [14, 14]


#: a value for the options that take one of a form of its own
OPTION_VALUES = {"--delimiter": "0a", "--rule": "os.path:basename"}


def test_every_kind_of_decoder_is_an_option() -> None:
    """framekit decode offers every kind in the registry (framekit._kinds), and builds each
    from its option: a decoder of the kind's class."""
    from framekit import __main__ as cli
    from framekit._kinds import KINDS

    sub = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    flags = {o for a in sub.choices["decode"]._actions for o in a.option_strings}
    for kind in KINDS:
        assert kind.flag in flags
        if kind.argument.get("action") == "store_true":
            value = []
        elif "choices" in kind.argument:
            value = [kind.argument["choices"][-1]]
        else:
            value = [OPTION_VALUES.get(kind.flag, "4")]
        args = cli.parser().parse_args(["decode", kind.flag, *value, "--max-frame-length", "99"])
        way = cli._dest(kind.flag)
        built = cli._make(args, way, {"max_frame_length": 99} if kind.options else {})
        assert type(built) is getattr(framekit, kind.decoder), kind
        if kind.keyword is not None:
            assert f"{kind.keyword}={value[0]!r}" in repr(built), (kind, built)


def test_a_rule_of_ones_own(
    tmp_path: os.PathLike[str], monkeypatch: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with open(os.path.join(os.fspath(tmp_path), "myrules.py"), "w") as f:
        f.write("def pairs(buf):\n    return 2\n")
    monkeypatch.chdir(tmp_path)
    status, text = run(["--rule", "myrules:pairs"], b"abcde", tmp_path)
    assert status == 1
    assert [line.split()[:2] for line in text.splitlines()[1:]] == [
        ["0", "2"],
        ["2", "2"],
        ["4", "ERROR"],
    ]
    for spec, message in (("myrules", "MODULE:FUNCTION"), ("nope:f", "cannot import"),
                          ("myrules:nothing", "has no nothing")):  # fmt: skip
        assert main(["decode", "--rule", spec, "capture.bin"], io.StringIO()) == 2
        assert message in capsys.readouterr().err
