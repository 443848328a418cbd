"""What the simulator's Media Streams agent did, kept for tests and for its transcription endpoint.

Each session keeps a log of exactly when the agent spoke, cleared, heard the caller, and hung up (ms since
the ``start`` message arrived), so tests can hold callboard's measurements against the truth. Each
utterance's audio is kept with its text so ``/v1/audio/transcriptions`` can recognise audio the simulator
produced itself.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from callboard.core.voice import mulaw

_PROBES = 24  # snippets of each utterance looked for in an upload
_PROBE_BYTES = 40
_QUIET = 300  # a probe must carry some signal: silence matches anywhere
MAX_UTTERANCES = 5000
MAX_SESSIONS = 2000


def _canonical(ulaw: bytes) -> bytes:
    # μ-law has two zeros (0x7F, 0xFF); decoding and re-encoding turns the first into the second.
    return ulaw.replace(b"\x7f", b"\xff")


@dataclass
class Utterance:
    """One thing the agent said: its text and a few audible snippets of its μ-law audio."""

    text: str
    probes: list[bytes]

    @classmethod
    def of(cls, text: str, ulaw: bytes) -> Utterance:
        """Probes taken evenly across the audible parts of the utterance."""
        audio = _canonical(ulaw)
        samples = np.abs(mulaw.decode(audio).astype(np.int32))
        starts = [
            offset
            for offset in range(0, len(audio) - _PROBE_BYTES, _PROBE_BYTES)
            if samples[offset : offset + _PROBE_BYTES].max() > _QUIET
        ]
        step = max(1, len(starts) // _PROBES)
        return cls(text, [audio[offset : offset + _PROBE_BYTES] for offset in starts[::step][:_PROBES]])

    def heard_share(self, upload: bytes) -> tuple[float, int]:
        """The share of its probes found in ``upload``, and where the first one was found."""
        found = [upload.find(probe) for probe in self.probes]
        hits = [position for position in found if position >= 0]
        return (len(hits) / len(self.probes) if self.probes else 0.0), (min(hits) if hits else -1)


@dataclass
class SessionLog:
    """One Media Streams session as the agent lived it."""

    stream_sid: str
    number: str
    persona: str
    events: list[dict[str, Any]] = field(default_factory=list)

    def add(self, event: str, **fields: Any) -> None:
        """Record an event; times are ms since ``start`` arrived."""
        self.events.append({"event": event, **fields})

    def as_json(self) -> dict[str, Any]:
        """The admin route's view."""
        return {
            "stream_sid": self.stream_sid,
            "number": self.number,
            "persona": self.persona,
            "events": self.events,
        }


class VoiceRegistry:
    """Every session log and recent utterance, bounded."""

    def __init__(self) -> None:
        self.sessions: dict[str, SessionLog] = {}
        self._utterances: deque[Utterance] = deque(maxlen=MAX_UTTERANCES)

    def open(self, log: SessionLog) -> None:
        """Keep a session's log (the oldest is forgotten past ``MAX_SESSIONS``)."""
        self.sessions[log.stream_sid] = log
        while len(self.sessions) > MAX_SESSIONS:
            self.sessions.pop(next(iter(self.sessions)))

    def spoke(self, text: str, ulaw: bytes) -> None:
        """Remember an utterance for transcription."""
        self._utterances.append(Utterance.of(text, ulaw))

    def transcribe(self, ulaw: bytes) -> str:
        """The words of the utterances found in ``ulaw``, in order; a cut-off one gives its first words."""
        upload = _canonical(ulaw)
        found = []
        for utterance in self._utterances:
            share, position = utterance.heard_share(upload)
            if share >= 0.15:
                words = utterance.text.split()
                kept = words if share >= 0.85 else words[: max(1, round(len(words) * share))]
                found.append((position, " ".join(kept)))
        return " ".join(text for _, text in sorted(found))

    def reset(self) -> None:
        """Forget everything."""
        self.sessions.clear()
        self._utterances.clear()
