"""Twilio's Media Streams messages, written exactly as Twilio writes them and read as Twilio reads them.

From Twilio to the agent (https://www.twilio.com/docs/voice/media-streams/websocket-messages):
``connected`` (``protocol`` "Call", ``version`` "1.0.0"), ``start`` (``accountSid``, ``streamSid``,
``callSid``, ``tracks``, ``mediaFormat`` {``audio/x-mulaw``, 8000, 1}, ``customParameters``), ``media``
(``track`` "inbound", ``chunk`` and ``timestamp`` as strings, base64 μ-law ``payload``), ``dtmf`` (``track``
"inbound_track", ``digit``), ``mark`` (echoing the agent's ``name`` once playback reaches it) and ``stop``
(``accountSid``, ``callSid``). Every message but ``connected`` carries ``sequenceNumber`` (a string
counting from "1") and ``streamSid``; keys come in the order of Twilio's own examples.

From the agent (bidirectional streams): ``media`` (``payload``), ``mark`` (``name``) and ``clear``.
Anything else, and anything malformed, is ignored as Twilio ignores it.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

PROTOCOL_VERSION = "1.0.0"
MEDIA_FORMAT = {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two letters and 32 lowercase hex digits."""
    return prefix + secrets.token_hex(16)


def _dumps(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False)


@dataclass
class TwilioStream:
    """Twilio's side of one stream: builds each outgoing message with the next sequence number."""

    stream_sid: str = field(default_factory=lambda: new_sid("MZ"))
    call_sid: str = field(default_factory=lambda: new_sid("CA"))
    account_sid: str = field(default_factory=lambda: new_sid("AC"))
    custom_parameters: dict[str, str] = field(default_factory=dict)
    tracks: tuple[str, ...] = ("inbound",)
    _sequence: int = 0
    _chunk: int = 0

    def _next(self) -> str:
        self._sequence += 1
        return str(self._sequence)

    def connected(self) -> str:
        """The first message, once the socket is open."""
        return _dumps({"event": "connected", "protocol": "Call", "version": PROTOCOL_VERSION})

    def start(self) -> str:
        """The stream's metadata, right after ``connected``."""
        return _dumps(
            {
                "event": "start",
                "sequenceNumber": self._next(),
                "start": {
                    "accountSid": self.account_sid,
                    "streamSid": self.stream_sid,
                    "callSid": self.call_sid,
                    "tracks": list(self.tracks),
                    "mediaFormat": dict(MEDIA_FORMAT),
                    "customParameters": dict(self.custom_parameters),
                },
                "streamSid": self.stream_sid,
            }
        )

    def media(self, payload: bytes, timestamp_ms: int) -> str:
        """One chunk of the caller's audio; ``timestamp_ms`` is its time since the stream started."""
        self._chunk += 1
        return _dumps(
            {
                "event": "media",
                "sequenceNumber": self._next(),
                "media": {
                    "track": "inbound",
                    "chunk": str(self._chunk),
                    "timestamp": str(timestamp_ms),
                    "payload": base64.b64encode(payload).decode("ascii"),
                },
                "streamSid": self.stream_sid,
            }
        )

    def dtmf(self, digit: str) -> str:
        """A key the caller pressed."""
        return _dumps(
            {
                "event": "dtmf",
                "streamSid": self.stream_sid,
                "sequenceNumber": self._next(),
                "dtmf": {"track": "inbound_track", "digit": digit},
            }
        )

    def mark(self, name: str) -> str:
        """The agent's mark, echoed when the audio sent before it has played (or was cleared)."""
        return _dumps(
            {
                "event": "mark",
                "sequenceNumber": self._next(),
                "streamSid": self.stream_sid,
                "mark": {"name": name},
            }
        )

    def stop(self) -> str:
        """The last message: the caller hung up (or the stream ended)."""
        return _dumps(
            {
                "event": "stop",
                "sequenceNumber": self._next(),
                "stop": {"accountSid": self.account_sid, "callSid": self.call_sid},
                "streamSid": self.stream_sid,
            }
        )


@dataclass(frozen=True)
class AgentMedia:
    """Audio from the agent (μ-law bytes) to play to the caller."""

    payload: bytes


@dataclass(frozen=True)
class AgentMark:
    """A mark the agent wants echoed when playback reaches it."""

    name: str


@dataclass(frozen=True)
class AgentClear:
    """The agent asks for its buffered audio to be dropped (it stops talking)."""


AgentMessage = AgentMedia | AgentMark | AgentClear


def parse_agent_message(text: str | bytes) -> AgentMessage | None:
    """What the agent sent, or None for anything Twilio would ignore (other events, bad JSON or base64)."""
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    event = message.get("event")
    body = message.get(event) if isinstance(event, str) else None
    if event == "media" and isinstance(body, dict) and isinstance(body.get("payload"), str):
        try:
            return AgentMedia(base64.b64decode(body["payload"], validate=True))
        except (binascii.Error, ValueError):
            return None
    if event == "mark" and isinstance(body, dict) and isinstance(body.get("name"), str):
        return AgentMark(body["name"])
    if event == "clear":
        return AgentClear()
    return None
