"""Resampling speech to and from 8 kHz: a windowed-sinc low-pass, then linear interpolation.

Good enough for telephone speech (the band is 300–3,400 Hz) without pulling in a DSP library.
"""

from __future__ import annotations

import numpy as np

_TAPS = 63


def _lowpass(samples: np.ndarray, cutoff_ratio: float) -> np.ndarray:
    """Low-pass at ``cutoff_ratio`` of the Nyquist frequency (Hamming-windowed sinc)."""
    n = np.arange(_TAPS) - (_TAPS - 1) / 2
    kernel = cutoff_ratio * np.sinc(cutoff_ratio * n) * np.hamming(_TAPS)
    kernel /= kernel.sum()
    return np.convolve(samples, kernel, mode="same")


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """``samples`` (int16) at ``from_rate`` as int16 at ``to_rate``."""
    if from_rate == to_rate or samples.size == 0:
        return samples.astype(np.int16)
    data = samples.astype(np.float64)
    if to_rate < from_rate:
        # Keep a little below the new Nyquist so nothing folds back.
        data = _lowpass(data, 0.9 * to_rate / from_rate)
    positions = np.arange(0, data.size, from_rate / to_rate)
    out = np.interp(positions, np.arange(data.size), data)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)
