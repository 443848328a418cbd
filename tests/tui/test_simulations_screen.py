"""The Simulations screen against a real daemon: cancel, pause, filters, older pages, failures as toasts."""

from __future__ import annotations

from textual.pilot import Pilot

from callboard.core.models.runs import RunStatus
from callboard.tui.app import CallboardApp
from callboard.tui.screens.confirm_screen import ConfirmScreen
from callboard.tui.screens.simulations_screen import SimulationsScreen
from callboard.tui.widgets.batch_panel import BatchPanel
from callboard.tui.widgets.runs_table import RunsTable
from callboard.tui.widgets.status_header import StatusHeader
from tests.api.conftest import DaemonProcess
from tests.tui.conftest import SIZE, make_app, notifications, run_batch, until


async def _simulations(app: CallboardApp, pilot: Pilot[None]) -> SimulationsScreen:
    await pilot.press("2")
    screen = app.screen
    assert isinstance(screen, SimulationsScreen)
    return screen


async def test_cancel_a_running_run_after_confirming(daemon: DaemonProcess) -> None:
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        sims = await _simulations(app, pilot)
        with daemon.http() as http:
            http.post("/v1/batches", json={"names": ["sleeps-a-while"]}).raise_for_status()
        panel = sims.query_one(BatchPanel)
        await until(pilot, lambda: [v.status for v in sims.window.rows.values()] == [RunStatus.RUNNING])
        await until(pilot, lambda: 1 in panel.lines and panel.display)
        assert "running" in str(sims.query_one(RunsTable).get_row_at(0)[0])
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and confirm.title_text == "Cancel run 1?"
        await pilot.press("y")
        await until(pilot, lambda: [v.status for v in sims.window.rows.values()] == [RunStatus.CANCELLED])
        await until(pilot, lambda: not panel.lines and not panel.display)
        await until(pilot, lambda: any("Run 1 cancelled" in note for note in notifications(app)))
        # A finished run cannot be cancelled: the key is greyed out.
        assert sims.check_action("cancel_run", ()) is None
        assert sims.check_action("retry_run", ()) is True


async def test_pause_and_resume_show_in_the_header(daemon: DaemonProcess) -> None:
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        sims = await _simulations(app, pilot)
        header = sims.query_one(StatusHeader)
        await until(pilot, lambda: header.queue is not None)
        await pilot.press("p")
        await until(pilot, lambda: header.queue is not None and header.queue.paused)
        assert "paused" in str(header.render())
        with daemon.http() as http:
            http.post("/v1/batches", json={"names": ["echo-hello", "python-version"]}).raise_for_status()
        await until(pilot, lambda: len(sims.window.rows) == 2)
        await until(pilot, lambda: header.queue is not None and header.queue.queued == 2)
        assert all(view.status is RunStatus.QUEUED for view in sims.window.rows.values())
        await pilot.press("p")
        await until(pilot, lambda: all(view.status is RunStatus.PASSED for view in sims.window.rows.values()))


async def test_status_and_batch_filters_and_older_pages(daemon: DaemonProcess) -> None:
    run_batch(daemon, names=["echo-hello", "echo-wrong", "exits-two"])
    run_batch(daemon, names=["echo-hello", "python-version"])
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        sims = await _simulations(app, pilot)
        sims.window.page = 2  # small pages, to see paging with five runs
        table = sims.query_one(RunsTable)
        await until(pilot, lambda: table.row_count == 5)
        assert [table.get_row_at(index)[1] for index in range(5)] == [5, 4, 3, 2, 1]  # newest first
        await pilot.press("s")  # active
        await until(pilot, lambda: table.row_count == 0)
        await pilot.press("s", "s")  # running, then failed or error
        await until(pilot, lambda: sorted(sims.window.rows) == [2, 3])
        await pilot.press("s", "s", "s")  # back to all
        await until(pilot, lambda: table.row_count == 2)  # one page of two
        assert sims.window.more and sims.check_action("more", ()) is True
        await pilot.press("m")
        await until(pilot, lambda: table.row_count == 4)
        await pilot.press("m")
        await until(pilot, lambda: table.row_count == 5 and not sims.window.more)
        assert sims.check_action("more", ()) is None
        await pilot.press("b")  # only batch 2, the highlighted run's
        await until(pilot, lambda: sorted(sims.window.rows) == [4, 5])


async def test_api_failure_is_an_error_toast_not_a_crash(daemon: DaemonProcess) -> None:
    run_batch(daemon, names=["echo-hello"])
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        sims = await _simulations(app, pilot)
        await until(pilot, lambda: len(sims.window.rows) == 1)
        sims.cancel_run(1)  # already passed: the daemon answers 409
        await until(pilot, lambda: any("Cancelling failed" in note for note in notifications(app)))
        assert "has already finished" in notifications(app)[-1]
        assert app.is_running
