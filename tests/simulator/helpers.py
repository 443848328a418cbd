"""Constants and helpers shared by the simulator tests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from pydantic import SecretStr
from twilio.rest import Client
from twilio.rest.api.v2010.account.call import CallInstance
from twilio.twiml.voice_response import VoiceResponse

from callboard.core.simulator import DEFAULT_NUMBERS, NumberBehaviour, SimulatorConfig
from callboard.core.simulator.config import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

ACCOUNT_SID = DEFAULT_ACCOUNT_SID
AUTH_TOKEN = DEFAULT_AUTH_TOKEN
API_KEY = "SK" + "ab" * 16
API_SECRET = "a-secret-for-the-api-key"
SERVICE_SID = "GA" + "12" * 16
CALLER_ID = "+15550009999"
CLINIC = "+15550100001"
SHORT_GREETING = "+15550100010"  # the clinic answering "Bright Smile Dental, hello?": AMD says human
LONG_RING = "+15559990001"  # a test-only number: rings for ten simulated minutes before answering
TIME_SCALE = 0.002
FINAL = ("completed", "busy", "no-answer", "failed", "canceled")

T = TypeVar("T")


def config(**overrides: object) -> SimulatorConfig:
    """The tests' simulator config: fast time, generous caps, an API key and a long-ringing number."""
    settings: dict[str, object] = {
        "time_scale": TIME_SCALE,
        "cps": 1000.0,
        "max_concurrent_calls": 1000,
        "api_keys": {API_KEY: SecretStr(API_SECRET)},
        "numbers": {**DEFAULT_NUMBERS, LONG_RING: NumberBehaviour(ring_s=600.0, description="long ring")},
    }
    settings.update(overrides)
    return SimulatorConfig.model_validate(settings)


def wait_for(fetch: Callable[[], T], done: Callable[[T], bool], timeout_s: float = 5.0) -> T:
    """Poll ``fetch`` every few milliseconds until ``done`` holds; fails after ``timeout_s`` real seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout_s} s: {value!r}")
        time.sleep(0.005)


def booking_script() -> VoiceResponse:
    """Book a cleaning for Tuesday at 3pm, then hang up (17.6 simulated seconds)."""
    script = VoiceResponse()
    script.pause(length=2)
    script.say("I'd like to book a cleaning", voice="Polly.Joanna")
    script.pause(length=5)
    script.say("Tuesday at 3pm")
    script.pause(length=7)
    script.hangup()
    return script


def silence(seconds: int) -> VoiceResponse:
    """Say nothing for ``seconds``."""
    script = VoiceResponse()
    script.pause(length=seconds)
    return script


def place(twilio: Client, to: str, script: VoiceResponse | None = None, **params: object) -> CallInstance:
    """Create a call from the tests' caller ID with the script as inline Twiml."""
    return twilio.calls.create(
        to=to, from_=CALLER_ID, twiml=str(script if script is not None else silence(5)), **params
    )


def finished(call: CallInstance) -> CallInstance:
    """The call, polled until it reaches a final status."""
    return wait_for(call.fetch, lambda fetched: fetched.status in FINAL)
