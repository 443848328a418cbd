"""Command hook: runs a program (no shell) with the summary in ``CALLBOARD_*`` environment variables."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from pathlib import Path

from callboard.core.notify.base import NotifyError
from callboard.core.notify.settings import CommandHookSettings
from callboard.core.notify.summary import BatchSummary, short

STDERR_TAIL_BYTES = 2048
REAP_TIMEOUT_S = 5.0


class CommandSender:
    """Runs the hook once per summary; a non-zero exit or a timeout is a failure."""

    def __init__(self, settings: CommandHookSettings) -> None:
        self._settings = settings

    @property
    def program(self) -> str:
        """The program's file name alone, safe to show: the arguments may hold a token."""
        return Path(self._settings.argv[0]).name

    async def send(self, summary: BatchSummary) -> None:
        """Run the hook to its end, raising NotifyError unless it exits 0 within its timeout."""
        try:
            process = await asyncio.create_subprocess_exec(
                *self._settings.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env=hook_environment(summary),
                start_new_session=True,  # its own process group, so a timeout kills what it started too
            )
        except OSError as exc:
            raise NotifyError(f"cannot start {self.program}: {exc.strerror}") from None
        try:
            _, stderr = await asyncio.wait_for(process.communicate(), self._settings.timeout_s)
        except BaseException as exc:
            _kill_group(process.pid)
            if not isinstance(exc, TimeoutError):
                raise
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), REAP_TIMEOUT_S)
            raise NotifyError(f"{self.program} timed out after {self._settings.timeout_s:g}s") from None
        if process.returncode != 0:
            tail = _last_line(stderr[-STDERR_TAIL_BYTES:].decode("utf-8", errors="replace"))
            raise NotifyError(
                f"{self.program} exited with {process.returncode}" + (f": {tail}" if tail else "")
            )


def hook_environment(summary: BatchSummary) -> dict[str, str]:
    """The hook's environment: the daemon's, less its own settings, plus the summary."""
    # The daemon's CALLBOARD_* variables can hold secrets (auth token, SMTP password); the hook gets none.
    env = {name: value for name, value in os.environ.items() if not name.startswith("CALLBOARD_")}
    fields = {
        "BATCH_ID": summary.batch_id,
        "BATCH_LABEL": summary.label,
        "BATCH_SOURCE": summary.source,
        "BATCH_STATUS": summary.status,
        "SCHEDULE_ID": summary.schedule_id,
        "SCHEDULE_NAME": summary.schedule_name,
        "TOTAL": summary.total,
        "PASSED": summary.passed,
        "FAILED": summary.failed,
        "ERROR": summary.error,
        "CANCELLED": summary.cancelled,
        "SKIPPED": summary.skipped,
        "PASS_RATE": summary.pass_rate,
        "PREVIOUS_PASS_RATE": summary.previous_pass_rate,
        "DURATION_S": summary.duration_s,
        "FINISHED_AT": summary.finished_at.isoformat() if summary.finished_at else None,
        "HEADLINE": summary.headline(),
        "REPORT_HINT": summary.report_hint,
        "SUMMARY_JSON": json.dumps(summary.as_dict()),
    }
    # Unknown values (no schedule, no previous batch) are empty strings, so `[ -n "$VAR" ]` works.
    env.update({f"CALLBOARD_{key}": "" if value is None else str(value) for key, value in fields.items()})
    return env


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return short(lines[-1]) if lines else ""


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
