"""Issue 13 §4, through a real daemon: kill -9 of the daemon leaves no command running, and recovery
kills whatever is left of a command group recorded for an interrupted run before running it again."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from callboard.core.executors.process_group import group_record
from tests.api.conftest import start_daemon_process, wait_batch


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"  # a zombie has already died


def _wait_dead(pids: list[int], timeout_s: float = 10.0) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while (alive := [pid for pid in pids if _alive(pid)]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return alive


def _suite(folder: Path, command: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    suite = folder / "suite.toml"
    suite.write_text(f'[[test]]\nname = "cmd"\nkind = "command"\ncommand = """{command}"""\n')
    return suite


def test_kill_9_of_the_daemon_kills_the_running_command_and_its_children(tmp_path: Path) -> None:
    work = tmp_path / "work"
    suite = _suite(work, "echo $$ >> pids; sleep 120 & echo $! >> pids; wait")
    daemon = start_daemon_process(tmp_path / "state")
    with daemon.http() as http:
        assert http.post("/v1/tests/import", json={"paths": [str(suite)]}).status_code == 200
        assert http.post("/v1/batches", json={"all": True}).status_code == 202
    deadline = time.monotonic() + 20
    while len(pids := _pids(work)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    daemon.stop(signal.SIGKILL)
    assert _wait_dead(pids) == [], "the command outlived the daemon"


def test_recovery_kills_a_recorded_process_group_before_running_again(tmp_path: Path) -> None:
    state = tmp_path / "state"
    work = tmp_path / "work"
    suite = _suite(work, "if [ -e ran ]; then true; else touch ran; sleep 120; fi")
    daemon = start_daemon_process(state)
    with daemon.http() as http:
        http.post("/v1/tests/import", json={"paths": [str(suite)]})
        batch_id = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
        deadline = time.monotonic() + 20
        while not (work / "ran").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the group is recorded just after the command starts
    daemon.stop(signal.SIGKILL)
    # What a command that escaped the death signal looks like: a group with a leader and a child,
    # recorded for the interrupted run.
    leader = subprocess.Popen(["sh", "-c", "sleep 120 & echo $!; wait"], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)  # fmt: skip
    assert leader.stdout is not None
    child = int(leader.stdout.readline())
    record = group_record(leader.pid)
    assert record is not None
    with sqlite3.connect(state / "callboard.db") as db:
        assert db.execute("SELECT external_id FROM runs").fetchone()[0].startswith("pgid:")
        db.execute("UPDATE runs SET external_id = ? WHERE status = 'running'", (record,))
    db.close()
    daemon = start_daemon_process(state)
    try:
        assert leader.wait(timeout=10) == -signal.SIGKILL
        assert _wait_dead([child]) == []
        with daemon.http() as http:
            batch = wait_batch(http, batch_id)
        assert batch["counts"]["passed"] == 1
    finally:
        daemon.stop()
    log = daemon.log()
    assert "1 interrupted runs requeued, 0 ended 'interrupted'" in log
    assert "2 leftover command processes killed" in log


def _pids(folder: Path) -> list[int]:
    try:
        return [int(line) for line in (folder / "pids").read_text().split()]
    except (OSError, ValueError):
        return []
