"""Call tests run by several real `callboard worker` processes on one PostgreSQL store, against the
bundled telephony simulator in its own process (1 simulated second = 50 ms): the account's CPS cap and
concurrent-call cap, and a batch's call budget, hold across all workers; kill -9 of workers in the middle
of calls never dials a call twice. Outcomes are read from the simulator's record of the calls it was
asked to create (``/_sim/calls``) and from the store."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from callboard.core.simulator import DEFAULT_NUMBERS, NumberBehaviour, SimulatorConfig, simulator_process
from callboard.storage.postgres import notices
from callboard.storage.postgres.connection import connect
from callboard.storage.timestamps import to_text
from tests.postgres.worker_support import ALL_FINAL, queue_tests, rows, start_worker, until, workers
from tests.simulator.helpers import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, CLINIC, SERVICE_SID
from tests.telephony.support import place_directly

__all__ = ["workers"]  # the fixture, used by name

BUSY = "+15550100002"  # busy after 1 s of ringing
TIME_SCALE = 0.05
# Numbers of their own for the long calls, so that each run's call is told apart on the account.
LONG_CALLS = [f"+1555999{n:04d}" for n in range(12)]


@pytest.fixture
def sim_url() -> Iterator[str]:
    """The simulator in its own process; CPS 4 like a paid account, over which calls wait in the
    account's queue (Twilio's behaviour, ``cps_wait_ms`` shows it)."""
    numbers = {
        **DEFAULT_NUMBERS,
        **{n: NumberBehaviour(ring_s=1.0, description="long call") for n in LONG_CALLS},
    }
    config = SimulatorConfig(time_scale=TIME_SCALE, cps=4.0, max_concurrent_calls=100, numbers=numbers)
    with simulator_process(config) as url:
        yield url


def sim_calls(sim_url: str) -> list[dict[str, Any]]:
    """Every call the simulator was asked to create."""
    with httpx.Client(base_url=sim_url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=10) as client:
        calls: list[dict[str, Any]] = client.get("/_sim/calls").json()["calls"]
    return calls


def twilio_env(sim_url: str, **settings: str) -> dict[str, str]:
    """Worker settings pointing callboard's Twilio client at the simulator."""
    values = {
        "ACCOUNT_SID": ACCOUNT_SID,
        "AUTH_TOKEN": AUTH_TOKEN,
        "FROM_NUMBER": CALLER_ID,
        "API_BASE_URL": sim_url,
        "INTELLIGENCE_BASE_URL": sim_url,
        "INTELLIGENCE_SERVICE_SID": SERVICE_SID,
        "POLL_INITIAL_S": "0.05",
        "POLL_MAX_S": "0.2",
        **settings,
    }
    return {f"CALLBOARD_TWILIO__{name}": value for name, value in values.items()}


def busy_calls(count: int) -> list[dict[str, Any]]:
    script = [{"pause": 1}, {"say": "Hello"}]
    return [
        {
            "name": f"busy-{n:02d}",
            "kind": "call",
            "phone": BUSY,
            "caller": script,
            "checks": [{"answered": False}],
        }
        for n in range(count)
    ]


def long_calls(count: int, pause_s: int) -> list[dict[str, Any]]:
    script = [
        {"pause": 2},
        {"say": "I would like to book an appointment"},
        {"pause": pause_s},
        {"hangup": True},
    ]
    return [
        {"name": f"long-{n:02d}", "kind": "call", "phone": LONG_CALLS[n], "caller": script,
         "checks": [{"answered": True}]}
        for n in range(count)
    ]  # fmt: skip


async def each_run_dialled_once(pg_url: str, sim_url: str) -> list[dict[str, Any]]:
    """The simulator's calls, after checking that each run's call was created exactly once."""
    calls = sim_calls(sim_url)
    sids = [
        row[0] for row in await rows(pg_url, "SELECT external_id FROM runs WHERE external_id IS NOT NULL")
    ]
    assert sorted(call["sid"] for call in calls) == sorted(str(sid) for sid in sids)
    return calls


async def test_the_cps_cap_holds_across_three_workers(
    pg_url: str, state_dir: Path, sim_url: str, workers: list[subprocess.Popen[str]]
) -> None:
    count, cps = 12, 4
    await queue_tests(pg_url, busy_calls(count))
    env = twilio_env(sim_url, CPS=str(cps))
    for _ in range(3):
        workers.append(start_worker(state_dir, pg_url, "--concurrency", "4", env=env))
    await until(pg_url, ALL_FINAL)
    assert await rows(pg_url, "SELECT status, attempt, count(*) FROM runs GROUP BY 1, 2") == [
        ("passed", 1, count)
    ]
    owners = await rows(
        pg_url, "SELECT count(DISTINCT payload->>'owner') FROM events WHERE kind = 'run_started'"
    )
    assert owners[0][0] >= 2  # the calls really were placed by several workers
    calls = await each_run_dialled_once(pg_url, sim_url)
    # Twilio never had to hold a call in the account's queue: the creates came no faster than its
    # bucket refills (twelve workers' slots pacing on their own would have come three times as fast).
    assert [call["cps_wait_ms"] for call in calls] == [0.0] * count
    # The creates are spread at 1/cps: twelve span at least eight intervals, leaving room for a burst
    # as large as Twilio's bucket takes (a late first create), where three workers each pacing on its
    # own would span about three. A simulated second is 50 ms; the stamps are whole simulated seconds.
    created = sorted(datetime.fromisoformat(call["date_created"]).timestamp() for call in calls)
    assert created[-1] - created[0] >= (count - 4) / cps / TIME_SCALE


