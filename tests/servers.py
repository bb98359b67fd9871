"""Real servers for the preset tests, started from Debian's packages in temporary directories on
free loopback ports and stopped afterwards. Without the binaries a test is skipped locally, and
fails under CI (which installs them: .ci/run)."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import Optional

import pytest


def _need(path: str) -> str:
    found = sorted(glob.glob(path))
    if not found:
        message = f"{path} is not installed (apt-get install it; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    """The environment for a server: without the sanitizer runtimes scripts/sanitize.sh
    preloads for the Python under test."""
    return {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")}


def _as(user: str) -> list[str]:
    """Run as ``user`` when we are root (the servers refuse to run as root)."""
    return ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []


def _own(path: str, user: str) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        for root, dirs, files in os.walk(path):
            for name in [root] + [os.path.join(root, n) for n in dirs + files]:
                os.chown(name, entry.pw_uid, entry.pw_gid)


def _wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {seconds} s")


@contextlib.contextmanager
def _running(
    command: list[str], port: int, workdir: str, env: Optional[dict[str, str]] = None
) -> Iterator[int]:
    log = open(os.path.join(workdir, "server.log"), "wb")  # noqa: SIM115
    process = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env={**_env(), **(env or {})}
    )
    try:
        _wait_for(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@contextlib.contextmanager
def postgres() -> Iterator[int]:
    """A PostgreSQL server with trust authentication for user ``postgres``."""
    bindir = os.path.dirname(_need("/usr/lib/postgresql/*/bin/initdb"))
    user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    workdir = tempfile.mkdtemp(prefix="framekit-pg-")
    try:
        _own(workdir, user)
        data = os.path.join(workdir, "data")
        subprocess.run(
            [*_as(user), f"{bindir}/initdb", "-D", data, "--auth=trust", "-U", "postgres"],
            check=True, capture_output=True, cwd=workdir, env=_env(),
        )  # fmt: skip
        port = free_port()
        command = [
            *_as(user), f"{bindir}/postgres", "-D", data, "-p", str(port), "-k", workdir,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
        ]  # fmt: skip
        with _running(command, port, workdir):
            yield port
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def mariadb() -> Iterator[int]:
    """A MariaDB server that lets anyone in (--skip-grant-tables)."""
    server = _need("/usr/sbin/mariadbd")
    install = _need("/usr/bin/mariadb-install-db")
    workdir = tempfile.mkdtemp(prefix="framekit-mariadb-")
    os.chmod(workdir, 0o755)  # the server runs as mysql
    try:
        data = os.path.join(workdir, "data")
        user = ["--user=mysql"] if os.geteuid() == 0 else []
        subprocess.run(
            [install, "--no-defaults", f"--datadir={data}", *user, "--skip-test-db",
             "--auth-root-authentication-method=normal"],
            check=True, capture_output=True, cwd=workdir, env=_env(),
        )  # fmt: skip
        _own(workdir, "mysql")
        port = free_port()
        command = [
            server, "--no-defaults", f"--datadir={data}", f"--socket={workdir}/sock",
            f"--port={port}", "--bind-address=127.0.0.1", "--skip-grant-tables",
            "--skip-log-bin", f"--pid-file={workdir}/pid", *user,
        ]  # fmt: skip
        with _running(command, port, workdir):
            yield port
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def dnsmasq() -> Iterator[int]:
    """dnsmasq answering ``*.example.test`` with 192.0.2.1, over UDP and TCP."""
    binary = _need("/usr/sbin/dnsmasq")
    workdir = tempfile.mkdtemp(prefix="framekit-dns-")
    try:
        port = free_port()
        command = [
            binary, "--keep-in-foreground", "--conf-file=/dev/null", f"--port={port}",
            "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
            "--address=/example.test/192.0.2.1", f"--pid-file={workdir}/pid",
        ]  # fmt: skip
        with _running(command, port, workdir):
            yield port
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def redis() -> Iterator[int]:
    """A redis-server without persistence."""
    binary = _need("/usr/bin/redis-server")
    workdir = tempfile.mkdtemp(prefix="framekit-redis-")
    try:
        port = free_port()
        command = [
            binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", workdir, "--protected-mode", "no",
        ]  # fmt: skip
        with _running(command, port, workdir):
            yield port
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def neovim() -> Iterator[int]:
    """Neovim, headless and without any configuration, serving its API (msgpack-RPC) on a TCP
    port."""
    binary = _need("/usr/bin/nvim")
    workdir = tempfile.mkdtemp(prefix="framekit-nvim-")
    try:
        port = free_port()
        command = [binary, "--headless", "--clean", "-n", "-i", "NONE", "--listen",
                   f"127.0.0.1:{port}"]  # fmt: skip
        env_home = {"HOME": workdir, "XDG_STATE_HOME": workdir, "XDG_DATA_HOME": workdir}
        with _running(command, port, workdir, env_home):
            yield port
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def haproxy(backend: int) -> Iterator[tuple[int, int]]:
    """HAProxy in TCP mode in front of ``backend``: (the port that sends it a PROXY v1 header,
    the port that sends a v2 one)."""
    binary = _need("/usr/sbin/haproxy")
    workdir = tempfile.mkdtemp(prefix="framekit-haproxy-")
    try:
        v1, v2 = free_port(), free_port()
        config = os.path.join(workdir, "haproxy.cfg")
        with open(config, "w") as f:
            f.write(
                "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n"
                "  timeout server 30s\n"
                f"listen v1\n  bind 127.0.0.1:{v1}\n  server s 127.0.0.1:{backend} send-proxy\n"
                f"listen v2\n  bind 127.0.0.1:{v2}\n"
                f"  server s 127.0.0.1:{backend} send-proxy-v2\n"
            )
        with _running([binary, "-db", "-f", config], v1, workdir):
            yield v1, v2  # (haproxy binds every listener before it accepts on one)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextlib.contextmanager
def nginx(docroot: str) -> Iterator[int]:
    """nginx serving ``docroot`` gzipped on the fly: HTTP/1.1 responses in chunked transfer
    coding (the length is not known before the body is compressed), over keep-alive."""
    binary = _need("/usr/sbin/nginx")
    workdir = tempfile.mkdtemp(prefix="framekit-nginx-")
    try:
        port = free_port()
        temp = " ".join(
            f"{kind}_temp_path {workdir}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        config = os.path.join(workdir, "nginx.conf")
        with open(config, "w") as f:
            f.write(
                f"daemon off; master_process off; pid {workdir}/nginx.pid;\n"
                f"error_log {workdir}/error.log;\nevents {{}}\n"
                f"http {{ access_log off; {temp}\n"
                "  gzip on; gzip_types *; gzip_min_length 0; keepalive_requests 1000;\n"
                f"  server {{ listen 127.0.0.1:{port}; root {docroot}; }}\n}}\n"
            )
        with _running([binary, "-c", config, "-p", workdir], port, workdir):
            yield port
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def logger() -> str:
    """util-linux' logger (it sends syslog messages over TCP with octet counting)."""
    return _need("/usr/bin/logger")


def converse(port: int, first: bytes, then: bytes = b"", *, reply_first: bool = False) -> bytes:
    """Connect, send ``first`` (after reading the server's greeting when ``reply_first``,
    then ``then``), shut the write side, and return everything the server sent until it
    closed."""
    with socket.create_connection(("127.0.0.1", port), 30) as sock:
        received = bytearray()
        if reply_first:
            while len(received) < 4 or len(received) < 4 + int.from_bytes(received[:3], "little"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        sock.sendall(first + then)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return bytes(received)
            received += chunk
