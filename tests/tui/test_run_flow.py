"""Select → run → confirm → toast → rows appear → finish → details, against a real daemon."""

from __future__ import annotations

from textual.widgets import DataTable

from callboard.core.models.runs import RunStatus
from callboard.tui.messages import BatchEnded, QueueUpdated, RunChanged, RunsQueued
from callboard.tui.screens.confirm_screen import ConfirmScreen
from callboard.tui.screens.run_detail_screen import RunDetailScreen
from callboard.tui.screens.simulations_screen import SimulationsScreen
from callboard.tui.screens.tests_screen import TestsScreen
from callboard.tui.widgets.runs_table import RunsTable
from callboard.tui.widgets.virtual_table import VirtualTable
from tests.api.conftest import DaemonProcess
from tests.tui.conftest import SIZE, Captured, make_app, notifications, until


async def test_select_run_confirm_and_follow_to_the_details(daemon: DaemonProcess) -> None:
    captured = Captured()
    app = make_app(daemon)
    async with app.run_test(size=SIZE, message_hook=captured) as pilot:
        tests = app.screen
        assert isinstance(tests, TestsScreen)
        table = tests.query_one("#tests", VirtualTable)
        await until(pilot, lambda: table.row_count == 7)
        # Rows are in name order: echo-hello, echo-wrong, exits-two, ...
        await pilot.press("space", "down", "space")
        assert tests.catalog.selected == {1, 2}
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.title_text == "Run 2 tests?" and "2 tests will run." in confirm.body
        await pilot.press("y")
        await until(pilot, lambda: any("2 tests queued (0 skipped)" in note for note in notifications(app)))
        assert not tests.catalog.selected

        await pilot.press("2")
        sims = app.screen
        assert isinstance(sims, SimulationsScreen)
        runs = sims.query_one("#runs", RunsTable)
        await until(
            pilot, lambda: runs.row_count == 2 and all(v.status.is_final for v in sims.window.rows.values())
        )
        statuses = {view.test_name: view.status for view in sims.window.rows.values()}
        assert statuses == {"echo-hello": RunStatus.PASSED, "echo-wrong": RunStatus.FAILED}
        await until(pilot, lambda: captured.of(BatchEnded))
        assert any("Batch 1 finished" in note and "1 of 2 runs passed" in note for note in notifications(app))
        # The live table was fed by the event stream, and the header by the queue.
        assert captured.of(RunsQueued) and captured.of(RunChanged) and captured.of(QueueUpdated)
        # The Tests screen heard the results too.
        assert tests.catalog.by_id[1].last_status is RunStatus.PASSED
        assert tests.catalog.by_id[2].last_score == 50

        # The newest run is on top: echo-wrong (run 2), which failed its 'contains' check.
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, RunDetailScreen) and app.screen.run is not None)
        detail = app.screen
        assert isinstance(detail, RunDetailScreen) and detail.run is not None
        assert detail.run.test_name == "echo-wrong"
        checks = detail.query_one("#run-checks", DataTable)
        assert checks.row_count == 2
        first = checks.get_row_at(0)
        assert "contains" in str(first[1])  # the failure is listed first
        await pilot.press("escape")
        assert app.screen is sims


async def test_run_all_says_who_is_skipped_and_why(daemon: DaemonProcess) -> None:
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#tests", VirtualTable)
        await until(pilot, lambda: table.row_count == 7)
        await pilot.press("R")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert confirm.title_text == "Run 7 tests?"
        assert "6 tests will run." in confirm.body
        assert "no phone number (1): no-number-yet" in confirm.body
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
    with daemon.http() as http:
        assert http.get("/v1/batches").json()["batches"] == []
