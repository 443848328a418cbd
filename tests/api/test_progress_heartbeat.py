"""While a long run goes on and no run ends, the batch's progress (and a fresh ETA) still goes out on the
event stream, so followers (``run --wait``, the TUI) never sit on a frozen ETA."""

from __future__ import annotations

import asyncio

from callboard.core.client import CallboardClient
from callboard.core.models.api import BatchRequest
from callboard.core.models.events import BatchProgress
from tests.api.conftest import DaemonProcess

SUITE = [
    *({"name": f"quick-{i}", "kind": "command", "tags": ["mix"], "command": "true"} for i in range(3)),
    {"name": "long-one", "kind": "command", "tags": ["mix"], "command": "sleep 30", "timeout_s": 60},
]


async def test_progress_keeps_coming_while_a_long_run_goes_on(daemon: DaemonProcess) -> None:
    async with CallboardClient(daemon.paths.socket) as client:
        await client.import_tests(tests=SUITE)
        after = (await client.queue()).last_event_id
        created = await client.create_batch(BatchRequest(tags=["mix"]))
        batch_id = created.batch.id

        async def beats() -> list[BatchProgress]:
            seen: list[BatchProgress] = []
            stream = client.events(last_id=after, types=("batch.progress",), batch_id=batch_id)
            async for event in stream:
                if isinstance(event, BatchProgress) and event.done == 3:
                    seen.append(event)  # the quick runs are done; only the long one goes on
                    if len(seen) == 3:
                        return seen
            return seen

        seen = await asyncio.wait_for(beats(), 30)
        assert all(event.eta_s is not None and event.eta_s >= 1.0 for event in seen)
        await client.cancel_batch(batch_id)
