"""The speech providers: espeak-ng offline, an OpenAI-compatible speech endpoint (a stand-in server that
answers like https://platform.openai.com/docs/api-reference/audio/createSpeech), pocketsphinx offline."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import numpy as np
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from callboard.core.voice import mulaw
from callboard.core.voice.stt import PocketsphinxStt
from callboard.core.voice.tts import CachedTts, EspeakTts, OpenAiTts, SpeechError
from callboard.core.voice.vad import FrameVad


@pytest.fixture
async def speech_server() -> AsyncIterator[tuple[str, list[dict[str, object]]]]:
    """Answers /v1/audio/speech with 0.5 s of a 24 kHz 16-bit tone; keeps each request's JSON and auth."""
    seen: list[dict[str, object]] = []

    async def speech(request: web.Request) -> web.StreamResponse:
        seen.append({"json": await request.json(), "auth": request.headers.get("Authorization")})
        if request.headers.get("Authorization") != "Bearer sk-test":
            return web.json_response({"error": {"message": "bad key"}}, status=401)
        t = np.arange(12_000) / 24_000
        return web.Response(body=(8000 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes())

    app = web.Application()
    app.router.add_post("/v1/audio/speech", speech)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/v1")), seen
    await server.close()


async def test_espeak_speaks_offline_at_8_khz_and_is_cached() -> None:
    tts = CachedTts(EspeakTts("en-us"))
    audio = await tts.synthesize("I'd like to book a cleaning", None)
    assert 1.0 < len(audio) / mulaw.SAMPLE_RATE < 4.0
    assert sum(FrameVad(2).flags(audio)) > 25  # more than half a second of it is speech
    assert await tts.synthesize("I'd like to book a cleaning", None) is audio
    assert await tts.synthesize("I'd like to book a cleaning", "en-gb") != audio
    with pytest.raises(SpeechError, match="no voice 'xx-nonsense'"):
        await EspeakTts().synthesize("hello", "xx-nonsense")


async def test_openai_compatible_speech(speech_server: tuple[str, list[dict[str, object]]]) -> None:
    url, seen = speech_server
    async with httpx.AsyncClient() as client:
        audio = await OpenAiTts(client, url, "tts-1", "alloy", "sk-test").synthesize("Hello", None)
        assert len(audio) == 4000  # 0.5 s at 8 kHz
        assert seen[-1] == {
            "json": {"model": "tts-1", "input": "Hello", "voice": "alloy", "response_format": "pcm"},
            "auth": "Bearer sk-test",
        }
        with pytest.raises(SpeechError, match="answered HTTP 401"):
            await OpenAiTts(client, url, "tts-1", "alloy", "wrong").synthesize("Hello", "echo")


async def test_pocketsphinx_transcribes_offline() -> None:
    # Offline and low accuracy: the words are not checked, only that it decodes speech without a network.
    audio = await EspeakTts().synthesize("Tuesday at three pm", None)
    text = await PocketsphinxStt().transcribe(audio)
    assert isinstance(text, str) and text.strip()
