"""Shared by the voice tests: the simulator's credentials, its truth log, and the executor under test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from callboard.core.config import VoiceSettings
from callboard.core.execution.base import Job, Outcome
from callboard.core.executors.voice import VoiceExecutor
from callboard.core.models import parse_test
from callboard.core.simulator.config import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

CLINIC = "+15550100001"
HANGS_UP = "+15550100007"
SILENT = "+15550100008"
BUSY = "+15550100002"


def ws_url(sim_url: str, number: str | None = None) -> str:
    """The simulator's Media Streams agent for ``number`` (default: the clinic)."""
    base = sim_url.replace("http://", "ws://", 1) + "/media"
    return base if number is None else f"{base}/{number}"


def truth(sim_url: str, stream_sid: str) -> list[dict[str, Any]]:
    """What the simulator's agent logged for one stream."""
    with httpx.Client(base_url=sim_url, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), timeout=10) as http:
        sessions = http.get("/_sim/voice").json()["sessions"]
    [session] = [s for s in sessions if s["stream_sid"] == stream_sid]
    return list(session["events"])


def voice_test(
    url: str,
    caller: list[dict[str, Any]],
    checks: list[dict[str, Any]] | None = None,
    custom_parameters: dict[str, str] | None = None,
    **extra: Any,
) -> Any:
    """A voice test definition."""
    endpoint = {"url": url, "custom_parameters": custom_parameters or {}}
    data = {
        "name": "v",
        "kind": "voice",
        "endpoint": endpoint,
        "caller": caller,
        "checks": checks or [],
        **extra,
    }
    return parse_test(data)


async def run_voice(test: Any, recordings: Path | None = None, **settings: Any) -> Outcome:
    """One run of ``test`` through the voice executor with ``[voice]`` ``settings``."""
    executor = VoiceExecutor(VoiceSettings(**settings), recordings)

    async def record(_: str) -> None:
        return None

    try:
        return await executor.execute(Job(1, 1, test, 120.0, record))
    finally:
        await executor.aclose()
