"""The simulator's memory: calls, recordings and transcripts, the caps, and how a new call is planned."""

from __future__ import annotations

from typing import Any

from callboard.core.simulator.calls import Call, CallRequest
from callboard.core.simulator.clock import SimClock, new_sid
from callboard.core.simulator.config import NumberBehaviour, SimulatorConfig
from callboard.core.simulator.conversation import build_conversation
from callboard.core.simulator.errors import bad_request, too_many_requests
from callboard.core.simulator.limits import TokenBucket
from callboard.core.simulator.personas import make_agent
from callboard.core.simulator.recordings import has_recording
from callboard.core.simulator.transcript_book import TranscriptBook
from callboard.core.simulator.twiml import Step

_GEO_MESSAGE = (
    "Account not authorized to call {to}. Perhaps you need to enable some international permissions: "
    "https://www.twilio.com/console/voice/calls/geo-permissions/low-risk"
)


class Simulator:
    """Everything the simulator knows. Used from one event loop only, so it needs no locks."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.clock = SimClock(config.time_scale)
        self.bucket = TokenBucket(config.cps, config.burst)
        self.calls: dict[str, Call] = {}
        self.recordings: dict[str, Call] = {}
        self.transcripts = TranscriptBook(config)
        self._active: set[str] = set()

    def reset(self) -> None:
        """Forget every call, recording and transcript, and refill the CPS bucket."""
        self.calls.clear()
        self.recordings.clear()
        self.transcripts.clear()
        self._active.clear()
        self.bucket.reset()

    def place_call(self, account_sid: str, request: CallRequest, steps: list[Step] | None) -> Call:
        """Create a call, or raise the TwilioError Twilio would answer with (400 rejected, 429 caps).

        ``steps`` is the caller's script; None means a Url call, whose caller stays silent. Over the CPS
        cap the call waits in the account's queue ("API requests for calls that exceed the CPS rate limit
        will be queued, and executed as capacity is available", Twilio support: "How fast can I place or
        receive phone calls with Twilio?"), its ``queue_time`` showing the wait; ``cps_excess = "reject"``
        answers 429 / 20429 instead. The concurrent-calls cap always answers 429 / 20429.
        """
        behaviour = self.config.behaviour(request.to)
        if behaviour.outcome == "rejected":
            message = behaviour.error_message or _GEO_MESSAGE.format(to=request.to)
            raise bad_request(behaviour.error_code or 21215, message)
        now = self.clock.now()
        # The concurrency check comes first so a refused call does not spend a CPS token.
        if self.active_calls(now) >= self.config.max_concurrent_calls:
            raise too_many_requests(f"at most {self.config.max_concurrent_calls} concurrent calls")
        if self.config.cps_excess == "reject":
            if not self.bucket.try_take():
                raise too_many_requests(f"at most {self.config.cps:g} calls per second")
            wait_s = 0.0
        else:
            # The bucket runs on real time; the wait becomes simulated seconds in the call's plan.
            wait_s = self.bucket.reserve() / self.config.time_scale
        if steps is None:
            steps = [Step("pause", seconds=self.config.url_call_s)]
        call = self._plan(account_sid, request, behaviour, steps, now, wait_s)
        self.calls[call.sid] = call
        self._active.add(call.sid)
        if call.recording_sid is not None:
            self.recordings[call.recording_sid] = call
        return call

    def active_calls(self, now: float) -> int:
        """Calls queued, ringing or in progress (finished ones are pruned as a side effect)."""
        self._active = {sid for sid in self._active if self.calls[sid].is_active(now)}
        return len(self._active)

    def recorded_call(self, recording_sid: str, now: float) -> Call | None:
        """The call whose finished recording has this SID."""
        call = self.recordings.get(recording_sid)
        return call if call is not None and has_recording(call, now) else None

    def admin_view(self, now: float) -> list[dict[str, Any]]:
        """Every call with what the simulation knows about it (not a Twilio shape)."""
        view = []
        for call in self.calls.values():
            talk = None
            if call.conversation is not None and call.answer_at is not None and now >= call.answer_at:
                talk = [
                    {"speaker": s.speaker, "start": round(s.start, 3), "end": round(s.end, 3), "text": s.text}
                    for s in call.conversation.until(now - call.answer_at).segments
                ]
            view.append(
                {
                    "sid": call.sid,
                    "to": call.request.to,
                    "from": call.request.from_,
                    "status": call.status(now),
                    "behaviour": call.behaviour.description or call.behaviour.outcome,
                    "date_created": self.clock.iso8601(call.created),
                    "duration": call.duration_s() if not call.is_active(now) else None,
                    "answered_by": call.answered_by(),
                    "error_code": call.error_code,
                    "recording_sid": call.recording_sid,
                    # Real milliseconds the call waited in the account's CPS queue.
                    "cps_wait_ms": round(call.cps_wait_s * self.config.time_scale * 1000, 1),
                    "trim": call.request.trim,
                    "conversation": talk,
                }
            )
        return view

    def _plan(
        self,
        account_sid: str,
        request: CallRequest,
        behaviour: NumberBehaviour,
        steps: list[Step],
        now: float,
        wait_s: float = 0.0,
    ) -> Call:
        """The call's whole life, decided now: when it rings (after ``wait_s`` in the CPS queue), is
        answered and ends, and how."""
        call = Call(
            sid=new_sid("CA"),
            account_sid=account_sid,
            request=request,
            behaviour=behaviour,
            created=now,
            ring_at=now + self.config.queue_s + wait_s,
            answer_at=None,
            end_at=now + self.config.queue_s + wait_s,
            final_status="failed",
            conversation=None,
            recording_sid=None,
            cps_wait_s=wait_s,
        )
        ring_at = call.ring_at
        assert ring_at is not None
        if behaviour.outcome == "failed":
            call.ring_at, call.error_code = None, behaviour.error_code
        elif behaviour.outcome == "busy":
            call.end_at = ring_at + min(behaviour.ring_s, request.timeout_s)
            call.final_status = "busy" if behaviour.ring_s < request.timeout_s else "no-answer"
        elif behaviour.outcome == "no-answer" or behaviour.ring_s >= request.timeout_s:
            call.end_at, call.final_status = ring_at + request.timeout_s, "no-answer"
        else:
            agent = make_agent(behaviour.persona, behaviour.greeting)
            conversation = build_conversation(agent, behaviour, steps, self.config, request.amd).until(
                request.time_limit_s
            )
            call.answer_at = ring_at + behaviour.ring_s
            call.end_at = call.answer_at + conversation.length_s
            call.final_status, call.conversation = "completed", conversation
            call.recording_sid = new_sid("RE") if request.record else None
        return call
