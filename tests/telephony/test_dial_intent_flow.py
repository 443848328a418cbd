"""The call flow's side of never dialling twice: the intent is committed before the create, cleared when
Twilio certainly placed nothing, and a resumed intent is looked up, never dialled."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from callboard.core.execution.base import Job, RunError, TransientError
from callboard.core.executors.call import CallExecutor
from callboard.core.models import CallTest
from callboard.core.models.dial_intent import DialIntent
from callboard.core.telephony import HttpxTwilioClient
from tests.telephony.support import (
    CLINIC,
    FROM_NUMBER,
    UNKNOWN,
    Recorder,
    TapTransport,
    call_test,
    is_create,
    place_directly,
    settings,
    sim_calls,
)


class Intents:
    """Stands in for the engine's record_dial_intent; notes what the simulator held at each moment."""

    def __init__(self, admin: httpx.Client) -> None:
        self.admin = admin
        self.seen: list[tuple[DialIntent | None, int]] = []

    async def __call__(self, intent: DialIntent | None) -> None:
        self.seen.append((intent, len(sim_calls(self.admin))))


def intent_job(test: CallTest, intents: Any, recorder: Recorder, resume: DialIntent | None = None) -> Job:
    return Job(1, 1, test, 60.0, recorder, None, intents, resume)


@pytest.fixture
async def tapped(sim_url: str, admin: httpx.Client) -> Any:
    tap = TapTransport()
    executor = CallExecutor(settings(sim_url), http_client=HttpxTwilioClient(sim_url, sim_url, transport=tap))
    yield executor, tap
    await executor.aclose()


async def test_the_intent_is_committed_before_the_create(tapped: Any, admin: httpx.Client) -> None:
    executor, _ = tapped
    intents, recorder = Intents(admin), Recorder()
    await executor.execute(intent_job(call_test(CLINIC, checks=[{"answered": True}]), intents, recorder))
    [(intent, calls_then)] = intents.seen
    assert intent is not None and (intent.to, intent.from_, calls_then) == (CLINIC, FROM_NUMBER, 0)
    assert recorder.ids == [sim_calls(admin)[0]["sid"]]


async def test_a_refused_create_clears_the_intent(tapped: Any, admin: httpx.Client) -> None:
    executor, _ = tapped
    intents = Intents(admin)
    with pytest.raises(RunError) as caught:
        await executor.execute(
            intent_job(call_test(UNKNOWN, checks=[{"answered": True}]), intents, Recorder())
        )
    assert caught.value.kind == "twilio_21215"
    assert [intent is None for intent, _ in intents.seen] == [False, True]


async def test_an_intent_that_cannot_be_stored_dials_nothing(tapped: Any, admin: httpx.Client) -> None:
    executor, tap = tapped

    async def store_down(intent: DialIntent | None) -> None:
        raise OSError("disk I/O error")

    with pytest.raises(TransientError, match="not dialled"):
        await executor.execute(intent_job(call_test(CLINIC), store_down, Recorder()))
    assert not any(is_create(request) for request in tap.sent) and sim_calls(admin) == []


async def test_a_resumed_intent_finds_the_call_it_placed(
    tapped: Any, sim_url: str, admin: httpx.Client
) -> None:
    executor, tap = tapped
    before = datetime.now(UTC)
    sid = place_directly(sim_url, record=True)  # as the daemon did just before it was killed
    recorder = Recorder()
    test = call_test(CLINIC, checks=[{"answered": True}])
    outcome = await executor.execute(
        intent_job(test, Intents(admin), recorder, DialIntent(CLINIC, FROM_NUMBER, before))
    )
    assert recorder.ids == [sid] and outcome.artifacts["call_sid"] == sid
    assert outcome.checks[0].passed
    assert not any(is_create(request) for request in tap.sent) and len(sim_calls(admin)) == 1


async def test_a_resumed_intent_without_a_call_is_never_dialled(
    tapped: Any, sim_url: str, admin: httpx.Client
) -> None:
    executor, tap = tapped
    # A call to the same number long before the intent (the simulator's clock runs fast, hence a year).
    place_directly(sim_url, record=False)
    later = datetime.now(UTC) + timedelta(days=365)
    with pytest.raises(RunError) as caught:
        await executor.execute(
            intent_job(call_test(CLINIC), Intents(admin), Recorder(), DialIntent(CLINIC, FROM_NUMBER, later))
        )
    assert caught.value.kind == "call_create_unknown" and "not dialled again" in caught.value.message
    assert not any(is_create(request) for request in tap.sent) and len(sim_calls(admin)) == 1


async def test_two_interrupted_runs_to_one_number_take_one_call_each(
    tapped: Any, sim_url: str, admin: httpx.Client
) -> None:
    executor, _ = tapped
    before = datetime.now(UTC)
    placed = {place_directly(sim_url, record=True), place_directly(sim_url, record=True)}
    recorders = [Recorder(), Recorder()]
    intent = DialIntent(CLINIC, FROM_NUMBER, before)
    test = call_test(CLINIC, checks=[{"answered": True}])
    await asyncio.gather(*(executor.execute(intent_job(test, Intents(admin), r, intent)) for r in recorders))
    assert {r.ids[0] for r in recorders} == placed and len(sim_calls(admin)) == 2
