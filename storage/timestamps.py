"""How the store writes times: ISO-8601 UTC text with microseconds, which sorts correctly as text."""

from __future__ import annotations

from datetime import UTC, datetime


def to_text(moment: datetime) -> str:
    """``moment`` as stored; naive datetimes are refused because their zone is a guess."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass a timezone-aware datetime")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def now_text() -> str:
    """The current time as stored."""
    return to_text(datetime.now(UTC))
