"""Voice Intelligence transcripts of simulated recordings, and their sentences.

Channels: on a dual-channel recording the agent's sentences are on ``media_channel`` ``agent_channel``
(2 unless configured) and the caller's on the other. A mono recording has no speaker separation: every
sentence is on channel 1, as Twilio would return it — ask for RecordingChannels=dual to tell speakers
apart. Times count from the start of the recording (after trimming, if the call was trimmed).

A transcript is ``queued`` for ``transcript_queue_s``, ``in-progress`` for ``transcript_processing_s``,
then ends in its number's ``transcript_outcome`` (``completed``, or ``failed``/``error`` — statuses of
``intelligence.v2.transcript`` in Twilio's OpenAPI); its sentences are listed only once it is completed.
Twilio keeps one transcript per recording ("If automatic transcription is enabled, Twilio creates a
Transcript resource whenever a Voice call within your Account has been recorded", Transcript resource
docs): a second create for the same source is refused with 409 / 20409 Conflict
(https://www.twilio.com/docs/api/errors/20409) until the first is deleted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from callboard.core.simulator.clock import SimClock, new_sid
from callboard.core.simulator.config import SimulatorConfig
from callboard.core.simulator.conversation import Segment

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_CONFIDENCE = {"caller": "0.97", "agent": "0.94"}


@dataclass
class Transcript:
    """One transcript; ``sentences`` are worked out at creation and shown once it is completed."""

    sid: str
    account_sid: str
    service_sid: str
    channel: Any
    customer_key: str | None
    created: float
    media_start: float
    duration_s: int
    sentences: list[dict[str, Any]]
    source_sid: str = ""
    outcome: str = "completed"

    def status(self, now: float, config: SimulatorConfig) -> str:
        """queued → in-progress → its outcome, by simulated time."""
        elapsed = now - self.created
        if elapsed < config.transcript_queue_s:
            return "queued"
        if elapsed < config.transcript_queue_s + config.transcript_processing_s:
            return "in-progress"
        return self.outcome

    def to_json(self, clock: SimClock, now: float, config: SimulatorConfig, base_url: str) -> dict[str, Any]:
        """The transcript as Twilio's ``intelligence.v2.transcript`` JSON."""
        url = f"{base_url}/v2/Transcripts/{self.sid}"
        status = self.status(now, config)
        return {
            "account_sid": self.account_sid,
            "service_sid": self.service_sid,
            "sid": self.sid,
            "date_created": clock.iso8601(self.created),
            "date_updated": clock.iso8601(self._updated(now, config)),
            "status": status,
            "channel": self.channel,
            "data_logging": False,
            "language_code": "en-US",
            "customer_key": self.customer_key,
            "media_start_time": clock.iso8601(self.media_start),
            "duration": self.duration_s,
            "url": url,
            "redaction": False,
            "encryption_credential_sid": None,
            "links": {
                "sentences": f"{url}/Sentences",
                "encrypted_sentences": f"{url}/Sentences/Encrypted",
                "media": f"{url}/Media",
                "operator_results": f"{url}/OperatorResults",
                "encrypted_operator_results": f"{url}/OperatorResults/Encrypted",
            },
        }

    def _updated(self, now: float, config: SimulatorConfig) -> float:
        started = self.created + config.transcript_queue_s
        done = started + config.transcript_processing_s
        return max(moment for moment in (self.created, started, done) if moment <= now)


def build_sentences(
    segments: tuple[Segment, ...], *, dual_channel: bool, agent_channel: int
) -> list[dict[str, Any]]:
    """Twilio ``intelligence.v2.transcript.sentence`` objects for every spoken segment, in time order."""
    spoken = [segment for segment in segments if segment.text]
    spoken.sort(key=lambda segment: (segment.start, segment.speaker != "caller"))
    sentences: list[dict[str, Any]] = []
    for segment in spoken:
        channel = 1
        if dual_channel:
            channel = agent_channel if segment.speaker == "agent" else 3 - agent_channel
        for text, start, end, words in _split(segment):
            sentences.append(
                {
                    "media_channel": channel,
                    "sentence_index": len(sentences),
                    "start_time": _seconds(start),
                    "end_time": _seconds(end),
                    "transcript": text,
                    "sid": new_sid("GX"),
                    "confidence": _CONFIDENCE[segment.speaker],
                    "words": words,
                }
            )
    return sentences


def _split(segment: Segment) -> list[tuple[str, float, float, list[dict[str, str]]]]:
    """Sentences of a segment with times shared out by word count, and each word's own times."""
    words = (segment.text or "").split()
    per_word = (segment.end - segment.start) / len(words)
    parts: list[tuple[str, float, float, list[dict[str, str]]]] = []
    index = 0
    for sentence in _SENTENCE_END.split(segment.text or ""):
        count = len(sentence.split())
        if count == 0:
            continue
        start = segment.start + index * per_word
        timed = [
            {
                "word": word,
                "start_time": _seconds(start + offset * per_word),
                "end_time": _seconds(start + (offset + 1) * per_word),
            }
            for offset, word in enumerate(sentence.split())
        ]
        parts.append((sentence, start, start + count * per_word, timed))
        index += count
    return parts


def _seconds(value: float) -> str:
    # The schema types sentence times as strings of seconds.
    return str(round(value, 3))


def new_transcript_sid() -> str:
    """A fresh GT SID."""
    return new_sid("GT")
