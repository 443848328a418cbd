"""SIGKILL the engine at random moments: every run still ends exactly once and none is missing."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from callboard.core.demo.process import demo_agent_process
from tests.conftest import REPO
from tests.engine.conftest import add_tests, http_test

TESTS = 150
TRIALS = 2


@pytest.fixture
def demo_agent() -> Iterator[str]:
    """The real demo agent in its own process, answering after 5 ms."""
    with demo_agent_process(latency_ms=5) as url:
        yield url


def _worker(db: Path, log: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine.crash_worker", str(db), str(log)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _final_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM runs WHERE status NOT IN ('queued', 'running')").fetchone()[
            0
        ]


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_at_random_moments_loses_and_doubles_nothing(
    tmp_path: Path, demo_agent: str, seed: int
) -> None:
    rng = random.Random(seed)
    db, log = tmp_path / "callboard.db", tmp_path / "finished.log"
    asyncio.run(add_tests(db, [http_test(f"t{i:03}", f"{demo_agent}/health") for i in range(TESTS)]))
    kills = 0
    for _ in range(4):
        worker = _worker(db, log)
        # Kill once some runs have finished, at a random moment while others are in flight.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and worker.poll() is None:
            if db.exists() and _final_count(db) >= rng.randint(1, TESTS):
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.05))
        if worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
            kills += 1
        worker.wait(10)
    final = _worker(db, log)
    stdout, stderr = final.communicate(timeout=120)
    assert final.returncode == 0, stderr
    assert "drained" in stdout
    assert kills >= 1

    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT id, status, attempt FROM runs").fetchall()
    assert len(rows) == TESTS * TRIALS  # none missing
    assert all(status in ("passed", "error") for _, status, _ in rows), Counter(s for _, s, _ in rows)
    logged = Counter(int(line) for line in log.read_text().split())
    doubled = [run_id for run_id, times in logged.items() if times > 1]
    assert doubled == []  # no run announced as finished twice
    assert set(logged) <= {run_id for run_id, _, _ in rows}
