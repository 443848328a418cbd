"""What voice tests read from the ``[voice]`` settings, and the speech providers built from them.

``VoiceOptions`` is a protocol so executors need not import ``callboard.core.config`` (a layer contract);
``VoiceSettings`` fits it as it is.
"""

from __future__ import annotations

from typing import Protocol

import httpx
from pydantic import SecretStr

from callboard.core.voice.stt import OpenAiStt, PocketsphinxStt, SttProvider
from callboard.core.voice.tts import CachedTts, EspeakTts, OpenAiTts


class VoiceOptions(Protocol):
    """The ``[voice]`` settings (see config.example.toml)."""

    @property
    def tts(self) -> str: ...
    @property
    def tts_voice(self) -> str: ...
    @property
    def tts_url(self) -> str: ...
    @property
    def tts_model(self) -> str: ...
    @property
    def tts_api_key(self) -> SecretStr | None: ...
    @property
    def stt(self) -> str: ...
    @property
    def stt_url(self) -> str: ...
    @property
    def stt_model(self) -> str: ...
    @property
    def stt_api_key(self) -> SecretStr | None: ...
    @property
    def stt_language(self) -> str | None: ...
    @property
    def vad_aggressiveness(self) -> int: ...
    @property
    def connect_timeout_s(self) -> float: ...
    @property
    def provider_timeout_s(self) -> float: ...


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def build_tts(options: VoiceOptions, client: httpx.AsyncClient) -> CachedTts:
    """The caller's voice, cached."""
    if options.tts == "openai":
        provider = OpenAiTts(
            client, options.tts_url, options.tts_model, options.tts_voice, _secret(options.tts_api_key)
        )
        return CachedTts(provider)
    return CachedTts(EspeakTts(options.tts_voice))


def build_stt(options: VoiceOptions, client: httpx.AsyncClient) -> SttProvider | None:
    """The transcriber, or None when none is configured."""
    if options.stt == "openai":
        return OpenAiStt(
            client, options.stt_url, options.stt_model, _secret(options.stt_api_key), options.stt_language
        )
    if options.stt == "pocketsphinx":
        return PocketsphinxStt()
    return None
