"""The live runs table: a DataTable keyed by run id, changed in place (``update_cell`` inside
``batch_update``), never cleared on a tick."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets.data_table import RowDoesNotExist

from callboard.core.literal import literal
from callboard.core.models.runs import RunStatus
from callboard.tui.context import context_of
from callboard.tui.formatting import NONE, age, duration_ms, score, span
from callboard.tui.state.run_window import RunView, WindowChange
from callboard.tui.theme import status_text
from callboard.tui.widgets.literal_table import LiteralDataTable

COLUMNS: list[tuple[str, str, int]] = [
    ("status", "status", 12),
    ("run", "run", 8),
    ("test", "test", 34),
    ("batch", "batch", 6),
    ("attempt", "try", 4),
    ("score", "score", 6),
    ("duration", "duration", 9),
    ("started", "started", 10),
]


class RunsTable(LiteralDataTable):
    """Rows of ``RunView``s, newest run first."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Details", tooltip="Checks, transcript, metrics, error"),
    ]

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.shown: dict[int, dict[str, object]] = {}

    def on_mount(self) -> None:
        for key, label, width in COLUMNS:
            self.add_column(label, width=width, key=key)

    def cells(self, view: RunView) -> dict[str, object]:
        """What each column shows for ``view``."""
        now = context_of(self).clock()
        return {
            "status": status_text(self.app, view.status, now),
            "run": view.id,
            "test": literal(view.test_name),
            "batch": view.batch_id,
            "attempt": view.tries or NONE,
            "score": Text(score(view.score), justify="right"),
            "duration": Text(self._duration(view, now), justify="right"),
            "started": age(view.started_at, now),
        }

    @staticmethod
    def _duration(view: RunView, now: datetime) -> str:
        # A running run shows how long it has been going, counting up with the clock.
        if view.status is RunStatus.RUNNING and view.started_at is not None:
            return span(max(0.0, (now - view.started_at).total_seconds()))
        return duration_ms(view.duration_ms)

    @property
    def highlighted(self) -> int | None:
        """The run id under the cursor."""
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except RowDoesNotExist:
            return None
        return None if key.value is None else int(key.value)

    def reset(self, views: Iterable[RunView]) -> None:
        """Show exactly ``views`` (a load or a filter change, not a tick)."""
        keep = self.highlighted
        with self.app.batch_update():
            self.clear()
            self.shown = {}
            for view in sorted(views, key=lambda v: -v.id):
                self._add(view)
            self._restore_cursor(keep)

    def apply(self, change: WindowChange) -> None:
        """Add, update and remove rows in place; the cursor stays on its run."""
        if not (change.added or change.updated or change.removed):
            return
        keep = self.highlighted
        with self.app.batch_update():
            for run_id in change.removed:
                if self.shown.pop(run_id, None) is not None:
                    self.remove_row(str(run_id))
            self.retouch(change.updated)
            for view in change.added:
                self._add(view)
            if change.added:
                self.sort("run", reverse=True)
                self._restore_cursor(keep)

    def retouch(self, views: Iterable[RunView]) -> None:
        """Redraw the cells of ``views`` that changed (statuses, the spinner, ages)."""
        with self.app.batch_update():
            for view in views:
                old = self.shown.get(view.id)
                if old is None:
                    continue
                new = self.cells(view)
                for column, value in new.items():
                    if old[column] != value:
                        self.update_cell(str(view.id), column, value)
                self.shown[view.id] = new

    def _add(self, view: RunView) -> None:
        cells = self.cells(view)
        self.shown[view.id] = cells
        self.add_row(*cells.values(), key=str(view.id))

    def _restore_cursor(self, run_id: int | None) -> None:
        if run_id is not None and run_id in self.shown:
            self.move_cursor(row=self.get_row_index(str(run_id)), animate=False)
