"""Every example runs, as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


@pytest.mark.parametrize(
    ("script", "args", "expect"),
    [
        ("echo_asyncio.py", [], b"echo: 1048576 bytes"),
        ("echo_trio.py", [], b"echo: 1048576 bytes"),
        ("echo_anyio.py", [], b"[b'hello', b'world']\n[b'hello', b'world']\n"),
        ("echo_sockets.py", [], b"echo: 1048576 bytes"),
        ("kv_protocol.py", [], b"reply: ERR line too long\nreply: apple"),
        ("orders.py", ["20000"], b"a cancelled order's handle is stale"),
        ("replay.py", ["50000"], b"sequence numbers 0..49999, 0 gaps"),
        (
            "multicore.py",
            ["--connections", "20", "--frames", "500", "--processes", "2"],
            b"2 processes:",
        ),
    ],
)
def test_example_runs(script: str, args: list[str], expect: bytes) -> None:
    result = subprocess.run(
        [sys.executable, os.path.join(EXAMPLES, script), *args],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert expect in result.stdout


@pytest.mark.server
def test_postgres_client_against_the_real_server() -> None:
    """examples/postgres_client.py: startup, trust authentication, a simple query whose rows it
    counts, against a PostgreSQL server started here."""
    import servers

    with servers.postgres() as port:
        result = subprocess.run(
            [
                sys.executable,
                os.path.join(EXAMPLES, "postgres_client.py"),
                "127.0.0.1",
                str(port),
                "SELECT generate_series(1, 12345)",
            ],
            capture_output=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"rows: 12345\n"
