"""``callboard`` with no arguments: connect to the daemon (starting it if none answers) and run the TUI."""

from __future__ import annotations

import asyncio
import sys

from callboard.core.client import DaemonStartError, DaemonUnavailable, connect
from callboard.core.config import Settings


def run_tui(
    settings: Settings, daemon_args: list[str], *, autostart: bool = True, first_run: bool = False
) -> None:
    """Run the TUI on the daemon of ``settings`` (started with ``daemon_args`` when none answers);
    ``first_run`` greets a new user with the keys to press first (``callboard demo`` sets it).

    Closing the TUI leaves the daemon and its queued work running. Exits with status 1 and a message
    when no daemon can be reached or started.
    """
    try:
        asyncio.run(_run(settings, daemon_args, autostart=autostart, first_run=first_run))
    except (DaemonUnavailable, DaemonStartError) as exc:
        print(f"callboard: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


async def _run(settings: Settings, daemon_args: list[str], *, autostart: bool, first_run: bool) -> None:
    # Imported here so a failing connect reports quickly, before Textual loads.
    from callboard.tui.app import CallboardApp

    client = await connect(settings, autostart=autostart, daemon_args=daemon_args)
    async with client:
        await CallboardApp(client, first_run=first_run).run_async()
