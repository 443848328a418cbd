"""The callboard TUI: modes Tests (1), Simulations (2), Schedules (3) and Trends (4) over the daemon's API
and event stream."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from textual.app import App, SystemCommand
from textual.binding import ActiveBinding, Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from callboard.core.client import CallboardClient
from callboard.core.wording import percent, plural
from callboard.tui.context import Clock, TuiContext, utc_now
from callboard.tui.feed import EventFeed
from callboard.tui.formatting import NONE
from callboard.tui.messages import BatchEnded, RunChanged, RunsQueued
from callboard.tui.screens.help_screen import HelpScreen, KeyHelp
from callboard.tui.screens.schedules_screen import SchedulesScreen
from callboard.tui.screens.simulations_screen import SimulationsScreen
from callboard.tui.screens.tests_screen import TestsScreen
from callboard.tui.screens.trends_screen import TrendsScreen

QUEUE_REFRESH_S = 2.0
# After an event the queue figures are read again this soon (once, however many events come).
_QUEUE_AFTER_EVENT_S = 0.5
# What a first run (``callboard demo``) says to press, and for how long.
FIRST_RUN_HINT = (
    "R runs every test · space selects one and r runs the selection · 2 shows the runs as they go "
    "(enter: details) · / filters · ? lists every key · q quits (the daemon keeps running)"
)
FIRST_RUN_HINT_S = 30.0
# Bindings the command palette does not list: opening the palette from the palette.
_PALETTE_SKIP = {"command_palette"}


class CallboardApp(App[None]):
    """Give it a connected client; ``clock`` says what "now" is (tests fix it); ``first_run`` shows a
    hint with the keys to press first."""

    TITLE = "callboard"
    CSS_PATH = "app.tcss"
    MODES: ClassVar = {
        "tests": TestsScreen,
        "simulations": SimulationsScreen,
        "schedules": SchedulesScreen,
        "trends": TrendsScreen,
    }
    DEFAULT_MODE = "tests"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "switch_mode('tests')", "Tests", id="app.tests", tooltip="Pick tests and run them"),
        Binding(
            "2",
            "switch_mode('simulations')",
            "Simulations",
            id="app.simulations",
            tooltip="Batches and runs: queued, running, finished",
        ),
        Binding(
            "3",
            "switch_mode('schedules')",
            "Schedules",
            id="app.schedules",
            tooltip="Scheduled batches: next run, last batch, pause, run now",
        ),
        Binding(
            "4",
            "switch_mode('trends')",
            "Trends",
            id="app.trends",
            tooltip="Pass rate and score per test over recent batches; flaky tests",
        ),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Every key of this screen"),
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave; queued work goes on in the daemon"),
    ]

    def __init__(self, client: CallboardClient, clock: Clock = utc_now, *, first_run: bool = False) -> None:
        super().__init__()
        self.context = TuiContext(client, EventFeed(client), clock)
        self.first_run = first_run
        self._queue_soon: Timer | None = None

    def on_mount(self) -> None:
        feed = self.context.feed
        feed.subscribe(self, BatchEnded, RunsQueued, RunChanged)
        self.run_worker(feed.follow(), name="event-feed", group="event-feed", exit_on_error=False)
        self.set_interval(QUEUE_REFRESH_S, feed.refresh_queue)
        if self.first_run:
            self.notify(FIRST_RUN_HINT, title="Welcome: what to press", timeout=FIRST_RUN_HINT_S)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name == "event-feed" and event.state is WorkerState.ERROR:
            self.notify(str(event.worker.error), title="The event stream stopped", severity="error")

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """A toast whose text is shown as it is: toasts name tests, batches and errors (user data), so
        markup is off whatever the caller asks (widgets' ``notify`` passes markup=True by default)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # -- feedback from events --------------------------------------------------------------------

    def on_batch_ended(self, message: BatchEnded) -> None:
        event = message.event
        self._queue_after_event()
        if event.status == "cancelled":
            self.notify(
                f"{plural(event.cancelled, 'run')} cancelled",
                title=f"Batch {event.batch_id} cancelled",
                severity="warning",
            )
            return
        judged = event.passed + event.failed + event.error
        text = (
            f"pass rate {percent(event.pass_rate, NONE)}: {event.passed:,} of {plural(judged, 'run')} passed"
        )
        if event.skipped:
            text += f", {event.skipped:,} skipped"
        severity: SeverityLevel = "information" if event.failed + event.error == 0 else "warning"
        self.notify(text, title=f"Batch {event.batch_id} finished", severity=severity)

    def on_runs_queued(self, message: RunsQueued) -> None:
        self._queue_after_event()

    def on_run_changed(self, message: RunChanged) -> None:
        self._queue_after_event()

    def _queue_after_event(self) -> None:
        if self._queue_soon is None:
            self._queue_soon = self.set_timer(_QUEUE_AFTER_EVENT_S, self._refresh_queue_now)

    async def _refresh_queue_now(self) -> None:
        self._queue_soon = None
        await self.context.feed.refresh_queue()

    # -- keys, help and the command palette ------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "switch_mode" and parameters and parameters[0] == self.current_mode:
            return None
        return True

    def action_help(self) -> None:
        """Show every key of the current screen."""
        screen = self.screen
        keys = [
            KeyHelp(
                self.get_key_display(active.binding),
                active.binding.description,
                active.tooltip,
                active.enabled,
            )
            for active in _listed_bindings(screen)
        ]
        self.push_screen(HelpScreen(getattr(screen, "PLACE", "") or self.title, keys))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """callboard's own commands only: the keys of the screen and the app, by name (Textual's
        theme, screenshot and maximize commands are not part of callboard)."""
        seen = set(_PALETTE_SKIP)
        for active in _listed_bindings(screen):
            binding = active.binding
            if active.enabled and binding.action not in seen:
                seen.add(binding.action)
                yield SystemCommand(
                    binding.description,
                    binding.tooltip or binding.description,
                    partial(self.run_action, binding.action, active.node),
                )


def _listed_bindings(screen: Screen[object]) -> list[ActiveBinding]:
    """The bindings of the screen and the app (not a table's cursor keys), for the help and the palette."""
    return [
        active
        for active in screen.active_bindings.values()
        if active.binding.description and (active.binding.show or isinstance(active.node, Screen | App))
    ]
