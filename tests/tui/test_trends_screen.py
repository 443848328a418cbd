"""Trends and flaky tests in the TUI, against a real daemon: the Tests table's flag and filter, the
Trends mode (table, chart, flaky only, order, window) and the chart in a test's details."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.worker import Worker, WorkerState

from callboard.tui.screens.test_detail_screen import TestDetailScreen
from callboard.tui.screens.trends_screen import TrendsScreen
from callboard.tui.widgets.trend_chart import TrendChart
from callboard.tui.widgets.virtual_table import VirtualTable
from tests.api.conftest import DaemonProcess
from tests.tui.conftest import SIZE, Captured, make_app, run_batch, until

FLAKY = "coin-flip"


def flaky_test(folder: Path) -> dict[str, Any]:
    """A command that fails, then passes, then fails… at one version: a flag file in ``folder``
    remembers how the last run went."""
    return {
        "name": FLAKY,
        "kind": "command",
        "tags": ["unstable"],
        "command": "sh -c 'if [ -e flag ]; then rm flag; else touch flag; exit 1; fi'",
        "cwd": str(folder),
        "checks": [{"exit_code": 0}],
    }


def run_flaky_batches(daemon: DaemonProcess, folder: Path, batches: int = 3) -> None:
    """Import the flaky test and run it with two steady ones, ``batches`` times."""
    with daemon.http() as http:
        http.post("/v1/tests/import", json={"tests": [flaky_test(folder)]}).raise_for_status()
    for _ in range(batches):
        run_batch(daemon, names=[FLAKY, "echo-hello", "echo-wrong"])


def _cell(table: VirtualTable, row: int, column: str) -> str:
    keys = [column.key for column in table.columns]
    return table._render_row(table.rows[row])[keys.index(column)].plain


def _flags_read(captured: Captured) -> int:
    """How many times the Tests screen has read the flaky tests."""
    return sum(
        change.worker.group == "tests-flaky" and change.state is WorkerState.SUCCESS
        for change in captured.of(Worker.StateChanged)
    )


def _names(table: VirtualTable) -> list[str]:
    return [_cell(table, row, "name") for row in range(table.row_count)]


async def test_flaky_tests_are_flagged_and_found_by_the_filter(daemon: DaemonProcess, tmp_path: Path) -> None:
    run_flaky_batches(daemon, tmp_path)
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#tests", VirtualTable)
        await until(pilot, lambda: table.row_count == 8 and app.screen.catalog.flaky)
        assert app.screen.catalog.flaky == {FLAKY: 1}
        flags = {_cell(table, row, "name"): _cell(table, row, "flaky") for row in range(table.row_count)}
        assert flags[FLAKY] == "flaky"
        assert flags["echo-wrong"] == "" and flags["echo-hello"] == ""
        await pilot.press("slash", *"flaky", "enter")
        await until(pilot, lambda: table.row_count == 1)
        assert _names(table) == [FLAKY]
    await app.context.client.aclose()


async def test_the_flag_comes_when_a_batch_ends(daemon: DaemonProcess, tmp_path: Path) -> None:
    run_flaky_batches(daemon, tmp_path, batches=1)
    app = make_app(daemon)
    captured = Captured()
    async with app.run_test(size=SIZE, message_hook=captured) as pilot:
        await until(pilot, lambda: _flags_read(captured) == 1)
        assert app.screen.catalog.flaky == {}  # it has only failed so far
        run_batch(daemon, names=[FLAKY])
        await until(pilot, lambda: app.screen.catalog.flaky == {FLAKY: 1})
    await app.context.client.aclose()


async def _open_trends(pilot: Pilot[Any], rows: int) -> VirtualTable:
    await pilot.press("4")
    await until(pilot, lambda: isinstance(pilot.app.screen, TrendsScreen))
    table = pilot.app.screen.query_one("#trends", VirtualTable)
    await until(pilot, lambda: table.row_count == rows)
    return table


async def test_trends_mode_table_chart_and_keys(daemon: DaemonProcess, tmp_path: Path) -> None:
    run_flaky_batches(daemon, tmp_path)
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        table = await _open_trends(pilot, 3)
        screen = app.screen
        assert _names(table) == [FLAKY, "echo-hello", "echo-wrong"]
        row = {column.key: _cell(table, 0, column.key) for column in table.columns}
        # Failed, passed, failed over batches 1–3.
        assert row == {
            "name": FLAKY,
            "batches": "3",
            "last": "0.0%",
            "mean": "33.3%",
            "score": "0",
            "trend": "▁█▁",
            "flaky": "flaky v1",
        }
        assert _cell(table, 1, "trend") == "███"
        chart = screen.query_one("#trend-chart", TrendChart)
        assert chart.trend is not None and chart.trend.name == FLAKY
        assert [point.batch_id for point in chart.trend.points] == [1, 2, 3]
        assert "flaky at v1" in chart.plt.build()

        await pilot.press("down")
        await until(pilot, lambda: chart.trend is not None and chart.trend.name == "echo-hello")
        await pilot.press("f")
        assert _names(table) == [FLAKY]
        assert chart.trend is not None and chart.trend.name == FLAKY
        await pilot.press("f", "s")
        # Worst first: the lowest mean pass rate (0% before a flaky 33.3%).
        assert _names(table) == ["echo-wrong", FLAKY, "echo-hello"]
        assert "sorted by worst first" in str(screen.query_one("#trends-info").render())

        await pilot.press("b")
        await until(pilot, lambda: "last 20 batches" in str(screen.query_one("#trends-info").render()))
        assert table.row_count == 3
    await app.context.client.aclose()


async def test_trends_follow_finished_batches(daemon: DaemonProcess) -> None:
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        table = await _open_trends(pilot, 0)
        await until(pilot, lambda: table.empty_text.startswith("no finished runs"))
        chart = app.screen.query_one("#trend-chart", TrendChart)
        assert chart.trend is None
        run_batch(daemon, names=["echo-hello"])
        await until(pilot, lambda: table.row_count == 1)
        await until(pilot, lambda: chart.trend is not None and chart.trend.name == "echo-hello")
    await app.context.client.aclose()


async def test_details_chart_the_tests_trend(daemon: DaemonProcess, tmp_path: Path) -> None:
    run_flaky_batches(daemon, tmp_path)
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#tests", VirtualTable)
        await until(pilot, lambda: table.row_count == 8)
        table.move_cursor_to_key(table.rows[_names(table).index(FLAKY)].id)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TestDetailScreen))
        chart = app.screen.query_one("#test-trend", TrendChart)
        await until(pilot, lambda: chart.trend is not None)
        assert chart.trend is not None and chart.trend.name == FLAKY
        assert [point.pass_rate for point in chart.trend.points] == [0.0, 100.0, 0.0]
    await app.context.client.aclose()
