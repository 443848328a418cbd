"""The per-batch budget for phone calls: past a number of calls or of call minutes, the batch's
remaining call runs are skipped rather than dialled (calls cost money). The same for the model: past
``[llm].batch_max_tokens``, or after the model refused the key or the model name, the batch's remaining
runs that need the model are skipped with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from callboard.core.llm.errors import FATAL_KINDS
from callboard.core.models import RunResult, RunStatus


@dataclass(frozen=True)
class CallBudgetSpec:
    """Most calls, and most call minutes, one batch may use (None: no cap)."""

    max_calls: int | None = None
    max_minutes: float | None = None


def call_refusal(spec: CallBudgetSpec, calls: int, seconds: float) -> str | None:
    """Why a batch that placed ``calls`` calls lasting ``seconds`` in all may place no more, or None."""
    if spec.max_calls is not None and calls >= spec.max_calls:
        return f"batch budget reached: {spec.max_calls} calls (twilio.batch_max_calls)"
    if spec.max_minutes is not None and seconds >= spec.max_minutes * 60:
        return f"batch budget reached: {spec.max_minutes:g} call minutes (twilio.batch_max_minutes)"
    return None


def model_refusal(max_tokens: int | None, tokens: float, fatal: str | None) -> str | None:
    """Why a batch that spent ``tokens`` (and met the fatal model error ``fatal``) may not use the model
    any more, or None."""
    if fatal is not None:
        return fatal
    if max_tokens is not None and tokens >= max_tokens:
        return f"batch budget reached: {max_tokens} model tokens (llm.batch_max_tokens)"
    return None


def tokens_of(result: RunResult) -> float:
    """The model tokens a run's result reports."""
    return result.metrics.get("llm_prompt_tokens", 0.0) + result.metrics.get("llm_completion_tokens", 0.0)


def after_model_run(run_id: int, result: RunResult, fatal: str | None) -> tuple[RunResult, str | None]:
    """What to store of run ``run_id``'s ``result`` in a batch whose first fatal model error so far is
    ``fatal`` (None: none yet), and the batch's first fatal model error afterwards. The first fatal error
    (a refused key, an unknown model) is the batch's one error; runs that were already talking to the
    model meet the same refusal and are stored as skipped, saying so."""
    if result.error_kind not in FATAL_KINDS:
        return result, fatal
    if fatal is not None:
        return RunResult(status=RunStatus.SKIPPED, skip_reason=fatal, metrics=result.metrics), fatal
    return result, f"the model cannot be used (run {run_id}): {result.error_message}"


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
        return call_refusal(self.spec, spent.calls, spent.seconds)

    def dialled(self, batch_id: int) -> None:
        """A call of the batch is about to be placed."""
        self._spent.setdefault(batch_id, _Spent()).calls += 1

    def ended(self, batch_id: int, duration_s: float) -> None:
        """A call of the batch ended after ``duration_s`` seconds."""
        self._spent.setdefault(batch_id, _Spent()).seconds += duration_s


@dataclass
class ModelBudget:
    """Tokens each batch has spent on the model, and the first fatal model error it met. Runs in flight
    when the cap is reached still finish, so a batch can overshoot by what they use."""

    max_tokens: int | None = None
    _spent: dict[int, float] = field(default_factory=dict)
    _fatal: dict[int, str] = field(default_factory=dict)

    def refusal(self, batch_id: int) -> str | None:
        """Why the batch may not use the model any more, or None when it may."""
        return model_refusal(self.max_tokens, self._spent.get(batch_id, 0.0), self._fatal.get(batch_id))

    def ended(self, batch_id: int, run_id: int, result: RunResult) -> RunResult:
        """A run of the batch that used the model ended with ``result``; returns what to store. The
        batch's first fatal model error (a refused key, an unknown model) is its one error; runs that
        were already talking to the model meet the same refusal and are stored as skipped, saying so."""
        self._spent[batch_id] = self._spent.get(batch_id, 0.0) + tokens_of(result)
        stored, fatal = after_model_run(run_id, result, self._fatal.get(batch_id))
        if fatal is not None:
            self._fatal[batch_id] = fatal
        return stored
