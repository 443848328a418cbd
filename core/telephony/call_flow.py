"""One call from dial to transcript: place it (or resume watching it), wait for its end, hang up when
cancelled, then collect the recording and its transcript.

Never dialling twice is the rule everything here bends to. Only a create that certainly did not reach
Twilio (429, 5xx, a connection never made) raises TransientError (RateLimited for a 429); once Twilio
gave a call SID it is recorded through the job before anything else, and from then on every failure is
waited out or ends the run, never retried by the engine (a retry would dial again).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from callboard.core.executors.base import Job, RateLimited, RunError, TransientError
from callboard.core.models import CallTest, TranscriptEntry
from callboard.core.telephony import errors
from callboard.core.telephony.caller_twiml import caller_twiml
from callboard.core.telephony.errors import describe
from callboard.core.telephony.voice import (
    NOT_ANSWERED_YET,
    RECORDING_GONE,
    TRANSCRIPT_DONE,
    CallRequest,
    CallState,
    Recording,
    Sentence,
    TwilioVoice,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

# Twilio makes a recording available seconds after the call ends; past this, the run goes on without.
RECORDING_WAIT_S = 60.0
AUTH_HINT = (
    "check twilio.account_sid with twilio.auth_token (or twilio.api_key with twilio.api_secret); "
    "environment: CALLBOARD_TWILIO__AUTH_TOKEN / CALLBOARD_TWILIO__API_SECRET"
)


class PollTimeout(Exception):
    """What was polled for did not happen in time."""


class Poller:
    """Asks again with a growing pause (``initial_s`` doubling up to ``max_s``) until an answer will do.

    429s, 5xx answers and network failures are waited out (never sooner than a Retry-After asks); any
    other failure is raised.
    """

    def __init__(self, initial_s: float, max_s: float) -> None:
        self.initial_s = initial_s
        self.max_s = max(max_s, initial_s)

    async def until(
        self,
        fetch: Callable[[], Awaitable[T]],
        done: Callable[[T], bool],
        what: str,
        within_s: float | None = None,
    ) -> T:
        """The first fetched value for which ``done`` holds; PollTimeout after ``within_s`` seconds."""
        deadline = None if within_s is None else time.monotonic() + within_s
        delay = self.initial_s
        while True:
            pause = delay
            try:
                value = await fetch()
            except Exception as exc:
                if not errors.is_retryable(exc):
                    raise
                log.warning("%s: %s; asking again", what, describe(exc))
                pause = max(delay, errors.retry_after_s() or 0.0)
            else:
                if done(value):
                    return value
            if deadline is not None and time.monotonic() + pause > deadline:
                raise PollTimeout(f"{what}: nothing after {within_s:g} s")
            await asyncio.sleep(pause)
            delay = min(delay * 2, self.max_s)


@dataclass(frozen=True)
class FlowSettings:
    """The settings the flow needs, taken from ``[twilio]``."""

    from_number: str
    intelligence_service_sid: str | None
    caller_channel: int
    agent_channel: int
    ring_timeout_s: int
    default_time_limit_s: int


@dataclass
class CallReport:
    """How a call went: its final state, its recording and the transcript (None, with the reason why)."""

    call: CallState
    recording: Recording | None = None
    transcript: list[TranscriptEntry] | None = None
    no_transcript: str = ""


class CallFlow:
    """Runs call tests through one ``TwilioVoice``; hang-ups started by cancellation finish even when
    the run is gone (``drain`` waits for them)."""

    def __init__(self, voice: TwilioVoice, settings: FlowSettings, poller: Poller) -> None:
        self._voice = voice
        self._settings = settings
        self._poller = poller
        self._cleanups: set[asyncio.Task[None]] = set()

    async def run(self, job: Job, test: CallTest) -> CallReport:
        """Place the call (or, when the job carries a call SID, resume it) and see it through.

        Cancellation hangs the call up (or cancels it if not answered yet) and is re-raised.
        """
        sid = job.external_id or await self._place(job, test)
        try:
            call = await self._poller.until(
                lambda: self._voice.fetch(sid), lambda state: state.ended, f"call {sid}"
            )
        except BaseException as exc:
            # Cancelled, timed out or failing: never leave a call running on the account.
            await asyncio.shield(self._background(self._hang_up(sid)))
            if errors.http_status(exc) is not None:
                raise _watch_error(sid, exc) from None
            raise
        report = CallReport(call=call)
        if call.status == "completed":
            await self._collect(report, test)
        return report

    async def drain(self) -> None:
        """Wait for hang-ups still going on."""
        if self._cleanups:
            await asyncio.gather(*self._cleanups, return_exceptions=True)

    # -- placing ---------------------------------------------------------------------------------------

    async def _place(self, job: Job, test: CallTest) -> str:
        creating = asyncio.ensure_future(self._create_and_record(job, test))
        try:
            # Shielded: a create that reached Twilio must get its SID recorded whatever happens to the run.
            return await asyncio.shield(creating)
        except asyncio.CancelledError:
            await asyncio.shield(self._background(self._hang_up_once_created(creating)))
            raise

    async def _create_and_record(self, job: Job, test: CallTest) -> str:
        assert test.phone is not None  # a call test without a number is skipped before it gets here
        request = CallRequest(
            to=test.phone,
            from_=self._settings.from_number,
            twiml=caller_twiml(test.caller),
            record=test.record,
            ring_timeout_s=self._settings.ring_timeout_s,
            time_limit_s=_time_limit(test, self._settings.default_time_limit_s),
            machine_detection=test.machine_detection,
        )
        try:
            call = await self._voice.place(request)
        except Exception as exc:
            raise _create_error(exc) from None
        try:
            await job.record_external_id(call.sid)
        except BaseException:
            # A call whose SID is not stored could be dialled again on recovery: it must not stay on.
            await self._hang_up(call.sid)
            raise
        return call.sid

    # -- hanging up ------------------------------------------------------------------------------------

    def _background(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)
        return task

    async def _hang_up_once_created(self, creating: asyncio.Future[str]) -> None:
        try:
            sid = await creating
        except Exception:
            return  # no call was created
        await self._hang_up(sid)

    async def _hang_up(self, sid: str) -> None:
        """Cancel a call not answered yet, complete one in progress; leave an ended one alone."""
        try:
            state = await self._voice.fetch(sid)
            if state.status in NOT_ANSWERED_YET:
                state = await self._voice.update_status(sid, "canceled")
            # Also when it was answered while being cancelled: "canceled" leaves a call in progress alone.
            if state.status == "in-progress":
                await self._voice.update_status(sid, "completed")
        except Exception as exc:
            log.warning("could not hang up call %s: %s", sid, describe(exc))

    # -- after the call --------------------------------------------------------------------------------

    async def _collect(self, report: CallReport, test: CallTest) -> None:
        """Fill in the recording and the transcript; their failures become notes, not run errors."""
        if not test.record:
            report.no_transcript = "the call was not recorded (record = false)"
            return
        try:
            report.recording = await self._recording(report.call.sid)
        except RunError as exc:
            report.no_transcript = exc.message
            return
        service = self._settings.intelligence_service_sid
        if service is None:
            report.no_transcript = "no transcript: set twilio.intelligence_service_sid to transcribe calls"
            return
        try:
            sentences = await self._transcribe(service, report.recording.sid, report.call.sid)
        except RunError as exc:
            report.no_transcript = exc.message
            return
        report.transcript = [self._entry(sentence) for sentence in sentences]

    async def _recording(self, call_sid: str) -> Recording:
        def ready(found: list[Recording]) -> bool:
            return any(item.status == "completed" or item.status in RECORDING_GONE for item in found)

        try:
            found = await self._poller.until(
                lambda: self._voice.recordings(call_sid),
                ready,
                f"recording of call {call_sid}",
                within_s=RECORDING_WAIT_S,
            )
        except PollTimeout:
            message = f"no recording of the call within {RECORDING_WAIT_S:g} s"
            raise RunError("no_recording", message) from None
        except Exception as exc:
            raise RunError("no_recording", f"the recording could not be listed: {describe(exc)}") from None
        completed = [item for item in found if item.status == "completed"]
        if not completed:
            raise RunError("no_recording", f"the call's recording is {found[0].status}")
        return completed[0]

    async def _transcribe(self, service_sid: str, recording_sid: str, call_sid: str) -> list[Sentence]:
        try:
            # A create retried after a 5xx or a lost answer may make a second transcript: harmless.
            transcript_sid = await self._poller.until(
                lambda: self._voice.create_transcript(service_sid, recording_sid, call_sid),
                lambda _: True,
                f"transcript of recording {recording_sid}",
            )
            status = await self._poller.until(
                lambda: self._voice.transcript_status(transcript_sid),
                lambda value: value in TRANSCRIPT_DONE,
                f"transcript {transcript_sid}",
            )
            if status != "completed":
                raise RunError("no_transcript", f"transcript {transcript_sid} ended {status}")
            return await self._poller.until(
                lambda: self._voice.sentences(transcript_sid),
                lambda _: True,
                f"sentences of transcript {transcript_sid}",
            )
        except RunError:
            raise
        except Exception as exc:
            raise RunError("no_transcript", f"transcription failed: {describe(exc)}") from None

    def _entry(self, sentence: Sentence) -> TranscriptEntry:
        if sentence.channel == self._settings.agent_channel:
            speaker = "agent"
        elif sentence.channel == self._settings.caller_channel:
            speaker = "caller"
        else:
            speaker = f"channel {sentence.channel}"
        return TranscriptEntry(speaker=speaker, text=sentence.text, start=sentence.start, end=sentence.end)


def _time_limit(test: CallTest, default_s: int) -> int:
    """The test's own timeout bounds the call (the run ends then anyway); else the configured default."""
    return math.ceil(test.timeout_s) if test.timeout_s is not None else default_s


