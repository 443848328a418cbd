"""The Trends mode: every test's pass rate over its recent batches, flaky tests flagged, and a chart of
the highlighted test's pass rate and score."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from callboard.core.wording import plural
from callboard.tui.context import attempt
from callboard.tui.messages import BatchEnded, Resync
from callboard.tui.screens.list_screen import ListScreen
from callboard.tui.state.trend_board import TrendBoard
from callboard.tui.widgets.trend_chart import TrendChart
from callboard.tui.widgets.trends_table import TrendsTable
from callboard.tui.widgets.virtual_table import VirtualTable


class TrendsScreen(ListScreen):
    """Mode ``trends`` (key 4): read again when a batch ends."""

    PLACE = "Trends"
    # The list, never the filter box: keys typed while the screen starts must not land in the box.
    AUTO_FOCUS = "#trends"
    LIST_ID = "trends"
    FILTER_HINT = "words in the test's name, or flaky"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "f", "flaky_only", "Flaky only", id="trends.flaky_only", tooltip="Show only flaky tests, or all"
        ),
        Binding("s", "order", "Sort", id="trends.order", tooltip="Sort by name, or worst first"),
        Binding("b", "window", "Batches", id="trends.window", tooltip="Look back 10, 20, 50 or 5 batches"),
        ListScreen.filter_binding("trends.filter", "Filter by the test's name"),
        Binding(
            "ctrl+r", "reload", "Reload", id="trends.reload", tooltip="Read the trends again", show=False
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.board = TrendBoard()

    def compose_body(self) -> ComposeResult:
        yield self.filter_box()
        yield Static("", id="trends-info", markup=False)
        yield TrendsTable(id="trends")
        yield TrendChart(empty_text="no test highlighted", id="trend-chart")

    @property
    def table(self) -> TrendsTable:
        """The trends table."""
        return self.query_one("#trends", TrendsTable)

    def on_mount(self) -> None:
        self.context.feed.subscribe(self, BatchEnded, Resync)
        self.table.focus()
        self.reload()

    def on_batch_ended(self, message: BatchEnded) -> None:
        self.reload()

    def on_resync(self, message: Resync) -> None:
        self.reload()

    @work(exclusive=True, group="trends-load")
    async def reload(self) -> None:
        """Read the trends for the current window and show them."""
        board = self.board
        trends = await attempt(self, "Reading trends", self.context.client.trends(board.last_batches))
        if trends is None:
            self.table.empty_text = "could not read the trends — ctrl+r tries again"
            self.table.refresh()
            return
        board.load(trends.tests)
        self.table.empty_text = "no finished runs yet — run some tests first"
        self.show_rows()

    def show_rows(self) -> None:
        """Draw the shown trends (the cursor stays on its test), the chart and the info line."""
        self.table.set_rows(self.board.visible)
        self.show_chart()
        board = self.board
        parts = [
            f"{plural(len(board.trends), 'test')} over the last {plural(board.last_batches, 'batch')}",
            f"{board.flaky_count:,} flaky",
            f"sorted by {board.order.value}",
        ]
        if board.flaky_only:
            parts.append("flaky only")
        if board.query.strip():
            parts.append(f"{len(board.visible):,} shown (filter: {board.query})")
        self.query_one("#trends-info", Static).update(" · ".join(parts))

    def show_chart(self) -> None:
        """Chart the highlighted test."""
        key = self.table.cursor_key
        self.query_one("#trend-chart", TrendChart).show(
            self.board.by_name.get(key) if isinstance(key, str) else None
        )

    @on(VirtualTable.RowHighlighted, "#trends")
    def _row_highlighted(self) -> None:
        self.show_chart()

    def apply_filter(self, query: str) -> None:
        """Show the tests whose name holds every word of ``query``."""
        self.board.apply_filter(query)
        self.show_rows()

    def action_flaky_only(self) -> None:
        """Show only the flaky tests, or all."""
        self.board.toggle_flaky_only()
        self.show_rows()

    def action_order(self) -> None:
        """Sort by name, or worst first."""
        self.board.toggle_order()
        self.show_rows()

    def action_window(self) -> None:
        """Look back more (or fewer) batches."""
        self.board.next_window()
        self.reload()

    def action_reload(self) -> None:
        """Read the trends again."""
        self.reload()
