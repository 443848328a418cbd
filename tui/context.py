"""What every screen needs from the app: the client, the event feed and the clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from textual.dom import DOMNode

from callboard.core.client import ApiFailure, CallboardClient, DaemonUnavailable
from callboard.tui.feed import EventFeed

T = TypeVar("T")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class TuiContext:
    """The app's client, feed and clock; screens reach it with ``context_of(self)``."""

    client: CallboardClient
    feed: EventFeed
    clock: Clock


def context_of(node: DOMNode) -> TuiContext:
    """The context of the app ``node`` belongs to."""
    context = getattr(node.app, "context", None)
    if not isinstance(context, TuiContext):
        raise TypeError(f"{type(node.app).__name__} is not a callboard app")
    return context


async def attempt(node: DOMNode, what: str, call: Awaitable[T]) -> T | None:
    """Await an API call; a failure becomes an error toast titled ``what`` and None, never a crash."""
    try:
        return await call
    except ApiFailure as exc:
        node.app.notify(exc.message, title=f"{what} failed", severity="error")
    except DaemonUnavailable:
        node.app.notify("the daemon does not answer", title=f"{what} failed", severity="error")
    return None


async def done(call: Awaitable[object]) -> bool:
    """Await a call that answers nothing and say True, so ``attempt`` can tell success from failure."""
    await call
    return True
