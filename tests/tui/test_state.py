"""The screens' data without Textual or a daemon: the run window, the test catalog, coalescing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult

from callboard.core.models.api import (
    LimitUsage,
    QueueStatus,
    RunSummary,
    TestSummary,
    TestTrendOut,
    TrendPointOut,
)
from callboard.core.models.events import BatchProgress, RunFinished, RunStarted
from callboard.core.models.runs import RunStatus
from callboard.tui.formatting import age, duration_ms, span
from callboard.tui.messages import BatchProgressed, QueueUpdated, RunChanged
from callboard.tui.state.run_window import RunFilter, RunView, RunWindow
from callboard.tui.state.test_catalog import TestCatalog
from callboard.tui.state.trend_board import TrendBoard, TrendOrder, last_pass_rate, mean_pass_rate
from callboard.tui.widgets.virtual_table import Column, VirtualTable

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _view(run_id: int, status: RunStatus = RunStatus.QUEUED, batch_id: int = 1) -> RunView:
    return RunView(run_id, batch_id, f"t{run_id}", status, 0)


def _test(index: int, **fields: Any) -> TestSummary:
    base = {
        "id": index,
        "name": f"test-{index:05d}",
        "kind": "http",
        "target": "http://x",
        "tags": ["api"],
        "version": 1,
    }
    return TestSummary.model_validate(base | fields)


def test_window_adds_newer_runs_updates_in_place_and_trims_the_oldest() -> None:
    window = RunWindow(page=3)
    window.reset([_view(3), _view(2), _view(1)], more=False)
    change = window.offer([_view(4), _view(2, RunStatus.RUNNING)])
    assert [v.id for v in change.added] == [4] and [v.id for v in change.updated] == [2]
    assert change.removed == [1] and sorted(window.rows) == [2, 3, 4] and window.more
    # Older than every row of a full window: not ours to show.
    assert not window.offer([_view(1, RunStatus.PASSED)]).added


def test_window_follows_the_filter_and_never_goes_back_in_time() -> None:
    window = RunWindow()
    window.filter = RunFilter("active", (RunStatus.QUEUED, RunStatus.RUNNING))
    window.reset([_view(1, RunStatus.RUNNING)], more=False)
    assert window.offer([_view(1, RunStatus.QUEUED)]).updated == []  # a stale read
    change = window.offer([_view(1, RunStatus.PASSED), _view(2, RunStatus.PASSED), _view(3)])
    assert change.removed == [1] and [v.id for v in change.added] == [3]


def test_run_view_from_events() -> None:
    started = RunStarted(run_id=7, batch_id=2, test_name="a", attempt=1, at=NOW)
    view = RunView.from_event(started)
    assert (view.status, view.tries, view.started_at) == (RunStatus.RUNNING, 1, NOW)
    finished = RunFinished(
        run_id=7, batch_id=2, test_name="a", status=RunStatus.FAILED, score=50, duration_ms=12
    )
    done = view.updated(finished)
    assert (done.status, done.score, done.tries) == (RunStatus.FAILED, 50, 1)
    assert done.updated(started) is done  # a late start does not reopen a finished run
    summary = RunSummary(
        id=1,
        batch_id=1,
        test_id=1,
        test_name="a",
        kind="http",
        target="x",
        trial=1,
        status=RunStatus.QUEUED,
        attempt=0,
        queued_at=NOW,
    )
    assert RunView.of(summary).tries is None


def test_catalog_filter_selection_and_plan() -> None:
    catalog = TestCatalog()
    catalog.load([_test(1), _test(2, kind="call", skip_reason="no phone number", tags=["calls"]), _test(3)])
    assert [t.id for t in catalog.apply_filter("CALL")] == [2]
    catalog.toggle_visible()
    catalog.apply_filter("")
    catalog.toggle(3)
    assert catalog.selected == {2, 3}
    plan = catalog.plan(catalog.selected_tests())
    assert (plan.total, plan.runnable, plan.skipped) == (2, 1, {"no phone number": ["test-00002"]})
    catalog.remove({2})
    assert catalog.selected == {3} and len(catalog.tests) == 2


def test_filtering_ten_thousand_tests_fills_the_table_with_the_matches() -> None:
    catalog = TestCatalog()
    catalog.load([_test(index, tags=["smoke"] if index % 7 else ["nightly"]) for index in range(1, 10_001)])

    class Harness(App[None]):
        def compose(self) -> ComposeResult:
            yield VirtualTable([Column("name", "name")], lambda t: [Text(t.name)], lambda t: t.id)

    async def filtered() -> list[int]:
        async with Harness().run_test(size=(100, 40)) as pilot:
            table = pilot.app.query_one(VirtualTable)
            table.set_rows(catalog.tests)
            await pilot.pause()
            table.set_rows(catalog.apply_filter("nightly 0"))
            await pilot.pause()
            assert table.row_count == len(catalog.visible) > 100
            return [test.id for test in catalog.visible]

    # How fast (target 100 ms) is measured by bench/tui.py, never asserted here.
    ids = asyncio.run(filtered())
    assert all(index % 7 == 0 and "0" in f"test-{index:05}" for index in ids)


def test_bursts_coalesce() -> None:
    progress = BatchProgress(
        batch_id=1, done=1, total=9, passed=1, failed=0, error=0, pass_rate=100, rate_per_s=1, eta_s=8
    )
    first, later = BatchProgressed(progress), BatchProgressed(progress.model_copy(update={"done": 2}))
    other = BatchProgressed(progress.model_copy(update={"batch_id": 2}))
    assert first.can_replace(later) and not first.can_replace(other)
    started = RunChanged(RunStarted(run_id=1, batch_id=1, test_name="a", attempt=0))
    finished = RunChanged(RunFinished(run_id=1, batch_id=1, test_name="a", status=RunStatus.PASSED))
    assert started.can_replace(finished)
    assert not started.can_replace(RunChanged(RunStarted(run_id=2, batch_id=1, test_name="b", attempt=0)))
    queue = QueueStatus(
        running=0,
        queued=0,
        paused=False,
        rate_per_s=0,
        concurrency=LimitUsage(in_use=0),
        limits={},
        running_runs=[],
    )
    assert QueueUpdated(queue).can_replace(QueueUpdated(queue))


def test_formatting() -> None:
    assert age(NOW - timedelta(seconds=3), NOW) == "just now"
    assert age(NOW - timedelta(seconds=42), NOW) == "42s ago"
    assert age(NOW - timedelta(hours=3), NOW) == "3h ago"
    assert duration_ms(8.4) == "8 ms" and duration_ms(1250) == "1.25 s" and duration_ms(192_000) == "3m 12s"
    assert span(None) == "—" and span(3725) == "1h 02m"


def _trend(name: str, rates: list[float], *, flaky: bool = False) -> TestTrendOut:
    points = [TrendPointOut(batch_id=i + 1, pass_rate=rate) for i, rate in enumerate(rates)]
    return TestTrendOut(name=name, points=points, flaky=flaky, flaky_version=1 if flaky else None)


def test_trend_board_flaky_only_order_and_window() -> None:
    board = TrendBoard()
    board.load([_trend("alpha", [100, 100]), _trend("beta", [0, 50]), _trend("gamma", [100, 0], flaky=True)])
    assert [trend.name for trend in board.visible] == ["alpha", "beta", "gamma"]
    assert board.flaky_count == 1
    board.toggle_order()
    assert board.order is TrendOrder.WORST
    assert [trend.name for trend in board.visible] == ["beta", "gamma", "alpha"]
    board.toggle_flaky_only()
    assert [trend.name for trend in board.visible] == ["gamma"]
    board.load([_trend("alpha", [0])])  # the switches hold across a reload
    assert board.visible == []
    board.toggle_flaky_only()
    board.toggle_order()
    assert [trend.name for trend in board.visible] == ["alpha"]
    assert [board.next_window() for _ in range(4)] == [20, 50, 5, 10]
    assert mean_pass_rate(_trend("beta", [0, 50])) == 25.0
    assert last_pass_rate(_trend("none", [])) is None


def test_worst_first_puts_a_test_that_never_passes_above_a_flaky_one() -> None:
    board = TrendBoard()
    board.load([
        _trend("flaky", [100, 100, 0], flaky=True),
        _trend("never", [0, 0]),
        _trend("fine", [100]),
        _trend("also-never", [0], flaky=True),
    ])  # fmt: skip
    board.toggle_order()
    assert [trend.name for trend in board.visible] == ["also-never", "never", "flaky", "fine"]


def test_catalog_marks_flaky_tests_and_filters_on_the_word() -> None:
    catalog = TestCatalog()
    catalog.load([_test(1, name="checkout"), _test(2, name="login")])
    catalog.apply_filter("flaky")
    assert catalog.visible == []
    catalog.set_flaky({"login": 3})
    assert [test.name for test in catalog.visible] == ["login"]
    catalog.load([_test(1, name="checkout"), _test(2, name="login")])
    assert [test.name for test in catalog.visible] == ["login"]
