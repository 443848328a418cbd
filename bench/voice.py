"""Concurrent voice sessions: how many real-time Media Streams conversations one daemon sustains.

    python bench/voice.py [--sessions 10,25,50] [--rounds 1]

For each level, that many voice tests run at once through a real daemon against the simulator's Media
Streams agent (its own process). Each session: the agent greets, the caller barges in ("Hello"), the agent
stops (clear) and answers, the caller hangs up (~7 s). Figures per level:

- pacing: each run's p99 lateness of its 20 ms frames (``pacing_late_p99_ms``), worst and median;
- accuracy: |measured − the agent's log| for first word, barge-in stop and turn latency, worst;
- where it breaks: the first level whose worst p99 pacing exceeds 20 ms or whose worst error exceeds 100 ms.

Then what one frame costs the CPU, per part: μ-law decode/encode, webrtcvad, building a media message
(JSON + base64), parsing one. The simulator shares the machine (its VAD and TTS cost CPU too, and its log
is taken on its own event loop), so high levels measure both sides' load. The last line is one JSON
object: {"bench": "voice", ...}. Target: 50 sessions with p99 pacing < 20 ms and errors < 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from bench_support import bench_daemon

from callboard.core.models.api import BatchRequest
from callboard.core.simulator import simulator_process
from callboard.core.simulator.config import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from callboard.core.voice import mulaw
from callboard.core.voice.protocol import TwilioStream, parse_agent_message
from callboard.core.voice.vad import FrameVad

PACING_LIMIT_MS = 20.0
ACCURACY_LIMIT_MS = 100.0


def suite(url: str, count: int, level: int) -> list[dict[str, object]]:
    """``count`` voice tests against the clinic."""
    caller = [{"wait": "speech"}, {"pause": 1.0}, {"say": "Hello"}, {"wait": "agent"}, {"hangup": True}]
    return [
        {"name": f"voice-{level:03}-{i:03}", "kind": "voice", "endpoint": {"url": url}, "caller": caller}
        for i in range(count)
    ]


def _errors(run: dict[str, Any], events: list[dict[str, Any]]) -> list[float]:
    metrics = run["metrics"]
    speaks = [e for e in events if e["event"] == "speak"]
    clears = [e for e in events if e["event"] == "clear"]
    heard = [e for e in events if e["event"] == "caller_speech"]
    errors = []
    if speaks and "first_word_ms" in metrics:
        errors.append(abs(metrics["first_word_ms"] - speaks[0]["at_ms"]))
    if clears and "barge_in_stop_ms" in metrics:
        errors.append(abs(metrics["barge_in_stop_ms"] - (clears[0]["at_ms"] - clears[0]["caller_onset_ms"])))
    if heard and len(speaks) > 1 and "turn_latency_ms.1" in metrics:
        errors.append(abs(metrics["turn_latency_ms.1"] - (speaks[1]["at_ms"] - heard[0]["end_ms"])))
    return errors


async def level(sim_url: str, sessions: int, state: Path) -> dict[str, Any]:
    """Run ``sessions`` voice tests at once; the figures of the docstring."""
    ws = sim_url.replace("http://", "ws://", 1) + "/media"
    limits = json.dumps({"voice": {"concurrency": sessions}, "command": {"concurrency": 4}})
    async with bench_daemon(
        state, ENGINE__KINDS=limits, ENGINE__CONCURRENCY=str(max(64, sessions))
    ) as client:
        await client.import_tests(tests=suite(ws, sessions, sessions))
        started = time.perf_counter()
        created = await client.create_batch(BatchRequest(all=True, source="bench"))
        while (await client.get_batch(created.batch.id)).status.value == "running":
            await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - started
        listed = await client.list_runs(batch_id=created.batch.id, limit=sessions)
        runs = [await client.get_run(run.id) for run in listed.runs]
    async with httpx.AsyncClient(base_url=sim_url, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)) as http:
        logs = {s["stream_sid"]: s["events"] for s in (await http.get("/_sim/voice")).json()["sessions"]}
    pacing = [
        float(run.artifacts["pacing_late_p99_ms"]) for run in runs if "pacing_late_p99_ms" in run.artifacts
    ]
    errors = [
        error
        for run in runs
        if run.artifacts.get("stream_sid") in logs
        for error in _errors(run.model_dump(), logs[run.artifacts["stream_sid"]])
    ]
    statuses = [run.status.value for run in runs]
    return {
        "sessions": sessions,
        "ran": len(pacing),
        "errors_status": len([s for s in statuses if s == "error"]),
        "wall_s": round(elapsed, 1),
        "pacing_p99_worst_ms": round(max(pacing, default=0.0), 1),
        "pacing_p99_median_ms": round(statistics.median(pacing), 1) if pacing else None,
        "accuracy_worst_ms": round(max(errors, default=0.0), 1),
        "accuracy_median_ms": round(statistics.median(errors), 1) if errors else None,
    }


def frame_costs(frames: int = 5000) -> dict[str, float]:
    """Microseconds per 20 ms frame for each part of the work."""
    stream = TwilioStream()
    vad = FrameVad(2)
    speech = mulaw.encode((8000 * np.sin(np.arange(160) / 3)).astype(np.int16))
    message = stream.media(speech, 0)
    costs = {}
    for name, work in {
        "mulaw_decode_us": lambda: mulaw.decode(speech),
        "mulaw_encode_us": lambda: mulaw.encode(mulaw.decode(speech)),
        "webrtcvad_us": lambda: vad.is_speech(speech),
        "media_message_build_us": lambda: stream.media(speech, 20),
        "media_message_parse_us": lambda: parse_agent_message(message),
    }.items():
        start = time.perf_counter()
        for _ in range(frames):
            work()
        costs[name] = round((time.perf_counter() - start) / frames * 1e6, 1)
    return costs


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", default="10,25,50", help="concurrency levels, comma-separated")
    args = parser.parse_args()
    levels = [int(part) for part in args.sessions.split(",") if part.strip()]
    results = []
    with simulator_process() as sim_url, tempfile.TemporaryDirectory() as scratch:
        for sessions in levels:
            figures = await level(sim_url, sessions, Path(scratch) / f"state-{sessions}")
            print(json.dumps(figures))
            results.append(figures)
    breaks = next(
        (
            r["sessions"]
            for r in results
            if r["pacing_p99_worst_ms"] > PACING_LIMIT_MS or r["accuracy_worst_ms"] > ACCURACY_LIMIT_MS
        ),
        None,
    )
    costs = frame_costs()
    print(json.dumps(costs))
    print(json.dumps({"bench": "voice", "levels": results, "breaks_at": breaks, "frame_costs_us": costs}))


if __name__ == "__main__":
    asyncio.run(main())
