"""Transcripts as the model reads them."""

from __future__ import annotations

from collections.abc import Sequence

from callboard.core.models import TranscriptEntry

CALLER_SPEAKERS = frozenset({"caller", "user"})


def render_transcript(entries: Sequence[TranscriptEntry], *, timing: bool) -> str:
    """One line per turn, ``caller: …`` / ``agent: …``, with start (and end) seconds when ``timing``."""
    lines = []
    for entry in entries:
        stamp = ""
        if timing and entry.start is not None:
            if entry.end is not None and entry.end > entry.start:
                stamp = f"[{entry.start:.2f}-{entry.end:.2f}s] "
            else:
                stamp = f"[{entry.start:.2f}s] "
        lines.append(f"{stamp}{entry.speaker}: {entry.text}")
    return "\n".join(lines) if lines else "(the transcript is empty)"


def as_user_chat(entries: Sequence[TranscriptEntry]) -> list[dict[str, str]]:
    """The conversation from the simulated user's side: its lines are ``assistant``, the agent's ``user``.

    It opens with a ``user`` message so that the very first request is valid everywhere (some servers
    refuse a chat without one) and so the model knows it speaks first.
    """
    messages = [{"role": "user", "content": "(The conversation starts. Say your first line.)"}]
    for entry in entries:
        role = "assistant" if entry.speaker in CALLER_SPEAKERS else "user"
        messages.append({"role": role, "content": entry.text or "(silence)"})
    return messages
