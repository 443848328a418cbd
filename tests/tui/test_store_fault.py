"""The header says "store unavailable" while the daemon cannot commit (its health answers 503
``store_unavailable``) and stops saying it when the store is back, through a real daemon whose database
another process holds locked, as tests/faults/test_store_faults.py locks it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from callboard.tui.widgets.status_header import StatusHeader
from tests.api.conftest import start_daemon_process, wait_batch
from tests.tui.conftest import SIZE, make_app, until

MARKER = "store unavailable"
TESTS = 12


async def test_the_header_marks_a_store_that_cannot_commit(tmp_path: Path) -> None:
    daemon = start_daemon_process(tmp_path / "state", STORE__BUSY_TIMEOUT_MS="200", DAEMON__KEEPALIVE_S="0.2")
    work = tmp_path / "work"
    work.mkdir()
    suite = [
        {"name": f"c{i:02d}", "kind": "command", "command": f"echo {i} >> {work}/runs; sleep 0.2"}
        for i in range(TESTS)
    ]
    locker = sqlite3.connect(daemon.state_dir / "callboard.db", isolation_level=None)
    try:
        with daemon.http() as http:
            http.post("/v1/tests/import", json={"tests": suite}).raise_for_status()
        app = make_app(daemon)
        async with app.run_test(size=SIZE) as pilot:
            header = app.screen.query_one(StatusHeader)
            await until(pilot, lambda: header.connected and header.queue is not None)
            assert MARKER not in str(header.render())
            with daemon.http() as http:
                batch_id = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
                await until(pilot, lambda: (work / "runs").exists())
                locker.execute("BEGIN EXCLUSIVE")
                await until(pilot, lambda: http.get("/v1/health").status_code == 503)
                await until(pilot, lambda: MARKER in str(header.render()))
                locker.execute("ROLLBACK")
                await until(pilot, lambda: MARKER not in str(header.render()))
                assert http.get("/v1/health").status_code == 200
                wait_batch(http, batch_id)
                counts = http.get(f"/v1/batches/{batch_id}").json()["counts"]
        assert counts["passed"] == TESTS, counts
    finally:
        locker.close()
        daemon.stop()