async def test_the_concurrent_call_cap_holds_across_workers(
    pg_url: str, state_dir: Path, sim_url: str, workers: list[subprocess.Popen[str]]
) -> None:
    cap = 2
    await queue_tests(pg_url, long_calls(6, 8))
    env = twilio_env(sim_url, CPS="50", MAX_CONCURRENT_CALLS=str(cap))
    for _ in range(3):
        workers.append(start_worker(state_dir, pg_url, "--concurrency", "4", env=env))
    await until(pg_url, ALL_FINAL)
    assert await rows(pg_url, "SELECT status, count(*) FROM runs GROUP BY 1") == [("passed", 6)]
    await each_run_dialled_once(pg_url, sim_url)
    # Walk the outbox in id order: a claim counts running rows under the 'twilio' row lock and writes its
    # run_started event inside that lock, so at each start at most ``cap`` calls can be between their
    # started and finished events.
    events = await rows(
        pg_url,
        "SELECT kind, payload->>'run_id' FROM events"
        " WHERE kind IN ('run_started', 'run_finished') ORDER BY id",
    )
    running: set[object] = set()
    peak = 0
    for kind, run_id in events:
        if kind == "run_started":
            running.add(run_id)
            peak = max(peak, len(running))
        else:
            running.discard(run_id)
    assert peak == cap  # reached, never exceeded


async def test_a_batch_call_budget_holds_across_workers(
    pg_url: str, state_dir: Path, sim_url: str, workers: list[subprocess.Popen[str]]
) -> None:
    await queue_tests(pg_url, busy_calls(10))
    env = twilio_env(sim_url, CPS="20", BATCH_MAX_CALLS="4")
    for _ in range(3):
        workers.append(start_worker(state_dir, pg_url, "--concurrency", "3", env=env))
    await until(pg_url, ALL_FINAL)
    reason = "batch budget reached: 4 calls (twilio.batch_max_calls)"
    assert await rows(pg_url, "SELECT status, skip_reason, count(*) FROM runs GROUP BY 1, 2 ORDER BY 1") == [
        ("passed", None, 4),
        ("skipped", reason, 6),
    ]
    assert len(await each_run_dialled_once(pg_url, sim_url)) == 4
    await until(pg_url, "SELECT bool_and(status = 'finished') FROM batches", timeout_s=30)


async def test_kill_9_of_workers_mid_call_never_dials_twice(
    pg_url: str, state_dir: Path, sim_url: str, workers: list[subprocess.Popen[str]]
) -> None:
    # Enough calls that three kills land mid-call even when a loaded machine runs them quickly.
    count = 12
    await queue_tests(pg_url, long_calls(count, 40))  # about 2.5 real seconds a call
    env = twilio_env(sim_url, CPS="20")
    args = ("--concurrency", "2", "--lease", "6")
    by_pid = {}
    for _ in range(2):
        worker = start_worker(state_dir, pg_url, *args, env=env)
        workers.append(worker)
        by_pid[worker.pid] = worker
    killed = 0
    while killed < 3 and not (await rows(pg_url, ALL_FINAL))[0][0]:
        # A call in progress: its run has a SID and a live lease. Kill its worker, start another.
        owners = await rows(
            pg_url,
            "SELECT lease_owner FROM runs WHERE status = 'running' AND external_id IS NOT NULL"
            " AND lease_until > now()",
        )
        doomed = [by_pid[pid] for (owner,) in owners if (pid := int(str(owner).split(":")[1])) in by_pid]
        if not doomed or doomed[0].poll() is not None:
            await asyncio.sleep(0.1)
            continue
        doomed[0].send_signal(signal.SIGKILL)
        doomed[0].wait()
        killed += 1
        replacement = start_worker(state_dir, pg_url, *args, env=env)
        workers.append(replacement)
        by_pid[replacement.pid] = replacement
    assert killed == 3
    await until(pg_url, ALL_FINAL, timeout_s=180)
    # Every run ended (the killed workers' calls were watched again by others), and each run's call was
    # created once: as many calls on the account as runs, every one of them a run's. A kill can also land
    # on the worker's other call between its dial intent and its create reaching Twilio: that run cannot
    # know whether it dialled, finds no call on the account and is not dialled again (at most one such
    # run per kill). Every other run passed.
    calls = await each_run_dialled_once(pg_url, sim_url)
    outcomes = await rows(pg_url, "SELECT test_name, status, error_kind FROM runs ORDER BY test_name")
    never_created = [
        name for name, status, kind in outcomes if (status, kind) == ("error", "call_create_unknown")
    ]
    failed = await rows(
        pg_url, "SELECT test_name, error_kind, error_message FROM runs WHERE status <> 'passed'"
    )
    assert [name for name, status, _ in outcomes if status != "passed"] == never_created, failed
    assert len(never_created) <= killed
    assert sorted(call["to"] for call in calls) == [
        number for n, number in enumerate(LONG_CALLS[:count]) if f"long-{n:02d}" not in never_created
    ]
    resumed = await rows(pg_url, "SELECT count(*) FROM runs WHERE attempt > 1")
    assert resumed[0][0] >= 1  # some calls were taken over from a killed worker


