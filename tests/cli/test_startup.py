"""Client commands start fast: ``callboard --help`` and ``callboard status`` load neither the server
stack nor Textual (the daemon they talk to has those)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import CliRunner

# What a client following batches never needs: every test and check model, a general HTTP client
# (its own HTTP/1.1 on the daemon's socket is enough; httpcore would import trio where installed), and
# the models of schedules and of reports (a batch that passed needs no report).
NOT_NEEDED = [
    "callboard.core.models.definitions",
    "callboard.core.models.checks",
    "httpx",
    "httpcore",
    "trio",
    "callboard.core.models.schedules",
    "callboard.core.models.reports",
]
HEAVY = [
    "fastapi",
    "uvicorn",
    "starlette",
    "textual",
    "aiosqlite",
    "callboard.storage",
    "callboard.core.engine",
]
_PROBE = """
import atexit, json, sys
heavy = json.loads(sys.argv[1])
loaded = lambda: [m for m in heavy if m in sys.modules]
atexit.register(lambda: print("LOADED " + json.dumps(loaded()), file=sys.stderr))
sys.argv = ["callboard", *sys.argv[2:]]
from callboard.core.cli.main import main
main()
"""


def _loaded(state_dir: Path, *args: str, heavy: list[str] = HEAVY) -> list[str]:
    env = {**os.environ, "CALLBOARD_STATE_DIR": str(state_dir)}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(heavy), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    line = next(line for line in result.stderr.splitlines() if line.startswith("LOADED "))
    loaded: list[str] = json.loads(line.removeprefix("LOADED "))
    return loaded


def _import_one_quick_test(run_cli: CliRunner, tmp_path: Path) -> None:
    suite = tmp_path / "quick.toml"
    suite.write_text('[[test]]\nname = "quick"\nkind = "command"\ncommand = "true"\n')
    assert run_cli("import", str(suite)).returncode == 0


def test_help_and_status_load_no_server_stack(run_cli: CliRunner, state_dir: Path) -> None:
    assert _loaded(state_dir, "--help") == []
    assert run_cli("daemon", "--detach").returncode == 0
    assert _loaded(state_dir, "status") == []
    assert _loaded(state_dir, "runs", "--json") == []


def test_run_wait_and_status_build_no_test_definition(
    run_cli: CliRunner, state_dir: Path, tmp_path: Path
) -> None:
    _import_one_quick_test(run_cli, tmp_path)
    assert _loaded(state_dir, "run", "--all", "--wait", heavy=NOT_NEEDED) == []
    assert _loaded(state_dir, "status", "--json", heavy=NOT_NEEDED) == []
    assert _loaded(state_dir, "tests", "--json", heavy=NOT_NEEDED) == []
    assert "passed" in run_cli("runs").stdout  # the batch did run, through the light path


# Records which of the display's modules were loaded when the batch was sent to the daemon.
_AT_QUEUE_PROBE = """
import json, sys
from callboard.core.client import CallboardClient
create_batch = CallboardClient.create_batch
DISPLAY = ("rich", "callboard.core.cli.run_display")
async def observed(self, request):
    print("AT QUEUE " + json.dumps([m for m in DISPLAY if m in sys.modules]), file=sys.stderr)
    return await create_batch(self, request)
CallboardClient.create_batch = observed
sys.argv = ["callboard", *sys.argv[1:]]
from callboard.core.cli.main import main
main()
"""


def test_run_wait_queues_the_batch_before_loading_the_display(
    run_cli: CliRunner, state_dir: Path, tmp_path: Path
) -> None:
    _import_one_quick_test(run_cli, tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", _AT_QUEUE_PROBE, "run", "--all", "--wait"],
        capture_output=True,
        text=True,
        env={**os.environ, "CALLBOARD_STATE_DIR": str(state_dir)},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "AT QUEUE []" in done.stderr.splitlines()
    # The display loaded after that, and showed the batch as it went and at its end.
    assert done.stdout.startswith("batch 1 queued: 1 run\n")
    assert "1/1 pass 100.0%" in done.stdout and "pass rate" in done.stdout
