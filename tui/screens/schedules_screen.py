"""The Schedules mode: every schedule with its timing, next fire time and last batch (with its pass
rate); pause or resume, run now, remove."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.widgets import Static

from callboard.core.models.schedules import ScheduleView
from callboard.core.wording import percent, plural
from callboard.tui.context import attempt, done
from callboard.tui.formatting import NONE, span
from callboard.tui.messages import BatchEnded
from callboard.tui.screens.confirm_screen import ConfirmScreen
from callboard.tui.screens.list_screen import ListScreen
from callboard.tui.widgets.literal_table import LiteralDataTable

REFRESH_S = 5.0
_COLUMNS = ("name", "when", "runs", "state", "next run", "last batch", "pass rate")


def _when(view: ScheduleView) -> str:
    schedule = view.schedule
    timing = schedule.cron or f"every {schedule.interval_s:g}s"
    return f"{timing} ({schedule.timezone})"


def _runs(view: ScheduleView) -> str:
    schedule = view.schedule
    if schedule.all:
        return "all tests"
    return ", ".join(
        [*schedule.names, *(f"#{i}" for i in schedule.ids), *(f"tag:{t}" for t in schedule.tags)]
    )


class SchedulesScreen(ListScreen):
    """A table of schedules, keyed by schedule id, read again every few seconds and when a batch ends."""

    PLACE = "Schedules"
    # The list, never the filter box: keys typed while the screen starts must not land in the box.
    AUTO_FOCUS = "#schedules-table"
    LIST_ID = "schedules-table"
    FILTER_HINT = "words in the name, the timing, the tests it runs, active or paused"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "p", "toggle", "Pause/resume", id="schedules.toggle", tooltip="Pause or resume this schedule"
        ),
        Binding("n", "run_now", "Run now", id="schedules.run", tooltip="Queue this schedule's batch now"),
        Binding(
            "d", "remove", "Remove", id="schedules.remove", tooltip="Remove this schedule (its batches stay)"
        ),
        ListScreen.filter_binding("schedules.filter", "Filter by name, timing, tests, state"),
    ]

    def __init__(self) -> None:
        super().__init__()
        # Every schedule as last read, and those the filter shows (the table's rows).
        self.all_views: list[ScheduleView] = []
        self.views: dict[int, ScheduleView] = {}

    def compose_body(self) -> ComposeResult:
        yield self.filter_box()
        yield Static("", id="schedules-summary", markup=False)
        table = LiteralDataTable(id="schedules-table", cursor_type="row", zebra_stripes=True)
        for column in _COLUMNS:
            table.add_column(column, key=column)
        yield table
        yield Static(
            "Add schedules with: callboard schedule add NAME --cron EXPR | --every 15m",
            id="schedules-hint",
            markup=False,
        )

    def on_mount(self) -> None:
        self.context.feed.subscribe(self, BatchEnded)
        self.set_interval(REFRESH_S, self.reload)
        self.reload()

    def on_batch_ended(self, message: BatchEnded) -> None:
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle", "run_now", "remove"):
            return True if self._selected() is not None else None
        return super().check_action(action, parameters)

    def _selected(self) -> ScheduleView | None:
        table = self.query_one("#schedules-table", LiteralDataTable)
        if not self.views or table.cursor_row < 0 or table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(Coordinate(table.cursor_row, 0)).row_key.value
        return self.views.get(int(key)) if key is not None else None

    @work(group="schedules-load", exclusive=True)
    async def reload(self) -> None:
        """Read the schedules and update the table in place (rows keyed by schedule id)."""
        views = await attempt(self, "Reading schedules", self.context.client.list_schedules())
        if views is not None:
            self.all_views = views
            self.show_views()

    def apply_filter(self, query: str) -> None:
        """Show the schedules whose name, timing, tests or state hold every word of ``query``."""
        self.show_views()

    def show_views(self) -> None:
        """Update the table in place (rows keyed by schedule id) to the schedules the filter shows."""
        views = self.all_views
        words = self.filter_query.lower().split()
        table = self.query_one("#schedules-table", LiteralDataTable)
        now = self.context.clock()
        fresh = {
            view.schedule.id: view
            for view in views
            if all(word in " ".join(self._cells(view, now)).lower() for word in words)
        }
        with self.app.batch_update():
            for gone in set(self.views) - set(fresh):
                table.remove_row(str(gone))
            for schedule_id, view in fresh.items():
                cells = self._cells(view, now)
                if schedule_id in self.views:
                    for column, value in zip(_COLUMNS, cells, strict=True):
                        table.update_cell(str(schedule_id), column, value)
                else:
                    table.add_row(*cells, key=str(schedule_id))
        self.views = fresh
        active = sum(1 for view in views if view.schedule.enabled)
        summary = f"{plural(len(views), 'schedule')} · {active} active"
        if words:
            summary += f" · {len(fresh):,} shown (filter: {self.filter_query})"
        self.query_one("#schedules-summary", Static).update(summary)
        self.refresh_bindings()

    def _cells(self, view: ScheduleView, now: datetime) -> tuple[str, ...]:
        schedule, batch = view.schedule, view.last_batch
        next_run = "-"
        if schedule.next_fire_at is not None:
            wait = max(0.0, (schedule.next_fire_at - now).total_seconds())
            next_run = (
                f"in {span(wait)}"
                if wait < 86400
                else schedule.next_fire_at.astimezone().strftime("%Y-%m-%d %H:%M")
            )
        last = "-" if batch is None else f"#{batch.id} {batch.status.value}"
        return (
            schedule.name,
            _when(view),
            _runs(view),
            "active" if schedule.enabled else "paused",
            next_run if schedule.enabled else "-",
            last,
            "-" if batch is None else percent(batch.counts.pass_rate, NONE),
        )

    @work(group="schedules-act")
    async def action_toggle(self) -> None:  # type: ignore[override]  # replaces Textual's generic toggle(attribute) action on purpose
        """Pause an active schedule, resume a paused one."""
        view = self._selected()
        if view is None:
            return
        enabled = not view.schedule.enabled
        client = self.context.client
        if await attempt(
            self, "Changing the schedule", client.set_schedule_enabled(view.schedule.id, enabled=enabled)
        ):
            self.notify(f"Schedule {view.schedule.name!r} {'resumed' if enabled else 'paused'}")
            self.reload()

    @work(group="schedules-act")
    async def action_run_now(self) -> None:
        """Queue the schedule's batch now."""
        view = self._selected()
        if view is None:
            return
        created = await attempt(
            self, "Running the schedule", self.context.client.run_schedule(view.schedule.id)
        )
        if created is not None:
            self.notify(f"Batch {created.batch.id} queued ({plural(created.batch.counts.total, 'run')})")
            self.reload()

    def action_remove(self) -> None:
        """Confirm, then remove the schedule."""
        view = self._selected()
        if view is None:
            return

        def answered(yes: bool | None) -> None:  # noqa: FBT001 (push_screen's callback)
            if yes:
                self.remove_schedule(view.schedule.id, view.schedule.name)

        body = "Its batches and their results stay."
        self.app.push_screen(
            ConfirmScreen(f"Remove schedule {view.schedule.name!r}?", body, "Remove", danger=True), answered
        )

    @work(group="schedules-act")
    async def remove_schedule(self, schedule_id: int, name: str) -> None:
        """Remove a schedule."""
        if await attempt(
            self, "Removing the schedule", done(self.context.client.delete_schedule(schedule_id))
        ):
            self.notify(f"Schedule {name!r} removed")
            self.reload()
