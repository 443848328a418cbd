"""Voice activity on 20 ms frames of 8 kHz μ-law, with webrtcvad (the wheel ships compiled code, no model).

Each frame is voiced or not; ``Segmenter`` turns those flags into speech segments: a segment starts at the
first frame of ``onset_frames`` voiced frames in a row (so a click is not speech, but the onset is not
delayed by the confirmation) and ends after its last voiced frame once ``gap_frames`` quiet frames follow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import webrtcvad

from callboard.core.voice import mulaw
from callboard.core.voice.mulaw import FRAME_BYTES, SAMPLE_RATE, SILENCE_FRAME


class FrameVad:
    """Is this 20 ms μ-law frame speech? Pure silence is answered without running the detector."""

    def __init__(self, aggressiveness: int = 2) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: bytes) -> bool:
        """True when webrtcvad hears speech in the frame (exactly 160 μ-law bytes)."""
        if frame == SILENCE_FRAME:
            return False
        return bool(self._vad.is_speech(mulaw.decode(frame).tobytes(), SAMPLE_RATE))

    def flags(self, audio: bytes) -> list[bool]:
        """Voiced flags for each frame of ``audio`` (a last partial frame is padded with silence)."""
        return [
            self.is_speech(audio[i : i + FRAME_BYTES].ljust(FRAME_BYTES, SILENCE_FRAME[:1]))
            for i in range(0, len(audio), FRAME_BYTES)
        ]


def audible_frames(audio: bytes, share: float = 0.05, floor: int = 300) -> list[bool]:
    """Which frames of audio *we* made carry sound: a peak above ``share`` of the clip's loudest (and
    above ``floor``). For the caller's own clips this places the last voiced frame exactly, where a VAD's
    hangover would add 100 ms or so; TTS pads its clips with silence, which this leaves out."""
    samples = np.abs(mulaw.decode(audio.ljust(-(-len(audio) // FRAME_BYTES) * FRAME_BYTES, b"\xff")))
    peaks = samples.astype(np.int32).reshape(-1, FRAME_BYTES).max(axis=1)
    threshold = max(floor, int(peaks.max(initial=0) * share))
    return [bool(peak > threshold) for peak in peaks]


@dataclass
class Segment:
    """Frames ``start`` (first voiced) to ``end`` (one past the last voiced)."""

    start: int
    end: int


class Segmenter:
    """Speech segments from a stream of per-frame voiced flags."""

    def __init__(self, onset_frames: int = 3, gap_frames: int = 15) -> None:
        self.onset_frames = onset_frames
        self.gap_frames = gap_frames
        self.segments: list[Segment] = []
        self.last_voiced: int | None = None
        self._run = 0
        self._frame = 0
        self._open = False

    @property
    def speaking(self) -> bool:
        """Inside a segment that has not yet ended."""
        return self._open

    def push(self, *, voiced: bool) -> None:
        """Add the next frame's flag."""
        index = self._frame
        self._frame += 1
        if voiced:
            self._run += 1
            self.last_voiced = index
            if self._open:
                self.segments[-1].end = index + 1
            elif self._run >= self.onset_frames:
                self._open = True
                self.segments.append(Segment(index - self._run + 1, index + 1))
            return
        self._run = 0
        if self._open and index - self.segments[-1].end + 1 >= self.gap_frames:
            self._open = False


def segments_of(flags: list[bool], onset_frames: int = 3, gap_frames: int = 15) -> list[Segment]:
    """All segments of a finished list of flags."""
    segmenter = Segmenter(onset_frames, gap_frames)
    for flag in flags:
        segmenter.push(voiced=flag)
    return segmenter.segments
