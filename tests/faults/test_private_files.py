"""Issue 13 §2, through a real daemon: its database (WAL and SHM too), logs and folders are private
(0600 / 0700) whatever the umask it was started with, files an older version left readable are
tightened, and a socket configured in a shared folder goes into a private subfolder instead of
making the shared folder private."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.conftest import start_daemon_process, wait_batch

HARNESS_FILES = {"daemon.out"}  # written by the test harness, not by callboard


@pytest.fixture(autouse=True)
def _permissive_umask() -> Iterator[None]:
    old = os.umask(0o022)  # what a login shell usually has
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_state_files_are_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "logs").mkdir(parents=True)
    old_log = state / "logs" / "daemon.log.1"
    old_log.write_text("an older version's log\n")
    old_log.chmod(0o644)
    suite = tmp_path / "suite.toml"
    suite.write_text('[[test]]\nname = "c"\nkind = "command"\ncommand = "touch made-by-command"\n')
    daemon = start_daemon_process(state, DAEMON__SOCKET_PATH=str(tmp_path / "fresh" / "sock" / "cb.sock"))
    try:
        with daemon.http() as http:
            http.post("/v1/tests/import", json={"paths": [str(suite)]})
            wait_batch(http, http.post("/v1/batches", json={"all": True}).json()["batch"]["id"])
        files = [p for p in state.rglob("*") if p.is_file() and p.name not in HARNESS_FILES]
        names = {p.name for p in files}
        assert {"callboard.db", "callboard.db-wal", "callboard.db-shm", "daemon.log"} <= names, names
        assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
        # Folders callboard created are 0700; the socket is 0600.
        assert _mode(tmp_path / "fresh") == 0o700 and _mode(tmp_path / "fresh" / "sock") == 0o700
        assert _mode(daemon.paths.socket) == 0o600
        # Commands keep the umask the daemon was started with: their files are the user's business.
        assert _mode(tmp_path / "made-by-command") == 0o644
    finally:
        daemon.stop()


def test_a_socket_in_a_shared_folder_goes_into_a_private_subfolder(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    configured = shared / "cb.sock"
    daemon = start_daemon_process(tmp_path / "state", DAEMON__SOCKET_PATH=str(configured))
    try:
        assert _mode(shared) == 0o1777, "a folder callboard did not create was changed"
        assert daemon.paths.socket == shared / f"callboard-{os.getuid()}" / "cb.sock"
        assert _mode(daemon.paths.socket.parent) == 0o700
        with daemon.http() as http:
            assert http.get("/v1/health").status_code == 200
    finally:
        daemon.stop()
    assert not configured.exists()
