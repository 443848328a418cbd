"""What a notification says about a finished batch, and whether a policy wants it sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from callboard.core.notify.settings import When
from callboard.core.wording import first_line

# A 4,000-test batch can fail everywhere; the payload stays small enough for an environment variable
# (Linux caps one at 128 KiB) and a chat message.
MAX_FAILING_IN_JSON = 100
MAX_REASON_CHARS = 300


@dataclass(frozen=True, slots=True)
class FailingTest:
    """A test that failed or errored, with the first reason it did."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """A finished batch as notifications describe it; pass rates are 0–100 over judged runs."""

    batch_id: int
    label: str
    source: str
    status: str
    total: int
    passed: int
    failed: int
    error: int
    cancelled: int = 0
    skipped: int = 0
    pass_rate: float | None = None
    previous_pass_rate: float | None = None
    schedule_id: int | None = None
    schedule_name: str | None = None
    duration_s: float | None = None
    finished_at: datetime | None = None
    failing: tuple[FailingTest, ...] = ()
    report_hint: str = ""

    @property
    def has_failures(self) -> bool:
        """True when some run failed a check or could not be carried out."""
        return self.failed + self.error > 0

    @property
    def dropped(self) -> bool:
        """True when the pass rate fell below the previous batch's; False when there is nothing to compare."""
        if self.pass_rate is None or self.previous_pass_rate is None:
            return False
        return self.pass_rate < self.previous_pass_rate

    def headline(self) -> str:
        """One plain line: which batch, how it ended and its results."""
        return f"Batch {self.label!r} (#{self.batch_id}) {self.status}: {self.results()}"

    def results(self) -> str:
        """How many passed (and the rate, against the previous one), what did not, how long it took."""
        parts = [f"{self.passed}/{self.total} passed"]
        if self.pass_rate is not None:
            rate = f"{self.pass_rate:g}%"
            if self.previous_pass_rate is not None:
                rate += f", was {self.previous_pass_rate:g}%"
            parts[0] += f" ({rate})"
        for count, word in (
            (self.failed, "failed"),
            (self.error, "errors" if self.error != 1 else "error"),
            (self.cancelled, "cancelled"),
            (self.skipped, "skipped"),
        ):
            if count:
                parts.append(f"{count} {word}")
        if self.duration_s is not None:
            parts.append(f"in {format_duration(self.duration_s)}")
        return ", ".join(parts)

    def failing_head(self, limit: int) -> tuple[tuple[FailingTest, ...], int]:
        """The first ``limit`` failing tests and how many more there are."""
        head = self.failing[:limit]
        return head, len(self.failing) - len(head)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields; the failing list is capped, ``failing_omitted`` says how many were left out."""
        listed, omitted = self.failing_head(MAX_FAILING_IN_JSON)
        return {
            "batch_id": self.batch_id,
            "label": self.label,
            "source": self.source,
            "schedule_id": self.schedule_id,
            "schedule_name": self.schedule_name,
            "status": self.status,
            "total": self.total,
            "passed": self.passed,
            "failed": self.failed,
            "error": self.error,
            "cancelled": self.cancelled,
            "skipped": self.skipped,
            "pass_rate": self.pass_rate,
            "previous_pass_rate": self.previous_pass_rate,
            "duration_s": self.duration_s,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "failing": [{"name": test.name, "reason": short(test.reason)} for test in listed],
            "failing_omitted": omitted,
            "report_hint": self.report_hint,
        }


def should_notify(when: When, summary: BatchSummary) -> bool:
    """Whether policy ``when`` wants a notification for ``summary``."""
    if when == "always":
        return True
    if when == "failure":
        return summary.has_failures
    return summary.dropped


def short(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """The first line of ``text``, cut to ``limit`` characters."""
    return first_line(text, limit)


def format_duration(seconds: float) -> str:
    """``2h 5m``, ``12m 3s`` or ``4.2s``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m" if hours else f"{minutes}m {secs}s"
