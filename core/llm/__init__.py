"""Simulated users and judges through any OpenAI-compatible Chat Completions endpoint.

``LlmService`` is the one entry point executors use: ``simulated_user(...)`` gives a
``SimulatedUser`` whose ``next_line(transcript)`` returns a ``UserLine``; ``judge(...)`` returns a
``Verdict``. Token usage is counted per run through ``usage.metering()``.
"""

from callboard.core.llm.judge import Verdict
from callboard.core.llm.service import LlmService
from callboard.core.llm.simulated_user import SimulatedUser, UserLine
from callboard.core.llm.usage import Usage, metering

__all__ = ["LlmService", "SimulatedUser", "Usage", "UserLine", "Verdict", "metering"]
