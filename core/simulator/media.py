"""Recording media: a real WAV (16-bit PCM) and a real, silent MP3, as long as the recording.

The WAV carries a quiet tone wherever someone speaks — each side on its own channel of a dual-channel
recording (the agent on ``agent_channel``) — so anything that measures speech in the audio finds it where the
transcript says it is. The MP3 is silence of the right length (encoding speech would need an encoder).
"""

from __future__ import annotations

import io
import math
import sys
import wave
from array import array
from collections.abc import Iterable

from callboard.core.simulator.conversation import Segment

_AMPLITUDE = 3000
_TONE_HZ = {"caller": 400.0, "agent": 320.0}
# MPEG-1 Layer III, 32 kbit/s, 32 kHz, mono, no CRC: 144-byte frames of 1152 samples. An all-zero side
# info block means "no spectral data", which every decoder plays as silence.
_MP3_HEADER = bytes([0xFF, 0xFB, 0x18, 0xC0])
_MP3_FRAME = _MP3_HEADER + bytes(140)
_MP3_FRAME_S = 1152 / 32000


def wav_bytes(
    segments: Iterable[Segment], length_s: float, channels: int, sample_rate: int, agent_channel: int = 2
) -> bytes:
    """A PCM WAV of ``length_s`` seconds with a tone under each segment, on its speaker's channel."""
    frames = max(0, round(length_s * sample_rate))
    tracks = [array("h", bytes(2 * frames)) for _ in range(channels)]
    for segment in segments:
        channel = 1
        if channels == 2:
            channel = agent_channel if segment.speaker == "agent" else 3 - agent_channel
        track = tracks[channel - 1]
        first, last = round(segment.start * sample_rate), min(frames, round(segment.end * sample_rate))
        if last > first:
            track[first:last] = _tone(_TONE_HZ[segment.speaker], sample_rate, last - first)
    if channels == 2:
        samples = array("h", bytes(4 * frames))
        samples[0::2], samples[1::2] = tracks
    else:
        samples = tracks[0]
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def mp3_bytes(length_s: float) -> bytes:
    """A silent MP3 of about ``length_s`` seconds."""
    return _MP3_FRAME * max(1, math.ceil(length_s / _MP3_FRAME_S))


def _tone(hz: float, sample_rate: int, count: int) -> array[int]:
    # One period computed, then repeated: a per-sample sin() would be slow for hour-long recordings.
    period = max(2, round(sample_rate / hz))
    wave_period = array("h", (round(_AMPLITUDE * math.sin(2 * math.pi * i / period)) for i in range(period)))
    return (wave_period * (count // period + 1))[:count]
