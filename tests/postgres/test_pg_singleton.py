"""The advisory-lock singleton against a real server: one holder, takeover when the holder dies."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable

from psycopg import AsyncConnection

from callboard.storage.postgres.singleton import Singleton, lock_key

HOLDER = """
import asyncio, sys
from callboard.storage.postgres.singleton import Singleton

async def main():
    holder = Singleton(sys.argv[1], "scheduler", poll_s=0.1)
    assert await holder.try_acquire()
    print("held", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_only_one_process_holds_a_role(db: AsyncConnection, pg_url: str) -> None:
    first, second = Singleton(pg_url, "scheduler"), Singleton(pg_url, "scheduler")
    other_role = Singleton(pg_url, "retention")
    try:
        assert await first.try_acquire()
        assert not await second.try_acquire()
        assert await first.try_acquire()  # holding it already
        assert await other_role.try_acquire()  # roles are independent
        await first.release()
        assert await second.try_acquire()
        assert not await first.try_acquire()
    finally:
        for holder in (first, second, other_role):
            await holder.release()
    assert lock_key("scheduler") == lock_key("scheduler") != lock_key("retention")


async def test_another_process_takes_over_when_the_holder_is_killed(db: AsyncConnection, pg_url: str) -> None:
    process = subprocess.Popen([sys.executable, "-c", HOLDER, pg_url], stdout=subprocess.PIPE, text=True)
    standby = Singleton(pg_url, "scheduler", poll_s=0.05)
    took_over = asyncio.Event()

    async def work() -> None:
        took_over.set()
        await asyncio.sleep(3600)

    assert process.stdout is not None
    assert await asyncio.to_thread(process.stdout.readline) == "held\n"
    runner = asyncio.create_task(standby.run(work))
    try:
        await asyncio.sleep(0.3)  # the standby polls meanwhile, and must not get the role
        assert not took_over.is_set() and not standby.held
        os.kill(process.pid, signal.SIGKILL)
        await asyncio.wait_for(took_over.wait(), timeout=30)
        assert standby.held
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        process.kill()
        process.wait()
    assert not standby.held


async def test_a_holder_whose_session_dies_stops_its_work(db: AsyncConnection, pg_url: str) -> None:
    holders = {name: Singleton(pg_url, "scheduler", poll_s=0.05) for name in ("first", "standby")}
    starts = {"first": 0, "standby": 0}
    changed = asyncio.Event()
    stopped = asyncio.Event()

    def work_of(name: str) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            starts[name] += 1
            changed.set()
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                stopped.set()
                raise

        return work

    first = asyncio.create_task(holders["first"].run(work_of("first")))
    await asyncio.wait_for(changed.wait(), timeout=30)
    changed.clear()
    second = asyncio.create_task(holders["standby"].run(work_of("standby")))
    try:
        await asyncio.sleep(0.2)
        assert starts == {"first": 1, "standby": 0}
        cursor = await db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
        )
        assert await cursor.fetchall() == [(True,)]
        await asyncio.wait_for(stopped.wait(), timeout=30)  # the old holder noticed and stopped its work
        await asyncio.wait_for(changed.wait(), timeout=30)  # and the role was taken again, by one of them
        assert sum(starts.values()) == 2
        assert [holder.held for holder in holders.values()].count(True) == 1
    finally:
        for task in (first, second):
            task.cancel()
        await asyncio.gather(first, second, return_exceptions=True)
