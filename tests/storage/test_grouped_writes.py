"""A commit's starts and finishes as multi-row statements: the same outcome as one statement each."""

from __future__ import annotations

import asyncio
import math
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callboard.core.models import CheckResult, RunResult, RunStatus
from callboard.storage import ResultWriter, Store
from callboard.storage.grouped_writes import GroupedStatement, apply_grouped
from callboard.storage.writer import PendingWrite

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
PASSED = RunResult(
    status=RunStatus.PASSED,
    checks=[CheckResult(name="status", passed=True, expected=200, actual=200)],
    metrics={"latency_ms": 20.5},
)
ERROR = RunResult(status=RunStatus.ERROR, error_kind="connection", error_message="refused")
FAILED = RunResult(
    status=RunStatus.FAILED,
    checks=[
        CheckResult(name="status", passed=True, expected=200, actual=200),
        CheckResult(name="reply", passed=False, expected="contains 'help'", actual="nope", message="no"),
    ],
)

# A toy table and statement, to watch the gathering itself.
_SET = "UPDATE items SET state = ? WHERE id = ? AND state = 'new'"
_SET_MANY = GroupedStatement(
    """
UPDATE items SET state = json_extract(r.value, '$[0]') FROM json_each(?) AS r
WHERE items.id = json_extract(r.value, '$[1]') AND +items.state = 'new' RETURNING items.id
""",
    run_id_at=1,
)
_RESET = "UPDATE items SET state = 'new' WHERE id = ?"


def _one(conn: sqlite3.Connection, op: PendingWrite) -> bool:
    return conn.execute(op.sql, op.params).rowcount == 1


async def test_gathered_ops_apply_as_one_statement_each_and_barriers_keep_their_place() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, state TEXT)")
    conn.executemany("INSERT INTO items VALUES (?, 'new')", [(i,) for i in range(1, 7)])
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    future = asyncio.get_running_loop().create_future()

    def op(sql: str, *params: Any) -> PendingWrite:
        return PendingWrite(sql, params, returns_ids=False, future=future)

    ops = [
        op(_SET, "a", 1),
        op(_SET, "b", 2),
        op(_SET, float("nan"), 6),  # no JSON for a NaN: its group goes one at a time
        op(_RESET, 1),  # a barrier: the gathered ops before it run first
        op(_SET, "c", 1),  # 'new' again, after the barrier
        op(_SET, "d", 3),
        op(_SET, "e", 3),  # the same item twice: the first applies, then this one finds it taken
        op(_SET, "f", 2),  # already 'b'
    ]
    conn.execute("BEGIN")
    results = apply_grouped(conn, ops, {_SET: _SET_MANY}, _one)
    conn.execute("COMMIT")

    assert results == [True, True, True, True, True, True, False, False]
    rows = dict(conn.execute("SELECT id, state FROM items").fetchall())
    assert rows == {1: "c", 2: "b", 3: "d", 4: "new", 5: "new", 6: None}  # SQLite keeps a NaN as NULL
    updates = [s for s in statements if s.lstrip().startswith("UPDATE")]
    # a, b, nan one at a time (3); the reset; then c+d together, and e+f after the repeat closes it.
    assert len(updates) == 6


async def _apply_all(path: Path, ids: list[int], *, max_ops: int) -> list[Any]:
    """The same ops, all sent before the first commit; ``max_ops=1`` commits each alone."""
    writer = await ResultWriter.start(path, tick_ms=50.0, max_ops=max_ops)

    async def start(run_id: int, attempt: int) -> bool:
        # A coroutine like the others, so every op is sent in the order gather starts them.
        return await writer.mark_started(run_id, attempt, NOW)

    try:
        first = await asyncio.gather(*(start(run_id, 1) for run_id in ids[4:]))
        r = ids
        results = await asyncio.gather(
            start(r[0], 1),
            start(r[5], 1),  # running already, gathered with other starts
            writer.finish(r[4], 1, PASSED, NOW, 12.5),
            start(r[1], 2),
            writer.finish(r[5], 2, PASSED, NOW, 1.0),  # a stale attempt
            start(r[4], 1),  # running already
            writer.finish(r[6], 1, FAILED, NOW, 30.25),  # other labels
            writer.finish(r[8], 1, ERROR, NOW, None),  # no checks, so no labels
            writer.finish(r[2], 1, PASSED, NOW, 1.0),  # still queued
            writer.cancel_queued([r[3]]),  # a barrier
            start(r[3], 1),  # cancelled just before
            writer.finish(r[7], 1, PASSED, NOW, math.inf),  # no JSON for it: one at a time
            writer.finish(r[4], 1, FAILED, NOW, 2.0),  # finished just before
        )
        return [first, results]
    finally:
        await writer.close()


def _state(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        runs = [dict(row) for row in conn.execute("SELECT * FROM runs ORDER BY id")]
        for run in runs:
            if run["status"] == "cancelled":
                run["finished_at"] = None  # the time of the cancel itself
        return {
            "runs": runs,
            "labels": conn.execute("SELECT labels, uses FROM check_labels ORDER BY labels").fetchall(),
            "judged": conn.execute("SELECT * FROM judged_runs ORDER BY run_id").fetchall(),
            "last": conn.execute("SELECT * FROM test_last_runs ORDER BY test_id").fetchall(),
        }
    finally:
        conn.close()


async def test_a_gathered_commit_leaves_what_one_statement_each_leaves(
    store: Store, queue_runs: Any, tmp_path: Path
) -> None:
    ids = await queue_runs(count=9)
    await store.close()
    one_each = tmp_path / "one_each.db"
    shutil.copy(store.path, one_each)

    gathered = await _apply_all(store.path, ids, max_ops=2000)
    alone = await _apply_all(one_each, ids, max_ops=1)

    assert gathered == alone
    starts_and_finishes = [True, False, True, True, False, False, True, True, False]
    assert gathered[1] == [*starts_and_finishes, [ids[3]], False, True, False]
    assert _state(store.path) == _state(one_each)
    assert {run["status"] for run in _state(store.path)["runs"]} == {
        "queued",
        "running",
        "passed",
        "failed",
        "cancelled",
        "error",
    }
