"""Snapshots at a pinned size with animations off and a fixed clock, of a real daemon's data.

The suite is fixed (commands and an unreachable URL, no random ports), so names, ids, statuses and
scores are the same on every run; ages read "just now" because the clock is pinned just after the
newest run. Run durations vary, so the runs table's duration column is masked. The run details use a
recorded call run (a transcript needs a phone call, and its times must not move).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

from callboard.core.client import CallboardClient
from callboard.core.models.runs import CheckResult, Run, RunStatus, TranscriptEntry
from callboard.tui.app import CallboardApp
from callboard.tui.screens.confirm_screen import ConfirmScreen
from callboard.tui.screens.run_detail_screen import RunDetailScreen
from callboard.tui.widgets import runs_table
from callboard.tui.widgets.status_header import StatusHeader
from callboard.tui.widgets.trend_chart import TrendChart
from callboard.tui.widgets.virtual_table import VirtualTable
from tests.api.conftest import DaemonProcess
from tests.tui.conftest import SIZE, SUITE, close, make_app, newest_moment, run_batch, until
from tests.tui.test_trends_screen import run_flaky_batches

SUITE_NAMES = [test["name"] for test in SUITE]
T0 = datetime(2026, 5, 1, 9, 30, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _still(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _ready(app: App[Any]) -> bool:
    header = app.screen.query(StatusHeader)
    return bool(header) and bool(header.first().connected) and header.first().queue is not None


async def _tests_loaded(pilot: Pilot[Any]) -> None:
    table = pilot.app.screen.query_one("#tests", VirtualTable)
    await until(pilot, lambda: table.row_count == 7 and _ready(pilot.app))


def test_tests_screen(snap_compare: Any, daemon: DaemonProcess) -> None:
    run_batch(daemon, names=SUITE_NAMES)
    app = make_app(daemon, newest_moment(daemon))

    async def select_two(pilot: Pilot[Any]) -> None:
        await _tests_loaded(pilot)
        await pilot.press("space", "down", "down", "space", "down")

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=select_two)
    finally:
        close(app)


def test_run_confirmation(snap_compare: Any, daemon: DaemonProcess) -> None:
    app = make_app(daemon, T0)

    async def run_all(pilot: Pilot[Any]) -> None:
        await _tests_loaded(pilot)
        await pilot.press("R")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_all)
    finally:
        close(app)


def test_simulations_screen(
    snap_compare: Any, daemon: DaemonProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_batch(daemon, names=SUITE_NAMES)
    with daemon.http() as http:
        http.post("/v1/queue/pause").raise_for_status()
        http.post("/v1/batches", json={"names": ["echo-hello", "python-version"]}).raise_for_status()
    monkeypatch.setattr(runs_table, "duration_ms", lambda ms: "—" if ms is None else "‹masked›")
    app = make_app(daemon, newest_moment(daemon))

    async def simulations(pilot: Pilot[Any]) -> None:
        await pilot.press("2")
        table = pilot.app.screen.query_one("#runs", runs_table.RunsTable)
        await until(pilot, lambda: table.row_count == 8 and _ready(pilot.app))
        await until(pilot, lambda: bool(pilot.app.screen.query(".batch-bar")))

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=simulations)
    finally:
        close(app)


AGENT_OPENS = "Bright Smile Dental, how can I help?"
AGENT_ANSWERS = "We are open on Sunday from ten to two."


class RecordedRunClient(CallboardClient):
    """The real daemon for everything but ``get_run``, which answers with a recorded call run."""

    async def get_run(self, run_id: int) -> Run:
        return Run(
            id=run_id,
            batch_id=3,
            test_id=4,
            test_name="after-hours-call",
            test_version=2,
            kind="call",
            target="+15555550100",
            status=RunStatus.FAILED,
            attempt=1,
            max_attempts=3,
            external_id="CA0123456789abcdef",
            queued_at=T0,
            started_at=T0.replace(second=2),
            finished_at=T0.replace(second=31),
            duration_ms=29_000,
            score=66.67,
            checks=[
                CheckResult(name="answered=True", passed=True, expected=True, actual=True),
                CheckResult(
                    name="agent_says='closed'",
                    passed=False,
                    expected="says 'closed'",
                    actual=AGENT_ANSWERS,
                    message="not said",
                ),
                CheckResult(name="first_word_ms_below=3000", passed=True, expected="< 3000 ms", actual=1240),
            ],
            transcript=[
                TranscriptEntry(speaker="agent", text=AGENT_OPENS, start=1.24, end=3.1),
                TranscriptEntry(speaker="caller", text="Hi, are you open on Sunday?", start=4.0, end=5.9),
                TranscriptEntry(speaker="agent", text=AGENT_ANSWERS, start=7.3, end=9.8),
            ],
            metrics={"first_word_ms": 1240, "turn_latency_p90_ms": 1410, "duration_s": 29, "cost_usd": 0.013},
            artifacts={"recording": "https://api.twilio.com/…/Recordings/RE42.mp3"},
        )


def test_run_details(snap_compare: Any, daemon: DaemonProcess) -> None:
    app = CallboardApp(RecordedRunClient(daemon.paths.socket), clock=lambda: T0.replace(minute=31))

    async def open_run(pilot: Pilot[Any]) -> None:
        await _tests_loaded(pilot)
        await pilot.press("2")
        await pilot.app.push_screen(RunDetailScreen(42))
        screen = pilot.app.screen
        await until(
            pilot,
            lambda: isinstance(screen, RunDetailScreen) and screen.run is not None and _ready(pilot.app),
        )

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=open_run)
    finally:
        close(app)


def test_schedules_screen(snap_compare: Any, daemon: DaemonProcess) -> None:
    with daemon.http() as http:
        for spec in (
            {
                "name": "nightly",
                "cron": "0 2 * * 1-5",
                "timezone": "Europe/Paris",
                "all": True,
                "enabled": False,
            },
            {"name": "smoke", "interval_s": 900, "names": ["echo-hello"], "enabled": False},
        ):
            assert http.post("/v1/schedules", json=spec).status_code == 201
    app = make_app(daemon, T0)

    async def open_schedules(pilot: Pilot[Any]) -> None:
        await pilot.press("3")
        table = pilot.app.screen.query_one("#schedules-table")
        await until(pilot, lambda: table.row_count == 2 and _ready(pilot.app))  # type: ignore[attr-defined]

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=open_schedules)
    finally:
        close(app)


def test_test_details(snap_compare: Any, daemon: DaemonProcess) -> None:
    run_batch(daemon, names=SUITE_NAMES[:1], repeat=3)
    app = make_app(daemon, newest_moment(daemon))

    async def open_first(pilot: Pilot[Any]) -> None:
        await _tests_loaded(pilot)
        await pilot.press("enter")
        await until(
            pilot, lambda: "no runs yet" not in str(pilot.app.screen.query_one("#test-score-list").render())
        )
        await until(pilot, lambda: pilot.app.screen.query_one("#test-trend", TrendChart).trend is not None)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=open_first)
    finally:
        close(app)


def test_trends_screen(snap_compare: Any, daemon: DaemonProcess, tmp_path: Path) -> None:
    run_flaky_batches(daemon, tmp_path)
    app = make_app(daemon, newest_moment(daemon))

    async def open_trends(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: _ready(pilot.app))
        await pilot.press("4")
        await until(pilot, lambda: pilot.app.screen.query_one("#trend-chart", TrendChart).trend is not None)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=open_trends)
    finally:
        close(app)


def test_help(snap_compare: Any, daemon: DaemonProcess) -> None:
    app = make_app(daemon, T0)

    async def open_help(pilot: Pilot[Any]) -> None:
        await _tests_loaded(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen")

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=open_help)
    finally:
        close(app)


def test_import_dialog(snap_compare: Any, daemon: DaemonProcess) -> None:
    app = make_app(daemon, T0)

    async def open_import(pilot: Pilot[Any]) -> None:
        await _tests_loaded(pilot)
        await pilot.press("i")
        await until(pilot, lambda: type(pilot.app.screen).__name__ == "ImportScreen")

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=open_import)
    finally:
        close(app)
