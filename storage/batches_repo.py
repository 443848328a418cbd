"""Batches: creating one with all its runs in a single transaction, and reading progress."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple

import aiosqlite

from callboard.core.models import Batch, BatchCounts, BatchStatus, StoredTest
from callboard.storage.errors import StoreError
from callboard.storage.rows import BATCH_COLUMNS, batch_from_row, counts_from_pairs
from callboard.storage.timestamps import now_text
from callboard.storage.transactions import WriteGate

# The runs of a batch are made inside SQLite: the entries go into a temporary table (one row per test),
# then one INSERT … SELECT expands the trials and points each run at its test's current version
# (tests.version_id, kept by triggers on tests) instead of copying the definition: several times faster
# than a Python tuple per run. Joining on the version number makes sure each run refers to the very
# definition the caller selected. The statement starts with INSERT (the CTE follows it) because Python
# 3.11's sqlite3 reports no rowcount for a statement starting with WITH. RETURNING hands back each run
# made, with its priority as summed here, so no caller adds priorities again or guesses ids from order.
_CREATE_ENTRIES = """
CREATE TEMP TABLE IF NOT EXISTS batch_entry (
    test_id INTEGER NOT NULL, version INTEGER NOT NULL, target TEXT NOT NULL, priority INTEGER NOT NULL,
    trials INTEGER NOT NULL, skip_reason TEXT, max_attempts INTEGER NOT NULL
)
"""
_INSERT_ENTRY = "INSERT INTO temp.batch_entry VALUES (?, ?, ?, ?, ?, ?, ?)"
_INSERT_RUNS = """
INSERT INTO runs (batch_id, test_id, test_name, test_version, kind, target, trial, priority, status,
                  skip_reason, max_attempts, queued_at, finished_at, version_id)
WITH RECURSIVE trial (number) AS (
    SELECT 1 UNION ALL SELECT number + 1 FROM trial WHERE number < (SELECT MAX(trials) FROM temp.batch_entry)
)
SELECT :batch_id, tests.id, tests.name, tests.version, tests.kind, entry.target, trial.number,
       entry.priority + :priority,
       IIF(entry.skip_reason IS NULL, 'queued', 'skipped'), entry.skip_reason, entry.max_attempts, :now,
       IIF(entry.skip_reason IS NULL, NULL, :now), tests.version_id
