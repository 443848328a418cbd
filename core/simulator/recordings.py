"""Recordings of answered calls made with Record=true, as Twilio's two Recording JSON shapes.

A recording appears when its call ends, is ``processing`` for ``recording_delay_s`` and then
``completed``. It has two channels when the call asked for RecordingChannels=dual, else one; the agent is
on ``agent_channel`` (the number's, else the simulator's).

``Trim`` (Calls API): "Whether to trim any leading and trailing silence from the recording. Can be:
``trim-silence`` or ``do-not-trim`` and the default is ``trim-silence``." A trimmed recording starts at
the first sound on either side, so its timings no longer count from the answer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

from callboard.core.simulator.calls import API_VERSION, Call
from callboard.core.simulator.clock import SimClock
from callboard.core.simulator.config import SimulatorConfig
from callboard.core.simulator.conversation import Segment

Shape = Literal["call", "account"]


def has_recording(call: Call, now: float) -> bool:
    """Whether the call's recording exists yet (after an answered, recorded call ended)."""
    return call.recording_sid is not None and call.answer_at is not None and not call.is_active(now)


def recording_channels(call: Call) -> int:
    """1 or 2."""
    return 2 if call.request.dual_channel else 1


def agent_channel(call: Call, config: SimulatorConfig) -> int:
    """The channel the agent is heard on: 1 on a mono recording, else the configured one."""
    if not call.request.dual_channel:
        return 1
    return call.behaviour.agent_channel or config.agent_channel


@dataclass(frozen=True)
class Audio:
    """What a recording holds: segments timed from the recording's start, its length, and where it
    started (seconds after the answer; 0 unless trimmed)."""

    segments: tuple[Segment, ...]
    length_s: float
    offset_s: float


def recorded_audio(call: Call) -> Audio:
    """The call's audio as recorded, trimmed of leading and trailing silence when Trim asks for it."""
    assert call.conversation is not None and call.answer_at is not None
    segments = call.conversation.segments
    length = float(call.duration_s())
    if not call.request.trim or not segments:
        return Audio(segments, length, 0.0)
    first = min(segment.start for segment in segments)
    last = max(segment.end for segment in segments)
    moved = tuple(replace(s, start=s.start - first, end=s.end - first) for s in segments)
    return Audio(moved, last - first, first)


def recording_duration_s(call: Call) -> int:
    """The recording's length in whole seconds, rounded up."""
    return math.ceil(recorded_audio(call).length_s - 1e-9)


def recording_json(
    call: Call, clock: SimClock, now: float, config: SimulatorConfig, base_url: str, shape: Shape
) -> dict[str, Any]:
    """The recording as ``api.v2010.account.call.call_recording`` (shape "call") or
    ``api.v2010.account.recording`` (shape "account")."""
    assert call.recording_sid is not None and call.answer_at is not None
    ready_at = call.end_at + config.recording_delay_s
    completed = now >= ready_at
    cost: float | None = None
    if completed:
        # ``or 0.0``: a zero-second recording is free, not "-0.0".
        cost = -config.recording_price_per_minute * math.ceil(recording_duration_s(call) / 60) or 0.0
    account_path = f"/{API_VERSION}/Accounts/{call.account_sid}"
    body: dict[str, Any] = {
        "account_sid": call.account_sid,
        "api_version": API_VERSION,
        "call_sid": call.sid,
        "conference_sid": None,
        "date_created": clock.rfc2822(call.answer_at),
        "date_updated": clock.rfc2822(ready_at if completed else call.end_at),
        "start_time": clock.rfc2822(call.answer_at),
        "duration": str(recording_duration_s(call)),
        "sid": call.recording_sid,
        "price_unit": "USD",
        "status": "completed" if completed else "processing",
        "channels": recording_channels(call),
        "source": "OutboundAPI",
        "error_code": None,
        "encryption_details": None,
    }
    if shape == "call":
        # The published schema types this shape's price as a number (the account shape: a string).
        body["price"] = round(cost, 5) if cost is not None else None
        body["track"] = "both"
        body["uri"] = f"{account_path}/Calls/{call.sid}/Recordings/{call.recording_sid}.json"
        return body
    body["price"] = f"{cost:.5f}" if cost is not None else None
    body["uri"] = f"{account_path}/Recordings/{call.recording_sid}.json"
    body["subresource_uris"] = {
        "add_on_results": f"{account_path}/Recordings/{call.recording_sid}/AddOnResults.json",
        "transcriptions": f"{account_path}/Recordings/{call.recording_sid}/Transcriptions.json",
    }
    # Absolute, and pointing at the simulator itself so a client following it never reaches Twilio.
    body["media_url"] = f"{base_url}{account_path}/Recordings/{call.recording_sid}"
    return body
