"""The one small interface every executor implements: a job in; checks, metrics, transcript and
artifacts out. The engine owns timeouts, retries, status and score."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from callboard.core.models import CheckResult, TestDefinition, TranscriptEntry
from callboard.core.models.dial_intent import DialIntent


async def _no_dial_intents(intent: DialIntent | None) -> None:
    """For jobs that never dial (every kind but call)."""


@dataclass(frozen=True)
class Job:
    """One attempt of one run, as an executor sees it."""

    run_id: int
    attempt: int
    test: TestDefinition
    timeout_s: float
    # Persist an external id (a Twilio call SID) before anything else happens to it; returns once committed.
    record_external_id: Callable[[str], Awaitable[None]]
    # Set when the run resumes after a restart (e.g. the call SID stored before the crash).
    external_id: str | None = None
    # Persist the call about to be placed (None clears it: nothing was placed); returns once committed.
    record_dial_intent: Callable[[DialIntent | None], Awaitable[None]] = _no_dial_intents
    # Set when the run resumes with an intent but no external id: the create may have reached Twilio.
    dial_intent: DialIntent | None = None
    # External ids (call SIDs) other runs already hold, on any machine: resolving the dial intent never
    # takes one of them (a single process knows its own; a shared store knows every worker's).
    taken_ids: frozenset[str] = frozenset()


@dataclass
class Outcome:
    """What an executor found. ``checks`` empty means there was nothing to judge."""

    checks: list[CheckResult] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    transcript: list[TranscriptEntry] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)
    # Artifacts that explain a failure (a response's body and headers): stored only when the run does
    # not pass, so a nightly batch of passing runs does not keep every response it got.
    diagnostics: dict[str, str] = field(default_factory=dict)


class RunError(Exception):
    """The run could not be carried out and retrying will not help (becomes status ``error``)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class TransientError(RunError):
    """A failure worth retrying: connection error, 5xx, 429. ``retry_after`` honours the server."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(kind, message)
        self.retry_after = retry_after


class RateLimited(TransientError):
    """The provider asked to slow down (HTTP 429, Twilio 20429). Retried with backoff for as long as it
    takes, without counting against the test's retries: a rate limit never fails a test."""


class Executor(Protocol):
    """Runs jobs of one kind."""

    kind: str

    async def execute(self, job: Job) -> Outcome:
        """Carry out the job. Raise TransientError to be retried, RunError to end in ``error``.

        Cancellation (asyncio.CancelledError) must clean up (kill processes, hang up) and re-raise.
        """
        ...

    async def aclose(self) -> None:
        """Release shared resources (connection pools)."""
        ...
