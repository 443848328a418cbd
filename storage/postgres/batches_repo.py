"""Batches on PostgreSQL: a batch and all its runs in one transaction, and progress counts.

The entries travel as arrays in one statement (``unnest``), and the runs are made by one
INSERT … SELECT that expands the trials and points each run at its test's current version, as the
SQLite store does with its temporary table.
"""

from __future__ import annotations

import json
from typing import Any

from callboard.core.models import Batch, BatchCounts, BatchStatus
from callboard.storage.batches_repo import BatchEntry, CreatedBatch, created_batch
from callboard.storage.errors import StoreError
from callboard.storage.postgres import outbox
from callboard.storage.postgres.access import PgAccess
from callboard.storage.rows import BATCH_COLUMNS, batch_from_row, counts_from_pairs
from callboard.storage.timestamps import now_text

# Batch creations take this transaction-scoped lock so that the ids of a batch's runs are consecutive
# (``run_ids`` relies on it), whichever other process creates a batch at the same time.
BATCH_CREATE_LOCK_KEY = 0x63616C6C62617463  # "callbatc"

_INSERT_RUNS = """
INSERT INTO runs (batch_id, test_id, test_name, test_version, kind, target, trial, priority, status,
                  skip_reason, max_attempts, queued_at, finished_at, version_id)
SELECT %(batch_id)s, tests.id, tests.name, tests.version, tests.kind, entry.target, trial.number,
       entry.priority + %(priority)s,
       CASE WHEN entry.skip_reason IS NULL THEN 'queued' ELSE 'skipped' END, entry.skip_reason,
       entry.max_attempts, %(now)s, CASE WHEN entry.skip_reason IS NULL THEN NULL ELSE %(now)s END,
       tests.version_id
FROM unnest(%(test_ids)s::bigint[], %(versions)s::int[], %(targets)s::text[], %(priorities)s::int[],
            %(trials)s::int[], %(skip_reasons)s::text[], %(max_attempts)s::int[])
     WITH ORDINALITY AS entry (test_id, version, target, priority, trials, skip_reason, max_attempts, ord)
JOIN tests ON tests.id = entry.test_id AND tests.version = entry.version
CROSS JOIN LATERAL generate_series(1, entry.trials) AS trial (number)
ORDER BY entry.ord, trial.number
RETURNING id, test_id, priority, status = 'queued'
"""


def _entry_arrays(entries: list[BatchEntry]) -> dict[str, list[Any]]:
    columns = ("test_ids", "versions", "targets", "priorities", "trials", "skip_reasons", "max_attempts")
    values: dict[str, list[Any]] = {column: [] for column in columns}
    for entry in entries:
        for column, value in zip(columns, entry.row, strict=True):
            values[column].append(value)
    return values


class PgBatchesRepo:
    """Batches and their progress counts."""

    def __init__(self, access: PgAccess) -> None:
        self._access = access

    async def create(
        self,
        label: str,
        source: str,
        priority: int,
        selector: dict[str, Any],
        entries: list[BatchEntry],
        schedule_id: int | None = None,
    ) -> CreatedBatch:
        """Insert a batch and one run per trial of each entry, in one transaction (see
        ``BatchesRepo.create``)."""
        now = now_text()
        async with self._access.transaction() as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (BATCH_CREATE_LOCK_KEY,))
            cursor = await conn.execute(
                "INSERT INTO batches (label, source, status, priority, selector, schedule_id, created_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (label, source, BatchStatus.RUNNING.value, priority, json.dumps(selector), schedule_id, now),
            )
            row = await cursor.fetchone()
            assert row is not None
            batch_id = int(row[0])
            params = {"batch_id": batch_id, "now": now, "priority": priority, **_entry_arrays(entries)}
            cursor = await conn.execute(_INSERT_RUNS, params)
            rows = await cursor.fetchall()
            if len(rows) != sum(entry.trials for entry in entries):
                raise StoreError(
                    "some tests were deleted or changed since they were selected; select them again"
                )
            # Every reader (each API daemon) learns of the queued runs from the outbox, at this commit.
            queued = [int(row[0]) for row in rows if row[3]]
            await outbox.append(conn, "runs_queued", {"batch_id": batch_id, "run_ids": queued})
        return created_batch(batch_id, label, source, priority, selector, schedule_id, now, rows)

    async def get(self, batch_id: int) -> Batch | None:
        """The batch with its counts, or None."""
        row = await self._access.fetchone(f"SELECT {BATCH_COLUMNS} FROM batches WHERE id = %s", (batch_id,))
        return None if row is None else batch_from_row(row, await self.counts(batch_id))

    async def list(
        self, limit: int = 50, before_id: int | None = None, status: BatchStatus | str | None = None
    ) -> list[Batch]:
        """Batches newest first, with counts (see ``BatchesRepo.list``)."""
        where: list[str] = []
        params: list[Any] = []
        if before_id is not None:
            where.append("id < %s")
            params.append(before_id)
        if status is not None:
            where.append("status = %s")
            params.append(BatchStatus(status).value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = await self._access.fetchall(
            f"SELECT {BATCH_COLUMNS} FROM batches {clause} ORDER BY id DESC LIMIT %s", (*params, limit)
        )
        ids = [row[0] for row in rows]
        pairs: dict[int, list[tuple[str, int]]] = {batch_id: [] for batch_id in ids}
        for batch_id, run_status, number in await self._access.fetchall(
            "SELECT batch_id, status, COUNT(*) FROM runs WHERE batch_id = ANY(%s) GROUP BY batch_id, status",
            (ids,),
        ):
            pairs[batch_id].append((run_status, number))
        return [batch_from_row(row, counts_from_pairs(pairs[row[0]])) for row in rows]

    async def counts(self, batch_id: int) -> BatchCounts:
        """How many runs of the batch are in each status."""
        rows = await self._access.fetchall(
            "SELECT status, COUNT(*) FROM runs WHERE batch_id = %s GROUP BY status", (batch_id,)
        )
        return counts_from_pairs((status, int(number)) for status, number in rows)

    async def mark_finished(self, batch_id: int, status: BatchStatus | str = BatchStatus.FINISHED) -> bool:
        """Record that the batch ended ('finished' or 'cancelled'); False if there is no such batch."""
        status = BatchStatus(status)
        if status is BatchStatus.RUNNING:
            raise ValueError("a batch is marked finished or cancelled, not running")
        async with self._access.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE batches SET status = %s, finished_at = %s WHERE id = %s",
                (status.value, now_text(), batch_id),
            )
            return cursor.rowcount == 1