async def test_a_dial_intent_is_never_resolved_to_a_call_another_worker_recorded(
    pg_url: str, state_dir: Path, workers: list[subprocess.Popen[str]]
) -> None:
    # Real time here: the dial intent's time and the simulator's creation times must be on one clock.
    with simulator_process(SimulatorConfig(time_scale=1.0)) as url:
        await queue_tests(pg_url, [
            {"name": name, "kind": "call", "phone": CLINIC, "caller": [{"pause": 1}]} for name in ("a", "b")
        ])  # fmt: skip
        [[a], [b]] = await rows(pg_url, "SELECT id FROM runs ORDER BY test_name")
        # Run a (on some other worker) placed its call and recorded the SID; run b's worker died between
        # writing its dial intent and its create, which never reached Twilio.
        sid = place_directly(url, record=False)
        conn = await connect(pg_url)
        try:
            await conn.execute(
                "UPDATE runs SET status = 'passed', attempt = 1, started_at = %s, external_id = %s"
                " WHERE id = %s",
                (to_text(datetime.now(UTC)), sid, a),
            )
            await conn.execute(
                "INSERT INTO dial_intents (run_id, to_number, from_number, created_at)"
                " VALUES (%s, %s, %s, %s)",
                (b, CLINIC, CALLER_ID, to_text(datetime.now(UTC))),
            )
        finally:
            await conn.close()
        workers.append(start_worker(state_dir, pg_url, env=twilio_env(url)))
        await until(pg_url, ALL_FINAL)
        [[status, kind, external_id]] = await rows(
            pg_url, f"SELECT status, error_kind, external_id FROM runs WHERE id = {b}"
        )
        # The only call to that number is a's: b is not given it, and nothing is dialled again.
        assert (status, kind, external_id) == ("error", "call_create_unknown", None)
        assert [call["sid"] for call in sim_calls(url)] == [sid]


async def test_a_cancel_hangs_up_a_call_on_the_worker_running_it(
    pg_url: str, state_dir: Path, sim_url: str, workers: list[subprocess.Popen[str]]
) -> None:
    """The daemon's cancel (``notices.cancel``) of a call in progress on a worker process: the worker
    stops the run and hangs the call up on the account, and the run ends cancelled."""
    await queue_tests(pg_url, long_calls(1, 600))  # half a real minute of talk
    workers.append(start_worker(state_dir, pg_url, "--concurrency", "2", env=twilio_env(sim_url)))
    await until(pg_url, "SELECT bool_or(external_id IS NOT NULL) FROM runs")
    [(run_id, sid)] = await rows(pg_url, "SELECT id, external_id FROM runs")
    deadline = asyncio.get_running_loop().time() + 60
    while [call["status"] for call in sim_calls(sim_url)] != ["in-progress"]:  # answered, talking
        assert asyncio.get_running_loop().time() < deadline, sim_calls(sim_url)
        await asyncio.sleep(0.1)
    async with await connect(pg_url) as conn:
        cancelled = await notices.cancel(conn, [int(str(run_id))])
    assert cancelled.asked == (run_id,)  # running: its owner was asked
    await until(pg_url, ALL_FINAL, timeout_s=60)
    assert await rows(pg_url, "SELECT status, error_message FROM runs") == [
        ("cancelled", "cancelled while running")
    ]
    deadline = asyncio.get_running_loop().time() + 30
    while (calls := sim_calls(sim_url))[0]["status"] == "in-progress":
        assert asyncio.get_running_loop().time() < deadline, "the call was never hung up"
        await asyncio.sleep(0.1)
    assert [(call["sid"], call["status"]) for call in calls] == [(sid, "completed")]
    assert calls[0]["duration"] < 600  # hung up mid-talk, not played to its end
