"""``/v1/queue``: what is running and queued, at what rate; pause, resume, cancel everything."""

from __future__ import annotations

from fastapi import APIRouter

from callboard.core.api.deps import Daemon
from callboard.core.models import BatchStatus
from callboard.core.models.api import CancelResult, QueueStatus

router = APIRouter(prefix="/v1/queue", tags=["queue"])
# The monitor shows the running batches; past this many the oldest are left out.
_ACTIVE_BATCHES = 50


async def queue_status(daemon: Daemon) -> QueueStatus:
    """The engine's figures plus the batches still running."""
    await daemon.engine.filled()
    status = daemon.engine.status()
    status.active_batches = await daemon.store.batches.list(limit=_ACTIVE_BATCHES, status=BatchStatus.RUNNING)
    return status


@router.get("", response_model=QueueStatus)
async def get_queue(daemon: Daemon) -> QueueStatus:
    """Running, queued, paused, rate, ETA, limit usage, the runs executing now and the active batches."""
    return await queue_status(daemon)


@router.post("/pause", response_model=QueueStatus)
async def pause(daemon: Daemon) -> QueueStatus:
    """Start no new runs (running ones go on)."""
    daemon.engine.pause()
    return await queue_status(daemon)


@router.post("/resume", response_model=QueueStatus)
async def resume(daemon: Daemon) -> QueueStatus:
    """Start runs again."""
    daemon.engine.resume()
    return await queue_status(daemon)


@router.post("/cancel", response_model=CancelResult)
async def cancel_everything(daemon: Daemon) -> CancelResult:
    """Cancel every queued and running run of every batch."""
    cancelled = 0
    for batch in await daemon.store.batches.list(limit=100_000, status=BatchStatus.RUNNING):
        cancelled += await daemon.engine.cancel_batch(batch.id)
    return CancelResult(cancelled=cancelled)
