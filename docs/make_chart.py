"""Draws the performance page's chart from a ``framekit bench --json FILE`` run:

python docs/make_chart.py RESULTS.json OUT.png

The docs build calls it on ``docs/_data/bench.json``; to refresh that file, run
``framekit bench --json docs/_data/bench.json [--netty netty.txt]`` on a quiet machine.
"""

from __future__ import annotations

import json
import os
import sys

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


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    make_chart(sys.argv[1], sys.argv[2])
