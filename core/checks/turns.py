"""Turn-taking on a call's transcript: how long the agent took to answer each caller turn, which answers
came only after the caller's next line, and how often the agent started talking over the caller.

A caller *turn* is a run of caller sentences with less than ``JOIN_GAP_S`` between them and no agent
sentence starting in between (a transcriber splits "Hi. Are you open?" into two sentences; they are one
turn). An agent *reply* is a run of agent sentences, each starting within ``JOIN_GAP_S`` of the previous
one's end, with no caller turn in between. Replies answer the caller's turns in order: each reply that
starts after a turn ended answers the oldest turn still owed an answer. So a slow agent that answers
turn 1 after the caller already said turn 2 has its latency measured from the end of turn 1 — a large,
true figure, flagged as a *late answer* — never from the end of turn 2 (which would read as quick).
Agent speech starting while the caller speaks is *talk-over*; it answers nothing owed at that moment.
Turns the agent never answered get no latency.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from callboard.core.models import TranscriptEntry
from callboard.core.models.percentiles import percentile

CALLER = "caller"
AGENT = "agent"
JOIN_GAP_S = 0.5


@dataclass(frozen=True)
class Turn:
    """One caller turn and the agent's answer to it (``latency_ms`` None: never answered)."""

    index: int  # 1-based
    start: float
    end: float
    latency_ms: float | None = None
    late: bool = False  # answered only after the caller's next turn had started


@dataclass(frozen=True)
class TurnTaking:
    """Every caller turn with its answer, and how often the agent talked over the caller."""

    turns: tuple[Turn, ...]
    talk_over_count: int

    @property
    def latencies_ms(self) -> list[float]:
        """The latencies of the answered turns, in turn order."""
        return [turn.latency_ms for turn in self.turns if turn.latency_ms is not None]

    @property
    def late(self) -> list[Turn]:
        """The turns answered only after the caller's next line."""
        return [turn for turn in self.turns if turn.late]

    def late_note(self) -> str:
        """One line naming the late answers ("" when there are none)."""
        return "; ".join(
            f"turn {turn.index}: the agent answered after the caller's next line ({turn.latency_ms:g} ms)"
            for turn in self.late
        )


def analyse_turns(transcript: Sequence[TranscriptEntry]) -> TurnTaking:
    """Caller turns, the agent's answer to each, and talk-over; sentences without times are ignored."""
    timed = sorted(
        (e for e in transcript if e.start is not None and e.end is not None and e.speaker in (CALLER, AGENT)),
        key=lambda entry: (entry.start or 0.0, entry.speaker != CALLER),
    )
    spans = _caller_turns(timed)
    answers: dict[int, tuple[float, bool]] = {}
    owed: deque[int] = deque()
    talk_over = 0
    next_turn = 0
    previous: tuple[float, float] = (-math.inf, -math.inf)  # the last agent sentence's start and end
    for entry in timed:
        start, end = entry.start or 0.0, entry.end or 0.0
        if entry.speaker != AGENT:
            continue
        while next_turn < len(spans) and spans[next_turn][1] <= start:
            owed.append(next_turn)
            next_turn += 1
        if any(turn_start <= start < turn_end for turn_start, turn_end in spans):
            talk_over += 1
        # Still the same stretch of agent speech: no pause, and the caller has not finished a turn since.
        continues = start - previous[1] < JOIN_GAP_S and not any(
            previous[0] <= turn_end <= start for _, turn_end in spans
        )
        previous = (start, max(previous[1], end))
        if continues or not owed:
            continue
        index = owed.popleft()
        late = index + 1 < len(spans) and spans[index + 1][0] < start
        answers[index] = (round((start - spans[index][1]) * 1000.0, 1), late)
    turns = tuple(Turn(i + 1, s, e, *answers.get(i, (None, False))) for i, (s, e) in enumerate(spans))
    return TurnTaking(turns, talk_over)


def latency_metrics(latencies_ms: Sequence[float]) -> dict[str, float]:
    """turn_latency_p50_ms, _p90_ms and _p95_ms of ``latencies_ms`` (empty when there are none)."""
    if not latencies_ms:
        return {}
    return {f"turn_latency_p{p}_ms": percentile(latencies_ms, p / 100) for p in (50, 90, 95)}


def _caller_turns(timed: Sequence[TranscriptEntry]) -> list[tuple[float, float]]:
    agent_starts = [entry.start or 0.0 for entry in timed if entry.speaker == AGENT]
    spans: list[tuple[float, float]] = []
    for entry in timed:
        if entry.speaker != CALLER:
            continue
        start, end = entry.start or 0.0, entry.end or 0.0
        if (
            spans
            and start - spans[-1][1] < JOIN_GAP_S
            and not any(spans[-1][1] <= agent < start for agent in agent_starts)
        ):
            spans[-1] = (spans[-1][0], max(spans[-1][1], end))
        else:
            spans.append((start, end))
    return spans
