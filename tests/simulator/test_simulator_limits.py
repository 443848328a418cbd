"""The account's caps: calls per second and concurrent calls, both answered with 429 / 20429."""

from __future__ import annotations

import time

import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from callboard.core.simulator import simulator_thread
from tests.simulator.helpers import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, CLINIC, LONG_RING, config
from tests.simulator.twilio_support import SimulatorHttpClient, validate_exchange

SCRIPT = "<Response><Pause length='1'/></Response>"


def test_over_the_cps_cap_gets_429_20429_when_told_to_reject() -> None:
    with simulator_thread(config(cps=2.0, cps_burst=2.0, cps_excess="reject")) as url:
        http = SimulatorHttpClient(url)
        twilio = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http)
        for _ in range(2):
            twilio.calls.create(to=CLINIC, from_=CALLER_ID, twiml=SCRIPT)
        with pytest.raises(TwilioRestException) as caught:
            twilio.calls.create(to=CLINIC, from_=CALLER_ID, twiml=SCRIPT)
        assert (caught.value.status, caught.value.code) == (429, 20429)
        time.sleep(0.55)  # the bucket refills at 2 tokens a second (real time, not simulated)
        twilio.calls.create(to=CLINIC, from_=CALLER_ID, twiml=SCRIPT)
        with pytest.raises(TwilioRestException):
            twilio.calls.create(to=CLINIC, from_=CALLER_ID, twiml=SCRIPT)
        assert [exchange.status for exchange in http.exchanges] == [201, 201, 429, 201, 429]
        for exchange in http.exchanges:
            validate_exchange(exchange)


def test_over_the_concurrent_calls_cap_gets_429_20429() -> None:
    with simulator_thread(config(max_concurrent_calls=2, cps=0.5, cps_burst=3.0)) as url:
        http = SimulatorHttpClient(url)
        twilio = Client(ACCOUNT_SID, AUTH_TOKEN, http_client=http)
        ringing = [
            twilio.calls.create(to=LONG_RING, from_=CALLER_ID, twiml=SCRIPT, timeout=600) for _ in range(2)
        ]
        with pytest.raises(TwilioRestException) as caught:
            twilio.calls.create(to=CLINIC, from_=CALLER_ID, twiml=SCRIPT)
        assert (caught.value.status, caught.value.code) == (429, 20429)
        # Three tokens, two spent: the refused call did not spend the third, so hanging up one call is
        # enough to get through.
        assert twilio.calls(ringing[0].sid).update(status="canceled").status == "canceled"
        assert twilio.calls.create(to=CLINIC, from_=CALLER_ID, twiml=SCRIPT).status == "queued"
        for exchange in http.exchanges:
            validate_exchange(exchange)
