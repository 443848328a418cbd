"""The real ``callboard`` command in a subprocess, against a real state dir."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from callboard.core.demo.process import demo_agent_process
from tests.conftest import EXAMPLES, CliRunner

EXAMPLE_FILES = [str(path) for path in sorted(EXAMPLES.glob("*.toml")) + sorted(EXAMPLES.glob("*.csv"))]


def _names(run_cli: CliRunner, *args: str) -> list[str]:
    result = run_cli("tests", "--json", *args)
    assert result.returncode == 0, result.stderr
    return [row["name"] for row in json.loads(result.stdout)]


def test_version_and_help(run_cli: CliRunner) -> None:
    assert run_cli("--version").stdout.startswith("callboard, version ")
    help_text = run_cli("--help").stdout
    for command in ("import", "tests", "export-tests", "config", "run", "demo-agent"):
        assert command in help_text


def test_every_listed_command_loads(run_cli: CliRunner) -> None:
    """Each command the top-level help lists resolves to its module (they load lazily, by name)."""
    listing = run_cli("--help").stdout.split("Commands:", 1)[1]
    commands = [line.split()[0] for line in listing.splitlines() if line.startswith("  ") and line.split()]
    assert {"trends", "pause", "resume", "prune", "demo", "simulator", "demo-agent"} <= set(commands)
    for command in commands:
        result = run_cli(command, "--help")
        assert result.returncode == 0, (command, result.stderr)
        assert f"callboard {command} " in result.stdout, command


def test_import_is_idempotent_and_updates_by_name(run_cli: CliRunner, tmp_path: Path) -> None:
    first = run_cli("import", *EXAMPLE_FILES)
    assert first.returncode == 0, first.stderr
    assert "added: 20" in first.stdout
    second = run_cli("import", *EXAMPLE_FILES)
    assert "added: 0" in second.stdout and "unchanged: 20" in second.stdout
    changed = tmp_path / "http.toml"
    changed.write_text(
        (EXAMPLES / "http.toml").read_text().replace("latency_ms_below = 800", "latency_ms_below = 900")
    )
    third = run_cli("import", str(changed))
    assert "updated: 1 (greets-caller)" in third.stdout and "unchanged: 2" in third.stdout
    assert len(_names(run_cli)) == 20
    assert _names(run_cli, "--tag", "smoke") == ["csv-health", "greets-caller", "health", "python-version"]
    assert _names(run_cli, "--kind", "conversation") == [
        "asks-sunday-hours", "books-cleaning", "busy-parent-books",
        "reschedules-appointment", "retiree-reschedules",
    ]  # fmt: skip


def test_bad_file_stores_nothing_and_names_the_place(run_cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,url,expected_status\nok,http://localhost/a,200\nbroken,http://localhost/b,abc\n")
    result = run_cli("import", str(EXAMPLES / "http.toml"), str(bad))
    assert result.returncode == 2
    assert f"{bad}:3: test 'broken': field 'expected_status': 'abc' is not a number" in result.stderr
    assert "nothing stored" in result.stderr
    assert _names(run_cli) == []


def test_export_round_trips_through_import(run_cli: CliRunner, tmp_path: Path, state_dir: Path) -> None:
    assert run_cli("import", *EXAMPLE_FILES).returncode == 0
    exported = tmp_path / "all.toml"
    assert run_cli("export-tests", "-o", str(exported)).returncode == 0
    before = json.loads(run_cli("tests", "--json").stdout)
    elsewhere = tmp_path / "other-state"
    assert run_cli("--state-dir", str(elsewhere), "import", str(exported)).returncode == 0
    after = json.loads(run_cli("--state-dir", str(elsewhere), "tests", "--json").stdout)
    strip = [{k: v for k, v in row.items() if k != "id"} for row in before]
    assert [{k: v for k, v in row.items() if k != "id"} for row in after] == strip
    assert run_cli("import", str(exported)).stdout.startswith("added: 0")


def test_large_csv_imports(run_cli: CliRunner, tmp_path: Path) -> None:
    big = tmp_path / "suite.csv"
    lines = ["name,kind,url,method,body,expected_status,expected_text,tags"]
    lines += [
        f'case-{i:05},http,http://127.0.0.1:8700/chat,POST,"{{""message"": ""hello {i}""}}",200,help,bulk'
        for i in range(4180)
    ]
    big.write_text("\n".join(lines) + "\n")
    result = run_cli("import", str(big), timeout=120)
    assert result.returncode == 0, result.stderr
    assert "added: 4180" in result.stdout
    assert len(_names(run_cli, "--tag", "bulk")) == 4180


def test_config_check_masks_secrets_and_exits_2_on_a_bad_value(run_cli: CliRunner) -> None:
    good = run_cli("config", "check", env={"CALLBOARD_TWILIO__AUTH_TOKEN": "tok-abc-123"})
    assert good.returncode == 0
    assert 'twilio.auth_token = "**********"' in good.stdout and "tok-abc-123" not in good.stdout
    bad = run_cli("config", "check", env={"CALLBOARD_ENGINE__CONCURRENCY": "lots"})
    assert bad.returncode == 2
    assert "engine.concurrency" in bad.stderr and "CALLBOARD_ENGINE__CONCURRENCY" in bad.stderr


def test_bad_config_file_names_key_and_file(run_cli: CliRunner, tmp_path: Path) -> None:
    config = tmp_path / "callboard.toml"
    config.write_text("[engine]\nconcurrency = 0\n")
    result = run_cli("--config", str(config), "tests")
    assert result.returncode == 2
    assert "engine.concurrency" in result.stderr and str(config) in result.stderr


def test_locked_database_is_a_clear_error(run_cli: CliRunner, state_dir: Path) -> None:
    assert run_cli("import", str(EXAMPLES / "http.toml")).returncode == 0
    holder = sqlite3.connect(state_dir / "callboard.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = run_cli(
            "import", str(EXAMPLES / "commands.toml"), env={"CALLBOARD_STORE__BUSY_TIMEOUT_MS": "200"}
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 1
    assert "locked" in result.stderr and "callboard.db" in result.stderr
    assert "Traceback" not in result.stderr


def test_newer_database_is_refused_untouched(run_cli: CliRunner, state_dir: Path) -> None:
    db = state_dir / "callboard.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 99")
    before = db.read_bytes()
    result = run_cli("tests")
    assert result.returncode == 1 and "99" in result.stderr and "Traceback" not in result.stderr
    assert db.read_bytes() == before


@pytest.fixture
def agent_suite(tmp_path: Path) -> Iterator[Path]:
    """The example http suite pointed at a demo agent on a free port."""
    with demo_agent_process(latency_ms=1) as url:
        suite = tmp_path / "http.toml"
        suite.write_text((EXAMPLES / "http.toml").read_text().replace("http://127.0.0.1:8700", url))
        yield suite


def test_run_to_completion_exit_status_from_results(
    run_cli: CliRunner, agent_suite: Path, tmp_path: Path
) -> None:
    assert run_cli("import", str(agent_suite)).returncode == 0
    passing = run_cli("run", "--tag", "smoke", "--repeat", "3", "--wait", timeout=120)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "passed" in passing.stdout
    runs = json.loads(run_cli("tests", "--json").stdout)
    assert {row["name"]: row["last_status"] for row in runs}["health"] == "passed"

    failing = tmp_path / "failing.toml"
    url = agent_suite.read_text().split('url = "')[1].split("/health")[0]
    failing.write_text(f'[[test]]\nname = "wrong"\nkind = "http"\nrequest = {{ url = "{url}/hours" }}\n'
                       'checks = [{ jsonpath = "$.sunday", equals = "open" }]\n')  # fmt: skip
    assert run_cli("import", str(failing)).returncode == 0
    result = run_cli("run", "wrong", "--wait", timeout=120)
    assert result.returncode == 1
    assert "wrong" in result.stdout and "failed" in result.stdout


def test_run_refuses_an_empty_or_unknown_selection(run_cli: CliRunner) -> None:
    assert run_cli("run").returncode == 2
    unknown = run_cli("run", "ghost")
    assert unknown.returncode == 2 and "no such test(s): ghost" in unknown.stderr
