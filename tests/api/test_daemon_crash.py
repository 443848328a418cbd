"""kill -9 the daemon in the middle of a batch, start it again: nothing lost, nothing finished twice,
and a client on the event stream reconnects by itself and is told to re-sync."""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
from pathlib import Path

from callboard.core.client import CallboardClient
from callboard.core.demo.process import demo_agent_process
from callboard.core.models.api import BatchRequest
from callboard.core.models.events import EventsReset, RunFinished
from tests.api.conftest import http_tests, start_daemon_process

RUNS = 300


async def test_kill_9_mid_batch_then_restart(tmp_path: Path) -> None:
    state = tmp_path / "state"
    settings = {"ENGINE__CONCURRENCY": "4"}
    daemon = start_daemon_process(state, **settings)
    finished: list[int] = []
    resets = 0
    with demo_agent_process(latency_ms=15) as url:
        async with CallboardClient(daemon.paths.socket) as client:
            await client.import_tests(tests=http_tests(url, RUNS))
            start = (await client.queue()).last_event_id
            batch = (await client.create_batch(BatchRequest(all=True))).batch

            async def listen() -> None:
                nonlocal resets
                async for event in client.events(last_id=start):
                    if isinstance(event, RunFinished):
                        finished.append(event.run_id)
                    elif isinstance(event, EventsReset):
                        resets += 1

            listener = asyncio.create_task(listen())
            rng = random.Random(7)
            for _ in range(2):
                await asyncio.sleep(rng.uniform(0.3, 0.8))
                daemon.stop(signal.SIGKILL)
                daemon = start_daemon_process(state, **settings)
            for _ in range(1200):
                current = await client.get_batch(batch.id)
                if current.status != "running":
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # let the last events arrive
            listener.cancel()
    daemon.stop()
    assert current.counts.passed == RUNS, current.counts
    assert len(finished) == len(set(finished)), "a run was announced as finished twice"
    assert resets >= 1, "the client was not told to re-sync after the restart"
    with sqlite3.connect(state / "callboard.db") as db:
        statuses = dict(db.execute("SELECT status, COUNT(*) FROM runs GROUP BY status").fetchall())
        assert statuses == {"passed": RUNS}
        assert db.execute("SELECT COUNT(DISTINCT test_id) FROM runs").fetchone()[0] == RUNS
        # Runs that were running at a kill came back at the next attempt: the kills did land mid-batch.
        assert db.execute("SELECT MAX(attempt) FROM runs").fetchone()[0] >= 1
