"""The api.twilio.com/2010-04-01 routes: Calls, a call's Recordings, Recording metadata and media."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callboard.core.simulator.amd import AmdOptions
from callboard.core.simulator.calls import API_VERSION, Call, CallRequest
from callboard.core.simulator.errors import bad_request, not_found
from callboard.core.simulator.media import mp3_bytes, wav_bytes
from callboard.core.simulator.recordings import (
    agent_channel,
    has_recording,
    recorded_audio,
    recording_channels,
    recording_duration_s,
    recording_json,
)
from callboard.core.simulator.state import Simulator
from callboard.core.simulator.twiml import (
    UNSUPPORTED_VERB_CODE,
    Step,
    TwimlError,
    UnsupportedVerb,
    parse_twiml,
)
from callboard.core.simulator.web import Form, authorize, base_url, page_params, query_form, read_form

_ACCOUNT = f"/{API_VERSION}/Accounts/{{AccountSid}}"
_MACHINE_DETECTION = {"Enable", "DetectMessageEnd"}
_TRIM = {"trim-silence", "do-not-trim"}
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")


def parse_call_request(form: Form) -> tuple[CallRequest, list[Step] | None]:
    """The create-call parameters the simulation uses, and the caller's script (None for a Url call)."""
    to, from_ = form.get("To"), form.get("From")
    if to is None:
        raise bad_request(21201, "No 'To' number is specified")
    if from_ is None:
        raise bad_request(21213, "No 'From' number is specified")
    # Twilio also dials client: and sip: addresses; the simulator only has phone numbers.
    if not _E164.match(to):
        raise bad_request(21211, f"Invalid 'To' Phone Number: {to}")
    twiml = form.get("Twiml")
    if twiml is None and form.get("Url") is None and form.get("ApplicationSid") is None:
        raise bad_request(21205, "Either Url, Twiml or ApplicationSid is required")
    try:
        steps = parse_twiml(twiml) if twiml is not None else None
    except UnsupportedVerb as exc:
        raise bad_request(UNSUPPORTED_VERB_CODE, str(exc)) from exc
    except TwimlError as exc:
        raise bad_request(12100, f"Document parse failure: {exc}") from exc
    channels = (form.get("RecordingChannels") or "mono").lower()
    if channels not in ("mono", "dual"):
        raise bad_request(20001, "RecordingChannels must be mono or dual")
    trim = form.get("Trim") or "trim-silence"
    if trim not in _TRIM:
        raise bad_request(20001, "Trim must be trim-silence or do-not-trim")
    request = CallRequest(
        to=to,
        from_=from_,
        record=form.boolean("Record"),
        dual_channel=channels == "dual",
        timeout_s=form.integer("Timeout", 60, 1, 600),
        time_limit_s=form.integer("TimeLimit", 14_400, 1, 86_400),
        amd=parse_amd(form),
        trim=trim == "trim-silence",
    )
    return request, steps


def parse_amd(form: Form) -> AmdOptions:
    """The answering-machine-detection parameters, with Twilio's defaults and documented ranges."""
    mode = form.get("MachineDetection")
    if mode is not None and mode not in _MACHINE_DETECTION:
        raise bad_request(20001, "MachineDetection must be Enable or DetectMessageEnd")
    return AmdOptions(
        mode=mode,
        async_amd=form.boolean("AsyncAmd"),
        timeout_s=form.integer("MachineDetectionTimeout", 30, 3, 59),
        speech_threshold_s=form.integer("MachineDetectionSpeechThreshold", 2400, 1000, 6000) / 1000,
        speech_end_threshold_s=form.integer("MachineDetectionSpeechEndThreshold", 1200, 500, 5000) / 1000,
        silence_timeout_s=form.integer("MachineDetectionSilenceTimeout", 5000, 2000, 10000) / 1000,
    )


