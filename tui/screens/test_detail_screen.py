"""One test: its definition in suite form and its recent scores."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import tomli_w
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Sparkline, Static, TextArea

from callboard.core.models.api import TestDetail
from callboard.tui.context import attempt, context_of
from callboard.tui.formatting import age, score
from callboard.tui.widgets.trend_chart import TrendChart

# The chart looks back as many batches as the Tests screen's flaky flags do.
TREND_BATCHES = 10


def _without_nones(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _without_nones(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nones(item) for item in value]
    return value


def definition_text(definition: dict[str, Any]) -> str:
    """The definition as a ``[[test]]`` table, as a suite file would hold it (JSON if TOML cannot)."""
    try:
        return tomli_w.dumps({"test": [_without_nones(definition)]})
    except (TypeError, ValueError):
        return json.dumps(definition, indent=2, default=str)


class TestDetailScreen(ModalScreen[None]):
    """Opened with enter on the Tests screen; esc closes it."""

    __test__ = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="test_detail.close", tooltip="Back to the tests"),
    ]

    def __init__(self, test_id: int) -> None:
        super().__init__(classes="dialog-screen")
        self.test_id = test_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(f"test {self.test_id}", id="test-title", classes="dialog-title", markup=False)
            yield Static("loading…", id="test-meta", markup=False)
            yield Label("recent scores (oldest → newest)", classes="section-title", markup=False)
            yield Sparkline([], id="test-scores")
            yield Static("", id="test-score-list", markup=False)
            yield Label(
                f"pass rate and score over the last {TREND_BATCHES} batches",
                classes="section-title",
                markup=False,
            )
            yield TrendChart(id="test-trend")
            yield Label("definition", classes="section-title", markup=False)
            yield TextArea("", read_only=True, soft_wrap=False, id="test-definition")

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="test-detail")
    async def load(self) -> None:
        """Read the test and show it."""
        detail = await attempt(self, "Loading the test", context_of(self).client.get_test(self.test_id))
        if detail is None:
            self.query_one("#test-meta", Static).update("could not load this test")
            return
        self.show(detail)
        name = detail.definition.get("name")
        if isinstance(name, str):
            trends = await attempt(
                self, "Reading the trend", context_of(self).client.trends(TREND_BATCHES, test=name)
            )
            if trends is not None:
                self.query_one("#test-trend", TrendChart).show(trends.tests[0] if trends.tests else None)

    def show(self, detail: TestDetail) -> None:
        """Fill the widgets from ``detail``."""
        now = context_of(self).clock()
        definition = detail.definition
        self.query_one("#test-title", Label).update(f"{definition.get('name', detail.id)}")
        self.query_one("#test-meta", Static).update(
            f"id {detail.id} · {definition.get('kind', '?')} · version {detail.version} · "
            f"updated {age(detail.updated_at, now)}"
        )
        runs = list(reversed(detail.recent_runs))
        scores = [run.score for run in runs if run.score is not None]
        self.query_one("#test-scores", Sparkline).data = scores
        listed = "  ".join(f"{run.status.value} {score(run.score)}" for run in runs[-10:])
        self.query_one("#test-score-list", Static).update(listed or "no runs yet")
        self.query_one("#test-definition", TextArea).load_text(definition_text(definition))
