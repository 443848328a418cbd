"""Hearing what the agent said, for ``agent_says`` and ``expect``: pluggable speech-to-text.

- ``OpenAiStt``: ``POST {base}/audio/transcriptions`` (multipart ``file`` + ``model``; JSON ``{"text"}``),
  the OpenAI API shape that Whisper API, faster-whisper-server and the simulator all serve.
- ``PocketsphinxStt``: offline with the English model inside the ``pocketsphinx`` wheel. It is a
  fallback of LOW accuracy on telephone audio (8 kHz, synthetic voices): expect wrong words.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Protocol

import httpx
import numpy as np

from callboard.core.voice import mulaw
from callboard.core.voice.resample import resample
from callboard.core.voice.tts import SpeechError
from callboard.core.voice.wav import mono_wav

NO_STT = "no speech-to-text configured"


class SttProvider(Protocol):
    """Speech to text."""

    async def transcribe(self, ulaw: bytes) -> str:
        """The words in 8 kHz μ-law audio."""
        ...


class OpenAiStt:
    """An OpenAI-compatible transcription endpoint."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        model: str,
        api_key: str | None,
        language: str | None = None,
    ) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/audio/transcriptions"
        self._model = model
        self._language = language
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def transcribe(self, ulaw: bytes) -> str:
        """Sends the audio as a 16-bit 8 kHz WAV; returns the ``text`` of the JSON answer."""
        data = {"model": self._model, "response_format": "json"}
        if self._language:
            data["language"] = self._language
        files = {"file": ("agent.wav", mono_wav(mulaw.decode(ulaw)), "audio/wav")}
        try:
            response = await self._client.post(self._url, data=data, files=files, headers=self._headers)
        except httpx.HTTPError as exc:
            raise SpeechError(
                f"transcription provider {self._url} unreachable: {type(exc).__name__}"
            ) from None
        if response.status_code != 200:
            raise SpeechError(f"transcription provider {self._url} answered HTTP {response.status_code}")
        try:
            text = response.json().get("text")
        except ValueError:
            text = None
        if not isinstance(text, str):
            raise SpeechError(f"transcription provider {self._url} gave no text")
        return text.strip()


class PocketsphinxStt:
    """Offline and low accuracy (see the module docstring); decoded in a worker thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._decoder: Any = None  # a pocketsphinx Decoder (the library ships no types), made on first use

    async def transcribe(self, ulaw: bytes) -> str:
        """The decoder's best hypothesis ('' when it has none)."""
        return await asyncio.to_thread(self._transcribe, ulaw)

    def _transcribe(self, ulaw: bytes) -> str:
        from pocketsphinx import Decoder

        # Its acoustic model is 16 kHz: telephone audio is upsampled (which adds no information).
        pcm = resample(mulaw.decode(ulaw), mulaw.SAMPLE_RATE, 16_000).astype(np.int16)
        with self._lock:
            if self._decoder is None:
                self._decoder = Decoder(samprate=16_000, loglevel="FATAL")
            decoder = self._decoder
            decoder.start_utt()
            decoder.process_raw(pcm.tobytes(), full_utt=True)
            decoder.end_utt()
            hypothesis = decoder.hyp()
        return hypothesis.hypstr if hypothesis is not None else ""
