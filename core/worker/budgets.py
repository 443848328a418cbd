"""callboard's per-batch budgets as a shared store applies them (``storage.postgres.budgets``): the same
caps, wording and skip reasons as the in-process engine (``core.engine.budget``).

A call not yet placed must fit its batch's budget — ``twilio.batch_max_calls`` and
``batch_max_minutes`` — and is counted once, at its first claim; one that may already exist (it has a SID,
or a dial intent from a create that may have gone out) is only watched again or looked up, whatever the
budget says. A run that comes back to the queue after its worker was lost keeps its place in the count,
so it is checked against the minutes only. A run that needs the model is skipped once its batch spent
``llm.batch_max_tokens`` or met a fatal model error (the batch's one error for it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from callboard.core.engine.budget import (
    CallBudgetSpec,
    after_model_run,
    call_refusal,
    model_refusal,
    tokens_of,
)
from callboard.core.engine.selection import MODEL_KEY
from callboard.core.models import RunResult
from callboard.storage.postgres.budgets import Admission, Candidate, Charge, Spent
from callboard.storage.postgres.queue import Claim


@dataclass(frozen=True)
class BatchBudgets:
    """The caps a worker applies (from its settings); satisfies ``storage.postgres.budgets.BudgetRules``."""

    calls: CallBudgetSpec = field(default_factory=CallBudgetSpec)
    max_tokens: int | None = None

    kinds: ClassVar[tuple[str, ...]] = ("call",)
    keys: ClassVar[tuple[str, ...]] = (MODEL_KEY,)

    def applies(self, run: Candidate) -> bool:
        """Calls and model runs that have not placed anything yet."""
        return not run.placed and (run.kind in self.kinds or any(key in run.limit_keys for key in self.keys))

    def admit(self, run: Candidate, spent: Spent) -> Admission:
        """Skip the run with the engine's reason when its batch's budget is spent; count a first call."""
        refusal = None
        if run.kind == "call":
            # A run counted at its first claim keeps its place: only the minutes may stop it now.
            refusal = call_refusal(self.calls, spent.calls if run.first_claim else 0, spent.call_seconds)
        if refusal is None and MODEL_KEY in run.limit_keys:
            refusal = model_refusal(self.max_tokens, spent.model_tokens, spent.model_fatal)
        if refusal is not None:
            return Admission(refusal=refusal)
        return Admission(dials=run.kind == "call" and run.first_claim)

    def settle(self, run_id: int, charge: Charge, result: RunResult, spent: Spent) -> RunResult:
        """Add the call's minutes and the model's tokens; a later run meeting the batch's fatal model
        error is stored as skipped with it."""
        if charge.call:
            spent.call_seconds += result.metrics.get("duration_s", 0.0)
        if not charge.model:
            return result
        spent.model_tokens += tokens_of(result)
        stored, spent.model_fatal = after_model_run(run_id, result, spent.model_fatal)
        return stored


def charge_of(claim: Claim) -> Charge | None:
    """What a claimed run may spend of its batch's budget; None when it spends nothing budgeted."""
    call, model = claim.kind == "call", MODEL_KEY in claim.limit_keys
    return Charge(claim.batch_id, call=call, model=model) if call or model else None
