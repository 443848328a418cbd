"""The ``conversation`` executor: a multi-turn chat over an HTTP endpoint, with checks per turn."""

from __future__ import annotations

import re
import time
from typing import Any

from callboard.core.checks import evaluate_http_checks, first_match
from callboard.core.checks.common import as_text, truncate
from callboard.core.executors.base import Job, Outcome, RunError
from callboard.core.executors.http import raise_if_transient
from callboard.core.executors.http_client import HttpClientPool, HttpReply
from callboard.core.models import CheckResult, ConversationTest, TranscriptEntry

_PLACEHOLDER = re.compile(r"\{(message|session)\}")


class ConversationExecutor:
    """Plays a conversation's turns in order, carrying the session id the agent hands out."""

    kind = "conversation"

    def __init__(self, pool: HttpClientPool) -> None:
        self._pool = pool

    async def execute(self, job: Job) -> Outcome:
        """Send every turn and judge each reply; 5xx/429 and connection failures raise TransientError."""
        test = job.test
        if not isinstance(test, ConversationTest):
            raise RunError("internal", f"the conversation executor cannot run a {test.kind} test")
        endpoint = test.endpoint
        session = ""
        checks: list[CheckResult] = []
        transcript: list[TranscriptEntry] = []
        latencies: list[float] = []
        started = time.perf_counter()
        for number, turn in enumerate(test.turns, start=1):
            body = render_template(endpoint.body, {"message": turn.say, "session": session})
            sent_at = time.perf_counter() - started
            reply = await self._pool.request(
                endpoint.method, endpoint.url, headers=endpoint.headers, json=body, timeout=job.timeout_s
            )
            received_at = time.perf_counter() - started
            raise_if_transient(reply, turn.expect)
            latencies.append(reply.elapsed_ms)
            if not session and endpoint.session:
                session = _extract(reply, endpoint.session) or ""
            prefix = f"turn {number}: "
            text = _extract(reply, endpoint.reply)
            if text is None:
                checks.append(_missing_reply(prefix, endpoint.reply, reply))
            checks.extend(evaluate_http_checks(turn.expect, reply, text or "", prefix))
            transcript.append(_entry("caller", turn.say, sent_at))
            transcript.append(_entry("agent", text or "", received_at))
        return Outcome(
            checks=checks,
            metrics=_metrics(latencies),
            transcript=transcript,
            artifacts={"session_id": session} if session else {},
        )

    async def aclose(self) -> None:
        """Close the shared pool (idempotent, so every executor sharing it may call this)."""
        await self._pool.aclose()


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


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (0–1) of non-empty ``values``, interpolating between ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _extract(reply: HttpReply, path: str) -> str | None:
    try:
        document = reply.json()
    except ValueError:
        return None
    found, value = first_match(path, document)
    return as_text(value) if found and value is not None else None


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
    return {
        "turns": float(len(latencies)),
        "total_latency_ms": round(sum(latencies), 3),
        "turn_latency_p50_ms": round(percentile(latencies, 0.5), 3),
        "turn_latency_p90_ms": round(percentile(latencies, 0.9), 3),
    }
