"""The PostgreSQL migration runner against a real server: the schema, idempotence, concurrent runs,
a newer database refused, and the triggers SQLite's 0002/0005 have."""

from __future__ import annotations

import asyncio

import pytest
from psycopg import AsyncConnection

from callboard.storage.errors import StoreError
from callboard.storage.postgres.connection import connect, describe, open_pool
from callboard.storage.postgres.migrations import LATEST_VERSION, migrate, schema_version
from callboard.storage.postgres.store import PgStore
from tests.pg_server import PostgresServer


async def test_migrate_creates_the_schema_once(pg_url: str) -> None:
    conn = await connect(pg_url)
    try:
        assert await schema_version(conn) == 0
        assert await migrate(conn) == LATEST_VERSION
        assert await migrate(conn) == LATEST_VERSION
        cursor = await conn.execute("SELECT COUNT(*) FROM callboard_schema")
        assert (await cursor.fetchone()) == (LATEST_VERSION,)
    finally:
        await conn.close()


async def test_two_processes_migrating_at_once_apply_each_file_once(pg_url: str) -> None:
    conns = [await AsyncConnection.connect(pg_url, autocommit=True) for _ in range(3)]
    try:
        versions = await asyncio.gather(*(migrate(conn) for conn in conns))
        assert versions == [LATEST_VERSION] * 3
        cursor = await conns[0].execute("SELECT version FROM callboard_schema ORDER BY version")
        assert [row[0] for row in await cursor.fetchall()] == list(range(1, LATEST_VERSION + 1))
    finally:
        for conn in conns:
            await conn.close()


async def test_a_newer_database_is_refused(pg_url: str) -> None:
    conn = await connect(pg_url)
    try:
        await migrate(conn)
        await conn.execute("INSERT INTO callboard_schema (version, name) VALUES (999, 'future')")
        with pytest.raises(StoreError, match="schema version 999"):
            await migrate(conn)
    finally:
        await conn.close()


async def test_triggers_keep_versions_tags_and_last_runs(pg_url: str) -> None:
    conn = await connect(pg_url)
    try:
        await migrate(conn)
        now = "2026-01-01T00:00:00.000000+00:00"
        cursor = await conn.execute(
            "INSERT INTO tests (name, kind, tags, definition, digest, created_at, updated_at)"
            " VALUES ('a', 'http', '[\"x\", \"y\"]', '{\"v\": 1}', 'd1', %s, %s) RETURNING id, version_id",
            (now, now),
        )
        test_id, first_version = await cursor.fetchone() or (0, 0)
        assert first_version is not None
        await conn.execute(
            "UPDATE tests SET definition = '{\"v\": 2}', tags = '[\"z\"]' WHERE id = %s", (test_id,)
        )
        cursor = await conn.execute("SELECT version_id FROM tests WHERE id = %s", (test_id,))
        (second_version,) = await cursor.fetchone() or (0,)
        assert second_version > first_version
        cursor = await conn.execute("SELECT tag FROM test_tags WHERE test_id = %s", (test_id,))
        assert [row[0] for row in await cursor.fetchall()] == ["z"]
        await conn.execute("INSERT INTO batches (label, source, created_at) VALUES ('b', 'cli', %s)", (now,))
        for status in ("passed", "queued"):
            await conn.execute(
                "INSERT INTO runs (batch_id, test_id, test_name, test_version, kind, status, queued_at)"
                " VALUES (1, %s, 'a', 2, 'http', %s, %s)",
                (test_id, status, now),
            )
        cursor = await conn.execute("SELECT run_id FROM test_last_runs WHERE test_id = %s", (test_id,))
        assert await cursor.fetchone() == (1,)
        await conn.execute("UPDATE runs SET status = 'failed' WHERE id = 2")
        cursor = await conn.execute("SELECT run_id FROM test_last_runs WHERE test_id = %s", (test_id,))
        assert await cursor.fetchone() == (2,)
    finally:
        await conn.close()


async def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    url = "postgresql://someone:hunter2@127.0.0.1:1/nothing"
    with pytest.raises(StoreError) as caught:
        await open_pool(url, timeout_s=1)
    assert "hunter2" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)
    assert "hunter2" not in describe(url)


async def test_a_role_that_cannot_create_tables_is_a_store_error(
    pg_url: str, pg_server: PostgresServer
) -> None:
    database = pg_url.rsplit("/", 1)[1]
    role = f"reader_{database}"  # roles belong to the whole server: one per test's database
    pg_server.psql(f'CREATE ROLE "{role}" LOGIN')
    pg_server.psql("REVOKE CREATE ON SCHEMA public FROM PUBLIC", database=database)
    url = pg_url.replace(f"://{pg_server.user}@", f"://{role}@")
    with pytest.raises(StoreError, match=f"cannot use postgresql://{role}@"):
        await PgStore.open(url)
