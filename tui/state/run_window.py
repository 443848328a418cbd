"""The Simulations screen's data: the runs its table shows, kept in step with the event stream.

The table is a window on the runs that match the filter: the newest ``limit`` of them by id (older
pages come on demand). An event about a run in the window updates its row; a run that starts to match
and is newer than the oldest row enters; one that stops matching leaves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from callboard.core.models.api import RunSummary
from callboard.core.models.events import RunFinished, RunStarted
from callboard.core.models.runs import RunStatus

PAGE = 200
MAX_RELOAD = 1000  # the API's largest page
# A run only moves forward: queued, running, final.
_RANK = {status: 2 if status.is_final else int(status is RunStatus.RUNNING) for status in RunStatus}


@dataclass(frozen=True)
class RunView:
    """One row: what the table shows of a run."""

    id: int
    batch_id: int
    test_name: str
    status: RunStatus
    attempt: int
    score: float | None = None
    duration_ms: float | None = None
    started_at: datetime | None = None

    @property
    def tries(self) -> int | None:
        """Which attempt this is, counting from 1 as the API does, or None before the first (runs stored
        by versions that counted from 0 show 1)."""
        return (
            None if self.started_at is None and self.status is not RunStatus.RUNNING else max(1, self.attempt)
        )

    @classmethod
    def of(cls, run: RunSummary) -> RunView:
        """A run as the API lists it."""
        return cls(
            run.id,
            run.batch_id,
            run.test_name,
            run.status,
            run.attempt,
            run.score,
            run.duration_ms,
            run.started_at,
        )

    @classmethod
    def from_event(cls, event: RunStarted | RunFinished) -> RunView:
        """A run first heard of through an event."""
        if isinstance(event, RunStarted):
            return cls(
                event.run_id,
                event.batch_id,
                event.test_name,
                RunStatus.RUNNING,
                event.attempt,
                started_at=event.at,
            )
        return cls(
            event.run_id, event.batch_id, event.test_name, event.status, 0, event.score, event.duration_ms
        )

    def updated(self, event: RunStarted | RunFinished) -> RunView:
        """This run after ``event``."""
        if isinstance(event, RunStarted):
            if self.status.is_final:
                return self  # a late event about an attempt that has since ended
            return replace(self, status=RunStatus.RUNNING, attempt=event.attempt, started_at=event.at)
        return replace(self, status=event.status, score=event.score, duration_ms=event.duration_ms)


def run_haystack(view: RunView) -> str:
    """What the ``/`` filter looks in: the test's name, the status, ``batch N`` (also ``batch:N``), the
    run's id (``#N``)."""
    return (
        f"{view.test_name} {view.status.value} batch {view.batch_id} batch:{view.batch_id} #{view.id}".lower()
    )


@dataclass(frozen=True)
class RunFilter:
    """Which runs the table shows: some statuses (none: all), maybe one batch, and the words of the
    ``/`` filter (each in the name, the status or the batch)."""

    name: str = "all"
    statuses: tuple[RunStatus, ...] = ()
    batch_id: int | None = None
    text: str = ""

    def matches(self, view: RunView) -> bool:
        """Whether ``view`` belongs in the table."""
        if self.batch_id is not None and view.batch_id != self.batch_id:
            return False
        if self.statuses and view.status not in self.statuses:
            return False
        haystack = run_haystack(view)
        return all(word in haystack for word in self.text.lower().split())

    def status_query(self) -> list[str] | None:
        """The ``status`` parameter of ``list_runs``."""
        return [status.value for status in self.statuses] or None

    def next_status(self) -> RunFilter:
        """The same filter with the next status choice of ``STATUS_FILTERS``."""
        names = [name for name, _ in STATUS_FILTERS]
        name, statuses = STATUS_FILTERS[(names.index(self.name) + 1) % len(STATUS_FILTERS)]
        return replace(self, name=name, statuses=statuses)

    def describe(self) -> str:
        """``status: failed · batch: 3`` (and ``· filter: words``)."""
        text = f"status: {self.name} · batch: {'all' if self.batch_id is None else self.batch_id}"
        return f"{text} · filter: {self.text}" if self.text.strip() else text


STATUS_FILTERS: list[tuple[str, tuple[RunStatus, ...]]] = [
    ("all", ()),
    ("active", (RunStatus.QUEUED, RunStatus.RUNNING)),
    ("running", (RunStatus.RUNNING,)),
    ("failed or error", (RunStatus.FAILED, RunStatus.ERROR)),
    ("passed", (RunStatus.PASSED,)),
    ("cancelled or skipped", (RunStatus.CANCELLED, RunStatus.SKIPPED)),
]


@dataclass
class WindowChange:
    """What the table must do after ``RunWindow.offer``."""

    added: list[RunView] = field(default_factory=list)
    updated: list[RunView] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)


class RunWindow:
    """The rows of the runs table, by run id."""

    def __init__(self, page: int = PAGE) -> None:
        self.page = page
        self.limit = page
        self.filter = RunFilter()
        self.rows: dict[int, RunView] = {}
        self.more = False

    def refilter(self, run_filter: RunFilter) -> None:
        """Show other runs: back to one page, to be loaded again."""
        self.filter = run_filter
        self.limit = self.page
        self.rows = {}

    def reset(self, views: list[RunView], *, more: bool) -> None:
        """Replace every row (a load, a filter change, a resync) with those of ``views`` that match."""
        self.rows = {view.id: view for view in views if self.filter.matches(view)}
        self.more = more

    def extend(self, views: list[RunView], *, more: bool) -> WindowChange:
        """Add an older page."""
        self.limit += self.page
        self.more = more
        added = [view for view in views if view.id not in self.rows and self.filter.matches(view)]
        self.rows.update((view.id, view) for view in added)
        return WindowChange(added=added)

    def oldest(self) -> int | None:
        """The smallest run id shown."""
        return min(self.rows) if self.rows else None

    def offer(self, views: Iterable[RunView]) -> WindowChange:
        """Take what the events say about these runs; returns the rows to add, update and remove."""
        change = WindowChange()
        floor = self.oldest() if len(self.rows) >= self.limit else None
        for view in views:
            current = self.rows.get(view.id)
            if current is not None:
                if _RANK[view.status] < _RANK[current.status]:
                    continue  # read before the event that moved it on: keep the newer state
                if self.filter.matches(view):
                    self.rows[view.id] = view
                    change.updated.append(view)
                else:
                    del self.rows[view.id]
                    change.removed.append(view.id)
            elif self.filter.matches(view) and (floor is None or view.id > floor):
                self.rows[view.id] = view
                change.added.append(view)
        if len(self.rows) > self.limit:
            self._trim(change)
        return change

    def _trim(self, change: WindowChange) -> None:
        extra = sorted(self.rows)[: len(self.rows) - self.limit]
        for run_id in extra:
            del self.rows[run_id]
        dropped = set(extra)
        added = {view.id for view in change.added}
        change.removed.extend(run_id for run_id in extra if run_id not in added)
        change.added = [view for view in change.added if view.id not in dropped]
        change.updated = [view for view in change.updated if view.id not in dropped]
        self.more = True
