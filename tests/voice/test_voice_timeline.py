"""The metrics worked out from a session's frames: turn latency, late answers, barge-in, talk-over."""

from __future__ import annotations

from callboard.core.voice.session import NO_TURN, Recording
from callboard.core.voice.timeline import caller_turns, measure


def _recording(
    frames: int, caller: dict[int, range], agent: list[range], present: list[range] | None = None
) -> Recording:
    """``caller``: turn → voiced frames; ``agent``: voiced frames; ``present``: frames with agent audio
    (default: where it is voiced)."""
    record = Recording()
    present = agent if present is None else present
    for frame in range(frames):
        turn = next((t for t, span in caller.items() if frame in span), NO_TURN)
        record.caller_turn.append(turn)
        record.caller_voiced.append(turn != NO_TURN)
        record.agent_voiced.append(any(frame in span for span in agent))
        record.agent_present.append(any(frame in span for span in present))
    return record


def test_turn_latency_runs_from_the_callers_last_voiced_frame_to_the_agents_next_onset() -> None:
    record = _recording(
        200, {1: range(10, 40), 3: range(100, 130)}, [range(0, 5), range(55, 80), range(150, 170)]
    )
    turns = caller_turns(record, {})
    assert [(t.index, t.start, t.end) for t in turns] == [(1, 10, 40), (3, 100, 130)]
    timeline = measure(record, turns)
    assert timeline.first_word_ms == 0.0  # three voiced frames in a row make an onset
    assert timeline.turn_latencies_ms == [300.0, 400.0]
    assert (timeline.late_answers, timeline.talk_overs, timeline.barge_in_stops_ms) == (0, 0, [])
    assert timeline.duration_s == 4.0


def test_a_reply_after_the_caller_moved_on_is_late_and_a_start_over_the_caller_is_a_talk_over() -> None:
    # Turn 0 (10..20) gets no answer before turn 1 (40..60) starts; the agent starts at 50, over turn 1.
    record = _recording(150, {0: range(10, 20), 1: range(40, 60)}, [range(50, 90)])
    timeline = measure(record, caller_turns(record, {}))
    assert timeline.late_answers == 1 and timeline.talk_overs == 1
    assert timeline.turn_latencies_ms == []  # turn 1's next onset (none after frame 60)


def test_barge_in_stops_when_the_agents_audio_stops_and_key_presses_are_turns() -> None:
    # The agent talks from 10; the caller cuts in at 40; the agent's audio is cleared at 52 (no audio after),
    # though the VAD still hears its tail until 55. It answers at 80; a key press at 120 is answered at 145.
    agent = [range(10, 55), range(80, 100), range(145, 160)]
    present = [range(10, 52), range(80, 100), range(145, 160)]
    record = _recording(200, {2: range(40, 70)}, agent, present)
    turns = caller_turns(record, {5: 120})
    assert [(t.index, t.spoken) for t in turns] == [(2, True), (5, False)]
    timeline = measure(record, turns)
    assert timeline.barge_in_stops_ms == [240.0]
    assert timeline.first_word_ms == 200.0
    assert timeline.turn_latencies_ms == [200.0, 500.0]
    assert timeline.talk_overs == 0 and timeline.late_answers == 0
