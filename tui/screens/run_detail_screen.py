"""One run in full: status, score and timings; checks (failures first, expected vs actual);
the transcript coloured by speaker; metrics; artifacts; the error and its kind. A voice run's recording
opens in the system's player (``o``)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from callboard.core.literal import literal, literal_cells
from callboard.core.models.runs import Run
from callboard.core.wording import shorten_value
from callboard.tui.context import attempt
from callboard.tui.formatting import NONE, duration_ms, score
from callboard.tui.messages import RunChanged
from callboard.tui.screens.base import CallboardScreen
from callboard.tui.theme import MUTED, status_text, theme_style
from callboard.tui.widgets.literal_table import LiteralDataTable

_VALUE_CHARS = 120
_SPEAKER_COLOUR = {
    "agent": "text-primary",
    "assistant": "text-primary",
    "caller": "text-success",
    "user": "text-success",
}


def short(value: object) -> str:
    """A check's expected or actual value on one line."""
    return shorten_value(value, _VALUE_CHARS)


def when(moment: datetime | None) -> str:
    """A timestamp in local time."""
    return NONE if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


class RunDetailScreen(CallboardScreen):
    """Pushed from the Simulations screen (enter); esc goes back. Follows the run while it changes."""

    PLACE = "Simulations › run"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="run.back", tooltip="Back to the runs"),
        Binding("x", "retry", "Retry", id="run.retry", tooltip="Run this test again"),
        Binding("ctrl+r", "reload", "Reload", id="run.reload", tooltip="Read the run again", show=False),
        Binding(
            "o",
            "open_recording",
            "Recording",
            id="run.recording",
            tooltip="Play the recording (system player)",
        ),
    ]

    def __init__(self, run_id: int) -> None:
        super().__init__()
        self.run_id = run_id
        self.run: Run | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="run-body"):
            yield Static(f"run {self.run_id} — loading…", id="run-summary", markup=False)
            with Vertical(id="run-checks-section", classes="section"):
                yield Label("checks (failures first)", classes="section-title", markup=False)
                yield LiteralDataTable(id="run-checks", cursor_type="none", zebra_stripes=True)
            with Vertical(id="run-transcript-section", classes="section"):
                yield Label("transcript", classes="section-title", markup=False)
                yield Static("", id="run-transcript", markup=False)
            with Vertical(id="run-metrics-section", classes="section"):
                yield Label("metrics", classes="section-title", markup=False)
                yield Static("", id="run-metrics", markup=False)
            with Vertical(id="run-artifacts-section", classes="section"):
                yield Label("artifacts", classes="section-title", markup=False)
                yield Static("", id="run-artifacts", markup=False)

    def on_mount(self) -> None:
        for section in self.query(".section"):
            section.display = False
        self.context.feed.subscribe(self, RunChanged)
        self.load()

    def on_run_changed(self, message: RunChanged) -> None:
        if message.event.run_id == self.run_id:
            self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            return (self.run is not None and self.run.status.is_final) or None
        if action == "open_recording":
            # Only voice runs have a recording file of their own (a call's is Twilio's, behind a URL).
            return self.run is not None and self.run.kind == "voice" and "recording" in self.run.artifacts
        return True

    @work(exclusive=True, group="run-load")
    async def load(self) -> None:
        """Read the run and show it."""
        run = await attempt(self, "Loading the run", self.context.client.get_run(self.run_id))
        if run is not None:
            self.run = run
            self.show(run)
            self.refresh_bindings()

    def action_reload(self) -> None:
        """Read the run again."""
        self.load()

    @work(group="run-retry")
    async def action_retry(self) -> None:
        """Queue this run's test again."""
        created = await attempt(self, "Retrying", self.context.client.retry_run(self.run_id))
        if created is not None:
            self.notify(f"Queued again in batch {created.batch.id}")

    async def action_open_recording(self) -> None:
        """Hand the recording to the desktop's opener (xdg-open, or open on macOS); do not wait for it."""
        path = Path(self.run.artifacts["recording"]) if self.run is not None else None
        if path is None or not path.is_file():
            self.notify(f"No recording on this machine at {path}", severity="error", markup=False)
            return
        opener = shutil.which("xdg-open") or shutil.which("open")
        if opener is None:
            self.notify(f"No system player found; the recording is {path}", severity="warning", markup=False)
            return
        await asyncio.create_subprocess_exec(
            opener,
            str(path),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.notify(f"Opening {path}", markup=False)

    def show(self, run: Run) -> None:
        """Fill every section from ``run``."""
        self.query_one("#run-summary", Static).update(self.summary(run))
        self._section("run-checks", shown=bool(run.checks))
        table = self.query_one("#run-checks", LiteralDataTable)
        table.clear(columns=True)
        table.add_columns("", "check", "expected", "actual", "message")
        for check in sorted(run.checks, key=lambda c: c.passed):
            mark = (
                Text("✓", style=theme_style(self.app, "text-success"))
                if check.passed
                else Text("✗", style=theme_style(self.app, "text-error"))
            )
            table.add_row(mark, check.name, short(check.expected), short(check.actual), check.message)
        self._section("run-transcript", shown=bool(run.transcript))
        self.query_one("#run-transcript", Static).update(self.transcript(run))
        self._section("run-metrics", shown=bool(run.metrics))
        self.query_one("#run-metrics", Static).update(
            _pairs((name, f"{value:g}") for name, value in sorted(run.metrics.items()))
        )
        self._section("run-artifacts", shown=bool(run.artifacts))
        self.query_one("#run-artifacts", Static).update(_pairs(sorted(run.artifacts.items())))

    def _section(self, name: str, *, shown: bool) -> None:
        self.query_one(f"#{name}-section").display = shown

    def summary(self, run: Run) -> RenderableType:
        """Status, score, timings, error."""
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style=MUTED)
        grid.add_column()
        now = self.context.clock()
        started = run.started_at is not None
        tries = f"attempt {max(1, run.attempt)} of {run.max_attempts}" if started else "not started"
        test = f"{run.test_name} v{run.test_version} · {run.kind} · {run.target}"
        grid.add_row(*literal_cells("run", f"{run.id} · batch {run.batch_id} · trial {run.trial} · {tries}"))
        grid.add_row(*literal_cells("test", test))
        grid.add_row(
            literal("status"),
            Text.assemble(status_text(self.app, run.status, now), f"   score {score(run.score)}"),
        )
        grid.add_row(*literal_cells("queued", when(run.queued_at)))
        grid.add_row(*literal_cells("started", when(run.started_at)))
        took = f"{when(run.finished_at)}   took {duration_ms(run.duration_ms)}"
        grid.add_row(*literal_cells("finished", took))
        if run.external_id:
            grid.add_row(*literal_cells("external id", run.external_id))
        if run.skip_reason:
            grid.add_row(*literal_cells("skipped", run.skip_reason))
        if run.error_kind or run.error_message:
            error = f"{run.error_kind or 'error'}: {run.error_message or ''}"
            grid.add_row(literal("error"), literal(error, theme_style(self.app, "text-error")))
        return grid

    def transcript(self, run: Run) -> Text:
        """Who said what when, each speaker in its colour."""
        lines = Text()
        for entry in run.transcript:
            at = "" if entry.start is None else f"{entry.start:7.2f}s"
            speaker = theme_style(
                self.app, _SPEAKER_COLOUR.get(entry.speaker.lower(), "text-warning"), bold=True
            )
            lines.append(f"{at:>8}  ", style=MUTED)
            lines.append(f"{entry.speaker:<8}", style=speaker)
            lines.append(f"  {entry.text}\n")
        lines.rstrip()
        return lines


def _pairs(items: Iterable[tuple[str, str]]) -> RenderableType:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style=MUTED)
    grid.add_column()
    for name, value in items:
        grid.add_row(*literal_cells(name, value))
    return grid
