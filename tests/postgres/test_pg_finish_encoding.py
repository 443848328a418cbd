"""One encoding of results: a run a worker finishes under its lease (``leases.finish``) is stored
exactly as one the daemon's result writer finishes (``storage.writer.finish_params``), on a real server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from psycopg import AsyncConnection

from callboard.core.models import CheckResult, RunResult, RunStatus, TranscriptEntry
from callboard.storage.postgres import leases
from callboard.storage.postgres.queue import claim, label
from callboard.storage.postgres.store import PgStore
from tests.postgres.queue_rows import queue_runs
from tests.storage.conformance.helpers import queue

RESULT = RunResult(
    status=RunStatus.FAILED,
    checks=[
        CheckResult(name="status", passed=True, expected=200, actual=200),
        CheckResult(name="contains", passed=False, expected="help", actual="bye", message="no", weight=2),
    ],
    metrics={"latency_ms": 12.5, "turns": 3},
    transcript=[
        TranscriptEntry(speaker="agent", text="hello [b]there[/b]", start=0.5),
        TranscriptEntry(speaker="user", text="hi"),
    ],
    artifacts={"recording": "runs/1.wav"},
    error_kind="check",
    error_message="a check did not hold",
)
_COLUMNS = (
    "status, duration_ms, score, checks, labels_id, metrics, transcript, artifacts,"
    " error_kind, error_message, skip_reason"
)


async def _stored(db: AsyncConnection, run_id: int) -> tuple[object, ...]:
    cursor = await db.execute(f"SELECT {_COLUMNS} FROM runs WHERE id = %s", (run_id,))
    row = await cursor.fetchone()
    assert row is not None
    return tuple(row)


async def test_a_workers_finish_stores_what_the_writer_stores(db: AsyncConnection, pg_url: str) -> None:
    store = await PgStore.open(pg_url)
    writer = await store.start_writer(1.0, 0)
    try:
        _, (by_worker, by_writer) = await queue(store, ["a", "b"])
        assert await label(db, lambda version, definition: ("kind:http",)) == 2
        [taken] = await claim(db, "w", 1)
        assert taken.run_id == by_worker
        assert await leases.finish(db, taken.lease(), RESULT, 40.0)
        now = datetime.now(UTC)
        assert await writer.mark_started(by_writer, 1, now)
        assert await writer.finish(by_writer, 1, RESULT, now, 40.0)
        worker_run, writer_run = await store.runs.get(by_worker), await store.runs.get(by_writer)
    finally:
        await writer.close()
        await store.close()
    assert await _stored(db, by_worker) == await _stored(db, by_writer)
    assert worker_run is not None and writer_run is not None
    assert worker_run.checks == writer_run.checks == RESULT.checks
    assert worker_run.transcript == RESULT.transcript and worker_run.score == writer_run.score
    assert worker_run.finished_at is not None


async def test_a_result_that_is_not_final_is_refused_and_nothing_is_written(db: AsyncConnection) -> None:
    [run_id] = await queue_runs(db, 1)
    [taken] = await claim(db, "w", 1)
    with pytest.raises(ValueError, match="final status"):
        await leases.finish(db, taken.lease(), RunResult(status=RunStatus.RUNNING), 1.0)
    cursor = await db.execute("SELECT status FROM runs WHERE id = %s", (run_id,))
    assert await cursor.fetchone() == ("running",)
