"""Simulated users and judges through any OpenAI-compatible Chat Completions endpoint.

``LlmService`` is the one entry point executors use: ``simulated_user(...)`` gives a
``SimulatedUser`` whose ``next_line(transcript)`` returns a ``UserLine``; ``judge(...)`` returns a
``Verdict``. Token usage is counted per run through ``usage.metering()``.

The names are imported on first use: the engine reads ``callboard.core.llm.errors`` for every batch,
and that alone must not load the model client (aiohttp) in a daemon that never talks to a model.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callboard.core.llm.judge import Verdict
    from callboard.core.llm.service import LlmService
    from callboard.core.llm.simulated_user import SimulatedUser, UserLine
    from callboard.core.llm.usage import Usage, metering

__all__ = ["LlmService", "SimulatedUser", "Usage", "UserLine", "Verdict", "metering"]

_HOMES = {
    "Verdict": "judge",
    "LlmService": "service",
    "SimulatedUser": "simulated_user",
    "UserLine": "simulated_user",
    "Usage": "usage",
    "metering": "usage",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
