"""The agent's audio as the caller hears it: buffered, played at real time, cleared on request.

Twilio plays what the agent sends in order and in real time, however fast it arrives; ``clear`` drops what
is still buffered; a ``mark`` is echoed once the audio sent before it has played — or when ``clear`` drops
it (https://www.twilio.com/docs/voice/media-streams/websocket-messages#send-a-clear-message).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from callboard.core.voice.mulaw import FRAME_BYTES, SILENCE_BYTE


@dataclass(frozen=True)
class PlayedFrame:
    """One 20 ms frame of playback: the μ-law bytes heard, whether any were the agent's, marks reached."""

    audio: bytes
    from_agent: bool
    marks: tuple[str, ...] = ()


class PlaybackBuffer:
    """A byte queue of agent audio with marks at byte positions."""

    def __init__(self) -> None:
        self._audio = bytearray()
        # (position in _audio at which the mark is reached, name)
        self._marks: deque[tuple[int, str]] = deque()

    @property
    def buffered_bytes(self) -> int:
        """Agent audio not yet played."""
        return len(self._audio)

    def append(self, payload: bytes) -> None:
        """Queue audio after everything already buffered."""
        self._audio += payload

    def add_mark(self, name: str) -> None:
        """A mark reached once everything buffered so far has played."""
        self._marks.append((len(self._audio), name))

    def clear(self) -> tuple[str, ...]:
        """Drop the buffered audio; returns the marks to echo now."""
        self._audio.clear()
        names = tuple(name for _, name in self._marks)
        self._marks.clear()
        return names

    def play_frame(self) -> PlayedFrame:
        """The next 20 ms heard: buffered audio, padded with silence when the buffer runs dry."""
        taken = bytes(self._audio[:FRAME_BYTES])
        del self._audio[:FRAME_BYTES]
        reached = []
        while self._marks and self._marks[0][0] <= len(taken):
            reached.append(self._marks.popleft()[1])
        if self._marks:
            self._marks = deque((position - len(taken), name) for position, name in self._marks)
        audio = taken + bytes([SILENCE_BYTE]) * (FRAME_BYTES - len(taken))
        return PlayedFrame(audio, from_agent=bool(taken), marks=tuple(reached))
