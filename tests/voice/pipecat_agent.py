"""A Media Streams voice agent that is not callboard's code: built from Pipecat's own parts.

Pipecat's ``parse_telephony_websocket`` reads ``connected``/``start`` and recognises Twilio, its
``TwilioFrameSerializer`` turns Twilio's messages into audio and DTMF frames and back (``clear`` from an
``InterruptionFrame``), and its Silero VAD (the model ships in the pipecat-ai wheel) hears the caller. The
agent's voice is a synthetic vowel (a harmonic series at 130 Hz, modulated at 4 Hz) so nothing of
callboard's speech code is involved either. It logs when it spoke, when Silero says the caller started
and stopped (less ``start_secs``/``stop_secs``, which Silero waits before saying so), and when it cleared.

It greets 0.6 s after ``start`` (1.2 s of voice), answers each caller turn or key press 0.5 s after it ends
(2 s of voice), and stops (``clear``) when the caller talks over it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import uvicorn
from pipecat.audio.vad.silero import SileroVADAnalyzer
from pipecat.audio.vad.vad_analyzer import VADParams, VADState
from pipecat.frames.frames import InputAudioRawFrame, InputDTMFFrame, InterruptionFrame, OutputAudioRawFrame
from pipecat.runner.utils import parse_telephony_websocket
from pipecat.serializers.twilio import TwilioFrameSerializer
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

RATE = 16_000
GREETING_AFTER_S = 0.6
GREETING_S = 1.2
REPLY_AFTER_S = 0.5
REPLY_S = 2.0
VAD = VADParams(start_secs=0.2, stop_secs=0.4)

LOGS: dict[str, list[dict[str, Any]]] = {}


def vowel(seconds: float) -> bytes:
    """A voiced, speech-like sound: 16-bit PCM at 16 kHz."""
    t = np.arange(int(seconds * RATE)) / RATE
    harmonics = sum(np.sin(2 * np.pi * 130 * k * t + k) / k for k in range(1, 30))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)
    signal = harmonics * envelope
    return (signal / np.abs(signal).max() * 12_000).astype("<i2").tobytes()


class _Call:
    def __init__(
        self, websocket: WebSocket, serializer: TwilioFrameSerializer, log: list[dict[str, Any]]
    ) -> None:
        self.websocket = websocket
        self.serializer = serializer
        self.log = log
        self.t0 = time.monotonic()
        self.playing_until = 0.0
        self.tasks: set[asyncio.Task[None]] = set()

    def ms(self, moment: float) -> float:
        return round((moment - self.t0) * 1000, 1)

    def later(self, delay: float, seconds: float) -> None:
        task = asyncio.create_task(self._speak_after(delay, seconds))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _speak_after(self, delay: float, seconds: float) -> None:
        await asyncio.sleep(delay)
        message = await self.serializer.serialize(
            OutputAudioRawFrame(audio=vowel(seconds), sample_rate=RATE, num_channels=1)
        )
        now = time.monotonic()
        await self.websocket.send_text(str(message))
        self.log.append({"event": "speak", "at_ms": self.ms(now), "audio_ms": seconds * 1000})
        self.playing_until = max(now, self.playing_until) + seconds

    async def interrupt(self, onset: float) -> None:
        message = await self.serializer.serialize(InterruptionFrame())
        now = time.monotonic()
        await self.websocket.send_text(str(message))
        self.playing_until = now
        self.log.append({"event": "clear", "at_ms": self.ms(now), "caller_onset_ms": self.ms(onset)})


async def _media(websocket: WebSocket) -> None:
    await websocket.accept()
    transport, call_data = await parse_telephony_websocket(websocket)
    assert transport == "twilio", transport
    serializer = TwilioFrameSerializer(
        call_data["stream_id"],
        call_data["call_id"],
        params=TwilioFrameSerializer.InputParams(auto_hang_up=False, sample_rate=RATE),
    )
    await serializer.setup(None)  # type: ignore[arg-type]  # the sample rate is given in params
    log = LOGS.setdefault(call_data["stream_id"], [])
    call = _Call(websocket, serializer, log)
    vad = SileroVADAnalyzer(sample_rate=RATE, params=VAD)
    vad.set_sample_rate(RATE)
    talking = False  # between Silero's SPEAKING and its next QUIET (its other states are in-between)
    call.later(GREETING_AFTER_S, GREETING_S)
    try:
        async for text in websocket.iter_text():
            frame = await serializer.deserialize(text)
            now = time.monotonic()
            if isinstance(frame, InputDTMFFrame):
                log.append({"event": "dtmf", "at_ms": call.ms(now), "digit": frame.button.value})
                call.later(REPLY_AFTER_S, REPLY_S)
            elif isinstance(frame, InputAudioRawFrame):
                state = await vad.analyze_audio(frame.audio)
                if state == VADState.SPEAKING and not talking:
                    talking = True
                    onset = now - VAD.start_secs
                    log.append({"event": "caller_started", "at_ms": call.ms(onset)})
                    if now < call.playing_until:
                        await call.interrupt(onset)
                elif state == VADState.QUIET and talking:
                    talking = False
                    log.append({"event": "caller_stopped", "end_ms": call.ms(now - VAD.stop_secs)})
                    call.later(REPLY_AFTER_S, REPLY_S)
    except WebSocketDisconnect:
        pass
    finally:
        for task in call.tasks:
            task.cancel()


@contextmanager
def pipecat_agent() -> Iterator[str]:
    """Serve the agent on a free local port in a background thread; yield its ws:// URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=[WebSocketRoute("/ws", _media)]), log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}/ws"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
