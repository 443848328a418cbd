"""What every write a worker makes about a run carries (the lease it holds), and the store's text
timestamps taken from the database clock; shared by the queue, the fenced writes and the budgets."""

from __future__ import annotations

from dataclasses import dataclass

# The store's text timestamps (ISO-8601 UTC with microseconds), from the database clock.
NOW_TEXT = """to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""


@dataclass(frozen=True)
class Lease:
    """Who may write about which attempt of which run: what every fenced write checks."""

    run_id: int
    attempt: int
    owner: str

    def params(self) -> dict[str, object]:
        """The fence's parameters."""
        return {"run": self.run_id, "attempt": self.attempt, "owner": self.owner}
