"""Making a batch from a selection, the same for every engine: choose the tests, plan each one's runs
(or why it is skipped), and create the batch with its runs in the store."""

from __future__ import annotations

from dataclasses import dataclass

from callboard.core.engine.planner import BatchPlanner
from callboard.core.engine.selection import choose
from callboard.core.models import Batch
from callboard.core.models.selection import BatchOptions, Selection
from callboard.core.wording import shorten
from callboard.storage.batches_repo import BatchEntry, CreatedBatch
from callboard.storage.interface import StoreBackend


@dataclass(frozen=True)
class Submitted:
    """A batch just queued, and the tests skipped in it with their reasons."""

    batch: Batch
    skipped: dict[str, str]


@dataclass(frozen=True)
class NewBatch:
    """A batch just created: what was planned, and what the store made of it."""

    entries: list[BatchEntry]
    created: CreatedBatch

    @property
    def submitted(self) -> Submitted:
        """The caller's answer: the batch and the tests skipped in it."""
        skipped = {e.test.name: e.skip_reason for e in self.entries if e.skip_reason is not None}
        return Submitted(batch=self.created.batch, skipped=skipped)


async def create_batch(
    store: StoreBackend,
    planner: BatchPlanner,
    selection: Selection,
    options: BatchOptions,
    *,
    label: str,
    source: str,
    schedule_id: int | None,
) -> NewBatch:
    """Create a batch of the selected tests with its runs (raises SelectionError)."""
    chosen = choose(await store.tests.list(), selection)
    entries = [planner.entry(test, options.repeat) for test in chosen]
    created = await store.batches.create(
        label or batch_label(selection),
        source,
        options.priority,
        selection.as_dict(),
        entries,
        schedule_id,
    )
    return NewBatch(entries, created)


def batch_label(selection: Selection) -> str:
    """A batch's label when none is given: what it selected."""
    if selection.all:
        return "all tests"
    parts = [*selection.names, *(f"#{i}" for i in selection.ids), *(f"tag:{t}" for t in selection.tags)]
    return shorten(", ".join(parts), 80)
