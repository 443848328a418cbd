"""The Tests screen: every test with its last result; select some and run them, filter, import,
delete, open one."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from callboard.core.models.api import BatchRequest, ImportResult
from callboard.core.models.events import RunFinished
from callboard.core.wording import plural
from callboard.tui.context import attempt, done
from callboard.tui.messages import BatchEnded, Resync, RunChanged, TestsUpdated
from callboard.tui.screens.confirm_screen import ConfirmScreen
from callboard.tui.screens.import_screen import ImportScreen
from callboard.tui.screens.list_screen import ListScreen
from callboard.tui.screens.test_detail_screen import TestDetailScreen
from callboard.tui.state.test_catalog import RunPlan, TestCatalog
from callboard.tui.widgets.tests_table import TestsTable
from callboard.tui.widgets.virtual_table import VirtualTable

_NAMES_SHOWN = 5
# Results and ages are redrawn on a tick, not per event: a busy batch finishes hundreds of runs a second.
_REDRAW_S = 0.25
_AGES_EVERY = 20  # ticks


def plan_text(plan: RunPlan) -> str:
    """The confirmation's body: how many run, how many are skipped and why."""
    lines = [f"{plural(plan.runnable, 'test')} will run."]
    if plan.skipped:
        lines.append(f"{plan.skipped_count:,} will be skipped:")
        for reason, names in sorted(plan.skipped.items()):
            shown = ", ".join(names[:_NAMES_SHOWN]) + (" …" if len(names) > _NAMES_SHOWN else "")
            lines.append(f"  {reason} ({len(names):,}): {shown}")
    return "\n".join(lines)


