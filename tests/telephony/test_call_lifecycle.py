"""Placing, resuming, cancelling and failing to place calls: never a second dial, never a call left on."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from callboard.core.execution.base import RateLimited, RunError, TransientError
from callboard.core.executors.call import CallExecutor
from callboard.core.simulator import simulator_thread
from callboard.core.telephony import HttpxTwilioClient
from tests.simulator.helpers import LONG_RING
from tests.simulator.helpers import config as sim_config
from tests.telephony.support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CLINIC,
    UNKNOWN,
    Fault,
    Recorder,
    TapTransport,
    call_test,
    is_create,
    job,
    place_directly,
    settings,
    sim_calls,
)

LONG_TALK = [{"pause": 2}, {"say": "Hi, are you open on Sunday?"}, {"pause": 600}]


def tapped_executor(sim_url: str, tap: TapTransport, **overrides: Any) -> CallExecutor:
    return CallExecutor(
        settings(sim_url, **overrides), http_client=HttpxTwilioClient(sim_url, sim_url, transport=tap)
    )


@pytest.fixture
async def tap_executor(sim_url: str, admin: httpx.Client) -> AsyncIterator[tuple[CallExecutor, TapTransport]]:
    tap = TapTransport()
    executor = tapped_executor(sim_url, tap)
    yield executor, tap
    await executor.aclose()


async def wait_for_status(admin: httpx.Client, status: str, timeout_s: float = 5.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        calls = sim_calls(admin)
        if calls and calls[-1]["status"] == status:
            return calls[-1]
        assert time.monotonic() < deadline, f"no call became {status}: {calls}"
        await asyncio.sleep(0.01)


async def test_call_sid_is_recorded_before_anything_else(
    tap_executor: tuple[CallExecutor, TapTransport], admin: httpx.Client
) -> None:
    executor, tap = tap_executor
    seen: list[tuple[str, str]] = []

    async def check_call_exists(sid: str) -> None:
        assert [call["sid"] for call in sim_calls(admin)] == [sid]
        seen.extend(tap.requests)
        await asyncio.sleep(0.02)  # a slow commit: nothing may go on meanwhile

    recorder = Recorder(check_call_exists)
    outcome = await executor.execute(job(call_test(checks=[{"answered": True}]), recorder))

    assert [method for method, _ in seen] == ["POST"] and seen[0][1].endswith("/Calls.json")
    assert recorder.ids == [outcome.artifacts["call_sid"]]
    assert len(tap.requests) > len(seen)  # polling came after


async def test_resume_watches_the_recorded_call_and_never_dials_again(
    executor: CallExecutor, admin: httpx.Client, sim_url: str
) -> None:
    sid = place_directly(sim_url, record=True)
    recorder = Recorder()

    test = call_test(checks=[{"answered": True}, {"agent_says": "Hello"}])
    outcome = await executor.execute(job(test, recorder, external_id=sid))

    assert [check.passed for check in outcome.checks] == [True, True]
    assert outcome.artifacts["call_sid"] == sid
    assert recorder.ids == []
    assert [call["sid"] for call in sim_calls(admin)] == [sid]


async def test_resume_of_an_unknown_call_is_an_error_without_dialling(
    executor: CallExecutor, admin: httpx.Client
) -> None:
    with pytest.raises(RunError) as caught:
        await executor.execute(job(call_test(), external_id="CA" + "0" * 32))
    assert caught.value.kind == "call_not_found"
    assert sim_calls(admin) == []


@pytest.mark.parametrize(
    ("phone", "caller", "seen", "final"),
    [(LONG_RING, LONG_TALK, "ringing", "canceled"), (CLINIC, LONG_TALK, "in-progress", "completed")],
)
async def test_cancelling_hangs_up(
    executor: CallExecutor,
    admin: httpx.Client,
    phone: str,
    caller: list[dict[str, Any]],
    seen: str,
    final: str,
) -> None:
    task = asyncio.create_task(executor.execute(job(call_test(phone, caller=caller))))
    await wait_for_status(admin, seen)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [call] = sim_calls(admin)
    assert call["status"] == final


async def test_cancelling_while_the_create_is_in_flight_still_hangs_up(
    sim_url: str, admin: httpx.Client
) -> None:
    tap = TapTransport(create_delay_s=0.1)
    executor = tapped_executor(sim_url, tap)
    recorder = Recorder()
    try:
        task = asyncio.create_task(executor.execute(job(call_test(LONG_RING), recorder)))
        await asyncio.sleep(0.03)
        assert sim_calls(admin) == []
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await executor.aclose()
    [call] = sim_calls(admin)
    assert call["status"] == "canceled"
    assert recorder.ids == [call["sid"]]


async def test_engine_timeout_hangs_up_too(executor: CallExecutor, admin: httpx.Client) -> None:
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.1):
            await executor.execute(job(call_test(caller=LONG_TALK)))
    [call] = sim_calls(admin)
    assert call["status"] in ("completed", "canceled")


async def test_calls_per_second_cap_makes_the_create_retryable(admin: httpx.Client) -> None:
    # A simulator told to answer 429 over its CPS, like Twilio's concurrent-request limit.
    with simulator_thread(sim_config(cps=1.0, cps_burst=1.0, cps_excess="reject")) as url:
        executor = CallExecutor(settings(url))
        try:
            test = call_test(caller=[{"pause": 1}], checks=[{"answered": True}])
            results = await asyncio.gather(
                executor.execute(job(test)), executor.execute(job(test)), return_exceptions=True
            )
        finally:
            await executor.aclose()
        with httpx.Client(base_url=url, auth=(ACCOUNT_SID, AUTH_TOKEN)) as own_admin:
            placed = sim_calls(own_admin)
    errors = [result for result in results if isinstance(result, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], RateLimited), results
    assert errors[0].kind == "rate_limited"
    assert "20429" in errors[0].message
    assert len(placed) == 1


@pytest.mark.parametrize(
    ("fault", "error", "kind", "calls"),
    [
        ("unavailable", TransientError, "twilio_unavailable", 0),
        ("connect_error", TransientError, "network", 0),
        # The create reached Twilio but its answer was lost: retrying could dial twice.
        ("lost_answer", RunError, "call_create_unknown", 1),
    ],
)
async def test_create_failures_are_retryable_only_when_no_call_was_placed(
    sim_url: str, admin: httpx.Client, fault: Fault, error: type[RunError], kind: str, calls: int
) -> None:
    tap = TapTransport(fault=lambda request: fault if is_create(request) else None)
    executor = tapped_executor(sim_url, tap)
    recorder = Recorder()
    try:
        with pytest.raises(RunError) as caught:
            await executor.execute(job(call_test(LONG_RING), recorder))
    finally:
        await executor.aclose()
    assert type(caught.value) is error
    assert caught.value.kind == kind
    assert len(sim_calls(admin)) == calls
    assert recorder.ids == []


async def test_an_unstorable_call_sid_is_hung_up(executor: CallExecutor, admin: httpx.Client) -> None:
    async def disk_full(sid: str) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        await executor.execute(job(call_test(LONG_RING), Recorder(disk_full)))
    [call] = sim_calls(admin)
    assert call["status"] == "canceled"


async def test_polling_rides_out_server_errors(
    sim_url: str, admin: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    failures = {"left": 2}

    def flaky_fetch(request: httpx.Request) -> Fault | None:
        if request.method == "GET" and "/Calls/CA" in request.url.path and failures["left"]:
            failures["left"] -= 1
            return "unavailable"
        return None

    tap = TapTransport(fault=flaky_fetch)
    executor = tapped_executor(sim_url, tap)
    try:
        outcome = await executor.execute(
            job(call_test(checks=[{"answered": True}, {"agent_says": "closed"}]))
        )
    finally:
        await executor.aclose()
    assert [check.passed for check in outcome.checks] == [True, True]
    assert failures["left"] == 0
    assert "Service Unavailable (Twilio error 20500, HTTP 503); asking again" in caplog.text
    assert AUTH_TOKEN not in caplog.text


@pytest.mark.parametrize(
    ("change", "kind", "needle"),
    [
        (lambda url: ({}, UNKNOWN), "twilio_21215", "Account not authorized to call"),
        (lambda url: ({"auth_token": "not-the-token"}, CLINIC), "twilio_20003", "twilio.auth_token"),
    ],
)
async def test_refused_creates_are_errors_carrying_twilio_codes(
    sim_url: str,
    admin: httpx.Client,
    change: Callable[[str], tuple[dict[str, Any], str]],
    kind: str,
    needle: str,
) -> None:
    overrides, phone = change(sim_url)
    executor = CallExecutor(settings(sim_url, **overrides))
    try:
        with pytest.raises(RunError) as caught:
            await executor.execute(job(call_test(phone)))
    finally:
        await executor.aclose()
    assert not isinstance(caught.value, TransientError)
    assert caught.value.kind == kind
    assert needle in caught.value.message
    assert "not-the-token" not in caught.value.message and AUTH_TOKEN not in caught.value.message
    assert sim_calls(admin) == []


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"auth_token": None, "from_number": None}, ["twilio.auth_token", "twilio.from_number"]),
        ({"account_sid": None}, ["twilio.account_sid"]),
        ({"auth_token": None, "api_key": "SK" + "ab" * 16}, ["twilio.api_secret"]),
    ],
)
async def test_missing_credentials_name_the_settings(
    sim_url: str, admin: httpx.Client, overrides: dict[str, Any], named: list[str]
) -> None:
    executor = CallExecutor(settings(sim_url, **overrides))
    try:
        with pytest.raises(RunError) as caught:
            await executor.execute(job(call_test()))
    finally:
        await executor.aclose()
    assert caught.value.kind == "config"
    for key in named:
        assert key in caught.value.message
    assert "CALLBOARD_TWILIO__" in caught.value.message
    assert sim_calls(admin) == []
