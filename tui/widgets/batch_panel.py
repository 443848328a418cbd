"""The Simulations screen's top: one progress bar per active batch, with pass rate, rate and ETA."""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, ProgressBar

from callboard.core.models.events import BatchProgress
from callboard.core.models.runs import Batch, BatchStatus
from callboard.core.wording import percent
from callboard.tui.context import attempt, context_of
from callboard.tui.formatting import NONE, rate, span
from callboard.tui.messages import BatchEnded, BatchProgressed, QueueUpdated, RunsQueued


@dataclass
class BatchLine:
    """What one bar shows."""

    batch_id: int
    label: str
    done: int
    total: int
    pass_rate: float | None
    rate_per_s: float
    eta_s: float | None
    llm_tokens: int = 0

    @classmethod
    def of(cls, batch: Batch) -> BatchLine:
        """A batch as the API lists it (no rate or ETA until its first progress event)."""
        label = batch.label or batch.source
        counts = batch.counts
        return cls(batch.id, label, counts.done, counts.total, counts.pass_rate, 0.0, None)

    def advance(self, event: BatchProgress) -> None:
        """Take a progress event's figures."""
        self.done, self.total = event.done, event.total
        self.pass_rate, self.rate_per_s, self.eta_s = event.pass_rate, event.rate_per_s, event.eta_s
        self.llm_tokens = event.llm_tokens

    def figures(self) -> str:
        """``45/120 · pass 97.5% · rate 12.3/s · ETA 6s``, and ``· 12,345 tokens`` once the batch's
        simulated users or judges have used the model."""
        tokens = f" · {self.llm_tokens:,} tokens" if self.llm_tokens else ""
        return (
            f"{self.done:,}/{self.total:,} · pass {percent(self.pass_rate, NONE)} · "
            f"rate {rate(self.rate_per_s)} · ETA {span(self.eta_s)}{tokens}"
        )


class BatchBar(Horizontal):
    """One active batch."""

    def __init__(self, line: BatchLine) -> None:
        super().__init__(classes="batch-bar")
        self.line = line

    def compose(self) -> ComposeResult:
        yield Label(f"batch {self.line.batch_id} · {self.line.label}", classes="batch-name", markup=False)
        yield ProgressBar(total=max(self.line.total, 1), show_eta=False)
        yield Label(self.line.figures(), classes="batch-figures", markup=False)

    def on_mount(self) -> None:
        self.show()

    def show(self) -> None:
        """Draw the line's current figures. A bar whose parts are still mounting (a progress event can
        come just after it is added) is left alone: its mount draws the line as it is then."""
        bars, figures = self.query(ProgressBar), self.query(".batch-figures")
        if not bars or not figures:
            return
        bars.first().update(total=max(self.line.total, 1), progress=self.line.done)
        figures.first(Label).update(self.line.figures())


class BatchPanel(Vertical):
    """Active batches, newest first; hidden when there are none. It follows the batch events itself."""

    def __init__(self) -> None:
        super().__init__(id="batches")
        self.lines: dict[int, BatchLine] = {}
        self._fetching: set[int] = set()
        # Batches that ended while their bar was being fetched must not come back as running.
        self._ended: set[int] = set()

    def on_mount(self) -> None:
        self.display = False
        context_of(self).feed.subscribe(self, RunsQueued, BatchProgressed, BatchEnded, QueueUpdated)

    def on_unmount(self) -> None:
        context_of(self).feed.unsubscribe(self)

    def set_batches(self, batches: list[Batch]) -> None:
        """Show exactly these batches (after a load or a resync)."""
        self.lines = {batch.id: BatchLine.of(batch) for batch in batches}
        queue = context_of(self).feed.queue
        for batch_id, eta in (queue.batch_eta_s if queue else {}).items():
            if batch_id in self.lines:
                self.lines[batch_id].eta_s = eta
        self.remove_children()
        self.mount_all(BatchBar(line) for line in sorted(self.lines.values(), key=lambda x: -x.batch_id))
        self.display = bool(self.lines)

    def on_runs_queued(self, message: RunsQueued) -> None:
        self.fetch(message.batch_id)

    def on_batch_progressed(self, message: BatchProgressed) -> None:
        line = self.lines.get(message.event.batch_id)
        if line is None:
            self.fetch(message.event.batch_id)
            return
        line.advance(message.event)
        for bar in self.query(BatchBar):
            if bar.line is line:
                bar.show()

    def on_queue_updated(self, message: QueueUpdated) -> None:
        # Progress events come only as runs end; the queue figures (read every few seconds) keep the
        # ETA current while a long run goes on.
        for bar in self.query(BatchBar):
            if bar.line.batch_id in message.status.batch_eta_s:
                eta = message.status.batch_eta_s[bar.line.batch_id]
                if eta != bar.line.eta_s:
                    bar.line.eta_s = eta
                    bar.show()

    def on_batch_ended(self, message: BatchEnded) -> None:
        batch_id = message.event.batch_id
        self._ended.add(batch_id)
        if self.lines.pop(batch_id, None) is None:
            return
        for bar in self.query(BatchBar):
            if bar.line.batch_id == batch_id:
                bar.remove()
        self.display = bool(self.lines)

    @work(group="batch-fetch")
    async def fetch(self, batch_id: int) -> None:
        """Add the bar of a batch first heard of through an event."""
        if batch_id in self.lines or batch_id in self._fetching:
            return
        self._fetching.add(batch_id)
        batch = await attempt(self, "Loading a batch", context_of(self).client.get_batch(batch_id))
        self._fetching.discard(batch_id)
        if batch is None or batch.status is not BatchStatus.RUNNING or batch_id in self._ended:
            return
        self.lines[batch_id] = BatchLine.of(batch)
        self.mount(BatchBar(self.lines[batch_id]), before=0 if self.children else None)
        self.display = True
