"""A dial intent: the call a run is about to place, committed before the create request goes out, so a
restart can look the call up on the account instead of dialling again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class DialIntent:
    """To whom, from which number, and when (UTC) a run was about to place a call."""

    to: str
    from_: str
    at: datetime
