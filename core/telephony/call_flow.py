"""One call from dial to transcript: place it (or resume watching it), wait for its end, hang up when
cancelled, then collect the recording, its transcript and the price.

Never dialling twice is the rule everything here bends to. A dial intent (to, from, when) is committed
through the job before every create; only a create that certainly did not reach Twilio (429, 5xx, a
connection never made) raises TransientError (RateLimited for a 429), and clears the intent. Once Twilio
gave a call SID it is recorded through the job before anything else, and from then on every failure is
waited out or ends the run, never retried by the engine (a retry would dial again). A run that resumes
with an intent but no SID is resolved by listing the account's calls (``dialing``), never re-dialled.

Budgets: the call has its TimeLimit; watching it gives up (and hangs up) past ring time + time limit +
a grace; the work after the call (recording, transcript, price) has its own budget, and the transcript
wait its own deadline within it, so a call that runs to its limit still gets its recording and checks.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from callboard.core.execution.base import Job, RunError, TransientError
from callboard.core.models import CallTest, TranscriptEntry
from callboard.core.models.dial_intent import DialIntent
from callboard.core.telephony import errors
from callboard.core.telephony.caller_twiml import caller_twiml
from callboard.core.telephony.channels import ChannelMapping, detect_channels
from callboard.core.telephony.dialing import find_placed_call
from callboard.core.telephony.errors import describe
from callboard.core.telephony.polling import Poller, PollTimeout
from callboard.core.telephony.run_errors import create_error, watch_error
from callboard.core.telephony.settings import TwilioSettings
from callboard.core.telephony.transcription import Transcription
from callboard.core.telephony.voice import (
    NOT_ANSWERED_YET,
    RECORDING_GONE,
    CallRequest,
    CallState,
    Recording,
    TwilioVoice,
)

log = logging.getLogger(__name__)

# Twilio makes a recording available seconds after the call ends; past this, the run goes on without.
RECORDING_WAIT_S = 60.0
# How many placed or resumed call SIDs are remembered so that no dial intent resolves to them.
CLAIMED_KEPT = 10_000
# Watching a call gives up this long after its ring timeout and time limit could have run out.
WATCH_GRACE_S = 300.0


@dataclass
class CallReport:
    """How a call went: its final state, its recording, the transcript (None, with the reason why) and
    which channel was the agent."""

    call: CallState
    recording: Recording | None = None
    transcript: list[TranscriptEntry] | None = None
    no_transcript: str = ""
    channels: ChannelMapping | None = None


class CallFlow:
    """Runs call tests through one ``TwilioVoice``; hang-ups started by cancellation finish even when
    the run is gone (``drain`` waits for them)."""

    def __init__(self, voice: TwilioVoice, settings: TwilioSettings, poller: Poller) -> None:
        """``settings`` must be complete (``options.missing_settings`` empty): calls come from its number."""
        if settings.from_number is None:
            raise ValueError("twilio.from_number is not set")
        self._voice = voice
        self._settings = settings
        self._from_number = settings.from_number
        self._poller = poller
        self._cleanups: set[asyncio.Task[None]] = set()
        # Calls this flow placed or resumed: a dial intent is never resolved to one of them.
        self._claimed: dict[str, None] = {}

    async def run(self, job: Job, test: CallTest) -> CallReport:
        """Place the call (or resume it: by its SID, or by looking up a dial intent) and see it through.

        Cancellation hangs the call up (or cancels it if not answered yet) and is re-raised.
        """
        if job.external_id is not None:
            sid = job.external_id
        elif job.dial_intent is not None:
            sid = await self._resolve(job, job.dial_intent)
        else:
            sid = await self._place(job, test)
        self._claim(sid)
        watch_s = self._settings.ring_timeout_s + _time_limit(test, self._settings) + WATCH_GRACE_S
        try:
            call = await self._poller.until(
                lambda: self._voice.fetch(sid), lambda state: state.ended, f"call {sid}", within_s=watch_s
            )
        except BaseException as exc:
            # Cancelled, timed out or failing: never leave a call running on the account.
            await asyncio.shield(self._background(self._hang_up(sid)))
            if isinstance(exc, PollTimeout):
                message = f"call {sid} had not ended {watch_s:g} s after it was placed"
                raise RunError("call_overran", message) from None
            if errors.http_status(exc) is not None:
                raise watch_error(sid, exc) from None
            raise
        report = CallReport(call=call)
        if call.status == "completed":
            await self._after_the_call(report, test)
        return report

    def _claim(self, sid: str) -> None:
        self._claimed[sid] = None
        if len(self._claimed) > CLAIMED_KEPT:  # only recent calls can match a dial intent
            del self._claimed[next(iter(self._claimed))]

    async def drain(self) -> None:
        """Wait for hang-ups still going on."""
        if self._cleanups:
            await asyncio.gather(*self._cleanups, return_exceptions=True)

    # -- placing ---------------------------------------------------------------------------------------

    async def _resolve(self, job: Job, intent: DialIntent) -> str:
        """The call an interrupted create placed, found on the account; never dialled again."""
        try:
            sid = await find_placed_call(
                self._voice, self._poller, intent, self._claimed.keys(), job.taken_ids
            )
        except Exception as exc:
            message = f"the calls to {intent.to} could not be listed: {describe(exc)}; not dialled again"
            raise RunError("call_create_unknown", message) from None
        if sid is None:
            message = (
                f"the daemon stopped while placing a call to {intent.to} and Twilio lists no such call "
                f"created since {intent.at:%Y-%m-%d %H:%M:%S} UTC; not dialled again"
            )
            raise RunError("call_create_unknown", message)
        self._claim(sid)  # before any await: another run resolving at the same time must not take it
        await job.record_external_id(sid)
        return sid

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
        amd = test.amd
        request = CallRequest(
            to=test.phone,
            from_=self._from_number,
            twiml=caller_twiml(test.caller),
            record=test.record,
            ring_timeout_s=self._settings.ring_timeout_s,
            time_limit_s=_time_limit(test, self._settings),
            machine_detection=test.machine_detection,
            async_amd=amd.async_amd if amd else False,
            speech_threshold_ms=amd.speech_threshold_ms if amd else None,
            speech_end_threshold_ms=amd.speech_end_threshold_ms if amd else None,
            silence_timeout_ms=amd.silence_timeout_ms if amd else None,
        )
        # Committed before the request goes out: a restart finds the call by it instead of dialling again.
        try:
            await job.record_dial_intent(DialIntent(request.to, request.from_, datetime.now(UTC)))
        except Exception as exc:
            # Nothing was dialled, so trying again later is safe (e.g. once the store is back).
            raise TransientError(
                "dial_intent", f"the dial intent could not be stored, not dialled: {exc}"
            ) from exc
        try:
            call = await self._voice.place(request)
        except Exception as exc:
            error = create_error(exc)
            if isinstance(error, TransientError) or errors.twilio_code(exc) is not None:
                # Twilio certainly placed no call: nothing to look up after a restart.
                await self._clear_intent(job)
            raise error from None
        try:
            await job.record_external_id(call.sid)
        except BaseException:
            # A call whose SID is not stored could be dialled again on recovery: it must not stay on.
            await self._hang_up(call.sid)
            raise
        return call.sid

    async def _clear_intent(self, job: Job) -> None:
        try:
            await job.record_dial_intent(None)
        except Exception as exc:
            # Left in place it only makes a restart look the call up (and find none): safe.
            log.warning("run %s: could not clear its dial intent: %s", job.run_id, exc)

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

    async def _after_the_call(self, report: CallReport, test: CallTest) -> None:
        """Recording, transcript and price within the post-call budget; what is missing becomes a note."""
        budget = self._settings.post_call_timeout_s
        try:
            async with asyncio.timeout(budget):
                await self._collect(report, test)
        except TimeoutError:
            note = f"the work after the call did not finish within {budget:g} s (twilio.post_call_timeout_s)"
            report.no_transcript = report.no_transcript or note
        report.call = await self._priced(report.call)

    async def _priced(self, call: CallState) -> CallState:
        """The call fetched again after the post-call wait, and again while Twilio has not priced it."""
        try:
            return await self._poller.until(
                lambda: self._voice.fetch(call.sid),
                lambda state: state.price is not None,
                f"price of call {call.sid}",
                within_s=self._settings.price_wait_s,
            )
        except PollTimeout:
            return call
        except Exception as exc:
            log.warning("call %s: could not fetch its price: %s", call.sid, describe(exc))
            return call

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
        transcription = Transcription(self._voice, self._poller, service, self._settings.transcript_timeout_s)
        try:
            sentences = await transcription.sentences(report.recording.sid, report.call.sid)
        except RunError as exc:
            report.no_transcript = exc.message
            return
        said = [step.say for step in test.caller if step.say]
        mapping = detect_channels(
            sentences, said, self._settings.agent_channel, self._settings.caller_channel
        )
        report.channels = mapping
        report.transcript = [
            TranscriptEntry(speaker=_speaker(s.channel, mapping), text=s.text, start=s.start, end=s.end)
            for s in sentences
        ]

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


def _speaker(channel: int, mapping: ChannelMapping) -> str:
    if channel == mapping.agent:
        return "agent"
    if channel == mapping.caller:
        return "caller"
    return f"channel {channel}"


def _time_limit(test: CallTest, settings: TwilioSettings) -> int:
    """The call's TimeLimit: the test's ``time_limit_s`` or the configured default, never longer than the
    test's ``timeout_s`` (which caps the whole run)."""
    limit = test.time_limit_s or settings.default_time_limit_s
    return min(limit, math.ceil(test.timeout_s)) if test.timeout_s is not None else limit
