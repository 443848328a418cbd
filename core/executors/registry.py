"""Builds the executors the engine uses, one per test kind, sharing one HTTP connection pool."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from callboard.core.executors.base import Executor
from callboard.core.executors.call import CallExecutor
from callboard.core.executors.command import CommandExecutor
from callboard.core.executors.command_env import CommandEnvironment
from callboard.core.executors.conversation import ConversationExecutor
from callboard.core.executors.http import HttpExecutor
from callboard.core.executors.http_client import HttpClientPool
from callboard.core.executors.judging import JudgingExecutor
from callboard.core.executors.voice import VoiceExecutor
from callboard.core.llm import LlmService
from callboard.core.llm.options import LlmOptions
from callboard.core.telephony.settings import TwilioSettings
from callboard.core.voice.options import VoiceOptions

# Kinds whose tests may have judge checks (a transcript to read).
JUDGED_KINDS = frozenset({"conversation", "call", "voice"})


def build_executors(
    max_http_connections: int = 64,
    twilio: TwilioSettings | None = None,
    llm: LlmOptions | None = None,
    voice: VoiceOptions | None = None,
    recordings_dir: Path | None = None,
    command_environment: CommandEnvironment | None = None,
) -> dict[str, Executor]:
    """Executors by kind: http, conversation (one shared pool of ``max_http_connections``), command
    (in ``command_environment``, a clean one by default), call when Twilio settings are given (their
    credentials are checked when a call runs), and voice when voice settings are given (recordings under
    ``recordings_dir``). With ``llm`` settings, conversations and voice tests may simulate users and
    conversation, call and voice tests may have judges."""
    pool = HttpClientPool(max_connections=max_http_connections)
    model = LlmService(llm) if llm is not None else None
    command = CommandExecutor(environment=command_environment)
    executors: list[Executor] = [HttpExecutor(pool), ConversationExecutor(pool, model), command]
    if twilio is not None:
        executors.append(CallExecutor(twilio))
    if voice is not None:
        executors.append(VoiceExecutor(voice, recordings_dir, model))
    return {
        executor.kind: JudgingExecutor(executor, model) if executor.kind in JUDGED_KINDS else executor
        for executor in executors
    }


async def close_executors(executors: Mapping[str, Executor]) -> None:
    """Close every executor (the shared pool tolerates being closed more than once)."""
    for executor in executors.values():
        await executor.aclose()
