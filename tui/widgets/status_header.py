"""The top of every screen: where you are, whether the daemon's stream is up, and the queue; and the
banner that says the stream is down."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from callboard.core.models.api import QueueStatus
from callboard.tui.context import context_of
from callboard.tui.formatting import rate, span
from callboard.tui.messages import ConnectionChanged, QueueUpdated


class StatusHeader(Widget):
    """``callboard › Tests     ● connected │ running 3 · queued 120 · 45.2/s · ETA 2m 13s``."""

    connected: reactive[bool | None] = reactive(None)
    queue: reactive[QueueStatus | None] = reactive(None)

    def __init__(self, place: str) -> None:
        super().__init__()
        self.place = place

    def on_mount(self) -> None:
        feed = context_of(self).feed
        self.connected = feed.connected
        self.queue = feed.queue
        feed.subscribe(self, ConnectionChanged, QueueUpdated)

    def on_unmount(self) -> None:
        context_of(self).feed.unsubscribe(self)

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.connected = message.connected

    def on_queue_updated(self, message: QueueUpdated) -> None:
        self.queue = message.status

    def render(self) -> Content:
        left = Content.from_markup("[b]callboard[/b] › $place", place=self.place)
        right = Content.assemble(self._link(), " │ ", self._figures())
        gap = max(1, self.size.width - left.cell_length - right.cell_length - 2)
        return Content.assemble(" ", left, " " * gap, right, " ")

    def _link(self) -> Content:
        if self.connected:
            return Content.from_markup("[$text-success]● connected[/]")
        if self.connected is None:
            return Content.from_markup("[$text-muted]○ connecting…[/]")
        return Content.from_markup("[$text-warning]○ reconnecting…[/]")

    def _figures(self) -> Content:
        queue = self.queue
        if queue is None:
            return Content("queue —")
        parts = [
            Content.from_markup("running [b]$n[/b]", n=f"{queue.running:,}"),
            Content.from_markup("queued [b]$n[/b]", n=f"{queue.queued:,}"),
            Content(f"rate {rate(queue.rate_per_s)}"),
            Content(f"ETA {span(queue.eta_s)}"),
        ]
        if queue.paused:
            parts.insert(0, Content.from_markup("[$text-warning b]paused[/]"))
        if queue.store_fault:
            # The daemon cannot commit: nothing new starts until it can (`callboard status` says why).
            parts.insert(0, Content.from_markup("[$text-error b]store unavailable[/]"))
        return Content(" · ").join(parts)


class ConnectionBanner(Static):
    """Shown while the event stream is down; hidden again when it is back."""

    def __init__(self) -> None:
        super().__init__("⚠ lost the daemon's event stream — reconnecting…", markup=False)

    def on_mount(self) -> None:
        feed = context_of(self).feed
        self.set_class(feed.connected is False, "-shown")
        feed.subscribe(self, ConnectionChanged)

    def on_unmount(self) -> None:
        context_of(self).feed.unsubscribe(self)

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.set_class(not message.connected, "-shown")
