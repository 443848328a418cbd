"""Builds the executors the engine uses, one per test kind, sharing one HTTP connection pool."""

from __future__ import annotations

from collections.abc import Mapping

from callboard.core.executors.base import Executor
from callboard.core.executors.call import CallExecutor
from callboard.core.executors.command import CommandExecutor
from callboard.core.executors.command_env import CommandEnvironment
from callboard.core.executors.conversation import ConversationExecutor
from callboard.core.executors.http import HttpExecutor
from callboard.core.executors.http_client import HttpClientPool
from callboard.core.telephony.options import TwilioOptions


def build_executors(
    max_http_connections: int = 64,
    twilio: TwilioOptions | None = None,
    command_environment: CommandEnvironment | None = None,
) -> dict[str, Executor]:
    """Executors by kind: http, conversation (one shared pool of ``max_http_connections``), command
    (in ``command_environment``, a clean one by default), and call when Twilio settings are given
    (their credentials are checked when a call runs)."""
    pool = HttpClientPool(max_connections=max_http_connections)
    command = CommandExecutor(environment=command_environment)
    executors: list[Executor] = [HttpExecutor(pool), ConversationExecutor(pool), command]
    if twilio is not None:
        executors.append(CallExecutor(twilio))
    return {executor.kind: executor for executor in executors}


async def close_executors(executors: Mapping[str, Executor]) -> None:
    """Close every executor (the shared pool tolerates being closed more than once)."""
    for executor in executors.values():
        await executor.aclose()
