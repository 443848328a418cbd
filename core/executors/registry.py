"""The executors the engine uses, one per test kind, each built the first time a run of its kind needs it.

Building an executor imports its stack (aiohttp for HTTP, twilio and numpy for calls, the voice stack,
the model client); a daemon that only ever runs HTTP tests never pays for the others in memory or
start-up time. The kinds are known from the start, so the engine can still refuse a test whose kind
cannot run here before a batch is made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Mapping
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from callboard.core.execution.base import Executor
from callboard.core.executors.command_env import CommandEnvironment

if TYPE_CHECKING:
    from callboard.core.execution.http_client import HttpClientPool
    from callboard.core.llm import LlmService
    from callboard.core.llm.options import LlmOptions
    from callboard.core.telephony.settings import TwilioSettings
    from callboard.core.voice.options import VoiceOptions

# Kinds whose tests may have judge checks (a transcript to read).
JUDGED_KINDS = frozenset({"conversation", "call", "voice"})
# The module each kind's executor lives in (what building it imports first).
_MODULES = {
    "http": "callboard.core.executors.http",
    "conversation": "callboard.core.executors.conversation",
    "command": "callboard.core.executors.command",
    "call": "callboard.core.executors.call",
    "voice": "callboard.core.executors.voice",
}


class Executors(Mapping[str, Executor]):
    """Executors by kind, built (their modules imported) on first use; iterating lists every kind that
    can run, ``built()`` only those made so far."""

    def __init__(
        self,
        max_http_connections: int,
        twilio: TwilioSettings | None,
        llm: LlmOptions | None,
        voice: VoiceOptions | None,
        recordings_dir: Path | None,
        command_environment: CommandEnvironment | None,
    ) -> None:
        self._max_http_connections = max_http_connections
        self._llm = llm
        self._pool: HttpClientPool | None = None
        self._model: LlmService | None = None
        self._model_built = False
        factories: dict[str, Callable[[], Executor]] = {
            "http": self._http,
            "conversation": self._conversation,
            "command": lambda: _command(command_environment),
        }
        if twilio is not None:
            factories["call"] = lambda: _call(twilio)
        if voice is not None:
            factories["voice"] = lambda: _voice(voice, recordings_dir, self._shared_model())
        self._factories = factories
        self._built: dict[str, Executor] = {}

    def __getitem__(self, kind: str) -> Executor:
        executor = self._built.get(kind)
        if executor is None:
            executor = self._factories[kind]()
            if kind in JUDGED_KINDS:
                from callboard.core.executors.judging import JudgingExecutor

                executor = JudgingExecutor(executor, self._shared_model())
            self._built[kind] = executor
        return executor

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)

    def import_stacks(self, kinds: Iterable[str]) -> None:
        """Import what the executors of ``kinds`` need, without building them (see ``prepare``)."""
        for kind in kinds:
            if kind in self._factories and kind not in self._built:
                import_module(_MODULES[kind])
                if kind in JUDGED_KINDS:
                    import_module("callboard.core.executors.judging")
                if self._llm is not None:
                    import_module("callboard.core.llm.service")

    def built(self) -> list[Executor]:
        """The executors made so far (the ones there is something to close or clean up in)."""
        return list(self._built.values())

    def _shared_pool(self) -> HttpClientPool:
        if self._pool is None:
            from callboard.core.execution.http_client import HttpClientPool

            self._pool = HttpClientPool(max_connections=self._max_http_connections)
        return self._pool

    def _shared_model(self) -> LlmService | None:
        if not self._model_built:
            self._model_built = True
            if self._llm is not None:
                from callboard.core.llm import LlmService

                self._model = LlmService(self._llm)
        return self._model

    def _http(self) -> Executor:
        from callboard.core.executors.http import HttpExecutor

        return HttpExecutor(self._shared_pool())

    def _conversation(self) -> Executor:
        from callboard.core.executors.conversation import ConversationExecutor

        return ConversationExecutor(self._shared_pool(), self._shared_model())


def _command(environment: CommandEnvironment | None) -> Executor:
    from callboard.core.executors.command import CommandExecutor

    return CommandExecutor(environment=environment)


def _call(twilio: TwilioSettings) -> Executor:
    from callboard.core.executors.call import CallExecutor

    return CallExecutor(twilio)


def _voice(voice: VoiceOptions, recordings_dir: Path | None, model: LlmService | None) -> Executor:
    from callboard.core.executors.voice import VoiceExecutor

    return VoiceExecutor(voice, recordings_dir, model)


def build_executors(
    max_http_connections: int = 64,
    twilio: TwilioSettings | None = None,
    llm: LlmOptions | None = None,
    voice: VoiceOptions | None = None,
    recordings_dir: Path | None = None,
    command_environment: CommandEnvironment | None = None,
) -> Executors:
    """Executors by kind: http, conversation (one shared pool of ``max_http_connections``), command
    (in ``command_environment``, a clean one by default), call when Twilio settings are given (their
    credentials are checked when a call runs), and voice when voice settings are given (recordings under
    ``recordings_dir``). With ``llm`` settings, conversations and voice tests may simulate users and
    conversation, call and voice tests may have judges. Each is built when first looked up."""
    return Executors(max_http_connections, twilio, llm, voice, recordings_dir, command_environment)


async def prepare(executors: Mapping[str, Executor], kinds: Iterable[str]) -> None:
    """Import the stacks of ``kinds`` in a worker thread before their runs start: a stack imported on
    the event loop (twilio and numpy take about a second on a busy machine) would stall every run in
    flight, and its timings with it."""
    if isinstance(executors, Executors):
        await asyncio.to_thread(executors.import_stacks, list(kinds))


async def close_executors(executors: Executors) -> None:
    """Close every executor built so far (the shared pool tolerates being closed more than once)."""
    for executor in executors.built():
        await executor.aclose()
