"""Draws the performance page's chart from a ``framekit bench --json FILE`` run:

python docs/make_chart.py RESULTS.json OUT.png

The docs build calls it on ``docs/_data/bench.json``; to refresh that file, run
``framekit bench --json docs/_data/bench.json [--netty netty.txt]`` on a quiet machine.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

# contenders drawn, in order, with their legend labels
SERIES = [
    ("cython-feed", "framekit (compiled)"),
    ("cython-recv", "framekit, get_buffer"),
    ("pure-feed", "framekit (pure twin)"),
    ("netty", "Netty 4.1 (JVM)"),
    ("twisted", "Twisted"),
    ("careful-python", "careful pure Python"),
    ("bytes.split", "bytes.split (no limits)"),
    ("asyncio-streams", "asyncio StreamReader"),
]


def case_label(case: str) -> str:
    kind, size = case.split("-")
    return f"{'length field' if kind == 'length' else 'lines'}\n{size} B"


def make_chart(source: str, target: str) -> None:
    """Writes ``target`` (PNG): grouped bars of million frames/s per stream and contender."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(source) as f:
        data = json.load(f)
    results: dict[str, dict[str, float]] = data["results"]
    cases = list(results)
    present = [(key, label) for key, label in SERIES if any(key in r for r in results.values())]
    width = 0.8 / len(present)
    fig, ax = plt.subplots(figsize=(11, 5), dpi=110)
    for i, (key, label) in enumerate(present):
        xs = [c + (i - (len(present) - 1) / 2) * width for c in range(len(cases))]
        ys = [results[case].get(key, 0.0) / 1e6 for case in cases]
        ax.bar(xs, ys, width, label=label)
    ax.set_xticks(range(len(cases)), [case_label(c) for c in cases])
    ax.set_ylabel("million frames / s (higher is better)")
    ax.set_title(data.get("title", "framekit beside its peers, one run, 64 KiB reads"))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(ncol=2, fontsize=8)
    _save(fig, target)


def _save(fig: Any, target: str) -> None:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    fig.savefig(target)
    plt.close(fig)


def make_table(source: str) -> str:
    """The same run as a Markdown table: million frames/s, and framekit's ratio to each peer."""
    with open(source) as f:
        data = json.load(f)
    results: dict[str, dict[str, float]] = data["results"]
    present = [(key, label) for key, label in SERIES if any(key in r for r in results.values())]
    lines = [
        "| stream | " + " | ".join(label for _, label in present) + " |",
        "|---|" + "---|" * len(present),
    ]
    for case, row in results.items():
        ours = row.get("cython-feed", row.get("pure-feed", 0.0))
        cells = []
        for key, _ in present:
            rate = row.get(key)
            if rate is None:
                cells.append("\u2013")
            elif key.startswith(("cython", "pure")):
                cells.append(f"{rate / 1e6:.2f}")
            else:
                cells.append(f"{rate / 1e6:.2f} ({ours / rate:.2f}\u00d7)")
        lines.append(f"| {case_label(case).replace(chr(10), ', ')} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def describe_run(source: str) -> str:
    with open(source) as f:
        data = json.load(f)
    return (
        f"framekit {data.get('framekit', '?')} ({data.get('implementation', '?')}), "
        f"Python {data.get('python', '?')}, {data.get('platform', '?')}, "
        f"{data.get('cpus', '?')} CPUs, {data.get('date', '?')}"
        + (", --quick" if data.get("quick") else "")
    )


# servers of benchmarks/connections.py, in order, with their labels
SERVERS = [
    ("asyncio-streams", "asyncio streams"),
    ("framekit-protocol", "framekit FramedProtocol"),
    ("framekit-streams", "framekit streams"),
    ("uvloop-asyncio-streams", "uvloop: asyncio streams"),
    ("uvloop-framekit-protocol", "uvloop: FramedProtocol"),
    ("uvloop-framekit-streams", "uvloop: framekit streams"),
    ("trio-plain", "trio, plain"),
    ("trio-framekit", "trio: FramedStream"),
]


def make_connections_chart(source: str, target: str) -> None:
    """Writes ``target`` (PNG) from a ``benchmarks/connections.py --json`` run: server memory
    per idle connection, and frames/s with many connections sending at once."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(source) as f:
        data = json.load(f)
    idle: dict[str, list[float]] = data["idle"]
    rates: dict[str, float] = data["frames_per_second"]
    present = [(key, label) for key, label in SERVERS if key in idle]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6), dpi=110)
    ys = range(len(present))
    for shift, (index, label) in ((-0.2, (0, "after a 5 B message")), (0.2, (1, "after 60 KB"))):
        left.barh(
            [y + shift for y in ys], [idle[k][index] / 1024 for k, _ in present], 0.4, label=label
        )
    left.set_yticks(list(ys), [label for _, label in present])
    left.invert_yaxis()
    left.set_xscale("log")
    left.set_xlabel("server RSS per idle connection, KiB (log scale; lower is better)")
    left.set_title(f"{data['connections']} idle connections")
    left.legend(fontsize=8)
    right.barh(list(ys), [rates.get(k, 0.0) / 1e6 for k, _ in present], 0.6, color="tab:green")
    right.set_yticks(list(ys), [""] * len(present))
    right.invert_yaxis()
    right.set_xlabel("million frames / s (higher is better)")
    right.set_title(f"{data['active']} connections sending at once")
    for axis in (left, right):
        axis.grid(axis="x", alpha=0.3)
    _save(fig, target)


def make_connections_table(source: str) -> str:
    """The same run as a Markdown table, each framekit server beside the plain one on its loop
    (the run's ``plain``)."""
    with open(source) as f:
        data = json.load(f)
    idle: dict[str, list[float]] = data["idle"]
    rates: dict[str, float] = data["frames_per_second"]
    lines = [
        f"| server | KiB per idle connection, after 5 B | after 60 KB "
        f"| frames/s, {data['active']} connections sending |",
        "|---|---|---|---|",
    ]
    for key, label in SERVERS:
        if key not in idle:
            continue
        plain = data["plain"][key]
        cells = []
        for value, base in zip(idle[key], idle[plain]):
            ratio = f" ({value / base:.2f} \u00d7)" if key != plain and base > 0 else ""
            cells.append(f"{value / 1024:.1f}{ratio}")
        rate = rates.get(key)
        if rate is None:
            cells.append("")
        else:
            ratio = (
                f" ({rate / rates[plain]:.1f} \u00d7)" if key != plain and plain in rates else ""
            )
            cells.append(f"{rate / 1e6:.2f} M{ratio}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    make_chart(sys.argv[1], sys.argv[2])