async def create_call(request: Request) -> Response:
    """POST Calls.json. The fault hooks ``create_hold_s`` / ``create_answer_hold_s`` hold the request
    before / after the call is placed (a client that went away during the first hold gets no call)."""
    sim = authorize(request)
    call_request, steps = parse_call_request(await read_form(request))
    if sim.config.create_hold_s and await _gone_after(request, sim.config.create_hold_s):
        return Response(status_code=499)  # nobody is listening; like a request that never reached Twilio
    call = sim.place_call(sim.config.account_sid, call_request, steps)
    if sim.config.create_answer_hold_s:
        await asyncio.sleep(sim.config.create_answer_hold_s)
    return JSONResponse(_call_json(sim, call), status_code=201)


async def _gone_after(request: Request, seconds: float) -> bool:
    """Wait ``seconds`` (real); True when the client disconnected meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await request.is_disconnected():
            return True
        await asyncio.sleep(min(0.05, max(deadline - time.monotonic(), 0.0)))
    return await request.is_disconnected()


async def list_calls(request: Request) -> Response:
    """GET Calls.json, newest first, filtered by To, From, Status and StartTime (``StartTime``,
    ``StartTime<``, ``StartTime>``: a UTC date ``YYYY-MM-DD``, compared by day as Twilio documents; a
    queued call has no start time and matches no StartTime filter)."""
    sim = authorize(request)
    query = query_form(request)
    now = sim.clock.now()
    filters = {name: query.get(name) for name in ("To", "From", "Status", *_START_FILTERS)}
    days = {name: _day(value) for name in _START_FILTERS if (value := filters[name]) is not None}
    calls = [
        call
        for call in reversed(sim.calls.values())
        if filters["To"] in (None, call.request.to)
        and filters["From"] in (None, call.request.from_)
        and filters["Status"] in (None, call.status(now))
        and _started_within(sim, call, now, days)
    ]
    path = request.url.path
    extra = {name: value for name, value in filters.items() if value is not None}
    items = [_call_json(sim, call) for call in calls]
    return JSONResponse(list_page(request, path, "calls", items, extra))


async def fetch_call(request: Request) -> Response:
    """GET Calls/{Sid}.json."""
    sim = authorize(request)
    return JSONResponse(_call_json(sim, _find_call(sim, request)))


async def update_call(request: Request) -> Response:
    """POST Calls/{Sid}.json: Status=completed hangs up (or cancels), Status=canceled cancels a call
    not yet answered and, as on Twilio, leaves a call in progress alone."""
    sim = authorize(request)
    call = _find_call(sim, request)
    form = await read_form(request)
    if form.get("Url") is not None or form.get("Twiml") is not None:
        raise bad_request(20001, "The simulator cannot redirect a call to new TwiML")
    status = form.get("Status")
    now = sim.clock.now()
    if status not in (None, "completed", "canceled"):
        raise bad_request(20001, f"Status must be completed or canceled, not {status!r}")
    if status == "completed" or (status == "canceled" and call.status(now) in ("queued", "ringing")):
        call.end_now(now)
    return JSONResponse(_call_json(sim, call))


async def list_call_recordings(request: Request) -> Response:
    """GET Calls/{CallSid}/Recordings.json."""
    sim = authorize(request)
    call = _find_call(sim, request, "CallSid")
    now = sim.clock.now()
    items = []
    if has_recording(call, now):
        items.append(recording_json(call, sim.clock, now, sim.config, base_url(request), "call"))
    return JSONResponse(list_page(request, request.url.path, "recordings", items, {}))


async def fetch_call_recording(request: Request) -> Response:
    """GET Calls/{CallSid}/Recordings/{Sid}.json."""
    sim = authorize(request)
    call = _find_call(sim, request, "CallSid")
    now = sim.clock.now()
    if call.recording_sid != request.path_params["Sid"] or not has_recording(call, now):
        raise not_found(request.url.path)
    return JSONResponse(recording_json(call, sim.clock, now, sim.config, base_url(request), "call"))


async def fetch_recording(request: Request) -> Response:
    """GET Recordings/{Sid}.json (metadata), .wav, .mp3, or no extension (WAV, as Twilio)."""
    sim = authorize(request)
    now = sim.clock.now()
    call = sim.recorded_call(request.path_params["Sid"], now)
    if call is None or call.conversation is None:
        raise not_found(request.url.path)
    name = request.url.path.rpartition("/")[2]
    kind = name.rpartition(".")[2] if "." in name else "wav"
    if kind == "json":
        return JSONResponse(recording_json(call, sim.clock, now, sim.config, base_url(request), "account"))
    recorded = recorded_audio(call)
    length = float(recording_duration_s(call))
    if kind == "mp3":
        return Response(mp3_bytes(length), media_type="audio/mpeg")
    channels, rate = recording_channels(call), sim.config.wav_sample_rate
    audio = wav_bytes(recorded.segments, length, channels, rate, agent_channel(call, sim.config))
    return Response(audio, media_type="audio/x-wav")


def list_page(
    request: Request, path: str, key: str, items: list[dict[str, Any]], filters: dict[str, str]
) -> dict[str, Any]:
    """Twilio's 2010 paging envelope around one page of ``items``."""
    page, size = page_params(request, 1000)

    def uri(number: int) -> str:
        return f"{path}?{urlencode({**filters, 'PageSize': size, 'Page': number})}"

    start = page * size
    chunk = items[start : start + size]
    return {
        key: chunk,
        "end": start + max(len(chunk) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(page + 1) if start + size < len(items) else None,
        "page": page,
        "page_size": size,
        "previous_page_uri": uri(page - 1) if page > 0 else None,
        "start": start,
        "uri": uri(page),
    }


_START_FILTERS = ("StartTime", "StartTime<", "StartTime>")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value[:10])
    except ValueError as exc:
        raise bad_request(20001, f"Invalid StartTime: {value!r} is not a date (YYYY-MM-DD)") from exc


