"""The caller's voice: text to 8 kHz μ-law, offline with espeak-ng or from an OpenAI-compatible server.

- ``EspeakTts``: the espeak-ng library shipped in the ``espeakng-loader`` wheel (library and voice data,
  nothing downloaded), driven through its C API; the system ``espeak-ng`` program when the wheel is absent.
- ``OpenAiTts``: ``POST {base}/audio/speech`` with ``response_format = "pcm"`` (24 kHz 16-bit mono, as
  https://platform.openai.com/docs/api-reference/audio/createSpeech documents).
- ``CachedTts``: each text and voice is synthesised once per daemon.
"""

from __future__ import annotations

import asyncio
import ctypes
import shutil
import subprocess
import threading
from collections import OrderedDict
from typing import Protocol

import httpx
import numpy as np

from callboard.core.voice import mulaw
from callboard.core.voice.resample import resample

OPENAI_PCM_RATE = 24_000


class SpeechError(Exception):
    """A provider could not turn speech to text or text to speech; the message says why."""


class TtsProvider(Protocol):
    """Text to speech."""

    async def synthesize(self, text: str, voice: str | None) -> bytes:
        """``text`` spoken in ``voice`` (None: the default) as 8 kHz μ-law."""
        ...


class _VoiceSpec(ctypes.Structure):
    # espeak_VOICE from speak_lib.h: picking a voice by language ("en-gb") rather than by name.
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_char_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_Callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
_SYNCHRONOUS = 2  # espeak_AUDIO_OUTPUT: AUDIO_OUTPUT_SYNCHRONOUS
_POS_CHARACTER = 1
_CHARS_UTF8 = 1


class _EspeakLibrary:
    """The espeak-ng C library: one global engine, so every call holds the lock."""

    def __init__(self) -> None:
        import espeakng_loader

        self._lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self._lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
            ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        self._lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self._lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_VoiceSpec)]
        self.rate = self._lib.espeak_Initialize(_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(), 0)
        if self.rate <= 0:
            raise SpeechError("espeak-ng could not start")
        self._chunks: list[np.ndarray] = []
        self._callback = _Callback(self._collect)  # kept referenced: the library calls it
        self._lib.espeak_SetSynthCallback(self._callback)
        self._lock = threading.Lock()

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], count: int, events: int) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).copy())
        return 0

    def speak(self, text: str, voice: str) -> np.ndarray:
        with self._lock:
            # A voice name ("en-us", "English (Great Britain)", "en-us+f3"), else a language ("en-gb").
            if self._lib.espeak_SetVoiceByName(voice.encode()) != 0:
                spec = _VoiceSpec(languages=voice.encode())
                if self._lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) != 0:
                    raise SpeechError(f"espeak-ng has no voice {voice!r}")
            self._chunks = []
            data = text.encode()
            self._lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            self._lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)


_library: _EspeakLibrary | None = None
_library_lock = threading.Lock()


def _espeak_library() -> _EspeakLibrary | None:
    global _library
    with _library_lock:
        if _library is None:
            try:
                _library = _EspeakLibrary()
            except (ImportError, OSError):
                return None
        return _library


def _system_espeak(text: str, voice: str) -> tuple[np.ndarray, int]:
    program = shutil.which("espeak-ng")
    if program is None:
        raise SpeechError("espeak-ng is not available: install callboard's espeakng-loader dependency")
    done = subprocess.run(
        [program, "-v", voice, "--stdout", "--", text], capture_output=True, timeout=60, check=False
    )
    if done.returncode != 0 or len(done.stdout) < 44:
        raise SpeechError(f"espeak-ng failed: {done.stderr.decode(errors='replace').strip()[:200]}")
    from callboard.core.voice.wav import pcm_of_wav

    return pcm_of_wav(done.stdout)


class EspeakTts:
    """Offline speech with espeak-ng."""

    def __init__(self, default_voice: str = "en-us") -> None:
        self.default_voice = default_voice

    async def synthesize(self, text: str, voice: str | None) -> bytes:
        """Synthesised in a worker thread (espeak-ng is synchronous)."""
        return await asyncio.to_thread(self._synthesize, text, voice or self.default_voice)

    def _synthesize(self, text: str, voice: str) -> bytes:
        library = _espeak_library()
        if library is not None:
            pcm, rate = library.speak(text, voice), library.rate
        else:
            pcm, rate = _system_espeak(text, voice)
        return mulaw.encode(resample(pcm, rate, mulaw.SAMPLE_RATE))


class OpenAiTts:
    """``POST {base_url}/audio/speech`` of an OpenAI-compatible server."""

    def __init__(
        self, client: httpx.AsyncClient, base_url: str, model: str, default_voice: str, api_key: str | None
    ) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/audio/speech"
        self._model = model
        self._default_voice = default_voice
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def synthesize(self, text: str, voice: str | None) -> bytes:
        """The provider's 24 kHz PCM, resampled to 8 kHz μ-law."""
        body = {"model": self._model, "input": text, "voice": voice or self._default_voice}
        body["response_format"] = "pcm"
        try:
            response = await self._client.post(self._url, json=body, headers=self._headers)
        except httpx.HTTPError as exc:
            raise SpeechError(f"speech provider {self._url} unreachable: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise SpeechError(f"speech provider {self._url} answered HTTP {response.status_code}")
        pcm = np.frombuffer(response.content[: len(response.content) // 2 * 2], dtype="<i2")
        return mulaw.encode(resample(pcm, OPENAI_PCM_RATE, mulaw.SAMPLE_RATE))


class CachedTts:
    """Remembers the last ``max_entries`` syntheses by text and voice."""

    def __init__(self, provider: TtsProvider, max_entries: int = 256) -> None:
        self._provider = provider
        self._cache: OrderedDict[tuple[str, str | None], bytes] = OrderedDict()
        self._max = max_entries

    async def synthesize(self, text: str, voice: str | None) -> bytes:
        """From the cache, or from the provider (then cached)."""
        key = (text, voice)
        audio = self._cache.get(key)
        if audio is None:
            audio = await self._provider.synthesize(text, voice)
            self._cache[key] = audio
            if len(self._cache) > self._max:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return audio
