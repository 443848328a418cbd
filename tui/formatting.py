"""How times, durations, scores and statuses read in the TUI (pure functions, no Textual)."""

from __future__ import annotations

from datetime import datetime

from callboard.core.models.runs import RunStatus

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
NONE = "—"

# Each status: its glyph and the theme variable its text is drawn in (None: muted).
STATUS_LOOK: dict[RunStatus, tuple[str, str | None]] = {
    RunStatus.QUEUED: ("…", None),
    RunStatus.RUNNING: (SPINNER[0], "text-primary"),
    RunStatus.PASSED: ("✓", "text-success"),
    RunStatus.FAILED: ("✗", "text-error"),
    RunStatus.ERROR: ("!", "text-warning"),
    RunStatus.CANCELLED: ("–", None),
    RunStatus.SKIPPED: ("↷", None),
}


def spinner_frame(now: datetime) -> str:
    """The spinner glyph for ``now`` (from the app's clock, so a fixed clock draws a fixed frame)."""
    return SPINNER[int(now.timestamp() * 8) % len(SPINNER)]


def status_label(status: RunStatus, now: datetime) -> str:
    """Glyph and name of a status; a running one spins with the clock."""
    glyph = spinner_frame(now) if status is RunStatus.RUNNING else STATUS_LOOK[status][0]
    return f"{glyph} {status.value}"


def age(then: datetime | None, now: datetime) -> str:
    """How long ago, coarsely: "just now", "42s ago", "5m ago", "3h ago", then the date."""
    if then is None:
        return NONE
    seconds = (now - then).total_seconds()
    if seconds < 10:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)}s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)}m ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h ago"
    return then.astimezone().strftime("%Y-%m-%d")


def duration_ms(value: float | None) -> str:
    """A run's duration: "8 ms", "1.25 s", "3m 12s"."""
    if value is None:
        return NONE
    if value < 1000:
        return f"{value:.0f} ms"
    return span(value / 1000, precise=True)


def span(seconds: float | None, *, precise: bool = False) -> str:
    """A length of time such as an ETA: "45s", "2m 13s", "1h 02m" (``precise``: "1.25 s" under a minute)."""
    if seconds is None:
        return NONE
    if seconds < 60:
        return f"{seconds:.2f} s" if precise else f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def score(value: float | None) -> str:
    """A 0–100 score without trailing zeros."""
    return NONE if value is None else f"{value:g}"


def rate(per_s: float | None) -> str:
    """Runs per second."""
    return NONE if not per_s else f"{per_s:.1f}/s"