def _create_error(exc: Exception) -> Exception:
    """The run error for a failed create: retryable only when Twilio certainly placed no call."""
    if errors.is_rate_limited(exc):
        # Waited out by the engine for as long as it takes: a rate limit never fails a test.
        message = f"Twilio is rate limiting calls: {describe(exc)}"
        return RateLimited("rate_limited", message, errors.retry_after_s())
    if errors.is_server_error(exc):
        return TransientError("twilio_unavailable", f"Twilio could not place the call: {describe(exc)}")
    if errors.not_sent(exc):
        return TransientError("network", describe(exc))
    if errors.is_retryable(exc):
        # A network failure after the request went out: Twilio may have placed the call, and a retry
        # could dial a second one.
        message = f"no answer to the create request, not retried: {describe(exc)}"
        return RunError("call_create_unknown", message)
    code = errors.twilio_code(exc)
    if errors.http_status(exc) in (401, 403):
        return RunError(f"twilio_{code}", f"Twilio refused the credentials: {describe(exc)}; {AUTH_HINT}")
    if code is not None:
        return RunError(f"twilio_{code}", f"Twilio refused the call: {describe(exc)}")
    return exc


def _watch_error(sid: str, exc: BaseException) -> RunError:
    if errors.http_status(exc) == 404:
        return RunError("call_not_found", f"Twilio has no call {sid} on this account")
    if errors.http_status(exc) in (401, 403):
        return RunError("twilio_auth", f"Twilio refused the credentials: {describe(exc)}; {AUTH_HINT}")
    code = errors.twilio_code(exc)
    return RunError(f"twilio_{code}" if code else "twilio", f"watching call {sid}: {describe(exc)}")
