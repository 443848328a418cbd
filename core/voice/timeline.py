"""Metrics from what was heard, frame by frame on the playback timeline (frame n = n × 20 ms from ``start``).

- ``first_word_ms``: the agent's first voiced frame.
- Turn latency: from a caller turn's last audible frame (not the end of its clip: TTS pads silence) to the
  agent's next voiced onset, for turns the agent answered before the caller's next turn began. A key press
  is a turn that ends when it is sent.
- Late answer: a caller turn the agent only answered after the caller had started its next turn.
- Barge-in: a caller turn starting while the agent is audible; it stops when the agent's audio ends
  (``clear`` or the buffer running dry) or its speech pauses for good (a segment end), whichever is first.
- Talk-over: the agent starting to speak while the caller is speaking.
"""

from __future__ import annotations

from dataclasses import dataclass

from callboard.core.voice.mulaw import FRAME_MS
from callboard.core.voice.session import AGENT_GAP_FRAMES, Recording
from callboard.core.voice.vad import Segment, segments_of


@dataclass(frozen=True)
class CallerTurn:
    """A caller turn on the timeline: its voiced frames ``start``..``end`` (one past the last)."""

    index: int
    start: int
    end: int
    spoken: bool  # say/play (audio) rather than a key press


@dataclass(frozen=True)
class Timeline:
    """The figures of one session."""

    first_word_ms: float | None
    turn_latencies_ms: list[float]
    late_answers: int
    barge_in_stops_ms: list[float]
    talk_overs: int
    duration_s: float


def ms(frames: int) -> float:
    """Frames as milliseconds."""
    return float(frames * FRAME_MS)


def caller_turns(recording: Recording, key_presses: dict[int, int]) -> list[CallerTurn]:
    """Spoken turns (from the frames each turn's audio filled) and key presses (turn → frame), in order."""
    voiced: dict[int, list[int]] = {}
    for frame, (turn, is_voiced) in enumerate(
        zip(recording.caller_turn, recording.caller_voiced, strict=True)
    ):
        if is_voiced and turn >= 0:
            voiced.setdefault(turn, []).append(frame)
    turns = [
        CallerTurn(index=turn, start=frames[0], end=frames[-1] + 1, spoken=True)
        for turn, frames in voiced.items()
    ]
    turns += [
        CallerTurn(index=turn, start=frame, end=frame, spoken=False) for turn, frame in key_presses.items()
    ]
    return sorted(turns, key=lambda turn: turn.start)


def agent_segments(recording: Recording, gap_frames: int = AGENT_GAP_FRAMES) -> list[Segment]:
    """The agent's utterances: voiced runs with pauses shorter than ``gap_frames`` inside (the test's
    ``silence_ms``: a pause that would end a ``wait = "agent"`` ends an utterance)."""
    return segments_of(recording.agent_voiced, gap_frames=gap_frames)


def _stop_frame(recording: Recording, onset: int, segment: Segment) -> int:
    for frame in range(onset, segment.end):
        if not recording.agent_present[frame]:
            return frame
    return segment.end


def measure(recording: Recording, turns: list[CallerTurn], gap_frames: int = AGENT_GAP_FRAMES) -> Timeline:
    """Every metric of the module docstring; ``gap_frames`` as in ``agent_segments``."""
    segments = agent_segments(recording, gap_frames)
    onsets = [segment.start for segment in segments]
    latencies: list[float] = []
    late = 0
    for position, turn in enumerate(turns):
        next_start = turns[position + 1].start if position + 1 < len(turns) else None
        answer = next((onset for onset in onsets if onset >= turn.end), None)
        if answer is None:
            continue
        if next_start is None or answer < next_start:
            latencies.append(ms(answer - turn.end))
        else:
            late += 1
    stops = []
    for turn in turns:
        if not turn.spoken:
            continue
        segment = next((s for s in segments if s.start < turn.start < s.end), None)
        if segment is not None and recording.agent_present[turn.start]:
            stops.append(ms(_stop_frame(recording, turn.start, segment) - turn.start))
    spoken = [turn for turn in turns if turn.spoken]
    talk_overs = sum(1 for onset in onsets if any(t.start <= onset < t.end for t in spoken))
    return Timeline(
        first_word_ms=ms(onsets[0]) if onsets else None,
        turn_latencies_ms=latencies,
        late_answers=late,
        barge_in_stops_ms=stops,
        talk_overs=talk_overs,
        duration_s=round(recording.frames * FRAME_MS / 1000, 3),
    )
