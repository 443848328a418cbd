"""A real PostgreSQL server for the tests and benches, started from Debian's `postgresql` package.

`initdb` refuses to run as root, so as root the cluster is made and run by the `postgres` user in a
fresh temporary folder; it listens on a free loopback port only (no Unix socket in a shared folder) and
trusts local connections. Each test gets its own database (``fresh_database``), so tests never see one
another's rows.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ADMIN_DB = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries are installed (Debian package `postgresql`)."""


def find_bindir() -> Path:
    """The newest installed server's bin folder (Debian: /usr/lib/postgresql/<major>/bin)."""
    installed = Path("/usr/lib/postgresql").glob("*/bin/initdb")
    candidates = sorted(installed, key=lambda p: int(p.parent.parent.name), reverse=True)
    if candidates:
        return candidates[0].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise PostgresUnavailable("PostgreSQL is not installed: apt-get install -y postgresql")


@dataclass
class PostgresServer:
    """A running server: its folder, port and the process that owns it."""

    root: Path
    port: int
    bindir: Path
    user: str

    def url(self, database: str = ADMIN_DB) -> str:
        """A libpq URL for ``database`` on this server."""
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database and return its URL."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def psql(self, sql: str, database: str = ADMIN_DB) -> str:
        """Run one SQL command through psql and return its output."""
        result = subprocess.run(
            [str(self.bindir / "psql"), "-X", "-qAt", "-v", "ON_ERROR_STOP=1", self.url(database), "-c", sql],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return result.stdout

    def pg_ctl(self, *args: str) -> None:
        """Run pg_ctl on this cluster as its owner (``stop -m fast``, ``start``, ``restart``)."""
        _run_as(self.user, [str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), "-w", *args])

    def restart(self) -> None:
        """Restart the server in place (same port, same data): what a database restart looks like."""
        self.pg_ctl("-l", str(self.root / "server.log"), "restart", "-m", "fast")

    def stop(self) -> None:
        """Stop the server and remove its folder."""
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def start_server() -> PostgresServer:
    """Make a fresh cluster in a temporary folder and start it on a free loopback port."""
    bindir = find_bindir()
    user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    root = Path(tempfile.mkdtemp(prefix="callboard-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam(user)
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data = root / "data"
    initdb = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", user, "-E", "UTF8", "--no-sync"]
    _run_as(user, initdb)
    port = _free_port()
    settings = [
        f"port = {port}",
        "listen_addresses = '127.0.0.1'",
        "unix_socket_directories = ''",
        "fsync = off",  # a test server: speed over crash-safety of the cluster itself
        "synchronous_commit = off",
        "full_page_writes = off",
        "max_connections = 200",
        "shared_buffers = 64MB",
    ]
    with (data / "postgresql.auto.conf").open("a") as conf:
        conf.write("\n".join(settings) + "\n")
    server = PostgresServer(root=root, port=port, bindir=bindir, user=user)
    server.pg_ctl("-l", str(root / "server.log"), "start")
    _wait_ready(server)
    return server


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A server for the length of a ``with`` block."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


def _run_as(user: str, argv: list[str]) -> None:
    if os.geteuid() == 0:
        argv = ["runuser", "-u", user, "--", *argv]
    subprocess.run(argv, check=True, capture_output=True, timeout=120, cwd="/")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_ready(server: PostgresServer, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            server.psql("SELECT 1")
            return
        except subprocess.CalledProcessError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
