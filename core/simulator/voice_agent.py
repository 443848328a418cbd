"""The simulator's voice agent on a Media Streams socket: it listens, answers with real speech, stops when
interrupted, and writes down exactly when it did each thing.

It plays the agent's side of https://www.twilio.com/docs/voice/media-streams/websocket-messages: reads
``connected``/``start``/``media``/``dtmf``/``mark``/``stop``, sends ``media`` (a whole utterance at once,
as many agents do), a ``mark`` after each utterance, and ``clear`` on barge-in. Times are real (the
simulator's ``time_scale`` does not apply: audio runs at real time).

Hearing: webrtcvad on the caller's frames; an utterance starts at the first of 3 voiced frames and is
over 400 ms after its last voiced frame; the log gives its end as the last sample above a loudness
threshold (the truth, not the VAD's estimate), and replies are timed from that end. It does not
recognise words (no offline recogniser is accurate enough on telephone audio): the caller's n-th
utterance means the n-th line of its script — by default "I'd like to book an appointment", "Tuesday at
3pm", "bye"; a stream's ``heard`` custom parameter ("line|line|...") replaces it — and the persona
(``personas``) answers that line. Keys go to the persona's phone menu.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np
import webrtcvad

from callboard.core.simulator.config import NumberBehaviour
from callboard.core.simulator.personas import Reply, make_agent
from callboard.core.simulator.voice_registry import SessionLog, VoiceRegistry
from callboard.core.voice import mulaw
from callboard.core.voice.tts import CachedTts, EspeakTts

DEFAULT_SCRIPT = ("I'd like to book an appointment", "Tuesday at 3pm", "bye")
ONSET_FRAMES = 3
END_SILENCE_MS = 400
FRAME_MS = 20
CHUNK_BYTES = 8000  # one second of audio a media message
_AUDIBLE = 400
_tts = CachedTts(EspeakTts())  # every call of a persona says the same few lines


def audible_part(ulaw: bytes) -> bytes:
    """The utterance without TTS's leading and trailing silence, so 'spoke at' is when sound starts."""
    samples = np.abs(mulaw.decode(ulaw).astype(np.int32))
    loud = np.nonzero(samples > _AUDIBLE)[0]
    return ulaw[loud[0] : loud[-1] + 1] if loud.size else b""


def beep_tone() -> bytes:
    """Voicemail's 1 kHz beep, 400 ms."""
    t = np.arange(int(0.4 * mulaw.SAMPLE_RATE)) / mulaw.SAMPLE_RATE
    return mulaw.encode((8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16))


