"""Build the whole running stack from settings: store, group-commit writer, executors, engine.

The in-process ``callboard run`` uses it now; the daemon uses the same function.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from callboard.core.config import LimitSettings, Settings
from callboard.core.engine.budget import CallBudgetSpec
from callboard.core.engine.engine import Engine, EngineConfig
from callboard.core.engine.events import EventBus, epoch_first_id
from callboard.core.engine.limits import LimitSpec
from callboard.core.engine.retry import Backoff
from callboard.core.engine.selection import MODEL_KEY
from callboard.core.executors.command_env import CommandEnvironment
from callboard.core.executors.registry import Executors, build_executors, close_executors
from callboard.core.redaction import Redactor, secret_values
from callboard.storage.interface import StoreBackend


def engine_config(settings: Settings) -> EngineConfig:
    """The engine's limits and timings from the settings."""
    engine = settings.engine

    def spec(limit: LimitSettings) -> LimitSpec:
        return LimitSpec(concurrency=limit.concurrency, rate_per_s=limit.rate_per_s)

    twilio = settings.twilio
    # The account's pacing applies unless [engine.targets.twilio] says otherwise. Calls start evenly
    # spaced (no burst): the provider's own bucket then always has a token when a create arrives.
    targets = {"twilio": LimitSpec(concurrency=twilio.max_concurrent_calls, rate_per_s=twilio.cps, burst=1.0)}
    targets[MODEL_KEY] = LimitSpec(concurrency=settings.llm.concurrency)
    targets |= {target: spec(limit) for target, limit in engine.targets.items()}
    return EngineConfig(
        concurrency=engine.concurrency,
        kind_limits={kind: spec(limit) for kind, limit in engine.kinds.items()},
        target_limits=targets,
        call_budget=CallBudgetSpec(twilio.batch_max_calls, twilio.batch_max_minutes),
        call_allowlist=tuple(twilio.allowed_numbers),
        llm_max_tokens=settings.llm.batch_max_tokens,
        backoff=Backoff(engine.retry_base_s, engine.retry_max_s),
        shutdown_grace_s=engine.shutdown_grace_s,
        redactor=Redactor(secret_values(settings)),
    )


def executors_for(settings: Settings, config: EngineConfig) -> Executors:
    """The executors the settings describe (each built on the first test of its kind), with commands'
    environment kept clean of the settings' secrets."""
    return build_executors(
        max_http_connections=settings.engine.http_connections,
        twilio=settings.twilio,
        llm=settings.llm,
        voice=settings.voice,
        recordings_dir=settings.recordings_dir,
        command_environment=CommandEnvironment(settings.commands.pass_env, config.redactor.secrets),
    )


@asynccontextmanager
async def running_engine(settings: Settings, store: StoreBackend) -> AsyncIterator[Engine]:
    """An engine on ``store``, started (crash recovery done), shut down gracefully on exit."""
    writer = await store.start_writer(settings.store.commit_tick_ms, settings.store.busy_timeout_ms)
    config = engine_config(settings)
    executors = executors_for(settings, config)
    engine = Engine(store, writer, executors, config, EventBus(first_id=epoch_first_id()))
    try:
        await engine.start()
        yield engine
    finally:
        try:
            await engine.shutdown()
        finally:
            await writer.close()
            await close_executors(executors)
