"""Moments and durations as the CLI prints them: local time with its zone, to the second."""

from __future__ import annotations

from datetime import UTC, datetime


def local_time(moment: datetime) -> str:
    """``2026-12-01 02:00:00 CET``: local time, no microseconds, with the zone's name."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def span(seconds: float) -> str:
    """``3d 4h``, ``2h 05m``, ``5m 12s``, ``12s``: the two largest units."""
    whole = max(int(seconds), 0)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def uptime(started_at: datetime, now: datetime | None = None) -> str:
    """How long since ``started_at``, and when that was."""
    elapsed = ((now or datetime.now(UTC)) - started_at).total_seconds()
    return f"{span(elapsed)} (since {local_time(started_at)})"
