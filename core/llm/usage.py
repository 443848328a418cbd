"""Token usage of one run, counted wherever in the run the model is asked.

The executor wrapper opens ``metering()`` around a run; the client adds every completion's usage to the
meter of the task it runs in (a context variable), so a simulated user inside the conversation executor
and the judges after it land in the same account without being handed a counter.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

_current: ContextVar[Usage | None] = ContextVar("callboard_llm_usage", default=None)


@dataclass
class Usage:
    """Prompt and completion tokens, as the server reported them (``usage`` in each response)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, prompt_tokens: int, completion_tokens: int) -> None:
        """Count one completion."""
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens

    def metrics(self) -> dict[str, float]:
        """The run metrics ``llm_prompt_tokens`` and ``llm_completion_tokens``."""
        return {
            "llm_prompt_tokens": float(self.prompt_tokens),
            "llm_completion_tokens": float(self.completion_tokens),
        }


@contextmanager
def metering() -> Iterator[Usage]:
    """Count the model's usage inside this block (in this task and the tasks it starts)."""
    usage = Usage()
    token = _current.set(usage)
    try:
        yield usage
    finally:
        _current.reset(token)


def record(prompt_tokens: int, completion_tokens: int) -> None:
    """Add one completion's usage to the current run's meter, if one is open."""
    usage = _current.get()
    if usage is not None:
        usage.add(prompt_tokens, completion_tokens)
