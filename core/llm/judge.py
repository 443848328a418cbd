"""Judges: the model reads the transcript and says whether a criterion held, with a reason.

Temperature 0 and a fixed seed (sample *i* uses ``seed + i``) where the server accepts one. A malformed
answer is asked again once, then that sample is not evaluable; a verdict with no evaluable sample is
"not evaluable: …" and fails the check — never a silent pass. With several samples the majority decides
(a tie fails) and the agreement is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from string import Template

from callboard.core.llm.client import ChatClient
from callboard.core.llm.errors import MalformedOutput
from callboard.core.llm.prompts import TIMING_NOTE
from callboard.core.llm.transcript import render_transcript
from callboard.core.llm.wire import Schema
from callboard.core.models import TranscriptEntry

VERDICT_SCHEMA = Schema(
    name="judge_verdict",
    description="Whether the criterion was met, and why.",
    schema={
        "type": "object",
        "properties": {
            "reason": {"type": "string", "description": "Short justification citing the transcript."},
            "verdict": {"type": "string", "enum": ["pass", "fail"]},
        },
        "required": ["reason", "verdict"],
        "additionalProperties": False,
    },
)


@dataclass(frozen=True)
class Verdict:
    """``passed`` is None when no sample could be evaluated; ``prompt`` is exactly what was sent."""

    passed: bool | None
    reason: str
    agreement: float | None
    samples: int
    prompt: str

    @property
    def label(self) -> str:
        """pass, fail or not evaluable."""
        return "not evaluable" if self.passed is None else ("pass" if self.passed else "fail")


def judge_messages(
    template: Template,
    criterion: str,
    transcript: Sequence[TranscriptEntry],
    description: str,
    *,
    timing: bool,
) -> list[dict[str, str]]:
    """The system prompt from the template and the transcript as the user message."""
    system = template.substitute(
        criterion=criterion,
        description=description or "(none)",
        timing_note=TIMING_NOTE if timing else "",
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": "Transcript:\n" + render_transcript(transcript, timing=timing)},
    ]


async def run_judge(
    client: ChatClient,
    messages: list[dict[str, str]],
    *,
    model: str,
    samples: int,
    seed: int | None,
) -> Verdict:
    """Ask ``samples`` times and take the majority."""
    votes: list[tuple[bool, str]] = []
    problem = ""
    for index in range(samples):
        sample_seed = None if seed is None else seed + index
        outcome = await _one_sample(client, messages, model, sample_seed)
        if isinstance(outcome, str):
            problem = outcome
        else:
            votes.append(outcome)
    prompt = render_prompt(messages)
    if not votes:
        return Verdict(None, f"not evaluable: {problem}", None, samples, prompt)
    passes = sum(1 for passed, _ in votes if passed)
    fails = len(votes) - passes
    passed = passes > fails
    agreement = max(passes, fails) / samples
    reason = next(reason for vote, reason in votes if vote == passed)
    if samples > 1:
        tie = " (a tie fails)" if passes == fails else ""
        reason = f"{passes} of {samples} samples passed{tie}: {reason}"
    return Verdict(passed, reason, round(agreement, 4), samples, prompt)


async def _one_sample(
    client: ChatClient, messages: list[dict[str, str]], model: str, seed: int | None
) -> tuple[bool, str] | str:
    problem = ""
    for _ in range(2):  # a malformed answer is asked again once
        try:
            answer = await client.complete(messages, VERDICT_SCHEMA, model=model, temperature=0.0, seed=seed)
            return _vote(answer.data)
        except MalformedOutput as exc:
            problem = f"the judge's answer was malformed twice: {exc}"
    return problem


def _vote(data: dict[str, object]) -> tuple[bool, str]:
    verdict, reason = data.get("verdict"), data.get("reason")
    if verdict not in ("pass", "fail"):
        raise MalformedOutput(f"verdict {verdict!r} is neither 'pass' nor 'fail'")
    if not isinstance(reason, str) or not reason.strip():
        raise MalformedOutput("the reason is missing")
    return verdict == "pass", reason.strip()


def render_prompt(messages: list[dict[str, str]]) -> str:
    """The messages as one readable text, kept with the run."""
    return "\n\n".join(f"[{message['role']}]\n{message['content']}" for message in messages)
