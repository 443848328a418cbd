"""Call pacing: 200 call tests through a real daemon against the telephony simulator at a CPS limit.

    python bench/calls.py [--calls 200] [--cps 5] [--time-scale 0.01]

The simulator enforces the account's calls-per-second as Twilio does — calls over it wait in the
account's queue — and runs calls in accelerated time; callboard is configured with the same CPS. The
figures are the achieved CPS (calls created, from the simulator's own record) over the allowed CPS — the
baseline, in the same run, is the limit itself —, how long calls waited in the simulator's CPS queue
(real ms: pacing too fast shows up here now that excess calls are queued, not refused), and how many
429s callboard met (waited out, never failing a test).
The last line is one JSON object: {"bench": "calls", ...}. Targets: ratio >= 0.95, 0 errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from datetime import datetime
from pathlib import Path

import httpx
from bench_support import bench_daemon

from callboard.core.models.api import BatchRequest
from callboard.core.models.events import BatchFinished
from callboard.core.simulator import SimulatorConfig, simulator_process
from callboard.core.simulator.config import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

BUSY = "+15550100002"  # rings a simulated second, then busy: short calls, so pacing is what counts


def suite(count: int) -> list[dict[str, object]]:
    """``count`` call tests that expect a busy line."""
    script = [{"say": "Hello"}]
    return [
        {
            "name": f"call-{i:04}",
            "kind": "call",
            "phone": BUSY,
            "caller": script,
            "checks": [{"answered": False}],
        }
        for i in range(count)
    ]


async def measure(
    calls: int, cps: float, time_scale: float, sim_url: str, state_dir: Path
) -> dict[str, float]:
    """Run the batch; read when each call was created from the simulator."""
    settings = {
        "TWILIO__ACCOUNT_SID": DEFAULT_ACCOUNT_SID,
        "TWILIO__AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
        "TWILIO__FROM_NUMBER": "+15550009999",
        "TWILIO__API_BASE_URL": sim_url,
        "TWILIO__INTELLIGENCE_BASE_URL": sim_url,
        "TWILIO__CPS": str(cps),
        "TWILIO__MAX_CONCURRENT_CALLS": "200",
        "TWILIO__POLL_INITIAL_S": "0.05",
        "TWILIO__POLL_MAX_S": "0.2",
        "DAEMON__MAX_REQUEST_KB": "65536",
    }
    async with bench_daemon(state_dir, **settings) as client:
        await client.import_tests(tests=suite(calls))
        after = (await client.queue()).last_event_id
        created = await client.create_batch(BatchRequest(all=True, source="bench"))
        async for event in client.events(last_id=after, types=("batch.finished",), batch_id=created.batch.id):
            if isinstance(event, BatchFinished):
                break
        batch = await client.get_batch(created.batch.id)
    log = (state_dir / "logs" / "daemon.log").read_text()
    async with httpx.AsyncClient(base_url=sim_url, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)) as sim:
        records = (await sim.get("/_sim/calls")).json()["calls"]
    # The simulator's clock runs 1/time_scale times faster than real time.
    stamps = sorted(datetime.fromisoformat(call["date_created"]).timestamp() * time_scale for call in records)
    span = stamps[-1] - stamps[0]
    achieved = (len(stamps) - 1) / span if span > 0 else float("inf")
    waits = sorted(float(call["cps_wait_ms"]) for call in records)
    return {
        "queue_wait_p50_ms": waits[len(waits) // 2],
        "queue_wait_max_ms": waits[-1],
        "queued_calls": sum(1 for wait in waits if wait > 0),
        "calls_created": len(records),
        "passed": batch.counts.passed,
        "errors": batch.counts.error,
        "span_s": span,
        "achieved_cps": achieved,
        "rate_limited_429s": log.count("rate limited"),
    }


def main() -> None:
    """Run the simulator and the daemon, and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--cps", type=float, default=5.0)
    parser.add_argument("--time-scale", type=float, default=0.01)
    args = parser.parse_args()
    config = SimulatorConfig(time_scale=args.time_scale, cps=args.cps, max_concurrent_calls=1000)
    with simulator_process(config) as sim_url, tempfile.TemporaryDirectory() as tmp:
        figures = asyncio.run(measure(args.calls, args.cps, args.time_scale, sim_url, Path(tmp)))
    ratio = figures["achieved_cps"] / args.cps
    print(f"{'allowed CPS (baseline)':<30}{args.cps:>8.2f}")
    print(f"{'achieved CPS':<30}{figures['achieved_cps']:>8.2f}   ratio {ratio:.3f} (target >= 0.95)")
    print(f"{'429s met (waited out)':<30}{figures['rate_limited_429s']:>8.0f}   (target 0)")
    print(f"{'calls queued over the CPS':<30}{figures['queued_calls']:>8.0f}   waited p50 "
          f"{figures['queue_wait_p50_ms']:.1f} ms, max {figures['queue_wait_max_ms']:.1f} ms")  # fmt: skip
    print(f"{'calls created / passed / errors':<30}{figures['calls_created']:>8.0f} / {figures['passed']:.0f}"
          f" / {figures['errors']:.0f}")  # fmt: skip
    summary = {"bench": "calls", "calls": args.calls, "allowed_cps": args.cps, "ratio": round(ratio, 3)}
    print(json.dumps({**summary, **{key: round(value, 3) for key, value in figures.items()}}))


if __name__ == "__main__":
    main()