class VoiceAgentSession:
    """One call: fed the socket's messages by ``on_message``; talks back through ``send``/``close``."""

    def __init__(
        self,
        behaviour: NumberBehaviour,
        number: str,
        registry: VoiceRegistry,
        send: Callable[[str], Awaitable[None]],
        close: Callable[[], Awaitable[None]],
    ) -> None:
        self.behaviour = behaviour
        self.persona = make_agent(behaviour.persona)
        self._number = number
        self._registry = registry
        self._send = send
        self._close = close
        self._vad = webrtcvad.Vad(2)
        self._t0 = 0.0
        self._stream_sid = ""
        self._log: SessionLog | None = None
        self._script: list[str] = list(DEFAULT_SCRIPT)
        self._heard = 0
        self._speaking_until = 0.0
        self._marks = 0
        self._run: list[float] = []  # arrival times of the current run of voiced frames
        self._utterance_start: float | None = None
        self._last_voiced = 0.0
        self._last_audible = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed = False

    def _now_ms(self) -> float:
        return round((time.monotonic() - self._t0) * 1000, 1)

    async def on_message(self, text: str) -> None:
        """Handle one message from the caller's side (Twilio)."""
        try:
            message: dict[str, Any] = json.loads(text)
        except ValueError:
            return
        event = message.get("event")
        if event == "start":
            self._start(message.get("start") or {})
        elif event == "media" and self._log is not None:
            await self._on_media(message.get("media") or {})
        elif event == "dtmf" and self._log is not None:
            digit = str((message.get("dtmf") or {}).get("digit", ""))
            self._log.add("dtmf", at_ms=self._now_ms(), digit=digit)
            self._answer_later(self.persona.keys(digit), time.monotonic())
        elif event == "mark" and self._log is not None:
            self._log.add("mark", at_ms=self._now_ms(), name=(message.get("mark") or {}).get("name"))
        elif event == "stop" and self._log is not None:
            self._log.add("stop", at_ms=self._now_ms())

    def finish(self) -> None:
        """The socket is gone: stop everything scheduled."""
        self.closed = True
        for task in self._tasks:
            task.cancel()

    def _start(self, start: dict[str, Any]) -> None:
        self._t0 = time.monotonic()
        self._stream_sid = str(start.get("streamSid", ""))
        parameters = start.get("customParameters") or {}
        if isinstance(parameters, dict) and isinstance(parameters.get("heard"), str):
            self._script = [line.strip() for line in parameters["heard"].split("|") if line.strip()]
        self._log = SessionLog(self._stream_sid, self._number, self.behaviour.persona)
        self._registry.open(self._log)
        greeting = self.persona.greeting()
        if greeting is not None:
            self._later(self._t0 + self.behaviour.first_word_s, self._speak(greeting, beep=self.persona.beep))
        if self.behaviour.hangup_after_s is not None:
            self._later(self._t0 + self.behaviour.hangup_after_s, self._hang_up())

    async def _on_media(self, media: dict[str, Any]) -> None:
        arrived = time.monotonic()
        try:
            frame = base64.b64decode(str(media.get("payload", "")), validate=True)
        except ValueError:
            return
        if len(frame) != mulaw.FRAME_BYTES:
            return
        samples = mulaw.decode(frame)
        if int(np.abs(samples.astype(np.int32)).max()) > _AUDIBLE:
            # The truth of when the caller's sound ended: the last sample above the threshold.
            loud = np.nonzero(np.abs(samples.astype(np.int32)) > _AUDIBLE)[0]
            self._last_audible = arrived + (int(loud[-1]) + 1) / mulaw.SAMPLE_RATE
        voiced = self._vad.is_speech(samples.tobytes(), mulaw.SAMPLE_RATE)
        if voiced:
            self._run.append(arrived)
            self._last_voiced = arrived
            if self._utterance_start is None and len(self._run) >= ONSET_FRAMES:
                self._utterance_start = self._run[0]
                await self._caller_started(self._run[0])
            return
        self._run = []
        quiet_ms = (arrived - self._last_voiced) * 1000
        if self._utterance_start is not None and quiet_ms >= END_SILENCE_MS:
            start, self._utterance_start = self._utterance_start, None
            self._caller_finished(start, self._last_audible)

    async def _caller_started(self, onset: float) -> None:
        if not self.behaviour.barge_in or time.monotonic() >= self._speaking_until or self._log is None:
            return
        await self._send_event("clear", None)
        self._speaking_until = time.monotonic()
        self._log.add("clear", at_ms=self._now_ms(), caller_onset_ms=self._ms(onset))

    def _caller_finished(self, start: float, end: float) -> None:
        assert self._log is not None
        meaning = self._script[self._heard] if self._heard < len(self._script) else ""
        self._heard += 1
        self._log.add("caller_speech", start_ms=self._ms(start), end_ms=self._ms(end), meaning=meaning)
        self._answer_later(self.persona.hear(meaning) if meaning else None, end)

    def _answer_later(self, reply: Reply | None, after: float) -> None:
        if reply is not None:
            self._later(after + self.behaviour.turn_latency_s, self._speak(reply.text, hang_up=reply.hang_up))

    def _ms(self, moment: float) -> float:
        return round((moment - self._t0) * 1000, 1)

    def _later(self, when: float, action: Awaitable[None]) -> None:
        async def run() -> None:
            await asyncio.sleep(max(0.0, when - time.monotonic()))
            await action

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _speak(self, text: str, *, hang_up: bool = False, beep: bool = False) -> None:
        audio = audible_part(await _tts.synthesize(text, None))
        if beep:
            audio += mulaw.silence(0.3) + beep_tone()
        if self.closed or self._log is None:
            return
        now = time.monotonic()
        self._log.add("speak", at_ms=self._now_ms(), text=text, audio_ms=len(audio) / 8)
        self._registry.spoke(text, audio)
        # Playback starts now, or after what is still playing from before.
        self._speaking_until = max(now, self._speaking_until) + len(audio) / mulaw.SAMPLE_RATE
        for offset in range(0, len(audio), CHUNK_BYTES):
            payload = base64.b64encode(audio[offset : offset + CHUNK_BYTES]).decode("ascii")
            await self._send_event("media", {"payload": payload})
        self._marks += 1
        await self._send_event("mark", {"name": f"utterance-{self._marks}"})
        if hang_up:
            await asyncio.sleep(self._speaking_until - time.monotonic() + 0.2)
            await self._hang_up()

    async def _send_event(self, event: str, body: dict[str, str] | None) -> None:
        message: dict[str, Any] = {"event": event, "streamSid": self._stream_sid}
        if body is not None:
            message[event] = body
        await self._send(json.dumps(message))

    async def _hang_up(self) -> None:
        if self.closed or self._log is None:
            return
        self._log.add("hangup", at_ms=self._now_ms())
        self.closed = True
        with contextlib.suppress(Exception):
            await self._close()
