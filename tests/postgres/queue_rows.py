"""Queueing runs straight into a migrated database, as batch creation does, for the queue tests."""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection

NOW = "2026-01-01T00:00:00.000000+00:00"


async def queue_runs(
    conn: AsyncConnection,
    count: int,
    *,
    kind: str = "http",
    priority: int = 0,
    keys: Sequence[str] = (),
    max_attempts: int = 1,
) -> list[int]:
    """Queue ``count`` runs in a new batch, labelled with ``keys`` (default: their kind's), and return
    their ids in order."""
    cursor = await conn.execute(
        "INSERT INTO batches (label, source, created_at) VALUES ('t', 'test', %s) RETURNING id", (NOW,)
    )
    row = await cursor.fetchone()
    assert row is not None
    cursor = await conn.execute(
        "INSERT INTO runs (batch_id, test_name, test_version, kind, priority, status, max_attempts,"
        " queued_at, limit_keys)"
        " SELECT %s, 'test-' || n, 1, %s, %s, 'queued', %s, %s, %s::text[] FROM generate_series(1, %s) AS n"
        " ORDER BY n RETURNING id",
        (row[0], kind, priority, max_attempts, NOW, list(keys) or [f"kind:{kind}"], count),
    )
    return sorted(int(r[0]) for r in await cursor.fetchall())


async def statuses(conn: AsyncConnection, run_ids: Sequence[int]) -> dict[int, str]:
    """The status of each of ``run_ids``."""
    cursor = await conn.execute("SELECT id, status FROM runs WHERE id = ANY(%s)", (list(run_ids),))
    return {int(r[0]): str(r[1]) for r in await cursor.fetchall()}
