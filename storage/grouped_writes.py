"""One commit's starts and finishes as two multi-row statements instead of one statement each.

Why: sqlite3 lets the GIL go while SQLite works and the writer thread must take it back after every
statement; while the event loop is busy each time is a wait. Measured on a 4,180-run batch: the
writer spent 1.0-1.2 s in its commits but 0.31-0.37 s of CPU. Grouped, a commit is a handful of
statements whatever its size; throughput (same process, batches alternating) rose 1.5 % alone and
13 % with the larger start-ahead buffer, whose commits are bigger (core/engine/start_ahead.py).

Which ops gather: those whose statement has a grouped form (the writer's start and finish). Starts
and finishes of different runs commute (a start needs the run queued; a finish needs it running at
its own attempt, and is sent only once that attempt's start has committed), so they are gathered from
anywhere up to the next other op. Every other op is a barrier: what was gathered before it runs
first, then it runs alone, in order. A run met twice closes the gathering too, so each run is in a
group once and the ids a grouped statement returns say which of its ops applied.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callboard.storage.writer import PendingWrite

OneOp = Callable[[sqlite3.Connection, "PendingWrite"], Any]
_ROWS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True, slots=True)
class GroupedStatement:
    """The multi-row form of a guarded one-row statement: its one parameter is a JSON array of the
    one-row statement's parameter lists; it returns the ids of the runs it changed."""

    sql: str
    run_id_at: int  # where the run's id is among the one-row statement's parameters


def apply_grouped(
    conn: sqlite3.Connection,
    ops: list[PendingWrite],
    grouped: Mapping[str, GroupedStatement],
    one: OneOp,
) -> list[Any]:
    """Run ``ops`` in ``conn``'s open transaction, gathering those with a grouped form; each op's
    outcome, in order (``one`` runs an op alone and gives its outcome)."""
    results: list[Any] = [None] * len(ops)
    gathered: dict[str, list[int]] = {}  # one-row statement -> indexes of its ops
    runs: set[Any] = set()

    def flush() -> None:
        for sql, indexes in gathered.items():
            outcomes = _run_group(conn, [ops[index] for index in indexes], grouped[sql], one)
            for index, outcome in zip(indexes, outcomes, strict=True):
                results[index] = outcome
        gathered.clear()
        runs.clear()

    for index, op in enumerate(ops):
        group = grouped.get(op.sql)
        if group is None:
            flush()
            results[index] = one(conn, op)
            continue
        run_id = op.params[group.run_id_at]
        if run_id in runs:
            flush()
        runs.add(run_id)
        gathered.setdefault(op.sql, []).append(index)
    flush()
    return results


def _run_group(
    conn: sqlite3.Connection, ops: list[PendingWrite], group: GroupedStatement, one: OneOp
) -> list[bool]:
    if len(ops) == 1:
        return [one(conn, ops[0])]
    try:
        rows = _ROWS.encode([op.params for op in ops])
    except ValueError:  # a NaN or an infinity, which JSON cannot carry: one at a time, as bound values
        return [one(conn, op) for op in ops]
    for prelude in dict.fromkeys(op.prelude for op in ops if op.prelude is not None):
        conn.execute(*prelude)
    applied = {row[0] for row in conn.execute(group.sql, (rows,))}
    return [op.params[group.run_id_at] in applied for op in ops]
