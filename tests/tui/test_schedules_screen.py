"""The Schedules mode against a real daemon: the table, pause and resume, run now, remove."""

from __future__ import annotations

from textual.widgets import DataTable

from tests.api.conftest import DaemonProcess
from tests.tui.conftest import SIZE, make_app, notifications, until


async def test_schedules_mode(daemon: DaemonProcess) -> None:
    with daemon.http() as http:
        nightly = {"name": "nightly", "cron": "0 2 * * 0", "timezone": "Europe/Paris", "tags": ["slow"]}
        assert http.post("/v1/schedules", json=nightly).status_code == 201
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("3")
        table = app.screen.query_one("#schedules-table", DataTable)

        def row(index: int) -> list[str]:
            return [str(cell) for cell in table.get_row_at(index)]

        await until(pilot, lambda: table.row_count == 1)
        assert row(0)[:4] == ["nightly", "0 2 * * 0 (Europe/Paris)", "tag:slow", "active"]
        await pilot.press("p")
        await until(pilot, lambda: row(0)[3] == "paused")
        await pilot.press("n")
        await until(pilot, lambda: row(0)[5].startswith("#1 "))
        assert any("Batch 1 queued" in note for note in notifications(app))
        await pilot.press("d")
        await pilot.press("y")
        await until(pilot, lambda: table.row_count == 0)
    await app.context.client.aclose()
    with daemon.http() as http:
        assert http.get("/v1/schedules").json()["schedules"] == []
        assert http.post("/v1/batches/1/cancel").status_code == 200
