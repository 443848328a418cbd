"""Who says what when, on an answered call: the caller's script against the agent's replies.

Times are simulated seconds from the moment the call is answered (which is also where an untrimmed
recording and its transcript's timings start). The caller's script starts at once — or, when answering
machine detection was asked for without AsyncAmd, once detection is done, as on Twilio (see ``amd``).
The agent greets after its first-word latency and answers each caller utterance after its turn
latency; a caller who starts talking cuts off an agent that allows barge-in. The call lasts until the
script ends, the agent hangs up (after a goodbye or ``hangup_after_s``), whichever comes first; speech
still going on then is cut off mid-sentence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from callboard.core.simulator.amd import AmdOptions, Greeting, detect
from callboard.core.simulator.config import NumberBehaviour, SimulatorConfig
from callboard.core.simulator.personas import Agent, Reply
from callboard.core.simulator.twiml import Step

Speaker = Literal["caller", "agent"]
_BEEP_S = 0.5
_MIN_SPEECH_S = 0.4


@dataclass(frozen=True)
class Segment:
    """One stretch of audio on one side; ``text`` is None for audio with no words (Play, DTMF, a beep)."""

    speaker: Speaker
    start: float
    end: float
    text: str | None


@dataclass(frozen=True)
class Conversation:
    """The audio of an answered call and how long it lasts from answer to hang-up."""

    segments: tuple[Segment, ...]
    length_s: float
    answered_by: str | None

    def until(self, cut_s: float) -> Conversation:
        """The same conversation hung up after ``cut_s`` seconds (no effect if it ends sooner)."""
        if cut_s >= self.length_s:
            return self
        return replace(self, segments=_cut(self.segments, cut_s), length_s=max(cut_s, 0.0))


def build_conversation(
    agent: Agent,
    behaviour: NumberBehaviour,
    steps: list[Step],
    config: SimulatorConfig,
    amd: AmdOptions,
) -> Conversation:
    """Play ``steps`` against ``agent`` and return the timeline."""
    # A machine plays its greeting to the end whoever talks over it.
    talk = _Timeline(
        behaviour.turn_latency_s,
        barge_in=behaviour.barge_in and not agent.machine,
        words_per_s=config.speech_words_per_s,
    )
    greeting = agent.greeting()
    heard: Greeting | None = None
    if greeting:
        talk.agent_says(Reply(greeting), behaviour.first_word_s)
        heard = Greeting(behaviour.first_word_s, talk.agent_free)
        if agent.beep:
            talk.agent_audio(talk.agent_free, _BEEP_S)
            heard = Greeting(heard.start, heard.end, beep_end=talk.agent_free)
    answered_by, t = detect(amd, heard)
    for step in steps:
        if step.kind == "hangup":
            break
        if step.kind == "pause":
            t += step.seconds
        elif step.kind == "say":
            t = talk.caller_says(step.text, t)
            talk.reply(agent.hear(step.text), t)
        elif step.kind == "digits":
            talk.caller_audio(t, step.seconds)
            t += step.seconds
            talk.reply(agent.keys(step.text), t)
        else:  # play: a recording the caller plays; the agent cannot make sense of it
            talk.caller_audio(t, config.play_s)
            t += config.play_s
    length = min(t, talk.hangup_at)
    if behaviour.hangup_after_s is not None:
        length = min(length, behaviour.hangup_after_s)
    return Conversation(tuple(talk.segments), math.inf, answered_by).until(length)


def speech_seconds(text: str, words_per_s: float) -> float:
    """How long saying ``text`` takes."""
    return max(_MIN_SPEECH_S, len(text.split()) / words_per_s)


class _Timeline:
    """Segments being laid out, with the agent's barge-in and hang-up rules."""

    def __init__(self, turn_latency_s: float, *, barge_in: bool, words_per_s: float) -> None:
        self.turn_latency_s = turn_latency_s
        self.barge_in = barge_in
        self.words_per_s = words_per_s
        self.segments: list[Segment] = []
        self.agent_free = 0.0
        self.hangup_at = math.inf
        self._goodbye: Segment | None = None

    def agent_says(self, reply: Reply, start: float) -> None:
        segment = Segment("agent", start, start + speech_seconds(reply.text, self.words_per_s), reply.text)
        self.segments.append(segment)
        self.agent_free = segment.end
        if reply.hang_up and self._goodbye is None:
            self._goodbye, self.hangup_at = segment, segment.end

    def agent_audio(self, start: float, seconds: float) -> None:
        self.segments.append(Segment("agent", start, start + seconds, None))
        self.agent_free = start + seconds

    def reply(self, reply: Reply | None, heard_at: float) -> None:
        if reply is not None:
            self.agent_says(reply, max(heard_at + self.turn_latency_s, self.agent_free))

    def caller_audio(self, start: float, seconds: float) -> None:
        self.segments.append(Segment("caller", start, start + seconds, None))

    def caller_says(self, text: str, start: float) -> float:
        """Add the caller's words at ``start``; returns when the caller stops talking."""
        if self.barge_in:
            self._interrupt_agent(start)
        end = start + speech_seconds(text, self.words_per_s)
        self.segments.append(Segment("caller", start, end, text))
        return end

    def _interrupt_agent(self, at: float) -> None:
        """The agent stops mid-sentence at ``at``; replies it had not started yet are dropped."""
        kept: list[Segment] = []
        for segment in self.segments:
            if segment.speaker == "agent" and segment.end > at:
                if segment is self._goodbye:
                    self._goodbye, self.hangup_at = None, math.inf
                kept.extend(_cut((segment,), at))
            else:
                kept.append(segment)
        self.segments = kept
        self.agent_free = min(self.agent_free, at)


def _cut(segments: tuple[Segment, ...], cut_s: float) -> tuple[Segment, ...]:
    """Segments as heard until ``cut_s``: later ones dropped, one in progress keeps the words said so far."""
    kept: list[Segment] = []
    for segment in segments:
        if segment.start >= cut_s:
            continue
        if segment.end <= cut_s:
            kept.append(segment)
            continue
        text = segment.text
        if text is not None:
            words = text.split()
            # A word begun is a word said; the epsilon keeps float noise from adding a word at a boundary.
            spoken = math.ceil(len(words) * (cut_s - segment.start) / (segment.end - segment.start) - 1e-9)
            text = " ".join(words[:spoken])
        kept.append(replace(segment, end=cut_s, text=text))
    return tuple(kept)
