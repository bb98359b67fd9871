"""Many connections held at once by one server process (SPEC §9): benchmarks/connections.py
--hold, run for real (a server process, client processes from 127.0.x.y source addresses, every
connection served twice). ``FRAMEKIT_CONNECTIONS`` sets how many: 2 000 under CI, 10 000 here
by default; docs/guides/many-connections.md has the run at this machine's file limit."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "connections.py"


def _count() -> int:
    default = 2000 if os.environ.get("CI") else 10_000
    wanted = int(os.environ.get("FRAMEKIT_CONNECTIONS", default))
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return min(wanted, hard - 100)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="127.0.x.y source addresses: Linux")
def test_one_process_holds_and_serves_many_connections() -> None:
    count = _count()
    servers = ["framekit-protocol", "framekit-streams"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--hold", str(count), "--servers", *servers],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    for name in servers:
        line = next(line for line in done.stdout.splitlines() if line.startswith(name))
        # the time to open, each round's (every connection answered, or the script fails), and
        # the server's memory
        found = re.search(
            r"([\d.]+)s +([\d.]+)s +([\d.]+)s +[\d.]+ MiB \(([\d.]+) KiB each\)", line
        )
        assert found is not None, line
        per_connection = float(found.group(4))
        # (a sanity bound, for PyPy too: the figures to compare are connections.py's)
        assert per_connection < 48, f"{name}: {per_connection} KiB a connection"


def test_hold_refuses_more_than_the_file_limit() -> None:
    """Where the file limit cannot hold N connections the script says so and fails; it never
    reports a smaller run as the one asked for."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--hold", str(hard + 1)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "not run: RLIMIT_NOFILE's hard limit here is" in done.stdout
