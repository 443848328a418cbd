"""Judge checks for any kind with a transcript: a wrapper around that kind's executor.

The wrapped executor runs the test without its ``judge`` checks (so a call executor never has to know
them); then each criterion is put to the model with the transcript it produced. Token usage of the whole
run — the simulated user inside the executor and the judges after it — becomes the run's
``llm_prompt_tokens`` / ``llm_completion_tokens``.
"""

from __future__ import annotations

from dataclasses import replace

from callboard.core.checks.common import result
from callboard.core.execution.base import Executor, Job, Outcome, RunError
from callboard.core.llm import LlmService, metering
from callboard.core.models import CheckResult
from callboard.core.models.checks import JudgeCheck

MAX_PROMPT_CHARS = 32_000
# Conversations' times are when callboard sent and got each message; calls and voice have real timing.
_TIMED_KINDS = frozenset({"call", "voice"})


class JudgingExecutor:
    """``inner`` plus judge checks and token accounting for tests that use the model."""

    def __init__(self, inner: Executor, llm: LlmService | None) -> None:
        self.kind = inner.kind
        self._inner = inner
        self._llm = llm

    async def execute(self, job: Job) -> Outcome:
        """Run the test through the wrapped executor, then judge its transcript."""
        test = job.test
        if not test.uses_model():
            return await self._inner.execute(job)
        checks = list(getattr(test, "checks", []))
        judges = [check for check in checks if isinstance(check, JudgeCheck)]
        if self._llm is None:
            raise RunError("llm_config", "this test needs a model, and no [llm] settings were given")
        if judges:
            others = [check for check in checks if not isinstance(check, JudgeCheck)]
            job = replace(job, test=test.model_copy(update={"checks": others}))
        with metering() as usage:
            outcome = await self._inner.execute(job)
            for number, check in enumerate(judges, start=1):
                outcome.checks.append(await self._judge(self._llm, number, check, outcome, test.description))
        outcome.metrics.update(usage.metrics())
        return outcome

    async def _judge(
        self, llm: LlmService, number: int, check: JudgeCheck, outcome: Outcome, description: str
    ) -> CheckResult:
        if not outcome.transcript:
            return result(
                check,
                passed=False,
                expected=check.judge,
                actual="not evaluable",
                message="not evaluable: there is no transcript",
            )
        verdict = await llm.judge(
            check.judge,
            outcome.transcript,
            description=description,
            timing=self.kind in _TIMED_KINDS,
            model=check.model,
            samples=check.judge_samples,
        )
        outcome.artifacts[f"judge.{number}.prompt"] = verdict.prompt[:MAX_PROMPT_CHARS]
        if verdict.samples > 1 and verdict.agreement is not None:
            outcome.metrics[f"judge_agreement.{number}"] = verdict.agreement
        return result(
            check,
            passed=verdict.passed is True,
            expected=check.judge,
            actual=verdict.label,
            message=verdict.reason,
        )

    async def aclose(self) -> None:
        """Close the wrapped executor and the model client (both tolerate repeated closing)."""
        await self._inner.aclose()
        if self._llm is not None:
            await self._llm.aclose()
