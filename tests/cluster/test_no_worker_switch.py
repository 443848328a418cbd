"""`callboard daemon --no-worker` / `daemon.worker = false`, through the real CLI: a daemon started in the
background keeps the switch; on the SQLite store the flag is refused (nothing would run the tests)."""

from __future__ import annotations

from tests.conftest import CliRunner


def test_a_detached_daemon_keeps_the_no_worker_switch(run_cli: CliRunner, pg_url: str) -> None:
    env = {"CALLBOARD_STORE__URL": pg_url}
    started = run_cli("daemon", "--detach", "--no-worker", env=env)
    assert started.returncode == 0, started.stdout + started.stderr
    checked = run_cli("config", "check", env=env)
    # This shell's settings say true; the daemon it started runs with false.
    assert "daemon.worker = false (here true)" in checked.stdout, checked.stdout
    assert run_cli("daemon", "stop", env=env).returncode == 0


def test_the_setting_turns_the_worker_off_too(run_cli: CliRunner, pg_url: str) -> None:
    env = {"CALLBOARD_STORE__URL": pg_url, "CALLBOARD_DAEMON__WORKER": "false"}
    assert run_cli("daemon", "--detach", env=env).returncode == 0
    checked = run_cli("config", "check", env=env)
    assert "daemon.worker = false" in checked.stdout and "the running daemon" in checked.stdout
    assert "other settings" not in checked.stdout


def test_no_worker_on_the_sqlite_store_is_refused(run_cli: CliRunner) -> None:
    refused = run_cli("daemon", "--no-worker")
    assert refused.returncode == 2
    assert "--no-worker needs a shared store" in refused.stderr and "store.url" in refused.stderr
