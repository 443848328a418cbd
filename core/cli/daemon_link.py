"""Run a command's work against the daemon: connect (starting it if needed), and turn the ways that
can go wrong into one clear line and an exit status."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from callboard.core.cli.context import EXIT_USAGE, CliContext, fail
from callboard.core.client import ApiFailure, CallboardClient, DaemonStartError, DaemonUnavailable, connect

T = TypeVar("T")
EXIT_INTERRUPTED = 130
# Statuses that mean the request itself was wrong (usage: bad input, an unknown name or id), rather
# than the state it met.
_USAGE_STATUSES = (400, 404, 413, 422)


def with_daemon(cli: CliContext, action: Callable[[CallboardClient], Awaitable[T]]) -> T:
    """Run ``action`` with a client of the daemon and return its result; errors end the command."""

    # The result is handed out beside the coroutine, not as its return value: on Python 3.11
    # ``asyncio.run`` writes out the repr of what its main task returned, twice, on the way out (half a
    # second for the trends of 5,000 tests).
    results: list[T] = []

    async def go() -> None:
        client = await connect(cli.settings, autostart=cli.autostart, daemon_args=cli.daemon_args())
        async with client:
            results.append(await action(client))

    try:
        asyncio.run(go())
        return results[0]
    except ApiFailure as exc:
        fail(exc.message, code=EXIT_USAGE if exc.status in _USAGE_STATUSES else 1)
    except DaemonUnavailable as exc:
        fail(str(exc))
    except DaemonStartError as exc:
        fail(f"the daemon could not start:\n{exc}")
    except KeyboardInterrupt:
        raise SystemExit(EXIT_INTERRUPTED) from None
