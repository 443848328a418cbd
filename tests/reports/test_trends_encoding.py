"""The trends document is encoded from plain data (``routes.history.trends_json``) and the CLI reads it as
plain data: both must give exactly what the pydantic models gave before, on the same history in a real
SQLite file, through a real daemon and the real ``callboard trends`` process."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest

from callboard.core.api.routes.history import trends_json
from callboard.core.config import Settings
from callboard.core.literal import aligned_lines
from callboard.core.models import RunStatus
from callboard.core.models.api import TestTrendOut, TrendPointOut, Trends
from callboard.core.models.history import BatchVerdicts
from callboard.core.paths import DaemonPaths
from callboard.core.reports.history import FlakyInfo, flaky_tests, trends
from callboard.core.sparkline import sparkline
from callboard.core.wording import percent
from callboard.storage import Store
from callboard.storage.open import open_store
from callboard.storage.timestamps import to_text
from tests.conftest import CliRunner
from tests.hostile_text import NAMES

# Names that JSON must escape or a terminal would misread, besides the markup-like ones.
ODD_NAMES = (*NAMES, 'quote " and \\ backslash', "tab\tand bell\x07", "ünïcødé ✓ 名前", "a" * 200)
STATUSES = (RunStatus.PASSED, RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR, RunStatus.CANCELLED)
SCORES = (None, 0.0, 100.0, 33.3333333, 66.6666667, 1e-7, 12345.678, 99.995)


_BATCHES = "INSERT INTO batches (id, label, source, status, created_at, finished_at) VALUES ({marks})"
_RUNS = (
    "INSERT INTO runs (id, batch_id, test_name, test_version, kind, status, score, queued_at, finished_at)"
    " VALUES ({marks})"
)
Rows = list[tuple[object, ...]]


def _history(seed: int, tests: int = 25, batches: int = 30) -> tuple[Rows, Rows]:
    """A random history as rows of ``_BATCHES`` and ``_RUNS``: several runs per test and batch, every
    finished status, edits (versions), run ids out of batch order, scores with long fractions or none."""
    rng = random.Random(seed)
    names = [*ODD_NAMES, *(f"test-{index:03}" for index in range(tests - len(ODD_NAMES)))]
    at = to_text(datetime.now(UTC))
    runs: Rows = [
        (run_id, rng.randint(1, batches), rng.choice(names), rng.randint(1, 3), "http",
         rng.choice(STATUSES).value, rng.choice(SCORES), at, at)
        for run_id in rng.sample(range(1, 100_000), tests * batches * 2)
    ]  # fmt: skip
    return [(batch_id, "nightly", "schedule", "finished", at, at) for batch_id in range(1, batches + 1)], runs


def _fill(db: Path, seed: int) -> None:
    """The history of ``seed`` written into the SQLite file (its triggers keep judged_runs)."""
    batches, runs = _history(seed)
    with sqlite3.connect(db) as conn:
        conn.executemany(_BATCHES.format(marks=", ".join("?" * 6)), batches)
        conn.executemany(_RUNS.format(marks=", ".join("?" * 9)), runs)


def _fill_postgres(url: str, seed: int) -> None:
    """The same history written into a PostgreSQL database."""
    batches, runs = _history(seed)
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.executemany(_BATCHES.format(marks=", ".join(["%s"] * 6)), batches)
        cursor.executemany(_RUNS.format(marks=", ".join(["%s"] * 9)), runs)


def _model_built(rows: list[BatchVerdicts], flaky: dict[str, FlakyInfo]) -> bytes:
    """The document as the daemon encoded it before: a pydantic model per test and per point."""
    return (
        Trends(
            tests=[
                TestTrendOut(
                    name=trend.name,
                    points=[TrendPointOut(**point._asdict()) for point in trend.points],
                    flaky=trend.name in flaky,
                    flaky_version=flaky[trend.name].version if trend.name in flaky else None,
                )
                for trend in trends(rows)
            ]
        )
        .model_dump_json()
        .encode()
    )


async def _reference(
    store: Store, last_batches: int, window: int, test: str | None, only_flaky: bool
) -> bytes:
    """What ``GET /v1/trends`` answered before, from the store's rows."""
    flaky = flaky_tests(await store.history.version_verdicts(window, test))
    rows = await store.history.batch_verdicts(last_batches, test)
    if only_flaky:
        rows = [row for row in rows if row.test_name in flaky]
    return _model_built(rows, flaky)


