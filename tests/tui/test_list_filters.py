"""``/`` filters every list screen, against a real daemon: Simulations by test name, status or batch,
Trends by name, Schedules by name, timing, tests or state; esc clears the filter."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.widgets import DataTable

from callboard.tui.screens.simulations_screen import SimulationsScreen
from callboard.tui.widgets.filter_box import FilterBox
from callboard.tui.widgets.runs_table import RunsTable
from callboard.tui.widgets.virtual_table import VirtualTable
from tests.api.conftest import DaemonProcess
from tests.tui.conftest import SIZE, make_app, run_batch, until


def _run_names(table: RunsTable) -> list[str]:
    return [str(table.get_row_at(row)[2]) for row in range(table.row_count)]


async def _type_filter(pilot: Pilot[Any], text: str) -> None:
    box = pilot.app.screen.query_one(FilterBox)
    if not box.has_focus:
        await pilot.press("slash")
    box.value = ""
    await pilot.press(*text)


async def test_simulations_filters_by_name_status_and_batch(daemon: DaemonProcess) -> None:
    run_batch(daemon, names=["echo-hello", "echo-wrong", "exits-two"])
    run_batch(daemon, names=["python-version"])
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        sims = app.screen
        assert isinstance(sims, SimulationsScreen)
        table = sims.query_one(RunsTable)
        await until(pilot, lambda: table.row_count == 4)

        await _type_filter(pilot, "echo")
        await until(pilot, lambda: sorted(_run_names(table)) == ["echo-hello", "echo-wrong"])
        await _type_filter(pilot, "echo failed")
        await until(pilot, lambda: _run_names(table) == ["echo-wrong"])
        await _type_filter(pilot, "batch:2")
        await until(pilot, lambda: _run_names(table) == ["python-version"])
        await pilot.press("enter")
        assert table.has_focus
        assert "filter: batch:2" in str(sims.query_one("#runs-info").render())

        # A run that starts to match while the filter is on enters; one that does not, stays out.
        run_batch(daemon, names=["python-version", "echo-hello"])
        await until(pilot, lambda: _run_names(table) == ["python-version"])
        await pilot.press("escape")  # on the list: clears the filter
        await until(pilot, lambda: table.row_count == 6)
        assert not sims.query_one(FilterBox).has_class("-shown")
    await app.context.client.aclose()


async def test_trends_and_schedules_filter_by_name(daemon: DaemonProcess) -> None:
    run_batch(daemon, names=["echo-hello", "echo-wrong", "python-version"])
    with daemon.http() as http:
        for schedule in (
            {"name": "nightly", "cron": "0 2 * * *", "tags": ["smoke"]},
            {"name": "hourly", "interval_s": 3600, "names": ["echo-hello"]},
        ):
            http.post("/v1/schedules", json=schedule).raise_for_status()
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        trends = app.screen.query_one("#trends", VirtualTable)
        await until(pilot, lambda: trends.row_count == 3)
        await _type_filter(pilot, "wrong")
        await until(pilot, lambda: [trend.name for trend in trends.rows] == ["echo-wrong"])
        assert "1 shown (filter: wrong)" in str(app.screen.query_one("#trends-info").render())
        await pilot.press("escape", "escape")
        await until(pilot, lambda: trends.row_count == 3)

        await pilot.press("3")
        table = app.screen.query_one("#schedules-table", DataTable)
        await until(pilot, lambda: table.row_count == 2)
        await _type_filter(pilot, "night")
        await until(pilot, lambda: table.row_count == 1 and str(table.get_row_at(0)[0]) == "nightly")
        await _type_filter(pilot, "echo-hello")  # the tests it runs
        await until(pilot, lambda: table.row_count == 1 and str(table.get_row_at(0)[0]) == "hourly")
        await pilot.press("enter", "escape")
        await until(pilot, lambda: table.row_count == 2)
    await app.context.client.aclose()


async def test_keys_typed_right_after_the_slash_land_in_the_box(daemon: DaemonProcess) -> None:
    run_batch(daemon, names=["echo-hello", "echo-wrong"])
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        table = app.screen.query_one(RunsTable)
        await until(pilot, lambda: table.row_count == 2)
        # All queued at once, as a fast typist or a paste sends them; "/" inside the box is a character.
        for key, character in [("slash", "/"), ("w", "w"), ("r", "r"), ("slash", "/"), ("o", "o")]:
            app.post_message(events.Key(key, character))
        box = app.screen.query_one(FilterBox)
        await until(pilot, lambda: box.value == "wr/o")
        assert box.has_focus
    await app.context.client.aclose()
