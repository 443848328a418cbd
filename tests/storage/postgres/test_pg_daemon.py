"""The daemon on a PostgreSQL store, through the real CLI: the examples' HTTP tests imported and run as a
batch against the demo agent to the end, every row in PostgreSQL and no SQLite file made; the store URL's
password shown nowhere."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import AsyncConnection

from callboard.core.demo.process import demo_agent_process
from tests.conftest import EXAMPLES, CliRunner
from tests.pg_server import PostgresServer

EXAMPLE_AGENT = "http://127.0.0.1:8700"
PASSWORD = "pg-s3cret-not-for-logs"


@pytest.fixture
def http_examples(tmp_path: Path) -> Iterator[list[str]]:
    """The examples' HTTP suites (http.toml, api.csv), aimed at a demo agent running for the test."""
    with demo_agent_process(latency_ms=1) as url:
        files = []
        for name in ("http.toml", "api.csv"):
            copy = tmp_path / name
            copy.write_text((EXAMPLES / name).read_text().replace(EXAMPLE_AGENT, url))
            files.append(str(copy))
        yield files


def _with_password(url: str) -> str:
    # The test server trusts local connections, so libpq never sends the password: it is only a secret
    # to keep out of sight.
    user = url.split("://")[1].split("@")[0]
    return url.replace(f"://{user}@", f"://{user}:{PASSWORD}@")


async def _count(url: str, sql: str) -> int:
    async with await AsyncConnection.connect(url) as conn:
        row = await (await conn.execute(sql.encode())).fetchone()
    return int(row[0]) if row else 0


def test_a_batch_runs_to_the_end_on_postgresql(
    run_cli: CliRunner, http_examples: list[str], pg_url: str, pg_server: PostgresServer, state_dir: Path
) -> None:
    assert f"postgresql://{pg_server.user}@" in pg_url
    env = {"CALLBOARD_STORE__URL": _with_password(pg_url)}
    imported = run_cli("import", *http_examples, env=env)
    assert imported.returncode == 0, imported.stderr
    added = int(imported.stdout.split("added: ")[1].split()[0])
    assert added >= 5

    ran = run_cli("run", "--all", "--wait", env=env, timeout=180)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert f"batch 1 queued: {added} runs" in ran.stdout

    runs = json.loads(run_cli("runs", "--batch", "1", "--json", env=env).stdout)["runs"]
    assert len(runs) == added and {run["status"] for run in runs} == {"passed"}
    assert asyncio.run(_count(pg_url, "SELECT COUNT(*) FROM runs WHERE status = 'passed'")) == added
    assert asyncio.run(_count(pg_url, "SELECT COUNT(*) FROM batches WHERE status = 'finished'")) == 1
    assert not (state_dir / "callboard.db").exists()

    status = run_cli("status", "--json", env=env)
    shown = run_cli("config", "check", env=env)
    assert 'store.url = "**********"' in shown.stdout
    logs = "".join(path.read_text() for path in (state_dir / "logs").glob("*.log"))
    for text in (imported.stdout, imported.stderr, ran.stdout, ran.stderr, status.stdout, shown.stdout, logs):
        assert PASSWORD not in text


def test_a_store_url_of_another_kind_is_a_config_error_naming_the_field(run_cli: CliRunner) -> None:
    result = run_cli("status", env={"CALLBOARD_STORE__URL": f"mysql://me:{PASSWORD}@db.example/callboard"})
    assert result.returncode == 2
    assert "store.url" in result.stderr and "CALLBOARD_STORE__URL" in result.stderr
    assert "postgresql://" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout
