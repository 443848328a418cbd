"""A process that runs the engine until no run is left, logging every finish it saw committed.

Used by test_crash_recovery: it is killed with SIGKILL at random moments and started again.
Usage: python -m tests.engine.crash_worker DB LOG
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from callboard.core.engine.engine import Engine, EngineConfig
from callboard.core.executors.registry import build_executors, close_executors
from callboard.core.models.events import RunFinished
from callboard.core.models.selection import BatchOptions, Selection
from callboard.storage import Store
from callboard.storage.writer import ResultWriter


async def main(db: Path, log: Path) -> None:
    store = await Store.open(db)
    writer = await ResultWriter.start(db, tick_ms=2.0)
    executors = build_executors(max_http_connections=16)
    engine = Engine(store, writer, executors, EngineConfig(concurrency=16))
    with log.open("a") as out:

        async def record() -> None:
            async for event in engine.events.subscribe():
                if isinstance(event, RunFinished):
                    out.write(f"{event.run_id}\n")
                    out.flush()

        recorder = asyncio.create_task(record())
        await asyncio.sleep(0)
        await engine.start()
        if not await store.batches.list(limit=1):
            await engine.submit(Selection(all=True), BatchOptions(repeat=2))
        for batch in await store.batches.list(limit=100):
            await engine.wait_batch(batch.id)
        await engine.shutdown()
        recorder.cancel()
    await writer.close()
    await close_executors(executors)
    await store.close()
    print("drained", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
