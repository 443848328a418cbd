"""The event loop the daemon and the workers run on: uvloop's, unless turned off (``daemon.uvloop``).

Why: a run of an HTTP test is mostly the loop's own work (sockets, callbacks, timers) around aiohttp;
uvloop (libuv, in C) does that work for about a sixth less CPU per run on the daemon's thread
(bench/throughput.py). The front ends (CLI, TUI) keep asyncio's loop: they wait on the daemon.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory(*, use_uvloop: bool) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when asked for and installed; None (asyncio's own) otherwise."""
    if not use_uvloop:
        return None
    try:
        import uvloop
    except ImportError:  # a platform without its wheel: asyncio's loop does the same, slower
        return None
    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], *, use_uvloop: bool = True) -> T:
    """Run ``main`` to its end on a new loop (as ``asyncio.run`` does) and return its result."""
    with asyncio.Runner(loop_factory=loop_factory(use_uvloop=use_uvloop)) as runner:
        return runner.run(main)
