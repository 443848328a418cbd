"""A long run in the Simulations screen, against a real daemon: its row counts up how long it has been
going, and its batch's ETA stays live (not "0s") after the quick runs beside it finished."""

from __future__ import annotations

import re

from textual.widgets import Label

from callboard.core.models.runs import RunStatus
from callboard.tui.screens.simulations_screen import SimulationsScreen
from callboard.tui.widgets.batch_panel import BatchPanel
from callboard.tui.widgets.runs_table import RunsTable
from tests.api.conftest import DaemonProcess
from tests.tui.conftest import SIZE, make_app, until


async def test_a_running_run_shows_its_elapsed_time_and_the_batch_a_live_eta(daemon: DaemonProcess) -> None:
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        sims = app.screen
        assert isinstance(sims, SimulationsScreen)
        with daemon.http() as http:
            names = ["echo-hello", "python-version", "sleeps-a-while"]
            http.post("/v1/batches", json={"names": names}).raise_for_status()
        table = sims.query_one(RunsTable)

        def statuses() -> list[RunStatus]:
            return sorted((view.status for view in sims.window.rows.values()), key=lambda s: s.value)

        await until(pilot, lambda: statuses() == [RunStatus.PASSED, RunStatus.PASSED, RunStatus.RUNNING])
        sleeper = next(view for view in sims.window.rows.values() if view.status is RunStatus.RUNNING)

        def elapsed() -> int:
            match = re.fullmatch(r"(\d+)s", str(table.get_cell(str(sleeper.id), "duration")))
            return int(match[1]) if match else -1

        await until(pilot, lambda: elapsed() >= 2)  # counts up while it runs

        figures = sims.query_one(BatchPanel).query_one(".batch-figures", Label)
        await until(pilot, lambda: re.search(r"ETA [1-9]\d*s", str(figures.render())) is not None)
        assert "ETA 0s" not in str(figures.render())
        with daemon.http() as http:
            http.post("/v1/batches/1/cancel").raise_for_status()
    await app.context.client.aclose()
