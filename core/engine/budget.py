"""The per-batch budget for phone calls: past a number of calls or of call minutes, the batch's
remaining call runs are skipped rather than dialled (calls cost money)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CallBudgetSpec:
    """Most calls, and most call minutes, one batch may use (None: no cap)."""

    max_calls: int | None = None
    max_minutes: float | None = None


@dataclass
class _Spent:
    calls: int = 0
    seconds: float = 0.0


@dataclass
class CallBudget:
    """What each batch has spent on calls. Calls in flight when a cap is reached still finish, so the
    minutes can overshoot by at most their time limits."""

    spec: CallBudgetSpec = field(default_factory=CallBudgetSpec)
    _spent: dict[int, _Spent] = field(default_factory=dict)

    def refusal(self, batch_id: int) -> str | None:
        """Why the batch may place no more calls, or None when it may."""
        spent = self._spent.get(batch_id, _Spent())
        if self.spec.max_calls is not None and spent.calls >= self.spec.max_calls:
            return f"batch budget reached: {self.spec.max_calls} calls (twilio.batch_max_calls)"
        if self.spec.max_minutes is not None and spent.seconds >= self.spec.max_minutes * 60:
            return f"batch budget reached: {self.spec.max_minutes:g} call minutes (twilio.batch_max_minutes)"
        return None

    def dialled(self, batch_id: int) -> None:
        """A call of the batch is about to be placed."""
        self._spent.setdefault(batch_id, _Spent()).calls += 1

    def ended(self, batch_id: int, duration_s: float) -> None:
        """A call of the batch ended after ``duration_s`` seconds."""
        self._spent.setdefault(batch_id, _Spent()).seconds += duration_s
