"""G.711 μ-law at 8 kHz, the only encoding Twilio's Media Streams carry (``audio/x-mulaw``).

Table-driven with numpy (``audioop`` is gone in Python 3.13): encoding looks every 16-bit sample up in a
65,536-entry table, decoding in a 256-entry one, both built once from the G.711 definition.
"""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000  # 160 μ-law bytes, one byte a sample
SILENCE_BYTE = 0xFF  # μ-law for 0
SILENCE_FRAME = bytes([SILENCE_BYTE]) * FRAME_BYTES
_BIAS = 0x84
_CLIP_14 = 8159
_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])


def _decode_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


def _encode_table() -> np.ndarray:
    # The 14-bit G.711 encoder of CPython's audioop (and Sun's g711.c): identical bytes to lin2ulaw.
    value = np.arange(-32768, 32768, dtype=np.int32) >> 2
    mask = np.where(value < 0, 0x7F, 0xFF)
    value = np.minimum(np.abs(value), _CLIP_14) + (_BIAS >> 2)
    segment = np.searchsorted(_SEGMENT_ENDS, value)
    code = (np.minimum(segment, 7) << 4) | ((value >> (np.minimum(segment, 7) + 1)) & 0x0F)
    code = np.where(segment >= 8, 0x7F, code)
    return ((code ^ mask) & 0xFF).astype(np.uint8)


_DECODE = _decode_table()
_ENCODE = _encode_table()


def encode(pcm: np.ndarray) -> bytes:
    """16-bit linear samples (int16 array) as μ-law bytes."""
    return _ENCODE[pcm.astype(np.int32) + 32768].tobytes()


def decode(ulaw: bytes) -> np.ndarray:
    """μ-law bytes as 16-bit linear samples (int16 array)."""
    return _DECODE[np.frombuffer(ulaw, dtype=np.uint8)]


def silence(duration_s: float) -> bytes:
    """μ-law silence, rounded to whole 20 ms frames."""
    return SILENCE_FRAME * max(0, round(duration_s * 1000 / FRAME_MS))
