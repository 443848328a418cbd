"""One Media Streams session: callboard as Twilio on the agent's WebSocket, in real time.

A single clock drives both directions. Tick ``n`` happens at ``t0 + n × 20 ms`` on the monotonic clock
(``t0`` = when ``start`` was sent): it sends the caller's next 160-byte frame (silence when the caller is
quiet — agents' VAD and end-of-turn detection expect a steady stream) and plays the next 20 ms of the
agent's buffered audio. A late tick is caught up at once, never shifted, so there is no drift. Everything
heard is kept per frame, which makes frame ``n`` the timeline's ``n × 20 ms``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from callboard.core.voice.mulaw import FRAME_BYTES, FRAME_MS, SILENCE_FRAME
from callboard.core.voice.playback import PlaybackBuffer
from callboard.core.voice.protocol import AgentClear, AgentMark, AgentMedia, TwilioStream, parse_agent_message
from callboard.core.voice.vad import FrameVad, Segmenter, audible_frames

FRAME_S = FRAME_MS / 1000
NO_TURN = -1
AGENT_GAP_FRAMES = 15  # quiet frames inside one agent utterance (pauses between words and sentences)


@dataclass
class Recording:
    """Per frame: what each side sounded like, whether it was voiced, and which caller turn it carried."""

    caller_audio: bytearray = field(default_factory=bytearray)
    agent_audio: bytearray = field(default_factory=bytearray)
    caller_voiced: list[bool] = field(default_factory=list)
    agent_voiced: list[bool] = field(default_factory=list)
    agent_present: list[bool] = field(default_factory=list)
    caller_turn: list[int] = field(default_factory=list)
    clears: list[int] = field(default_factory=list)
    # Late ticks in seconds (how long after its deadline each frame went out).
    lateness: list[float] = field(default_factory=list)

    @property
    def frames(self) -> int:
        """Frames played so far."""
        return len(self.agent_voiced)


class MediaSession:
    """Runs the socket; the caller script drives it with ``play``, ``dtmf``, ``until`` and ``hangup``."""

    def __init__(
        self,
        socket: ClientConnection,
        stream: TwilioStream,
        vad: FrameVad,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.recording = Recording()
        self.agent = Segmenter(gap_frames=AGENT_GAP_FRAMES)
        self.agent_hung_up = False
        self._socket = socket
        self._vad = vad
        self._clock = clock
        self._playback = PlaybackBuffer()
        self._queue: deque[tuple[bytes, bool, int]] = deque()
        self._tick = asyncio.Event()
        self._ended = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def ended(self) -> bool:
        """The socket is closed (by either side)."""
        return self._ended.is_set()

    @property
    def frame(self) -> int:
        """The next frame to be played."""
        return self.recording.frames

    async def open(self) -> None:
        """Send ``connected`` and ``start``, then start the clock and the receiver."""
        try:
            await self._socket.send(self.stream.connected())
            await self._socket.send(self.stream.start())
        except ConnectionClosed:
            self.agent_hung_up = True
            self._ended.set()
            return
        start = self._clock()
        self._tasks = [
            asyncio.create_task(self._run_clock(start), name="voice-clock"),
            asyncio.create_task(self._receive(), name="voice-receive"),
        ]

    async def play(self, audio: bytes, turn: int) -> None:
        """Queue caller audio (μ-law) and return once it has all been sent."""
        voiced = audible_frames(audio)
        for index, offset in enumerate(range(0, len(audio), FRAME_BYTES)):
            frame = audio[offset : offset + FRAME_BYTES].ljust(FRAME_BYTES, b"\xff")
            self._queue.append((frame, voiced[index], turn))
        await self.until(lambda: not self._queue)

    async def dtmf(self, digit: str) -> None:
        """Send a key press now (Twilio reports DTMF as events and keeps the tones out of the audio)."""
        if not self.ended:
            with contextlib.suppress(ConnectionClosed):
                await self._socket.send(self.stream.dtmf(digit))

    async def until(self, condition: Callable[[], bool], timeout_s: float | None = None) -> bool:
        """Wait, tick by tick, until ``condition()`` holds (True) or the session ends or times out (False)."""
        deadline = None if timeout_s is None else self._clock() + timeout_s
        while not condition():
            if self.ended:
                return False
            remaining = None if deadline is None else deadline - self._clock()
            if remaining is not None and remaining <= 0:
                return False
            waiter = asyncio.ensure_future(self._tick.wait())
            ended = asyncio.ensure_future(self._ended.wait())
            try:
                await asyncio.wait({waiter, ended}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
                ended.cancel()
        return True

    async def hangup(self) -> None:
        """The caller hangs up: ``stop``, then close the socket."""
        if not self.ended:
            with contextlib.suppress(ConnectionClosed):
                await self._socket.send(self.stream.stop())
            self._ended.set()
        await self.close()

    async def close(self) -> None:
        """Stop the clock and the receiver and close the socket."""
        self._ended.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await task
        with contextlib.suppress(Exception):
            await self._socket.close()

    async def _run_clock(self, start: float) -> None:
        index = 0
        while not self.ended:
            deadline = start + index * FRAME_S
            delay = deadline - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            self.recording.lateness.append(max(0.0, self._clock() - deadline))
            await self._step(index)
            index += 1

    async def _step(self, index: int) -> None:
        frame, voiced, turn = self._queue.popleft() if self._queue else (SILENCE_FRAME, False, NO_TURN)
        try:
            await self._socket.send(self.stream.media(frame, index * FRAME_MS))
            played = self._playback.play_frame()
            for name in played.marks:
                await self._socket.send(self.stream.mark(name))
        except ConnectionClosed:
            self.agent_hung_up = not self.ended
            self._ended.set()
            return
        agent_voiced = played.from_agent and self._vad.is_speech(played.audio)
        record = self.recording
        record.caller_audio += frame
        record.agent_audio += played.audio
        record.caller_voiced.append(voiced)
        record.agent_voiced.append(agent_voiced)
        record.agent_present.append(played.from_agent)
        record.caller_turn.append(turn)
        self.agent.push(voiced=agent_voiced)
        self._tick.set()
        self._tick.clear()

    async def _receive(self) -> None:
        try:
            async for text in self._socket:
                message = parse_agent_message(text)
                if isinstance(message, AgentMedia):
                    self._playback.append(message.payload)
                elif isinstance(message, AgentMark):
                    self._playback.add_mark(message.name)
                elif isinstance(message, AgentClear):
                    self.recording.clears.append(self.frame)
                    for name in self._playback.clear():
                        await self._socket.send(self.stream.mark(name))
        except ConnectionClosed:
            pass
        # The agent closing the socket is the agent hanging up.
        if not self.ended:
            self.agent_hung_up = True
            self._ended.set()
