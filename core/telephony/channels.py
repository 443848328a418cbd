"""Which recording channel is the agent, worked out per call from what callboard's caller said.

Twilio documents channel 1 of a dual-channel recording as the parent call and channel 2 as the child;
an API call running inline TwiML has one leg, and which side lands on which channel is not documented.
callboard knows its caller's lines (the test's ``say`` steps), so the channel whose sentences match them
is the caller's and the other is the agent's. Matching is fuzzy — a transcriber changes case,
punctuation, numbers ("3pm" / "3 p.m.") and may drop words — so each channel is scored by how many of the
caller's words it holds, in order (difflib's longest matching blocks), against how many words it has.
The settings' ``caller_channel`` / ``agent_channel`` are used only when neither channel matches.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from callboard.core.telephony.voice import Sentence

# A channel counts as the caller's when it scores at least MIN_SCORE and the other channel scores at
# least MIN_MARGIN (as a share of the best score) less. The confidence is that relative margin.
MIN_SCORE = 0.5
MIN_MARGIN = 0.3
# Words are letters or digits runs: "3pm" and "3 p.m." both read as "3", "pm".
_WORD = re.compile(r"[a-z']+|[0-9]+")


@dataclass(frozen=True)
class ChannelMapping:
    """The agent's and the caller's channels, how sure the match is (0–1), and how it was decided."""

    agent: int
    caller: int
    confidence: float
    detected: bool

    def describe(self) -> str:
        """One line for the run's artifacts."""
        how = "matched to the caller's script" if self.detected else "from the settings (no channel matched)"
        return f"agent on channel {self.agent}, caller on channel {self.caller}: {how}"


def detect_channels(
    sentences: Sequence[Sentence], said: Sequence[str], agent_channel: int, caller_channel: int
) -> ChannelMapping:
    """The mapping for one call: by matching each channel against ``said`` (the caller's lines), else
    the settings' channels with confidence 0."""
    fallback = ChannelMapping(agent=agent_channel, caller=caller_channel, confidence=0.0, detected=False)
    wanted = _words(" ".join(said))
    channels = sorted({sentence.channel for sentence in sentences})
    if not wanted or len(channels) != 2:
        return fallback
    scores = {
        channel: _score(wanted, _words(" ".join(s.text for s in sentences if s.channel == channel)))
        for channel in channels
    }
    caller, other = sorted(channels, key=lambda channel: -scores[channel])
    if scores[caller] < MIN_SCORE:
        return fallback
    margin = (scores[caller] - scores[other]) / scores[caller]
    if margin < MIN_MARGIN:
        return fallback
    return ChannelMapping(agent=other, caller=caller, confidence=round(margin, 2), detected=True)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace(".", ""))


def _score(wanted: list[str], heard: list[str]) -> float:
    """How well ``heard`` is the caller's words: recall of the caller's words times precision."""
    if not heard:
        return 0.0
    matcher = SequenceMatcher(None, wanted, heard, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    recall = matched / len(wanted)
    precision = matched / len(heard)
    # The caller's channel holds (almost) only the caller's words; the agent's repeats a few of them.
    return round(recall * (0.5 + 0.5 * precision), 3)
