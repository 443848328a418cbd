"""WAV files: recordings written privately, files read for ``play`` steps."""

from __future__ import annotations

import io
import os
import wave
from pathlib import Path

import numpy as np

from callboard.core.voice import mulaw
from callboard.core.voice.resample import resample


def pcm_of_wav(data: bytes) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV as mono int16 samples (channels averaged) and its sample rate."""
    try:
        with wave.open(io.BytesIO(data)) as reader:
            if reader.getsampwidth() != 2:
                raise ValueError("only 16-bit PCM WAV files are supported")
            channels, rate = reader.getnchannels(), reader.getframerate()
            frames = reader.readframes(reader.getnframes())
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"not a PCM WAV file: {exc}") from None
    samples = np.frombuffer(frames, dtype="<i2")
    if channels > 1:
        samples = samples[: samples.size // channels * channels].reshape(-1, channels).mean(axis=1)
    return samples.astype(np.int16), rate


def read_wav_as_mulaw(path: Path) -> bytes:
    """A WAV file as 8 kHz μ-law for the caller to play."""
    samples, rate = pcm_of_wav(path.read_bytes())
    return mulaw.encode(resample(samples, rate, mulaw.SAMPLE_RATE))


def mono_wav(pcm: np.ndarray, rate: int = mulaw.SAMPLE_RATE) -> bytes:
    """16-bit mono WAV bytes (what transcription providers are sent)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm.astype("<i2").tobytes())
    return buffer.getvalue()


def write_stereo_recording(path: Path, left_ulaw: bytes, right_ulaw: bytes) -> None:
    """A 16-bit 8 kHz stereo WAV (left: caller, right: agent), created 0600 in a 0700 folder."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    length = max(len(left_ulaw), len(right_ulaw))
    left = mulaw.decode(left_ulaw.ljust(length, b"\xff"))
    right = mulaw.decode(right_ulaw.ljust(length, b"\xff"))
    interleaved = np.column_stack((left, right)).astype("<i2").tobytes()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle, wave.open(handle, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(mulaw.SAMPLE_RATE)
        writer.writeframes(interleaved)
