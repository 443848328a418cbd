"""Child process of the durability test: finishes runs through a ResultWriter as fast as it can and
prints each run id on its own line as soon as its result is acknowledged, until it is killed.

Usage: python writer_child.py DB_PATH FIRST_RUN_ID LAST_RUN_ID
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from callboard.core.models import CheckResult, RunResult, RunStatus
from callboard.storage import ResultWriter

RESULT = RunResult(status=RunStatus.PASSED, checks=[CheckResult(name="status", passed=True)])


async def main(path: Path, first: int, last: int) -> None:
    writer = await ResultWriter.start(path, tick_ms=2.0)
    now = datetime.now(UTC)

    async def run(run_id: int) -> None:
        # Spread the starts so that commits follow each other without pause: the kill then lands while
        # transactions are in flight, not between two bursts.
        await asyncio.sleep((run_id % 200) / 1000)
        await writer.mark_started(run_id, 1, now)
        if await writer.finish(run_id, 1, RESULT, now, 1.0):
            print(run_id, flush=True)

    await asyncio.gather(*(run(run_id) for run_id in range(first, last + 1)))
    await writer.close()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
