"""Every screen, dialog and toast shows user data exactly as it is: names, tags, targets, check
expressions, agent replies, error messages, batch labels and schedule names that look like markup, emoji
codes and a 10 kB line — from a real daemon, read back from what the screen draws and what its widgets
hold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from callboard.tui.app import CallboardApp
from callboard.tui.screens.confirm_screen import ConfirmScreen
from callboard.tui.screens.import_screen import ImportScreen
from callboard.tui.screens.run_detail_screen import RunDetailScreen
from callboard.tui.screens.simulations_screen import SimulationsScreen
from callboard.tui.screens.test_detail_screen import TestDetailScreen
from callboard.tui.widgets.batch_panel import BatchPanel
from callboard.tui.widgets.runs_table import RunsTable
from callboard.tui.widgets.virtual_table import VirtualTable
from tests.api.conftest import DaemonProcess, start_daemon_process, wait_batch
from tests.hostile_text import (
    EMOJI,
    GUARD,
    LABEL,
    LONG,
    LONG_LINE,
    NAMES,
    REPLY,
    SCHEDULE,
    SLEEPER,
    SLEEPER_TEST,
    SMOKE,
    TAG,
    UNREACHABLE,
    chat_agent,
    suite,
)
from tests.tui.conftest import make_app, notifications, until

# Wide enough that every name fits its column, so the drawn screen holds each one whole.
WIDE = (400, 50)


@pytest.fixture
def hostile_daemon(tmp_path: Path) -> Iterator[DaemonProcess]:
    """A daemon that ran the hostile suite once (batch 1, labelled), has a schedule with a hostile name,
    and is running a sleeper in batch 2 with the same label."""
    with chat_agent() as url:
        process = start_daemon_process(tmp_path / "state", DAEMON__KEEPALIVE_S="0.2")
        try:
            with process.http() as http:
                http.post("/v1/tests/import", json={"tests": [*suite(url), SLEEPER_TEST]}).raise_for_status()
                created = http.post("/v1/batches", json={"names": list(NAMES), "label": LABEL}).json()
                wait_batch(http, created["batch"]["id"])
                schedule = {"name": SCHEDULE, "interval_s": 3600, "tags": [TAG]}
                http.post("/v1/schedules", json=schedule).raise_for_status()
                http.post("/v1/batches", json={"names": [SLEEPER], "label": LABEL}).raise_for_status()
            yield process
        finally:
            process.stop()


def screen_text(app: CallboardApp) -> str:
    """What the screen draws now, line by line."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def cell_text(value: object) -> str:
    """A DataTable cell's text as drawn (a plain string cell would be read as markup)."""
    assert isinstance(value, Text), f"{value!r} would be parsed as markup"
    return value.plain


def _row_of(runs: RunsTable, name: str) -> int:
    return next(row for row in range(runs.row_count) if cell_text(runs.get_row_at(row)[2]) == name)


async def _shows(pilot: Pilot[Any], *texts: str) -> None:
    app = pilot.app
    try:
        await until(pilot, lambda: all(text in screen_text(app) for text in texts), timeout=10)
    except AssertionError:
        drawn = screen_text(app)
        missing = [text for text in texts if text not in drawn]
        raise AssertionError(f"not on screen: {missing}\n{drawn}") from None


async def test_every_screen_shows_user_data_as_it_is(hostile_daemon: DaemonProcess) -> None:
    app = make_app(hostile_daemon)
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        # Tests: names, tags, targets; the filter line echoes what was typed.
        tests = app.screen.query_one("#tests", VirtualTable)
        await until(pilot, lambda: tests.row_count == 6)
        await _shows(pilot, *NAMES, SLEEPER, TAG, "http://127.0.0.1:9/[bold]x[/x]")
        await pilot.press("slash", *"[/x]")
        await _shows(pilot, "(filter: [/x])", LONG, SLEEPER)
        await pilot.press("enter")

        # The import dialog's error names the file as it was typed.
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, ImportScreen))
        await pilot.press(*"[/x] [bold].toml", "enter")
        await _shows(pilot, "[/x] [bold].toml")
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ImportScreen))

        # A test's details: the title and definition.
        tests.move_cursor_to_key(next(t.id for t in tests.rows if t.name == LONG))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TestDetailScreen))
        await _shows(pilot, LONG, LONG_LINE[:18])  # the definition (TOML doubles the backslash)
        await pilot.press("escape")
        await pilot.press("escape")  # clears the filter

        # Simulations: run names and the running batch's label.
        await pilot.press("2")
        sims = app.screen
        assert isinstance(sims, SimulationsScreen)
        runs = sims.query_one(RunsTable)
        await until(pilot, lambda: runs.row_count == 6 and sims.query_one(BatchPanel).lines)
        # The test column and the batch name have fixed widths: what fits is drawn, the rest is in the cells.
        await _shows(pilot, SMOKE, GUARD, LONG, UNREACHABLE, SLEEPER, EMOJI[:30], f"batch 2 · {LABEL[:16]}")
        names = {cell_text(runs.get_row_at(row)[2]) for row in range(runs.row_count)}
        assert names == {*NAMES, SLEEPER}

        # Each run's details: summary, checks (the 10 kB line whole), transcript, error.
        expected = {
            SMOKE: ["not_contains='[/INST]'", "contains='[/x]'"],
            GUARD: [REPLY, "I'd like to book [/INST]", f"does not contain {'[/nope]'!r}"],
            EMOJI: ["contains='fine'"],
            LONG: ["long [/x] line v1"],
            UNREACHABLE: ["http://127.0.0.1:9/[bold]x[/x]"],
        }
        for row in range(runs.row_count):
            name = cell_text(runs.get_row_at(row)[2])
            if name == SLEEPER:
                continue
            runs.move_cursor(row=row)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, RunDetailScreen) and app.screen.run is not None)
            await _shows(pilot, name, *expected[name])
            checks = app.screen.query_one("#run-checks", DataTable)
            messages = [cell_text(checks.get_row_at(i)[4]) for i in range(checks.row_count)]
            if name == LONG:
                assert any(f"does not contain {LONG_LINE!r}" in message for message in messages)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is sims)

        # A toast that names a test: retrying the guard's run.
        runs.move_cursor(row=_row_of(runs, GUARD))
        await pilot.press("x")
        await until(pilot, lambda: any(f"{GUARD} queued again" in note for note in notifications(app)))
        await _shows(pilot, f"{GUARD} queued again")

        # The cancel dialog names the sleeper.
        runs.move_cursor(row=_row_of(runs, SLEEPER))
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await _shows(pilot, SLEEPER)
        await pilot.press("y")

        # Schedules: the name in the table, and in the remove dialog's title.
        await pilot.press("3")
        table = app.screen.query_one("#schedules-table", DataTable)
        await until(pilot, lambda: table.row_count == 1)
        await _shows(pilot, SCHEDULE, f"tag:{TAG}")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await _shows(pilot, f"Remove schedule {SCHEDULE!r}?")
        await pilot.press("n")

        # Trends: every name, and the chart's title.
        await pilot.press("4")
        trends = app.screen.query_one("#trends", VirtualTable)
        await until(pilot, lambda: trends.row_count >= 5)
        await _shows(pilot, *NAMES)
        trends.move_cursor_to_key(GUARD)
        await _shows(pilot, f"{GUARD} · 2 batches")  # the first batch and the retry
        for static in app.screen.query(Static):
            static.render()  # nothing left that would raise MarkupError when drawn
    await app.context.client.aclose()
