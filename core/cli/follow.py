"""Follow a batch on the event stream until it finishes, with a live progress bar."""

from __future__ import annotations

from rich.console import Console

from callboard.core.cli.run_display import BatchProgressBar
from callboard.core.client import CallboardClient
from callboard.core.models import Batch, BatchStatus
from callboard.core.models.events import BatchFinished, BatchProgress, EventsReset

_TYPES = ("batch.progress", "batch.finished")


async def follow_batch(client: CallboardClient, batch: Batch, after_event: int, console: Console) -> Batch:
    """Show the batch's progress from the events after ``after_event`` (read before it was queued, so
    none is missed); returns the finished batch."""
    bar = BatchProgressBar(console, batch.counts.total, batch.label)
    with bar.progress:
        # The stream replays every event after ``after_event``: a batch that was running when it was
        # read needs no second look before it is followed.
        current = batch
        bar.update_counts(current.counts)
        if current.status == BatchStatus.RUNNING:
            async for event in client.events(last_id=after_event, types=_TYPES, batch_id=batch.id):
                if isinstance(event, BatchProgress):
                    bar.update(event)
                elif isinstance(event, BatchFinished):
                    break
                elif isinstance(event, EventsReset):
                    # Events were lost (a long gap, a daemon restart): the API has the truth.
                    current = await client.get_batch(batch.id)
                    bar.update_counts(current.counts)
                    if current.status != BatchStatus.RUNNING:
                        break
        current = await client.get_batch(batch.id)
        bar.update_counts(current.counts)
    return current
