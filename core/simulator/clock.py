"""Simulated time, Twilio's date formats and SIDs.

Simulated time starts at the real wall-clock time the simulator started and then runs
``1 / time_scale`` times faster, so every timestamp the API shows (start_time, end_time, date_created)
agrees with the durations it shows. Nothing ticks: call states are computed from timestamps on request.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from email.utils import format_datetime


class SimClock:
    """Seconds of simulated time since the simulator started."""

    def __init__(self, time_scale: float) -> None:
        self.time_scale = time_scale
        self._real_start = time.monotonic()
        self._wall_start = time.time()

    def now(self) -> float:
        """Simulated seconds elapsed since start (monotonic, so wall-clock jumps don't reorder calls)."""
        return (time.monotonic() - self._real_start) / self.time_scale

    def datetime_at(self, sim_s: float) -> datetime:
        """The simulated wall-clock time of a simulated instant."""
        return datetime.fromtimestamp(self._wall_start + sim_s, UTC)

    def rfc2822(self, sim_s: float | None) -> str | None:
        """Twilio's 2010 API date format, e.g. ``Tue, 31 Aug 2010 20:36:28 +0000``."""
        if sim_s is None:
            return None
        return format_datetime(self.datetime_at(sim_s).replace(microsecond=0))

    def iso8601(self, sim_s: float | None) -> str | None:
        """Twilio's v2 API date format, e.g. ``2010-08-31T20:36:28Z``."""
        if sim_s is None:
            return None
        return self.datetime_at(sim_s).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_sid(prefix: str) -> str:
    """A fresh Twilio SID: two-letter prefix and 32 lower-case hex digits."""
    return prefix + secrets.token_hex(16)


def formatted_number(number: str) -> str:
    """Twilio's display form of a NANP number, ``(555) 010-0001``; other numbers unchanged."""
    digits = number[2:] if number.startswith("+1") else ""
    if len(digits) == 10 and digits.isdigit():
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return number