def _table_before(body: bytes) -> str:
    """``callboard trends`` as it printed before (models validated, then a line per test), piped."""
    rows = []
    for test in Trends.model_validate_json(body).tests:
        rates = [point.pass_rate for point in test.points]
        scores = [point.mean_score for point in test.points]
        last_score = next((score for score in reversed(scores) if score is not None), None)
        rows.append(
            (
                test.name,
                percent(rates[-1] if rates else None),
                sparkline(rates, low=0, high=100),
                "-" if last_score is None else f"{last_score:g}",
                str(len(test.points)),
                f"flaky (v{test.flaky_version})" if test.flaky else "",
            )
        )
    lines = aligned_lines(("test", "pass rate", "trend", "score", "batches", "flaky"), rows, right={1, 3, 4})
    return "".join(f"{line}\n" for line in ["trends (oldest → newest)", *lines])


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_plain_encoding_is_byte_identical_to_the_models(tmp_path: Path, seed: int) -> None:
    db = tmp_path / "callboard.db"
    async with await Store.open(db) as store:
        _fill(db, seed)
        for last_batches, window in ((10, 20), (1, 2), (3, 5), (100, 200)):
            flaky = flaky_tests(await store.history.version_verdicts(window))
            rows = await store.history.batch_verdicts(last_batches)
            assert rows and flaky  # the history has both, or the comparison would prove little
            assert trends_json(rows, flaky) == _model_built(rows, flaky)
            assert trends_json(rows, {}) == _model_built(rows, {})
    assert trends_json([], {}) == _model_built([], {}) == b'{"tests":[]}'


def test_the_daemon_and_the_cli_give_what_the_models_gave(run_cli: CliRunner, state_dir: Path) -> None:
    db = state_dir / "callboard.db"

    async def prepare() -> None:
        async with await Store.open(db):  # callboard's own migrations make the file
            pass

    asyncio.run(prepare())
    _fill(db, seed=18)
    assert run_cli("status").returncode == 0  # starts the daemon on that file
    socket = DaemonPaths.of(Settings(state_dir=state_dir)).socket
    transport = httpx.HTTPTransport(uds=str(socket))
    queries: list[tuple[int, int, str | None, bool]] = [
        (10, 20, None, False),
        (1, 20, None, True),
        (3, 5, None, False),
        (10, 20, ODD_NAMES[1], False),
        (10, 20, "nobody", False),
    ]

    async def references() -> list[bytes]:
        async with await Store.open(db) as store:
            return [await _reference(store, *query) for query in queries]

    expected = asyncio.run(references())
    with httpx.Client(transport=transport, base_url="http://callboard", timeout=30) as http:
        for (last_batches, window, test, only_flaky), reference in zip(queries, expected, strict=True):
            params: dict[str, str | int] = {"last_batches": last_batches, "window": window}
            if test is not None:
                params["test"] = test
            if only_flaky:
                params["flaky"] = "true"
            answer = http.get("/v1/trends", params=params)
            assert answer.status_code == 200
            assert answer.content == reference

    full = expected[0]
    printed = run_cli("trends", "--json")
    assert printed.returncode == 0, printed.stderr
    before = json.dumps([test.model_dump() for test in Trends.model_validate_json(full).tests], indent=2)
    assert printed.stdout == before + "\n"
    table = run_cli("trends")
    assert table.returncode == 0, table.stderr
    assert table.stdout == _table_before(full)
    for name in NAMES:
        assert name in table.stdout  # literally, markup and all
    flaky_table = run_cli("trends", "--flaky", "--batches", "1")
    assert flaky_table.stdout == _table_before(expected[1])


async def test_postgres_gives_the_same_document_as_sqlite(tmp_path: Path, pg_url: str) -> None:
    sqlite_store = await open_store(tmp_path / "callboard.db", None, 5000)
    pg_store = await open_store(tmp_path / "unused.db", pg_url, 5000)  # callboard's own migrations
    try:
        _fill(tmp_path / "callboard.db", seed=7)
        _fill_postgres(pg_url, seed=7)
        for last_batches, window, test in (
            (10, 20, None),
            (1, 2, None),
            (3, 5, ODD_NAMES[0]),
            (100, 200, None),
        ):
            documents = []
            for store in (sqlite_store, pg_store):
                flaky = flaky_tests(await store.history.version_verdicts(window, test))
                documents.append(trends_json(await store.history.batch_verdicts(last_batches, test), flaky))
            assert documents[0] == documents[1]
            assert b'"flaky":true' in documents[0]  # the history has flaky tests, or this proves little
    finally:
        await sqlite_store.close()
        await pg_store.close()
