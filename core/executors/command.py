"""The ``command`` executor: runs a shell command in its own process group (which dies with the daemon)
and judges how it ended."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from callboard.core.checks import evaluate_command_checks
from callboard.core.execution.base import Job, Outcome, RunError
from callboard.core.executors.command_env import CommandEnvironment
from callboard.core.executors.junit import read_junit
from callboard.core.executors.process_group import (
    PREFIX,
    die_with_parent,
    group_record,
    kill_recorded_group,
    leader_argv,
)
from callboard.core.models import CheckBase, CommandTest
from callboard.core.models.checks import ExitCodeCheck

log = logging.getLogger(__name__)

TAIL_BYTES = 8 * 1024
TERMINATE_GRACE_S = 2.0
EXIT_POLL_S = 0.05
_CHUNK = 64 * 1024


class CommandExecutor:
    """Runs command tests; on cancellation the command's whole process group is killed."""

    kind = "command"

    def __init__(
        self,
        tail_bytes: int = TAIL_BYTES,
        terminate_grace_s: float = TERMINATE_GRACE_S,
        environment: CommandEnvironment | None = None,
    ) -> None:
        self._tail_bytes = tail_bytes
        self._grace_s = terminate_grace_s
        self._environment = environment or CommandEnvironment()

    async def execute(self, job: Job) -> Outcome:
        """Run the command to its end; stdout/stderr keep only their last ``tail_bytes`` bytes."""
        test = job.test
        if not isinstance(test, CommandTest):
            raise RunError("internal", f"the command executor cannot run a {test.kind} test")
        # Import makes cwd absolute (the suite file's directory); a test created without a file and
        # without a cwd runs in the home directory, never wherever the daemon happened to start.
        cwd = Path(test.cwd or "~").expanduser()  # noqa: ASYNC240 (reads $HOME, no disk I/O)
        started = time.perf_counter()
        started_wall = time.time()
        starting = asyncio.ensure_future(
            asyncio.create_subprocess_exec(
                *leader_argv(test.command),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=cwd,
                env=self._environment.build(test.env, test.pass_env),
                start_new_session=True,  # its own process group, so everything it starts can be killed
                preexec_fn=die_with_parent(),  # ...and dies with the daemon
            )
        )
        try:
            # Shielded: cancelled while its pipes connect, asyncio would kill only the leader and then
            # wait for the pipes the command still holds, that is until the command ends by itself.
            process = await asyncio.shield(starting)
        except OSError as exc:
            raise RunError("command", f"cannot start the command in {str(cwd)!r}: {exc}") from None
        except asyncio.CancelledError:
            await asyncio.shield(self._stop_started(starting))
            raise
        exit_code, stdout, stderr = await self._finish(job, process)
        duration_ms = (time.perf_counter() - started) * 1000.0
        checks = evaluate_command_checks(_with_exit_code_check(test.checks), exit_code, stdout)
        metrics = {"exit_code": float(exit_code), "duration_ms": round(duration_ms, 3)}
        if test.junit:
            # Off the event loop: a big report takes a while to parse.
            report = await asyncio.to_thread(read_junit, cwd / test.junit, started_wall)
            checks.extend(report.checks)
            metrics["junit_skipped"] = float(report.skipped)
        return Outcome(
            checks=checks, metrics=metrics, artifacts={"stdout_tail": stdout, "stderr_tail": stderr}
        )

    @staticmethod
    async def _record_group(job: Job, process: asyncio.subprocess.Process) -> None:
        # Recovery kills what is left of a recorded group; the death signal covers the moments before.
        record = group_record(process.pid)
        if record is None:
            return
        try:
            await job.record_external_id(record)
        except Exception as exc:
            log.warning("run %s: could not record its process group: %s", job.run_id, exc)

    def abandon(self, external_id: str) -> int:
        """Kill what is left of a command group recorded before a crash; returns how many processes."""
        return kill_recorded_group(external_id) if external_id.startswith(PREFIX) else 0

    async def _finish(self, job: Job, process: asyncio.subprocess.Process) -> tuple[int, str, str]:
        assert process.stdout is not None and process.stderr is not None
        readers = asyncio.gather(
            read_tail(process.stdout, self._tail_bytes), read_tail(process.stderr, self._tail_bytes)
        )
        try:
            await self._record_group(job, process)
            # Process.wait() also waits for the pipes to close, and something the command left running
            # (`server &`) can hold them open forever; the return code shows the exit itself.
            while not readers.done() and process.returncode is None:
                await asyncio.wait([readers], timeout=EXIT_POLL_S)
            # With the pipes closed, wait() returns at exit; otherwise the command has already exited.
            exit_code = await process.wait() if readers.done() else process.returncode
            # Whatever the command left running in its group goes with it (closing the pipes it holds).
            _signal_group(process.pid, signal.SIGKILL)
            stdout, stderr = await readers
            await process.wait()
        except BaseException:
            await asyncio.shield(self._terminate(process, readers))
            raise
        assert exit_code is not None
        return exit_code, stdout, stderr

    async def _stop_started(self, starting: asyncio.Future[asyncio.subprocess.Process]) -> None:
        # A start cancelled from outside still completes; then its whole group is stopped.
        try:
            process = await starting
        except OSError:
            return
        assert process.stdout is not None and process.stderr is not None
        readers = asyncio.gather(
            read_tail(process.stdout, self._tail_bytes), read_tail(process.stderr, self._tail_bytes)
        )
        await self._terminate(process, readers)

    async def _terminate(self, process: asyncio.subprocess.Process, readers: asyncio.Future[Any]) -> None:
        # SIGTERM first so test runners can clean up, then SIGKILL for anything still in the group.
        _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self._grace_s
        # Polled, not process.wait(): that also waits for the pipes, which the group may still hold.
        while process.returncode is None and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(EXIT_POLL_S)
        _signal_group(process.pid, signal.SIGKILL)
        # The readers keep draining so the pipes reach EOF and the transport can close; only a process
        # that left the group (setsid) could hold them open, and it is not waited for.
        await asyncio.wait([readers], timeout=self._grace_s)
        if not readers.done():
            readers.cancel()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), self._grace_s)

    async def aclose(self) -> None:
        """Nothing is shared between command runs."""


async def read_tail(stream: asyncio.StreamReader, limit: int) -> str:
    """Read ``stream`` to EOF keeping only its last ``limit`` bytes, marked when earlier ones were dropped."""
    tail = bytearray()
    total = 0
    while chunk := await stream.read(_CHUNK):
        total += len(chunk)
        tail += chunk
        if len(tail) > limit:
            del tail[:-limit]
    text = tail.decode("utf-8", errors="replace")
    if total > len(tail):
        return f"[... {total - len(tail)} earlier bytes dropped]\n{text}"
    return text


def _with_exit_code_check(checks: Sequence[CheckBase]) -> list[CheckBase]:
    # Without an explicit exit code check, a command passes only if it exits 0.
    if any(isinstance(check, ExitCodeCheck) for check in checks):
        return list(checks)
    return [ExitCodeCheck(exit_code=0), *checks]


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
