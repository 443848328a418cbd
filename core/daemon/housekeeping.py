"""The daemon's housekeeping: pruning history by the retention settings, on a schedule."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from callboard.core.config import RetentionSettings
from callboard.core.scheduling.service import ScheduleService
from callboard.storage.interface import StoreBackend
from callboard.storage.retention import PruneResult

log = logging.getLogger(__name__)


async def prune_history(store: StoreBackend, days: float | None, max_runs: int | None) -> PruneResult:
    """Prune batches older than ``days`` and beyond ``max_runs`` runs; logs what went."""
    older_than = None if days is None else datetime.now(UTC) - timedelta(days=days)
    result = await store.retention.prune(older_than, max_runs)
    if result.batches:
        log.info("pruned %d batches (%d runs)", result.batches, result.runs)
    return result


def schedule_retention(schedules: ScheduleService, store: StoreBackend, retention: RetentionSettings) -> None:
    """Prune every ``retention.interval_h`` hours when a limit is set."""
    if retention.days is None and retention.max_runs is None:
        return

    async def run() -> None:
        await prune_history(store, retention.days, retention.max_runs)

    schedules.every(retention.interval_h, run, "retention")
