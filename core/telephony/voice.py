"""The Twilio requests a call test makes, through twilio's own client, answered as small plain records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from twilio.rest import Client
from twilio.rest.api.v2010.account.call import CallInstance

TERMINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
NOT_ANSWERED_YET = frozenset({"queued", "initiated", "ringing"})
# A transcript in any of these will not change again ("error" is in Twilio's status enum too).
TRANSCRIPT_DONE = frozenset({"completed", "failed", "canceled", "error"})
# A recording in these states will never have media.
RECORDING_GONE = frozenset({"absent", "failed", "deleted"})
SENTENCE_PAGE_SIZE = 1000


@dataclass(frozen=True)
class CallState:
    """A call as Twilio last described it."""

    sid: str
    status: str
    duration_s: float | None = None
    price: float | None = None
    answered_by: str | None = None
    created: datetime | None = None

    @property
    def ended(self) -> bool:
        """The call is over (completed, busy, no-answer, failed or canceled)."""
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class Recording:
    """One recording of a call: its SID, status and where its media is."""

    sid: str
    status: str
    media_url: str


@dataclass(frozen=True)
class Sentence:
    """One transcribed sentence: the recording channel it was heard on, its text and times in seconds."""

    channel: int
    text: str
    start: float | None
    end: float | None


@dataclass(frozen=True)
class CallRequest:
    """The parameters of one outbound call."""

    to: str
    from_: str
    twiml: str
    record: bool
    ring_timeout_s: int
    time_limit_s: int
    machine_detection: bool
    async_amd: bool = False
    speech_threshold_ms: int | None = None
    speech_end_threshold_ms: int | None = None
    silence_timeout_ms: int | None = None


@dataclass(frozen=True)
class TranscriptInfo:
    """A Voice Intelligence transcript's SID and status."""

    sid: str
    status: str


class TwilioVoice:
    """Places, watches and hangs up calls; lists recordings; makes and reads transcripts.

    Errors come out as the twilio library raises them (``TwilioRestException``) or as httpx transport
    errors; ``callboard.core.telephony.errors`` reads them.
    """

    def __init__(self, client: Client, media_base_url: str) -> None:
        """``media_base_url`` is the API base recording media URLs are built on."""
        self._client = client
        self._media_base = media_base_url.rstrip("/")

    async def place(self, request: CallRequest) -> CallState:
        """Create the call: dual-channel, untrimmed recording when recorded; answering-machine detection
        with the test's options if asked."""
        detect = request.machine_detection
        call = await self._client.calls.create_async(
            to=request.to,
            from_=request.from_,
            twiml=request.twiml,
            record=request.record,
            # Caller and agent on separate channels, so the transcript can tell who said what.
            recording_channels="dual" if request.record else None,
            # Twilio's default, trim-silence, cuts the silence before the agent's first word out of the
            # recording: its transcript would then put the first word near 0 whatever the agent did.
            trim="do-not-trim" if request.record else None,
            timeout=request.ring_timeout_s,
            time_limit=request.time_limit_s,
            # DetectMessageEnd reports machine_end_* after the greeting, so the script plays after the beep.
            machine_detection="DetectMessageEnd" if detect else None,
            async_amd="true" if detect and request.async_amd else None,
            machine_detection_speech_threshold=request.speech_threshold_ms if detect else None,
            machine_detection_speech_end_threshold=request.speech_end_threshold_ms if detect else None,
            machine_detection_silence_timeout=request.silence_timeout_ms if detect else None,
        )
        return _call_state(call)

    async def find_calls(self, to: str, from_: str, since: datetime) -> list[CallState]:
        """Calls from ``from_`` to ``to`` created since ``since`` (to the second), oldest first.

        The Calls list filters by To, From and StartTime (a date); a call still queued has no start
        time, so queued calls are listed separately. Creation times are compared here.
        """
        day = (since - timedelta(days=1)).strftime("%Y-%m-%d")  # the filter is by UTC date
        started = await self._client.calls.list_async(to=to, from_=from_, start_time_after=day, limit=200)
        queued = await self._client.calls.list_async(to=to, from_=from_, status="queued", limit=200)
        found = {call.sid: _call_state(call) for call in [*started, *queued]}
        recent = [state for state in found.values() if state.created is not None and state.created >= since]
        return sorted(recent, key=lambda state: state.created or since)

    async def fetch(self, sid: str) -> CallState:
        """The call as it is now."""
        return _call_state(await self._client.calls(sid).fetch_async())

    async def update_status(self, sid: str, status: str) -> CallState:
        """Set the call's status: "completed" hangs up a call in progress, "canceled" one not answered."""
        return _call_state(await self._client.calls(sid).update_async(status=status))

    async def recordings(self, call_sid: str) -> list[Recording]:
        """The call's recordings."""
        found = await self._client.calls(call_sid).recordings.list_async()
        return [
            Recording(
                sid=item.sid,
                status=str(item.status or ""),
                media_url=f"{self._media_base}/2010-04-01/Accounts/{item.account_sid}/Recordings/{item.sid}",
            )
            for item in found
        ]

    async def transcripts_of(self, recording_sid: str) -> list[TranscriptInfo]:
        """The Voice Intelligence transcripts of one recording (Twilio keeps at most one)."""
        found = await self._client.intelligence.v2.transcripts.list_async(source_sid=recording_sid, limit=20)
        return [TranscriptInfo(str(item.sid), str(item.status)) for item in found]

    async def create_transcript(self, service_sid: str, recording_sid: str, customer_key: str) -> str:
        """Start a Voice Intelligence transcript of the recording; returns its SID."""
        transcript = await self._client.intelligence.v2.transcripts.create_async(
            service_sid=service_sid,
            # The library serialises this dict to the JSON string Twilio expects.
            channel={"media_properties": {"source_sid": recording_sid}},
            customer_key=customer_key,
        )
        return str(transcript.sid)

    async def transcript_status(self, transcript_sid: str) -> str:
        """queued, in-progress, completed, failed or canceled."""
        transcript = await self._client.intelligence.v2.transcripts(transcript_sid).fetch_async()
        return str(transcript.status)

    async def sentences(self, transcript_sid: str, page_size: int = SENTENCE_PAGE_SIZE) -> list[Sentence]:
        """Every sentence of a completed transcript, reading page after page, in order."""
        items = await self._client.intelligence.v2.transcripts(transcript_sid).sentences.list_async(
            word_timestamps=False, page_size=page_size
        )
        return [
            Sentence(
                channel=int(item.media_channel or 0),
                text=str(item.transcript or ""),
                start=_number(item.start_time),
                end=_number(item.end_time),
            )
            for item in items
        ]


def _call_state(call: CallInstance) -> CallState:
    price = _number(call.price)
    return CallState(
        sid=str(call.sid),
        status=str(call.status or ""),
        duration_s=_number(call.duration),
        # Twilio gives the charge as a negative string ("-0.01300"); it is absent until the call is billed.
        price=abs(price) if price is not None else None,
        answered_by=call.answered_by or None,
        created=call.date_created,
    )


def _number(value: object) -> float | None:
    """Twilio's numbers-as-strings ("17", "-0.013", "2.4") as floats; None when absent or unreadable."""
    if value is None or value == "":
        return None
    try:
        return float(str(value))
    except ValueError:
        return None
