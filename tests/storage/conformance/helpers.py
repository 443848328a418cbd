"""Small helpers of the conformance suite: queueing a batch through the interface."""

from __future__ import annotations

from callboard.core.models import Batch
from callboard.storage.batches_repo import BatchEntry
from callboard.storage.interface import StoreBackend
from tests.storage.conftest import http_test


async def queue(
    store: StoreBackend,
    names: list[str],
    trials: int = 1,
    max_attempts: int = 1,
    priority: int = 0,
    skip: dict[str, str] | None = None,
) -> tuple[Batch, list[int]]:
    """Queue a batch of tests ``names`` (importing those not stored yet); the batch and its run ids."""
    await store.tests.upsert_many([http_test(name) for name in names if await store.tests.get(name) is None])
    entries = []
    for name in names:
        test = await store.tests.get(name)
        assert test is not None
        entries.append(BatchEntry(test, trials, (skip or {}).get(name), max_attempts))
    created = await store.batches.create(f"batch of {len(names)}", "cli", priority, {"names": names}, entries)
    return created.batch, [run.id for run in created.runs]