class TestsScreen(ListScreen):
    """Mode ``tests`` (key 1)."""

    __test__ = False
    PLACE = "Tests"
    # The list, never the filter box: keys typed while the screen starts must not land in the box.
    AUTO_FOCUS = "#tests"
    LIST_ID = "tests"
    FILTER_HINT = "words in the name, a tag or the kind"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle", "Select", id="tests.toggle", tooltip="Select or unselect this test"),
        Binding("a", "select_all", "All", id="tests.all", tooltip="Select every shown test (again: none)"),
        ListScreen.filter_binding("tests.filter", "Filter by name, tag or kind"),
        Binding(
            "r", "run_selected", "Run selected", id="tests.run_selected", tooltip="Queue the selected tests"
        ),
        Binding("R", "run_all", "Run all", id="tests.run_all", tooltip="Queue every test"),
        Binding("i", "import", "Import", id="tests.import", tooltip="Import TOML or CSV suite files"),
        Binding(
            "d", "delete", "Delete", id="tests.delete", tooltip="Delete the selected or highlighted tests"
        ),
        Binding("ctrl+r", "reload", "Reload", id="tests.reload", tooltip="Read the tests again", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.catalog = TestCatalog()
        self._stale = False
        self._ticks = 0

    def compose_body(self) -> ComposeResult:
        yield self.filter_box()
        yield Static("", id="tests-info", markup=False)
        yield TestsTable(self.catalog, id="tests")

    @property
    def table(self) -> TestsTable:
        """The tests table."""
        return self.query_one("#tests", TestsTable)

    def on_mount(self) -> None:
        self.context.feed.subscribe(self, RunChanged, Resync, BatchEnded, TestsUpdated)
        self.set_interval(_REDRAW_S, self._redraw)
        self.table.focus()
        self.load()

    def _redraw(self) -> None:
        self._ticks += 1
        if self._stale or self._ticks % _AGES_EVERY == 0:
            self._stale = False
            self.table.refresh()

    # -- loading ---------------------------------------------------------------------------------

    @work(exclusive=True, group="tests-load")
    async def load(self) -> None:
        """Read every test from the daemon and show them."""
        await self.context.feed.started.wait()
        tests = await attempt(self, "Loading tests", self.context.client.list_tests())
        if tests is None:
            self.table.empty_text = "could not load the tests — ctrl+r tries again"
            self.table.refresh()
            return
        self.catalog.load(tests)
        self.table.empty_text = "no tests — press i to import a suite file"
        self.show_rows()
        self.load_flaky()

    @work(exclusive=True, group="tests-flaky")
    async def load_flaky(self) -> None:
        """Ask the daemon which tests are flaky and mark them."""
        # One batch of points is the least the API sends; only the flags are used here.
        client = self.context.client
        trends = await attempt(self, "Reading trends", client.trends(1, flaky_only=True))
        if trends is None:
            return
        self.catalog.set_flaky(
            {trend.name: trend.flaky_version for trend in trends.tests if trend.flaky_version is not None}
        )
        if self.catalog.query:  # "flaky" may be a word of the filter
            self.show_rows()
        self._stale = True

    def show_rows(self) -> None:
        """Draw the filtered tests and the counts line."""
        self.table.set_rows(self.catalog.visible)
        self.update_info()

    def update_info(self) -> None:
        """``10,000 tests · 9,812 shown · 3 selected``."""
        catalog = self.catalog
        parts = [plural(len(catalog.tests), "test")]
        if catalog.query:
            parts.append(f"{len(catalog.visible):,} shown (filter: {catalog.query})")
        parts.append(f"{len(catalog.selected):,} selected")
        self.query_one("#tests-info", Static).update(" · ".join(parts), layout=False)
        self.refresh_bindings()

    def on_resync(self, message: Resync) -> None:
        self.load()

    def on_tests_updated(self, message: TestsUpdated) -> None:
        self.load()

    def on_batch_ended(self, message: BatchEnded) -> None:
        self.load_flaky()

    def on_run_changed(self, message: RunChanged) -> None:
        event = message.event
        if isinstance(event, RunFinished) and self.catalog.record_finish(
            event.test_name, event.status, event.score, event.at
        ):
            self._stale = True

    # -- filter ----------------------------------------------------------------------------------

    def apply_filter(self, query: str) -> None:
        """Show the tests whose name, kind or a tag holds every word of ``query``."""
        self.catalog.apply_filter(query)
        self.show_rows()

    # -- selection -------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "run_selected":
            return bool(self.catalog.selected) or None
        if action == "run_all":
            return bool(self.catalog.tests) or None
        if action in ("toggle", "select_all", "delete"):
            return bool(self.catalog.visible) or None
        return super().check_action(action, parameters)

    def action_toggle(self) -> None:  # type: ignore[override]  # replaces Textual's generic toggle(attribute) action on purpose
        """Select or unselect the highlighted test."""
        key = self.table.cursor_key
        if isinstance(key, int):
            self.catalog.toggle(key)
            self.table.refresh()
            self.update_info()

    def action_select_all(self) -> None:
        """Select every shown test, or none when they all are."""
        self.catalog.toggle_visible()
        self.table.refresh()
        self.update_info()

    # -- running ---------------------------------------------------------------------------------

    def action_run_selected(self) -> None:
        """Confirm, then queue the selected tests."""
        tests = self.catalog.selected_tests()
        request = BatchRequest(ids=[test.id for test in tests], source="tui", label="run selected")
        self._confirm_run(self.catalog.plan(tests), request)

    def action_run_all(self) -> None:
        """Confirm, then queue every test."""
        request = BatchRequest(all=True, source="tui", label="run all")
        self._confirm_run(self.catalog.plan(self.catalog.tests), request)

    def _confirm_run(self, plan: RunPlan, request: BatchRequest) -> None:
        def answered(yes: bool | None) -> None:  # noqa: FBT001 (push_screen's callback)
            if yes:
                self.queue_batch(plan, request)

        title = f"Run {plural(plan.total, 'test')}?"
        self.app.push_screen(ConfirmScreen(title, plan_text(plan), confirm="Run"), answered)

    @work(group="tests-run")
    async def queue_batch(self, plan: RunPlan, request: BatchRequest) -> None:
        """Queue the batch and say how it went."""
        created = await attempt(self, "Queueing tests", self.context.client.create_batch(request))
        if created is None:
            return
        queued = plan.total - len(created.skipped)
        reasons = sorted({skipped.reason for skipped in created.skipped})
        why = f": {'; '.join(reasons)}" if reasons else ""
        self.notify(
            f"{plural(queued, 'test')} queued ({len(created.skipped):,} skipped{why})",
            title=f"Batch {created.batch.id}",
        )
        if request.ids:
            self.catalog.selected.clear()
            self.table.refresh()
            self.update_info()

    # -- one test --------------------------------------------------------------------------------

    @on(VirtualTable.RowSelected, "#tests")
    def _row_selected(self) -> None:
        self.open_details()

    @on(VirtualTable.RowHighlighted, "#tests")
    def _row_highlighted(self) -> None:
        self.refresh_bindings()

    def open_details(self) -> None:
        """Open the highlighted test."""
        key = self.table.cursor_key
        if isinstance(key, int):
            self.app.push_screen(TestDetailScreen(key))

    def action_import(self) -> None:
        """Ask for suite files to import."""

        def imported(result: ImportResult | None) -> None:
            if result is not None:
                self.notify(
                    f"{len(result.added):,} added, {len(result.updated):,} updated, "
                    f"{len(result.unchanged):,} unchanged",
                    title=f"Imported {plural(len(result.added + result.updated + result.unchanged), 'test')}",
                )
                self.load()

        self.app.push_screen(ImportScreen(), imported)

    def action_reload(self) -> None:
        """Read the tests again."""
        self.load()

    def action_delete(self) -> None:
        """Confirm, then delete the selected tests (or the highlighted one)."""
        key = self.table.cursor_key
        ids = set(self.catalog.selected) or ({key} if isinstance(key, int) else set())
        if not ids:
            return
        names = sorted(self.catalog.by_id[test_id].name for test_id in ids)
        shown = ", ".join(names[:_NAMES_SHOWN]) + (" …" if len(names) > _NAMES_SHOWN else "")

        def answered(yes: bool | None) -> None:  # noqa: FBT001 (push_screen's callback)
            if yes:
                self.delete_tests(ids)

        body = f"{shown}\nTheir past runs stay."
        title = f"Delete {plural(len(ids), 'test')}?"
        self.app.push_screen(ConfirmScreen(title, body, confirm="Delete", danger=True), answered)

    @work(group="tests-delete")
    async def delete_tests(self, ids: set[int]) -> None:
        """Delete the tests one by one; stops at the first failure."""
        deleted: set[int] = set()
        for test_id in sorted(ids):
            if await attempt(self, "Deleting", done(self.context.client.delete_test(test_id))) is None:
                break
            deleted.add(test_id)
        if deleted:
            self.catalog.remove(deleted)
            self.show_rows()
            self.notify(f"{plural(len(deleted), 'test')} deleted")