FROM temp.batch_entry AS entry
JOIN tests ON tests.id = entry.test_id AND tests.version = entry.version
JOIN trial ON trial.number <= entry.trials
ORDER BY entry.rowid, trial.number
RETURNING id, test_id, priority, status = 'queued'
"""


@dataclass(frozen=True)
class BatchEntry:
    """One test of a batch: how many trials, and why it is skipped (if it is)."""

    test: StoredTest
    trials: int = 1
    skip_reason: str | None = None
    max_attempts: int = 1

    def __post_init__(self) -> None:
        if self.trials < 1 or self.max_attempts < 1:
            raise ValueError(f"test {self.test.name!r}: trials and max_attempts must be at least 1")

    @cached_property
    def row(self) -> tuple[Any, ...]:
        """The entry as a row of the temporary batch_entry table (its priority is the test's own; the
        batch's is added in SQL). Kept, as entries are reused across batches."""
        definition = self.test.outline
        return (
            self.test.id,
            self.test.version,
            definition.target(),
            definition.priority,
            self.trials,
            self.skip_reason,
            self.max_attempts,
        )


class CreatedRun(NamedTuple):
    """A run that batch creation made: its id, its test, its priority (the batch's plus the test's) and
    whether it is queued (or skipped). A tuple: a big batch makes ten thousand of them."""

    id: int
    test_id: int
    priority: int
    queued: bool


@dataclass(frozen=True)
class CreatedBatch:
    """A new batch and its runs, in id order (the order they were made: entry by entry, trial by trial).

    The runs are made from the rows the insert returned when first read: queueing answers its caller
    with the batch alone, and fills the engine's queue from the runs just after.
    """

    batch: Batch
    rows: Sequence[Sequence[Any]]  # (id, test id, priority, queued), as the insert returned them

    @cached_property
    def runs(self) -> list[CreatedRun]:
        """The runs made, in id order."""
        return sorted(CreatedRun(int(row[0]), int(row[1]), int(row[2]), bool(row[3])) for row in self.rows)


def created_batch(
    batch_id: int,
    label: str,
    source: str,
    priority: int,
    selector: dict[str, Any],
    schedule_id: int | None,
    created_at: str,
    rows: Sequence[Sequence[Any]],
) -> CreatedBatch:
    """A just-made batch and its runs from the rows its insert returned (id, test id, priority, queued):
    what ``create`` answers on either backend."""
    skipped = sum(not row[3] for row in rows)
    total = len(rows)
    batch = Batch(
        id=batch_id,
        label=label,
        source=source,
        status=BatchStatus.RUNNING,
        priority=priority,
        created_at=datetime.fromisoformat(created_at),
        selector=selector,
        schedule_id=schedule_id,
        counts=BatchCounts(total=total, queued=total - skipped, skipped=skipped),
    )
    return CreatedBatch(batch, rows)


class BatchesRepo:
    """Batches and their progress counts."""

    def __init__(self, reads: aiosqlite.Connection, gate: WriteGate) -> None:
        self._reads = reads
        self._gate = gate

    async def create(
        self,
        label: str,
        source: str,
        priority: int,
        selector: dict[str, Any],
        entries: list[BatchEntry],
        schedule_id: int | None = None,
    ) -> CreatedBatch:
        """Insert a batch and one run per trial of each entry, in one transaction; return both.

        Runs are 'queued', or 'skipped' (finished at once) when the entry has a skip reason. Each run's
        priority is the batch's plus the test's. Raises StoreError, and writes nothing, when a test was
        deleted or changed since it was read.
        """
        now = now_text()
        async with self._gate.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO batches (label, source, status, priority, selector, schedule_id, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (label, source, BatchStatus.RUNNING.value, priority, json.dumps(selector), schedule_id, now),
            )
            batch_id = cursor.lastrowid
            assert batch_id is not None  # an INSERT always sets it
            await conn.execute(_CREATE_ENTRIES)
            await conn.executemany(_INSERT_ENTRY, [entry.row for entry in entries])
            cursor = await conn.execute(
                _INSERT_RUNS, {"batch_id": batch_id, "now": now, "priority": priority}
            )
            rows = list(await cursor.fetchall())
            await conn.execute("DELETE FROM temp.batch_entry")
            if len(rows) != sum(entry.trials for entry in entries):
                raise StoreError(
                    "some tests were deleted or changed since they were selected; select them again"
                )
        return created_batch(batch_id, label, source, priority, selector, schedule_id, now, rows)

    async def get(self, batch_id: int) -> Batch | None:
        """The batch with its counts, or None."""
        async with self._reads.execute(
            f"SELECT {BATCH_COLUMNS} FROM batches WHERE id = ?", (batch_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else batch_from_row(row, await self.counts(batch_id))

    async def list(
        self, limit: int = 50, before_id: int | None = None, status: BatchStatus | str | None = None
    ) -> list[Batch]:
        """Batches newest first, with counts, optionally only those in ``status``; pass the last id seen
        as ``before_id`` for the next page."""
        where: list[str] = []
        params: list[Any] = []
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        if status is not None:
            where.append("status = ?")
            params.append(BatchStatus(status).value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        async with self._reads.execute(
            f"SELECT {BATCH_COLUMNS} FROM batches {clause} ORDER BY id DESC LIMIT ?", (*params, limit)
        ) as cursor:
            rows = list(await cursor.fetchall())
        ids = [row[0] for row in rows]
        async with self._reads.execute(
            "SELECT batch_id, status, COUNT(*) FROM runs WHERE batch_id IN (SELECT value FROM json_each(?))"
            " GROUP BY batch_id, status",
            (json.dumps(ids),),
        ) as cursor:
            pairs: dict[int, list[tuple[str, int]]] = {batch_id: [] for batch_id in ids}
            for batch_id, status, number in await cursor.fetchall():
                pairs[batch_id].append((status, number))
        return [batch_from_row(row, counts_from_pairs(pairs[row[0]])) for row in rows]

    async def counts(self, batch_id: int) -> BatchCounts:
        """How many runs of the batch are in each status."""
        async with self._reads.execute(
            "SELECT status, COUNT(*) FROM runs WHERE batch_id = ? GROUP BY status", (batch_id,)
        ) as cursor:
            return counts_from_pairs(await cursor.fetchall())

    async def mark_finished(self, batch_id: int, status: BatchStatus | str = BatchStatus.FINISHED) -> bool:
        """Record that the batch ended ('finished' or 'cancelled'); False if there is no such batch."""
        status = BatchStatus(status)
        if status is BatchStatus.RUNNING:
            raise ValueError("a batch is marked finished or cancelled, not running")
        async with self._gate.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE batches SET status = ?, finished_at = ? WHERE id = ?",
                (status.value, now_text(), batch_id),
            )
            return cursor.rowcount == 1
