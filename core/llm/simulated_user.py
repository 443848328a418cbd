"""A user played by the model: persona + goal + the conversation so far → the next line.

The end of the conversation is a structured signal (``status`` in the answer), never a magic phrase in
the text. A malformed answer is asked again once; a second one ends the run in error (the conversation
cannot go on without a line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from string import Template
from typing import Literal

from callboard.core.execution.base import RunError
from callboard.core.llm.client import ChatClient
from callboard.core.llm.errors import MalformedOutput
from callboard.core.llm.transcript import as_user_chat
from callboard.core.llm.wire import Schema
from callboard.core.models import TranscriptEntry

Status = Literal["continue", "goal_done", "cannot_do"]
STATUSES: tuple[Status, ...] = ("continue", "goal_done", "cannot_do")
USER_LINE_SCHEMA = Schema(
    name="simulated_user_line",
    description="The simulated user's next line and whether the conversation goes on.",
    schema={
        "type": "object",
        "properties": {
            "message": {"type": "string", "description": "What the user says next (empty when done)."},
            "status": {"type": "string", "enum": list(STATUSES)},
            "reason": {"type": "string", "description": "Why the conversation goes on or ends."},
        },
        "required": ["message", "status", "reason"],
        "additionalProperties": False,
    },
)


@dataclass(frozen=True)
class UserLine:
    """The simulated user's next move: a line to say, or ``done`` with the reason it stopped."""

    text: str
    done: bool
    reason: str
    status: Status = "continue"


class SimulatedUser:
    """One simulated user for one run; ``prompt`` is the system message it was given."""

    def __init__(
        self,
        client: ChatClient,
        template: Template,
        *,
        persona: str,
        goal: str,
        max_turns: int,
        description: str,
        model: str,
        temperature: float,
        seed: int | None,
    ) -> None:
        self._client = client
        self._model = model
        self._temperature = temperature
        self._seed = seed
        self.max_turns = max_turns
        self.prompt = template.substitute(
            persona=persona,
            goal=goal,
            max_turns=str(max_turns),
            description=description or "(none)",
        )

    async def next_line(self, transcript: Sequence[TranscriptEntry]) -> UserLine:
        """The user's next line given everything said so far (``caller``/``user`` entries are theirs)."""
        messages = [{"role": "system", "content": self.prompt}, *as_user_chat(transcript)]
        problem = ""
        for _ in range(2):
            try:
                answer = await self._client.complete(
                    messages,
                    USER_LINE_SCHEMA,
                    model=self._model,
                    temperature=self._temperature,
                    seed=self._seed,
                )
                return _line(answer.data)
            except MalformedOutput as exc:
                problem = str(exc)
        raise RunError("llm_output", f"the simulated user's answer was malformed twice: {problem}")


def _line(data: dict[str, object]) -> UserLine:
    status, message, reason = data.get("status"), data.get("message"), data.get("reason", "")
    if status not in STATUSES:
        raise MalformedOutput(f"status {status!r} is not one of {', '.join(STATUSES)}")
    if not isinstance(message, str) or not isinstance(reason, str):
        raise MalformedOutput("message and reason must be strings")
    if status == "continue" and not message.strip():
        raise MalformedOutput("status is continue but the message is empty")
    assert status in STATUSES  # narrows for the type checker
    return UserLine(text=message.strip(), done=status != "continue", reason=reason.strip(), status=status)
