"""Issue 13 §6, through a real daemon and the real CLI: every bad input gets an error naming its place
(a 4xx from the API, exit status 2 from the CLI) and changes nothing — never "internal error"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import DaemonProcess, start_daemon_process
from tests.conftest import CliRunner

HTTP_TEST = '[[test]]\nname = "{name}"\nkind = "http"\nrequest = {{ url = "http://127.0.0.1:9/" }}\n'


@pytest.fixture
def daemon(tmp_path: Path) -> DaemonProcess:
    process = start_daemon_process(tmp_path / "state")
    yield process  # type: ignore[misc]
    process.stop()


def _refused(response: httpx.Response, status: int = 422) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] != "internal"
    return str(error["message"])


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name,url\ncafé,http://127.0.0.1:9/\n".encode("latin-1"), "line 2 (byte 12)"),
        ("name,url\nx,http://127.0.0.1:9/\n".encode("utf-16"), "the file is UTF-16"),
        (b"name,url\n\x00\xff\xfe\x80binary", "line 2 (byte 10)"),
    ],
)
def test_a_csv_that_is_not_utf8_is_refused_with_its_place(
    daemon: DaemonProcess, tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "suite.csv"
    path.write_bytes(content)
    with daemon.http() as http:
        message = _refused(http.post("/v1/tests/import", json={"paths": [str(path)]}))
        assert "not UTF-8" in message and expected in message and str(path) in message
        assert http.get("/v1/tests").json()["tests"] == []


def test_names_with_control_characters_are_refused(daemon: DaemonProcess) -> None:
    with daemon.http() as http:
        for name in ("nul\x00byte", "two\nlines", "bell\x07", "   "):
            test = {"name": name, "kind": "http", "request": {"url": "http://127.0.0.1:9/"}}
            message = _refused(http.post("/v1/tests/import", json={"tests": [test]}))
            assert "body.tests.0.http.name" in message
            assert "control characters" in message or "blank" in message
        schedule = {"name": "nightly\n2026-01-01 ERROR forged", "interval_s": 60, "all": True}
        assert "body.name" in _refused(http.post("/v1/schedules", json=schedule))
        for ids in ([0], [-5]):
            spec = {"name": "s", "interval_s": 60, "ids": ids}
            assert "body.ids.0" in _refused(http.post("/v1/schedules", json=spec))
        assert http.get("/v1/tests").json()["tests"] == []
        assert http.get("/v1/schedules").json()["schedules"] == []


def test_only_regular_files_are_imported(daemon: DaemonProcess, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    with daemon.http() as http:
        for path, what in ((fifo, "not a regular file"), (folder, "a folder"), (Path("/dev/zero"), "suite")):
            message = _refused(http.post("/v1/tests/import", json={"paths": [str(path)]}, timeout=10))
            assert str(path) in message and what in message
        # The daemon is still whole: a good import goes through.
        good = tmp_path / "good.toml"
        good.write_text(HTTP_TEST.format(name="ok"))
        assert http.post("/v1/tests/import", json={"paths": [str(good)]}).status_code == 200


def test_toml_suites_empty_or_with_a_byte_order_mark(daemon: DaemonProcess, tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing yet\n")
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + HTTP_TEST.format(name="with-bom").encode())
    with daemon.http() as http:
        assert "no tests" in _refused(http.post("/v1/tests/import", json={"paths": [str(empty)]}))
        imported = http.post("/v1/tests/import", json={"paths": [str(bom)]})
        assert imported.status_code == 200 and imported.json()["added"] == ["with-bom"]


def test_the_cli_exits_2_naming_the_place(run_cli: CliRunner, tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,url\ncafé,http://127.0.0.1:9/\n".encode("latin-1"))
    done = run_cli("import", str(latin))
    assert done.returncode == 2 and "not UTF-8 text at line 2" in done.stderr, done.stderr
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    done = run_cli("import", str(empty))
    assert done.returncode == 2 and "no tests" in done.stderr, done.stderr


def test_config_errors_from_the_environment_name_the_variable(run_cli: CliRunner) -> None:
    done = run_cli("config", "check", env={"CALLBOARD_TWILIO__ALLOWED_NUMBERS": "+1555"})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "environment variable CALLBOARD_TWILIO__ALLOWED_NUMBERS" in done.stderr and "JSON" in done.stderr
    done = run_cli("config", "check", env={"CALLBOARD_TWILIO__ALLOWED_NUMBERS": '["x"]'})
    assert done.returncode == 2
    assert "(environment variable CALLBOARD_TWILIO__ALLOWED_NUMBERS)" in done.stderr, done.stderr


def test_a_relative_state_dir_is_refused_naming_its_source(run_cli: CliRunner, tmp_path: Path) -> None:
    """The environment and the config file must give an absolute state dir (a relative one would
    depend on each command's working folder); ``--state-dir`` is resolved against it, as arguments are."""
    done = run_cli("config", "check", env={"CALLBOARD_STATE_DIR": "5"}, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "setting 'state_dir' (environment variable CALLBOARD_STATE_DIR)" in done.stderr, done.stderr
    assert "must be an absolute path" in done.stderr and not (tmp_path / "5").exists()
    config = tmp_path / "relative.toml"
    config.write_text('state_dir = "relative-state"\n')
    without_env = {name: value for name, value in os.environ.items() if not name.startswith("CALLBOARD_")}
    done = subprocess.run(
        [sys.executable, "-m", "callboard.core", "--config", str(config), "config", "check"],
        capture_output=True, text=True, env=without_env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and f"(config file {config})" in done.stderr, done.stderr
    assert "must be an absolute path" in done.stderr and not (tmp_path / "relative-state").exists()
    done = run_cli("--state-dir", "here", "config", "check", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["state_dir"] == str(tmp_path / "here")


def test_a_socket_path_too_long_is_named(run_cli: CliRunner, tmp_path: Path) -> None:
    long_path = tmp_path / ("x" * 60) / ("y" * 60) / "cb.sock"
    done = run_cli("daemon", env={"CALLBOARD_DAEMON__SOCKET_PATH": str(long_path)}, timeout=30)
    assert done.returncode == 1 and "None" not in done.stderr
    assert "longer than a Unix socket address allows" in done.stderr, done.stderr


def test_schedule_errors_speak_of_the_cli_options(run_cli: CliRunner) -> None:
    done = run_cli("schedule", "add", "nightly", "--every", "0", "--all")
    assert done.returncode == 2 and "--every" in done.stderr, done.stderr
    assert "interval_s" not in done.stderr and "pydantic" not in done.stderr
    done = run_cli("schedule", "add", "nightly", "--cron", "0 2 * * *", "--every", "5m", "--all")
    assert done.returncode == 2 and "give exactly one of --cron and --every" in done.stderr, done.stderr


def test_an_unsupported_method_gets_405_with_allow(daemon: DaemonProcess) -> None:
    with daemon.http() as http:
        response = http.request("TRACE", "/v1/health")
        assert response.status_code == 405 and response.json()["error"]["code"] == "method_not_allowed"
        assert response.headers["allow"] == "GET"
        assert "POST" in http.request("TRACE", "/v1/tests").headers["allow"]


def test_a_read_only_database_is_named_and_leaves_nothing_behind(run_cli: CliRunner, state_dir: Path) -> None:
    started = run_cli("daemon", "--detach")
    assert started.returncode == 0, started.stderr
    assert run_cli("daemon", "stop").returncode == 0
    db = state_dir / "callboard.db"
    # Root ignores file modes: the immutable attribute makes the file read-only even for root.
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("this filesystem cannot make a file immutable (chattr +i)")
    try:
        done = run_cli("daemon", timeout=30)
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert f"cannot open database {db}: attempt to write a readonly database" in done.stderr
    assert not Path(f"{db}-shm").exists() and not Path(f"{db}-wal").exists()
    assert run_cli("daemon", "--detach").returncode == 0
