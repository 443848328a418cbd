"""The account's Voice Intelligence transcripts: at most one per recording, listed by source, deletable,
and made automatically for every recording when the service transcribes automatically.

Twilio's Transcript resource docs: "If automatic transcription is enabled, Twilio creates a
Conversational Intelligence Transcript resource whenever a Voice call within your Account has been
recorded." The list filters by ``SourceSid`` (``GET /v2/Transcripts?SourceSid=RE…``, Twilio's OpenAPI);
``DELETE /v2/Transcripts/{Sid}`` removes one (204).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from callboard.core.simulator.calls import Call
from callboard.core.simulator.config import SimulatorConfig
from callboard.core.simulator.errors import TwilioError
from callboard.core.simulator.recordings import agent_channel, has_recording, recorded_audio
from callboard.core.simulator.transcripts import Transcript, build_sentences, new_transcript_sid


def conflict(source_sid: str, existing: str) -> TwilioError:
    """409 / 20409: the recording already has a transcript."""
    return TwilioError(409, 20409, f"Conflict: recording {source_sid} already has transcript {existing}")


class TranscriptBook:
    """Transcripts by SID, with the one-per-recording rule."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.by_sid: dict[str, Transcript] = {}
        self._auto_done: set[str] = set()

    def clear(self) -> None:
        """Forget every transcript."""
        self.by_sid.clear()
        self._auto_done.clear()

    def create(
        self, call: Call, service_sid: str, channel: Any, customer_key: str | None, now: float
    ) -> Transcript:
        """A new transcript of the call's recording; raises 409/20409 if that recording has one."""
        assert call.recording_sid is not None
        existing = self.of_source(call.recording_sid)
        if existing:
            raise conflict(call.recording_sid, existing[0].sid)
        return self._add(call, service_sid, channel, customer_key, now)

    def of_source(self, source_sid: str) -> list[Transcript]:
        """The transcripts of one recording (at most one)."""
        return [item for item in self.by_sid.values() if item.source_sid == source_sid]

    def delete(self, sid: str) -> bool:
        """Remove a transcript; False if there was none."""
        return self.by_sid.pop(sid, None) is not None

    def transcribe_automatically(self, calls: Iterable[Call], now: float) -> None:
        """With automatic transcription on, give every finished recording its transcript (once)."""
        service = self.config.auto_transcribe_service_sid
        if service is None:
            return
        for call in calls:
            sid = call.recording_sid
            if sid is None or sid in self._auto_done or not has_recording(call, now):
                continue
            self._auto_done.add(sid)
            if not self.of_source(sid):
                channel = {"media_properties": {"source_sid": sid}}
                ready = call.end_at + self.config.recording_delay_s
                self._add(call, service, channel, None, min(now, ready))

    def _add(
        self, call: Call, service_sid: str, channel: Any, customer_key: str | None, created: float
    ) -> Transcript:
        assert call.conversation is not None and call.answer_at is not None and call.recording_sid
        audio = recorded_audio(call)
        transcript = Transcript(
            sid=new_transcript_sid(),
            account_sid=self.config.account_sid,
            service_sid=service_sid,
            channel=channel,
            customer_key=customer_key,
            created=created,
            media_start=call.answer_at + audio.offset_s,
            duration_s=round(audio.length_s),
            sentences=build_sentences(
                audio.segments,
                dual_channel=call.request.dual_channel,
                agent_channel=agent_channel(call, self.config),
            ),
            source_sid=call.recording_sid,
            outcome=call.behaviour.transcript_outcome,
        )
        self.by_sid[transcript.sid] = transcript
        return transcript
