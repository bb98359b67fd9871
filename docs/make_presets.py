"""Writes docs/presets.md from the presets' docstrings (run it after changing one):

python docs/make_presets.py
"""

from __future__ import annotations

import inspect
import os

from framekit import presets

PROVEN = {
    "postgres": "split from a real PostgreSQL server's replies (startup, a query, a 200 kB row)",
    "postgres_startup": "split from a real client startup sent to PostgreSQL",
    "mysql": "split from a real MariaDB server (handshake, a query with a 100 kB row)",
    "dns_tcp": "split from real dnsmasq answers to pipelined TCP queries",
    "redis": "split from a real redis-server's replies to 21 000 pipelined commands, then RESP3",
    "syslog_tcp": "split from what util-linux' `logger --tcp --octet-count` sends",
    "websocket_server": "read from the `websockets` library as a client",
    "websocket_client": "read from the `websockets` library as a server",
}


def page() -> str:
    lines = [
        "# Protocol presets",
        "",
        "`framekit.presets` returns ready decoders for real protocols. Each delivers whole wire",
        "messages with their headers, and takes keyword overrides for the decoder",
        "(`max_frame_length=`, `copy=`, `fail_fast=`...). Generated from the docstrings by",
        "`docs/make_presets.py`.",
        "",
        "Each preset has an encoder, `<preset>_encoder()`, that writes exactly what the preset",
        "reads back (a {class}`~framekit.Encoder`, for every adapter): `encode(message)` takes a",
        "message as the preset's decoder delivers it with its length field left out, and writes",
        "it whole, the length inserted; `encode_many(messages)` writes several into one buffer,",
        "nothing if one is refused; `decoder()` returns the preset. PostgreSQL's `Query`:",
        "",
        "```{doctest}",
        ">>> from framekit import presets",
        '>>> presets.postgres_encoder().encode(b"Q" + b"SELECT 1\\0")',
        "b'Q\\x00\\x00\\x00\\rSELECT 1\\x00'",
        "```",
        "",
        "Delimited presets take the message as delivered: `ndjson_encoder()` adds the line end,",
        "`stomp_encoder()` writes a frame ending in its NULL octet as it is. Each encoder is",
        "round-trip tested against its decoder; `examples/postgres_client.py` speaks to a real",
        "PostgreSQL server with them.",
        "",
        "| preset | decoder | encoder | proven |",
        "|---|---|---|---|",
    ]
    names = [n for n in presets.__all__ if n[0].islower() and not n.endswith("_encoder")]
    for name in names:
        decoder = getattr(presets, name)()
        proof = PROVEN.get(name, "the specification's layouts (tests/test_presets.py)")
        lines.append(f"| `{name}()` | `{type(decoder).__name__}` | `{name}_encoder()` | {proof} |")
    for name in names:
        lines += ["", f"## `{name}()`", "", *markdown(inspect.getdoc(getattr(presets, name)) or "")]
    return "\n".join(lines) + "\n"


def markdown(doc: str) -> list[str]:
    """A docstring's reST literal blocks (after ``::``) as fenced code."""
    out: list[str] = []
    block = False
    for line in doc.splitlines():
        if block and line and not line.startswith(" "):
            while out[-1] == "":
                out.pop()
            out += ["```", ""]
            block = False
        if block:
            if line or out[-1] != "```text":
                out.append(line[4:])
        elif line.endswith("::"):
            out += [line[:-1], "", "```text"]
            block = True
        else:
            out.append(line)
    if block:
        while out[-1] == "":
            out.pop()
        out.append("```")
    while out and out[-1] == "":
        out.pop()
    return out


if __name__ == "__main__":
    with open(os.path.join(os.path.dirname(__file__), "presets.md"), "w") as f:
        f.write(page())
