"""The Simulations screen: active batches with progress, and a live table of runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from callboard.core.models.api import RetryRequest
from callboard.core.models.runs import RunStatus
from callboard.core.wording import plural
from callboard.tui.context import attempt, done
from callboard.tui.messages import Resync, RunChanged, RunsQueued
from callboard.tui.screens.confirm_screen import ConfirmScreen
from callboard.tui.screens.list_screen import ListScreen
from callboard.tui.screens.run_detail_screen import RunDetailScreen
from callboard.tui.state.run_window import MAX_RELOAD, RunFilter, RunView, RunWindow
from callboard.tui.widgets.batch_panel import BatchPanel
from callboard.tui.widgets.runs_table import RunsTable

# Events, the spinner and the ages are drawn together on one tick: any change to a DataTable redraws
# every visible row, so one redraw a tick bounds the cost however fast events come.
_TICK_S = 0.25
_AGES_EVERY = 20  # ticks


class SimulationsScreen(ListScreen):
    """Mode ``simulations`` (key 2)."""

    PLACE = "Simulations"
    # The list, never the filter box: keys typed while the screen starts must not land in the box.
    AUTO_FOCUS = "#runs"
    LIST_ID = "runs"
    FILTER_HINT = "words in the test's name, the status, batch N"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "c", "cancel_run", "Cancel run", id="sims.cancel_run", tooltip="Cancel this queued or running run"
        ),
        Binding(
            "C", "cancel_batch", "Cancel batch", id="sims.cancel_batch", tooltip="Cancel this run's batch"
        ),
        Binding("x", "retry_run", "Retry", id="sims.retry_run", tooltip="Run this run's test again"),
        Binding(
            "X",
            "retry_batch",
            "Retry failed",
            id="sims.retry_batch",
            tooltip="Run the failed and errored tests of this run's batch again",
        ),
        Binding("p", "toggle_pause", "Pause", id="sims.pause", tooltip="Pause the queue, or resume it"),
        Binding(
            "s",
            "cycle_status",
            "Status",
            id="sims.status",
            tooltip="all, active, running, failed, passed, cancelled",
        ),
        Binding("b", "batch_filter", "Batch", id="sims.batch", tooltip="Only this run's batch (again: all)"),
        ListScreen.filter_binding("sims.filter", "Filter by test name, status or batch N"),
        Binding("m", "more", "More", id="sims.more", tooltip="Load an older page of runs"),
        Binding("ctrl+r", "reload", "Reload", id="sims.reload", tooltip="Read the runs again", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.window = RunWindow()
        self._pending: dict[int, RunView] = {}
        self._ticks = 0

    def compose_body(self) -> ComposeResult:
        yield BatchPanel()
        yield self.filter_box()
        yield Static("", id="runs-info", markup=False)
        yield RunsTable(id="runs")

    @property
    def table(self) -> RunsTable:
        """The runs table."""
        return self.query_one("#runs", RunsTable)

    @property
    def panel(self) -> BatchPanel:
        """The active batches."""
        return self.query_one(BatchPanel)

    def on_mount(self) -> None:
        self.context.feed.subscribe(self, RunChanged, RunsQueued, Resync)
        self.set_interval(_TICK_S, self.tick)
        self.table.focus()
        self.load()

    # -- loading ---------------------------------------------------------------------------------

    @work(exclusive=True, group="sims-load")
    async def load(self) -> None:
        """Read the newest page of runs and the active batches."""
        client, window = self.context.client, self.window
        # The words of the filter are matched here, not by the API: read as many runs as it gives.
        limit = MAX_RELOAD if window.filter.text.strip() else min(window.limit, MAX_RELOAD)
        page = await attempt(
            self,
            "Loading runs",
            client.list_runs(
                status=window.filter.status_query(), batch_id=window.filter.batch_id, limit=limit
            ),
        )
        if page is None:
            return
        queue = await self.context.feed.refresh_queue()
        window.limit = limit
        window.reset([RunView.of(run) for run in page.runs], more=page.next_before is not None)
        self.table.reset(window.rows.values())
        if queue is not None:
            self.panel.set_batches(queue.active_batches)
        self.update_info()

    @work(exclusive=True, group="sims-more")
    async def action_more(self) -> None:
        """Add an older page of runs at the bottom."""
        window = self.window
        page = await attempt(
            self,
            "Loading runs",
            self.context.client.list_runs(
                status=window.filter.status_query(),
                batch_id=window.filter.batch_id,
                before=window.oldest(),
                limit=window.page,
            ),
        )
        if page is not None:
            self.table.apply(
                window.extend([RunView.of(run) for run in page.runs], more=page.next_before is not None)
            )
            self.update_info()

    def update_info(self) -> None:
        """``status: all · batch: all · 200 runs shown · m: older``."""
        window = self.window
        parts = [window.filter.describe(), f"{plural(len(window.rows), 'run')} shown"]
        if window.more:
            parts.append("m: older")
        self.query_one("#runs-info", Static).update(" · ".join(parts), layout=False)
        self.refresh_bindings()

    # -- events ----------------------------------------------------------------------------------

    def on_run_changed(self, message: RunChanged) -> None:
        event = message.event
        base = self._pending.get(event.run_id) or self.window.rows.get(event.run_id)
        self._pending[event.run_id] = base.updated(event) if base else RunView.from_event(event)

    def tick(self) -> None:
        """Apply what the events said since the last tick, turn the spinners, now and then the ages."""
        self._ticks += 1
        views, self._pending = list(self._pending.values()), {}
        rows = self.window.rows.values()
        with self.app.batch_update():
            if views:
                self.table.apply(self.window.offer(views))
            if self._ticks % _AGES_EVERY == 0:
                self.table.retouch(rows)
            else:
                self.table.retouch(view for view in rows if view.status is RunStatus.RUNNING)
        if views:
            self.update_info()

    def on_runs_queued(self, message: RunsQueued) -> None:
        window = self.window
        if window.filter.batch_id in (None, message.batch_id):
            self.fetch_runs(message.batch_id, min(len(message.run_ids), window.limit))

    def on_resync(self, message: Resync) -> None:
        self.load()

    @work(group="sims-fetch")
    async def fetch_runs(self, batch_id: int, count: int) -> None:
        """The newest runs of a batch just queued (the event has only their ids)."""
        status = self.window.filter.status_query()
        page = await attempt(
            self, "Loading runs", self.context.client.list_runs(status=status, batch_id=batch_id, limit=count)
        )
        for run in page.runs if page else []:
            self._pending.setdefault(run.id, RunView.of(run))

    # -- actions ---------------------------------------------------------------------------------

    def _view(self) -> RunView | None:
        # Bindings are checked while screens come and go, when the table may not be there.
        tables = self.query(RunsTable)
        run_id = tables.first().highlighted if tables else None
        return None if run_id is None else self.window.rows.get(run_id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        view = self._view()
        if action == "cancel_run":
            return (view is not None and not view.status.is_final) or None
        if action == "cancel_batch":
            return (view is not None and view.batch_id in self.panel.lines) or None
        if action == "retry_run":
            return (view is not None and view.status.is_final) or None
        if action == "retry_batch":
            return view is not None or None
        if action == "more":
            return self.window.more or None
        return super().check_action(action, parameters)

    @on(DataTable.RowHighlighted, "#runs")
    def _highlighted(self) -> None:
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#runs")
    def _selected(self) -> None:
        self.open_details()

    def open_details(self) -> None:
        """Open the highlighted run."""
        view = self._view()
        if view is not None:
            self.app.push_screen(RunDetailScreen(view.id))

    def action_cancel_run(self) -> None:
        """Confirm, then cancel the highlighted run."""
        view = self._view()
        if view is None:
            return
        body = f"{view.test_name} (batch {view.batch_id}) is {view.status.value}."
        self._confirm(f"Cancel run {view.id}?", body, self.cancel_run, view.id)

    def action_cancel_batch(self) -> None:
        """Confirm, then cancel the highlighted run's batch."""
        view = self._view()
        if view is None:
            return
        line = self.panel.lines.get(view.batch_id)
        unfinished = line.total - line.done if line else 0
        verb = "is" if unfinished == 1 else "are"
        left = f"{unfinished:,} of {plural(line.total, 'run')} {verb} not finished." if line else ""
        self._confirm(f"Cancel batch {view.batch_id}?", left, self.cancel_batch, view.batch_id)

    def _confirm(self, title: str, body: str, then: Callable[[int], object], target: int) -> None:
        def answered(yes: bool | None) -> None:  # noqa: FBT001 (push_screen's callback)
            if yes:
                then(target)

        dialog = ConfirmScreen(title, body, confirm="Cancel it", danger=True, refuse="Keep it")
        self.app.push_screen(dialog, answered)

    @work(group="sims-act")
    async def cancel_run(self, run_id: int) -> None:
        """Cancel one run."""
        if await attempt(self, "Cancelling", done(self.context.client.cancel_run(run_id))) is None:
            return
        self.notify(f"Run {run_id} cancelled")

    @work(group="sims-act")
    async def cancel_batch(self, batch_id: int) -> None:
        """Cancel a batch's queued and running runs."""
        cancelled = await attempt(self, "Cancelling", self.context.client.cancel_batch(batch_id))
        if cancelled is not None:
            self.notify(f"{plural(cancelled, 'run')} cancelled", title=f"Batch {batch_id}")

    @work(group="sims-act")
    async def action_retry_run(self) -> None:
        """Queue the highlighted run's test again."""
        view = self._view()
        if view is None:
            return
        created = await attempt(self, "Retrying", self.context.client.retry_run(view.id))
        if created is not None:
            self.notify(f"{view.test_name} queued again", title=f"Batch {created.batch.id}")

    @work(group="sims-act")
    async def action_retry_batch(self) -> None:
        """Queue the failed and errored tests of the highlighted run's batch again."""
        view = self._view()
        if view is None:
            return
        created = await attempt(
            self, "Retrying", self.context.client.retry_batch(view.batch_id, RetryRequest(failed_only=True))
        )
        if created is not None:
            queued = created.batch.counts.total - len(created.skipped)
            self.notify(f"{plural(queued, 'test')} queued again", title=f"Batch {created.batch.id}")

    @work(group="sims-act")
    async def action_toggle_pause(self) -> None:
        """Pause the queue, or resume it."""
        feed = self.context.feed
        paused = feed.queue.paused if feed.queue else False
        client = self.context.client
        status = await attempt(
            self, "Resuming" if paused else "Pausing", client.resume() if paused else client.pause()
        )
        if status is not None:
            feed.set_queue(status)
            self.notify(
                "Queue paused: running runs finish, no new ones start" if status.paused else "Queue resumed"
            )

    def action_cycle_status(self) -> None:
        """Show the next status filter."""
        self._refilter(self.window.filter.next_status())

    def action_batch_filter(self) -> None:
        """Only the highlighted run's batch, or every batch again."""
        view, run_filter = self._view(), self.window.filter
        if run_filter.batch_id is not None:
            self._refilter(replace(run_filter, batch_id=None))
        elif view is not None:
            self._refilter(replace(run_filter, batch_id=view.batch_id))

    def apply_filter(self, query: str) -> None:
        """Show the runs whose test name, status or batch holds every word of ``query``."""
        self._refilter(replace(self.window.filter, text=query))

    def _refilter(self, run_filter: RunFilter) -> None:
        self.window.refilter(run_filter)
        self._pending.clear()
        self.load()

    def action_reload(self) -> None:
        """Read the runs again."""
        self.load()