def _started_within(sim: Simulator, call: Call, now: float, days: dict[str, date]) -> bool:
    if not days:
        return True
    started = call.started_at(now)
    if started is None:
        return False
    day = sim.clock.datetime_at(started).date()
    exact, before, after = (days.get(name) for name in _START_FILTERS)
    return (
        (exact is None or day == exact)
        and (before is None or day < before)
        and (after is None or day >= after)
    )


def _find_call(sim: Simulator, request: Request, param: str = "Sid") -> Call:
    call = sim.calls.get(request.path_params[param])
    if call is None:
        raise not_found(request.url.path)
    return call


def _call_json(sim: Simulator, call: Call) -> dict[str, Any]:
    return call.to_json(sim.clock, sim.clock.now(), sim.config)


ROUTES = [
    Route(f"{_ACCOUNT}/Calls.json", create_call, methods=["POST"]),
    Route(f"{_ACCOUNT}/Calls.json", list_calls, methods=["GET"]),
    Route(f"{_ACCOUNT}/Calls/{{Sid}}.json", fetch_call, methods=["GET"]),
    Route(f"{_ACCOUNT}/Calls/{{Sid}}.json", update_call, methods=["POST"]),
    Route(f"{_ACCOUNT}/Calls/{{CallSid}}/Recordings.json", list_call_recordings, methods=["GET"]),
    Route(f"{_ACCOUNT}/Calls/{{CallSid}}/Recordings/{{Sid}}.json", fetch_call_recording, methods=["GET"]),
    Route(f"{_ACCOUNT}/Recordings/{{Sid}}.json", fetch_recording, methods=["GET"]),
    Route(f"{_ACCOUNT}/Recordings/{{Sid}}.wav", fetch_recording, methods=["GET"]),
    Route(f"{_ACCOUNT}/Recordings/{{Sid}}.mp3", fetch_recording, methods=["GET"]),
    Route(f"{_ACCOUNT}/Recordings/{{Sid}}", fetch_recording, methods=["GET"]),
]
