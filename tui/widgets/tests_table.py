"""The Tests screen's table: one row per test, drawn only when on screen (see ``VirtualTable``)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

from rich.text import Text

from callboard.core.models.api import TestSummary
from callboard.tui.context import context_of
from callboard.tui.formatting import age, score
from callboard.tui.state.test_catalog import TestCatalog
from callboard.tui.theme import MUTED, status_text, theme_style
from callboard.tui.widgets.virtual_table import Column, VirtualTable

COLUMNS = [
    Column("mark", " ", 1),
    Column("name", "name", weight=3),
    Column("kind", "kind", 12),
    Column("target", "target", weight=2),
    Column("tags", "tags"),
    Column("status", "last status", 12),
    Column("flaky", "flaky", 5),
    Column("score", "score", 6, "right"),
    Column("last", "last run", 10),
]


def test_key(test: TestSummary) -> Hashable:
    """Rows are keyed by test id."""
    return test.id


class TestsTable(VirtualTable):
    """Selection mark, name, kind, target, tags, last status, flaky, last score, last run."""

    __test__ = False

    def __init__(self, catalog: TestCatalog, id: str | None = None) -> None:
        super().__init__(COLUMNS, self.cells, test_key, empty_text="loading…", id=id)
        self.catalog = catalog

    def cells(self, test: TestSummary) -> Sequence[Text]:
        """One row's cells."""
        now = context_of(self).clock()
        selected = test.id in self.catalog.selected
        return [
            Text("✓", style=theme_style(self.app, "text-success")) if selected else Text("·", style=MUTED),
            Text(test.name),
            Text(test.kind),
            Text(test.target, style=MUTED),
            Text(", ".join(test.tags)),
            status_text(self.app, test.last_status, now),
            self._flaky(test),
            Text(score(test.last_score)),
            Text(age(test.last_run_at, now)),
        ]

    def _flaky(self, test: TestSummary) -> Text:
        if test.name not in self.catalog.flaky:
            return Text("")
        return Text("flaky", style=theme_style(self.app, "text-warning"))
