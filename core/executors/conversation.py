"""The ``conversation`` executor: a multi-turn chat over an HTTP endpoint, scripted turn by turn (with
checks per turn) or with a user simulated by the model; the test's ``checks`` judge the whole chat."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from callboard.core.checks import evaluate_http_checks, first_match
from callboard.core.checks.common import as_text, truncate
from callboard.core.execution.base import Job, Outcome, RunError
from callboard.core.execution.http_client import HttpClientPool, HttpReply
from callboard.core.executors.http import raise_if_transient
from callboard.core.llm import LlmService
from callboard.core.models import CheckBase, CheckResult, ConversationTest, SimulatedUserSpec, TranscriptEntry
from callboard.core.models.percentiles import percentile

_PLACEHOLDER = re.compile(r"\{(message|session)\}")


class ConversationExecutor:
    """Plays a conversation's scripted turns in order, or the simulated user's lines as they come,
    carrying the session id the agent hands out."""

    kind = "conversation"

    def __init__(self, pool: HttpClientPool, llm: LlmService | None = None) -> None:
        self._pool = pool
        self._llm = llm

    async def execute(self, job: Job) -> Outcome:
        """Send every turn and judge each reply; 5xx/429 and connection failures raise TransientError."""
        test = job.test
        if not isinstance(test, ConversationTest):
            raise RunError("internal", f"the conversation executor cannot run a {test.kind} test")
        chat = _Chat(self._pool, test, job.timeout_s)
        if test.simulate is not None:
            await self._simulate(chat, test.simulate, test.description)
        else:
            for number, turn in enumerate(test.turns, start=1):
                reply, text = await chat.say(turn.say, turn.expect)
                prefix = f"turn {number}: "
                if text is None:
                    chat.checks.append(_missing_reply(prefix, test.endpoint.reply, reply))
                chat.checks.extend(evaluate_http_checks(turn.expect, reply, text or "", prefix))
        if chat.last_reply is not None and test.checks:
            # The test's own checks read the last response and everything the agent said.
            agent_text = "\n".join(entry.text for entry in chat.transcript if entry.speaker == "agent")
            chat.checks.extend(
                evaluate_http_checks(test.checks, chat.last_reply, agent_text, "conversation: ")
            )
        if chat.session:
            chat.artifacts["session_id"] = chat.session
        return Outcome(
            checks=chat.checks,
            metrics=_metrics(chat.latencies),
            transcript=chat.transcript,
            artifacts=chat.artifacts,
        )

    async def _simulate(self, chat: _Chat, spec: SimulatedUserSpec, description: str) -> None:
        """Let the model play the user until it is done, the agent ends the chat, or ``max_turns``."""
        if self._llm is None:
            raise RunError("llm_config", "a simulated user needs a model, and no [llm] settings were given")
        user = self._llm.simulated_user(
            persona=spec.persona,
            goal=spec.goal,
            max_turns=spec.max_turns,
            description=description,
            model=spec.model,
        )
        chat.artifacts["simulate.prompt"] = user.prompt
        status, end = "max_turns", f"max_turns ({spec.max_turns}) reached"
        for number in range(1, spec.max_turns + 1):
            line = await user.next_line(chat.transcript)
            if line.done:
                status, end = line.status, f"the simulated user: {line.status}: {line.reason}"
                break
            reply, text = await chat.say(line.text, ())
            if text is None:
                chat.checks.append(_missing_reply(f"turn {number}: ", chat.endpoint.reply, reply))
                status, end = "no_reply", "the agent gave no reply"
                break
            if chat.endpoint.end and _truthy(reply, chat.endpoint.end):
                status, end = "agent_ended", "the agent ended the conversation"
                break
        chat.artifacts["simulate.end"] = end
        chat.artifacts["simulate.status"] = status

    async def aclose(self) -> None:
        """Close the shared pool (idempotent, so every executor sharing it may call this)."""
        await self._pool.aclose()


class _Chat:
    """One conversation in progress: the session, the transcript, latencies and checks so far."""

    def __init__(self, pool: HttpClientPool, test: ConversationTest, timeout_s: float) -> None:
        self.endpoint = test.endpoint
        self.session = ""
        self.checks: list[CheckResult] = []
        self.transcript: list[TranscriptEntry] = []
        self.latencies: list[float] = []
        self.artifacts: dict[str, str] = {}
        self.last_reply: HttpReply | None = None
        self._pool = pool
        self._timeout_s = timeout_s
        self._started = time.perf_counter()

    async def say(self, message: str, expect: Sequence[CheckBase]) -> tuple[HttpReply, str | None]:
        """Send one caller line; the agent's reply and its text (None when there is none)."""
        endpoint = self.endpoint
        body = render_template(endpoint.body, {"message": message, "session": self.session})
        sent_at = time.perf_counter() - self._started
        reply = await self._pool.request(
            endpoint.method, endpoint.url, headers=endpoint.headers, json=body, timeout=self._timeout_s
        )
        received_at = time.perf_counter() - self._started
        raise_if_transient(reply, expect)
        self.latencies.append(reply.elapsed_ms)
        self.last_reply = reply
        if not self.session and endpoint.session:
            self.session = _extract(reply, endpoint.session) or ""
        text = _extract(reply, endpoint.reply)
        self.transcript.append(_entry("caller", message, sent_at))
        self.transcript.append(_entry("agent", text or "", received_at))
        return reply, text


def render_template(template: Any, values: dict[str, str]) -> Any:
    """``template`` with ``{message}`` / ``{session}`` replaced inside every string, at any depth.

    Replacement is one pass, so a message that itself contains "{session}" is sent as written.
    """
    if isinstance(template, str):
        return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)
    if isinstance(template, dict):
        return {key: render_template(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [render_template(item, values) for item in template]
    return template


def _extract(reply: HttpReply, path: str) -> str | None:
    try:
        document = reply.json()
    except ValueError:
        return None
    found, value = first_match(path, document)
    return as_text(value) if found and value is not None else None


def _truthy(reply: HttpReply, path: str) -> bool:
    try:
        document = reply.json()
    except ValueError:
        return False
    found, value = first_match(path, document)
    return found and bool(value)


def _missing_reply(prefix: str, path: str, reply: HttpReply) -> CheckResult:
    # Without this a broken turn (say a 400) would only show up as failed content checks.
    return CheckResult(
        name=f"{prefix}reply at {path}",
        passed=False,
        expected=f"a reply at {path}",
        actual=truncate(reply.text),
        message=f"no reply at {path} in the response (status {reply.status})",
    )


def _entry(speaker: str, text: str, at: float) -> TranscriptEntry:
    return TranscriptEntry(speaker=speaker, text=text, start=round(at, 3), end=round(at, 3))


def _metrics(latencies: list[float]) -> dict[str, float]:
    if not latencies:
        return {"turns": 0.0}
    return {
        "turns": float(len(latencies)),
        "total_latency_ms": round(sum(latencies), 3),
        "turn_latency_p50_ms": percentile(latencies, 0.5),
        "turn_latency_p90_ms": percentile(latencies, 0.9),
    }
