"""Real processes on one PostgreSQL store for the cluster tests: daemons in the foreground (each with its
own state dir), `callboard worker`s, and reads of the database."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from psycopg import AsyncConnection

from tests.conftest import CliRunner

_START_TIMEOUT_S = 60.0


class Processes:
    """Daemons and workers a test starts; all are stopped (SIGTERM, then SIGKILL) when it ends."""

    def __init__(self, pg_url: str, logs: Path) -> None:
        self.pg_url = pg_url
        self.logs = logs
        self.started: list[subprocess.Popen[str]] = []

    def env(self, state_dir: Path, **extra: str) -> dict[str, str]:
        """The environment of a callboard process on this store and state dir."""
        return {
            **os.environ,
            "CALLBOARD_STATE_DIR": str(state_dir),
            "CALLBOARD_STORE__URL": self.pg_url,
            **extra,
        }

    def spawn(self, state_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        """``python -m callboard.core ARGS`` in the background, its stderr in a log file."""
        log = self.logs / f"{args[0]}-{time.monotonic_ns()}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "callboard.core", *args],
            env={**self.env(state_dir), **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
            text=True,
        )
        self.started.append(process)
        return process

    def daemon(
        self, run_cli: CliRunner, state_dir: Path, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[str]:
        """A daemon in the foreground for ``state_dir``, once it answers (the CLI would start its own
        if asked before)."""
        state_dir.mkdir(exist_ok=True)
        process = self.spawn(state_dir, "daemon", *args, env=env)
        deadline = time.monotonic() + _START_TIMEOUT_S
        env = {"CALLBOARD_STATE_DIR": str(state_dir), "CALLBOARD_STORE__URL": self.pg_url}
        while run_cli("daemon", "status", env=env).returncode != 0:
            assert process.poll() is None, f"the daemon exited with {process.returncode}"
            assert time.monotonic() < deadline, "the daemon did not answer"
            time.sleep(0.2)
        return process

    def worker(self, state_dir: Path, *args: str) -> subprocess.Popen[str]:
        """A `callboard worker` with a short lease (a killed one's runs come back soon)."""
        return self.spawn(state_dir, "worker", "--lease", "6", *args)

    def stop_all(self) -> None:
        """SIGTERM every process, then SIGKILL those still there after 30 s."""
        for process in self.started:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    """Every row of ``sql`` on the store."""
    async with await AsyncConnection.connect(url) as conn:
        return list(await (await conn.execute(sql.encode())).fetchall())


async def until(url: str, sql: str, timeout_s: float = 120) -> None:
    """Until ``sql`` returns true (polled)."""
    deadline = time.monotonic() + timeout_s
    while not (await rows(url, sql))[0][0]:
        assert time.monotonic() < deadline, f"still not true: {sql}"
        await asyncio.sleep(0.1)


def suite(folder: Path, count: int, command: str) -> str:
    """A suite of ``count`` command tests running ``command`` (``{n}`` is the test's number)."""
    tests = [
        f'[[test]]\nname = "step-{n:02d}"\nkind = "command"\ncommand = "{command.format(n=n)}"\n'
        "checks = [{ exit_code = 0 }]\n"
        for n in range(count)
    ]
    path = folder / "steps.toml"
    path.write_text("\n".join(tests))
    return str(path)
