"""What the full screens share: the status header, the reconnect banner and the footer."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from callboard.tui.context import TuiContext, context_of
from callboard.tui.widgets.status_header import ConnectionBanner, StatusHeader


class CallboardScreen(Screen[None]):
    """A full screen: header, banner, the body from ``compose_body``, footer."""

    PLACE = ""

    def __init__(self) -> None:
        super().__init__()
        self._binding_state: tuple[tuple[str, bool], ...] | None = None

    def compose(self) -> ComposeResult:
        yield StatusHeader(self.PLACE)
        yield ConnectionBanner()
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets."""
        yield from ()

    @property
    def context(self) -> TuiContext:
        """The app's client, feed and clock."""
        return context_of(self)

    def refresh_bindings(self) -> None:
        """Tell the footer only when a key came, went or changed between available and greyed: the
        footer rebuilds its widgets each time, too slow to do on every event."""
        if not self.is_mounted:  # not composed yet: check_action would find no widgets
            return
        if not self.is_current:
            # A screen of another mode (or under a dialog) has no footer on show; while the app quits,
            # pruning it moves its focus with no screen on the current stack to check bindings against.
            return
        state = tuple((key, active.enabled) for key, active in self.active_bindings.items())
        if state != self._binding_state:
            self._binding_state = state
            super().refresh_bindings()

    def on_unmount(self) -> None:
        self.context.feed.unsubscribe(self)
