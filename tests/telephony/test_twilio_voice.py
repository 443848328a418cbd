"""The Twilio requests one by one against the simulator: paged sentences, a recording that never comes."""

from __future__ import annotations

import httpx
import pytest

from callboard.core.executors.call import CallExecutor
from callboard.core.models import CallerStep
from callboard.core.telephony import (
    CallRequest,
    HttpxTwilioClient,
    Poller,
    TwilioVoice,
    build_client,
)
from callboard.core.telephony import call_flow as call_flow_module
from callboard.core.telephony.caller_twiml import caller_twiml
from tests.telephony.support import (
    CLINIC,
    FROM_NUMBER,
    SERVICE_SID,
    SUNDAY_SCRIPT,
    TapTransport,
    call_test,
    job,
    place_directly,
    settings,
    sim_calls,
)


async def test_sentences_are_read_page_after_page(sim_url: str, admin: httpx.Client) -> None:
    tap = TapTransport()
    http = HttpxTwilioClient(sim_url, sim_url, transport=tap)
    voice = TwilioVoice(build_client(settings(sim_url), http), sim_url)
    poller = Poller(0.005, 0.02)
    try:
        script = caller_twiml([CallerStep.model_validate(step) for step in SUNDAY_SCRIPT])
        placed = await voice.place(
            CallRequest(
                to=CLINIC,
                from_=FROM_NUMBER,
                twiml=script,
                record=True,
                ring_timeout_s=30,
                time_limit_s=600,
                machine_detection=False,
            )
        )
        call = await poller.until(lambda: voice.fetch(placed.sid), lambda state: state.ended, "call")
        call = await poller.until(lambda: voice.fetch(placed.sid), lambda state: state.price is not None, "$")
        [recording] = await voice.recordings(call.sid)
        transcript = await voice.create_transcript(SERVICE_SID, recording.sid, call.sid)
        await poller.until(
            lambda: voice.transcript_status(transcript), lambda status: status == "completed", "t"
        )
        whole = await voice.sentences(transcript)
        before = len(tap.requests)
        paged = await voice.sentences(transcript, page_size=2)
    finally:
        await http.close()

    assert call.status == "completed" and call.duration_s and call.price
    assert len(whole) > 4
    assert paged == whole
    assert len(tap.requests) - before == (len(whole) + 1) // 2
    assert {sentence.channel for sentence in whole} == {1, 2}
    assert whole[0].channel == 2 and whole[0].start == 0.8


async def test_a_recording_that_never_comes_leaves_transcript_checks_unevaluated(
    sim_url: str, admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(call_flow_module, "RECORDING_WAIT_S", 0.05)
    sid = place_directly(sim_url, record=False)  # resumed by a test that expects a recording
    executor = CallExecutor(settings(sim_url))
    try:
        test = call_test(checks=[{"answered": True}, {"agent_says": "Hello"}])
        outcome = await executor.execute(job(test, external_id=sid))
    finally:
        await executor.aclose()
    answered, says = outcome.checks
    assert answered.passed is True
    assert says.passed is False
    assert says.message == "not evaluable: no recording of the call within 0.05 s"
    assert "recording_sid" not in outcome.artifacts
    assert len(sim_calls(admin)) == 1
