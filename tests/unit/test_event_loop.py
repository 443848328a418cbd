"""The daemon's and workers' event loop: uvloop's unless turned off."""

from __future__ import annotations

import asyncio

from callboard.core.execution import event_loop


async def _loop_module() -> str:
    await asyncio.sleep(0)
    return type(asyncio.get_running_loop()).__module__


def test_the_loop_is_uvloops_and_asyncios_when_turned_off() -> None:
    assert event_loop.run(_loop_module()).startswith("uvloop")
    assert event_loop.run(_loop_module(), use_uvloop=False).startswith("asyncio")
