"""The test PostgreSQL server itself: a real server, one empty database per test, restartable."""

from __future__ import annotations

import psycopg

from tests.pg_server import PostgresServer


def test_each_test_gets_an_empty_database_on_a_real_server(pg_server: PostgresServer, pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
    assert version is not None and int(version[0]) >= 130000
    assert tables == (0,)
    assert pg_url != pg_server.create_database()


def test_a_restart_keeps_the_data(pg_server: PostgresServer, pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept VALUES (7)")
    pg_server.restart()
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT n FROM kept").fetchall() == [(7,)]
