"""Find the daemon of a state directory, starting it in the background when none answers (as tmux
starts its server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from callboard.core.client.client import CallboardClient, DaemonUnavailable
from callboard.core.client.spawn import spawn_detached
from callboard.core.config import Settings
from callboard.core.models.api import Health
from callboard.core.paths import DaemonPaths

_POLL_S = 0.05
_START_LOG_TAIL = 4000


class DaemonStartError(Exception):
    """A daemon was started but did not come up; the message says why (from its start log)."""


async def connect(
    settings: Settings, *, autostart: bool = True, daemon_args: Sequence[str] = ()
) -> CallboardClient:
    """A client of the daemon for ``settings``; starts one (with ``daemon_args`` before ``daemon`` on
    its command line) when none answers, unless ``autostart`` is off."""
    paths = DaemonPaths.of(settings)
    client = CallboardClient(paths.socket)
    try:
        await client.health()
        return client
    except DaemonUnavailable:
        if not autostart:
            await client.aclose()
            raise DaemonUnavailable(
                f"no daemon answers on {paths.socket}; start one with 'callboard daemon --detach'"
            ) from None
    try:
        await start_daemon(settings, daemon_args, client)
    except BaseException:
        await client.aclose()
        raise
    return client


async def start_daemon(
    settings: Settings, daemon_args: Sequence[str], client: CallboardClient | None = None
) -> Health:
    """Start a daemon in the background, detached from this terminal, and wait until it answers.

    Raises DaemonStartError with the daemon's own words when it exits or stays silent.
    """
    paths = DaemonPaths.of(settings)
    process = spawn_detached(
        ["-m", "callboard.core", *daemon_args, "daemon", "--detached-child"], paths.start_log
    )
    own = client or CallboardClient(paths.socket)
    deadline = time.monotonic() + settings.daemon.start_timeout_s
    try:
        while True:
            try:
                return await own.health()
            except DaemonUnavailable:
                pass
            code = process.poll()
            if code is not None:
                # Another client may have started one at the same moment: its daemon is as good.
                try:
                    return await own.health()
                except DaemonUnavailable:
                    raise DaemonStartError(_start_failure(paths, code)) from None
            if time.monotonic() > deadline:
                raise DaemonStartError(
                    f"the daemon (pid {process.pid}) did not answer on {paths.socket} within "
                    f"{settings.daemon.start_timeout_s:g} s; see {paths.log}"
                )
            await asyncio.sleep(_POLL_S)
    finally:
        if client is None:
            await own.aclose()


def _start_failure(paths: DaemonPaths, code: int) -> str:
    try:
        text = paths.start_log.read_text(encoding="utf-8", errors="replace")[-_START_LOG_TAIL:].strip()
    except OSError:
        text = ""
    return text or f"the daemon exited with status {code}; see {paths.log}"
