"""Issue 13 §3, through a real daemon: a store that cannot commit (locked by another process, or a
full disk) does not strand a batch. No run starts while it lasts, finished results wait in memory,
health answers 503 ``store_unavailable``, the fault is logged once, and when the store is back the
batch goes on by itself with nothing executed twice.

The disk-full case runs the state directory on a small tmpfs mounted for the test (CI runs as root);
it is skipped, with the reason, only where mounting is impossible."""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.api.conftest import DaemonProcess, start_daemon_process

TESTS = 40
CONCURRENCY = 4  # the default limit of command tests


def _suite(work: Path) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    suite = work / "suite.toml"
    body = "".join(
        f'[[test]]\nname = "c{i:02d}"\nkind = "command"\ncommand = "echo {i} >> runs; sleep 0.1"\n\n'
        for i in range(TESTS)
    )
    suite.write_text(body)
    return suite


def _executions(work: Path) -> list[str]:
    path = work / "runs"
    return path.read_text().split() if path.exists() else []


def _wait(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _ride_out_a_fault(
    daemon: DaemonProcess, work: Path, begin: Callable[[], None], end: Callable[[], None]
) -> dict[str, float]:
    """Run a batch through a store fault; returns the figures measured."""
    with daemon.http() as http:
        assert http.post("/v1/tests/import", json={"paths": [str(_suite(work))]}).status_code == 200
        batch_id = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
        _wait(lambda: len(_executions(work)) >= 8)
        begin()
        _wait(lambda: http.get("/v1/health").status_code == 503)
        answer = http.get("/v1/health").json()["error"]
        assert answer["code"] == "store_unavailable"
        assert answer["details"][0]["status"] == "store_unavailable"
        assert "cannot commit" in answer["details"][0]["store_fault"]
        assert "cannot commit" in http.get("/v1/queue").json()["store_fault"]
        # Runs that were already going end; no new one starts while the fault lasts.
        time.sleep(0.6)
        during = len(_executions(work))
        time.sleep(1.0)
        assert len(_executions(work)) == during < TESTS
        assert http.get("/v1/batches/" + str(batch_id)).json()["status"] == "running"
        end()
        back = time.monotonic()
        _wait(lambda: len(_executions(work)) > during)
        first_new_run_s = time.monotonic() - back
        _wait(lambda: http.get(f"/v1/batches/{batch_id}").json()["status"] != "running")
        batch = http.get(f"/v1/batches/{batch_id}").json()
        assert http.get("/v1/health").status_code == 200
    assert batch["status"] == "finished" and batch["counts"]["passed"] == TESTS, batch["counts"]
    assert sorted(_executions(work), key=int) == [str(i) for i in range(TESTS)], "a run executed twice"
    with sqlite3.connect(daemon.state_dir / "callboard.db") as db:
        attempts = db.execute("SELECT status, attempt, COUNT(*) FROM runs GROUP BY 1, 2").fetchall()
    db.close()
    assert attempts == [("passed", 1, TESTS)]
    log = daemon.log()
    assert log.count("cannot commit") == 1 and log.count("commits again") == 1, log
    assert "Traceback" not in log
    return {"first_new_run_s": first_new_run_s}


def test_a_locked_store_pauses_the_batch_which_resumes_by_itself(tmp_path: Path) -> None:
    daemon = start_daemon_process(tmp_path / "state", STORE__BUSY_TIMEOUT_MS="200")
    locker = sqlite3.connect(daemon.state_dir / "callboard.db", isolation_level=None)

    def lock() -> None:
        locker.execute("BEGIN EXCLUSIVE")

    def unlock() -> None:
        locker.execute("ROLLBACK")

    try:
        figures = _ride_out_a_fault(daemon, tmp_path / "work", lock, unlock)
    finally:
        locker.close()
        daemon.stop()
    print(f"locked store: first run {figures['first_new_run_s']:.3f} s after the lock was released")


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs of its own (needs root); skipped with the reason where it cannot be mounted."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs for the disk-full test: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_pauses_the_batch_which_resumes_by_itself(tmp_path: Path, small_filesystem: Path) -> None:
    state = small_filesystem / "state"
    state.mkdir()
    # The logs live on another disk, as the test reads them; the database fills its own.
    outside = tmp_path / "outside"
    (outside / "logs").mkdir(parents=True)
    (state / "logs").symlink_to(outside / "logs")
    (state / "daemon.out").symlink_to(outside / "daemon.out")
    filler = small_filesystem / "filler"

    def fill() -> None:
        # Unbuffered, so nothing is left to write at close: big chunks, then what the last one left.
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for size in (65536, 512, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)

    daemon = start_daemon_process(state)
    try:
        figures = _ride_out_a_fault(daemon, tmp_path / "work", fill, filler.unlink)
    finally:
        daemon.stop()
    assert "full" in daemon.log()
    print(f"full disk: first run {figures['first_new_run_s']:.3f} s after space was freed")


def test_the_daemon_stops_cleanly_during_a_store_fault(tmp_path: Path) -> None:
    work = tmp_path / "work"
    daemon = start_daemon_process(
        tmp_path / "state", STORE__BUSY_TIMEOUT_MS="200", ENGINE__SHUTDOWN_GRACE_S="1"
    )
    locker = sqlite3.connect(daemon.state_dir / "callboard.db", isolation_level=None)
    try:
        with daemon.http() as http:
            http.post("/v1/tests/import", json={"paths": [str(_suite(work))]})
            batch_id = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
            _wait(lambda: len(_executions(work)) >= 4)
            locker.execute("BEGIN EXCLUSIVE")
            _wait(lambda: http.get("/v1/health").status_code == 503)
        assert daemon.stop(timeout=60) == 0
    finally:
        locker.close()
    assert "Traceback" not in daemon.log()
    # What was not stored is recovered at the next start: the batch still ends with every test passed.
    daemon = start_daemon_process(daemon.state_dir)
    try:
        with daemon.http() as http:
            _wait(lambda: http.get(f"/v1/batches/{batch_id}").json()["status"] != "running", 60)
            assert http.get(f"/v1/batches/{batch_id}").json()["counts"]["passed"] == TESTS
    finally:
        daemon.stop()
