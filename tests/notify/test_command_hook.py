"""Command hook: the summary in environment variables, no shell, and what counts as failure."""

from __future__ import annotations

import json
import shlex
import sys
import time
from pathlib import Path

import pytest

from callboard.core.notify.base import NotifyError
from callboard.core.notify.command import CommandSender
from callboard.core.notify.settings import CommandHookSettings
from tests.notify.support import make_summary

HOOK = """
import json, os, sys
with open(sys.argv[1], "w") as out:
    env = {name: value for name, value in os.environ.items() if name.startswith("CALLBOARD_")}
    json.dump({"env": env, "argv": sys.argv[2:]}, out)
"""


def _python(tmp_path: Path, code: str, *args: str, timeout_s: float = 10.0) -> CommandSender:
    script = tmp_path / "dir with space" / "hook.py"
    script.parent.mkdir(exist_ok=True)
    script.write_text(code)
    command = shlex.join([sys.executable, str(script), *args])
    return CommandSender(CommandHookSettings(command=command, timeout_s=timeout_s))


async def test_the_hook_gets_the_summary_in_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLBOARD_TWILIO__AUTH_TOKEN", "daemon-secret")
    out = tmp_path / "env.json"
    await _python(tmp_path, HOOK, str(out), "$HOME", "a;b").send(make_summary())
    written = json.loads(out.read_text())
    assert written["argv"] == ["$HOME", "a;b"]  # no shell: nothing expanded, nothing split
    env = written["env"]
    assert "CALLBOARD_TWILIO__AUTH_TOKEN" not in env
    assert {key: env[f"CALLBOARD_{key}"] for key in ("BATCH_ID", "BATCH_LABEL", "BATCH_STATUS", "TOTAL")} == {
        "BATCH_ID": "42",
        "BATCH_LABEL": "nightly smoke",
        "BATCH_STATUS": "finished",
        "TOTAL": "10",
    }
    assert (env["CALLBOARD_PASSED"], env["CALLBOARD_FAILED"], env["CALLBOARD_ERROR"]) == ("7", "2", "1")
    assert (env["CALLBOARD_PASS_RATE"], env["CALLBOARD_PREVIOUS_PASS_RATE"]) == ("70.0", "90.0")
    assert env["CALLBOARD_SCHEDULE_NAME"] == "nightly"
    assert env["CALLBOARD_REPORT_HINT"] == "callboard report 42"
    assert json.loads(env["CALLBOARD_SUMMARY_JSON"]) == make_summary().as_dict()


async def test_unknown_values_are_empty(tmp_path: Path) -> None:
    out = tmp_path / "env.json"
    summary = make_summary(schedule_id=None, schedule_name=None, previous_pass_rate=None, finished_at=None)
    await _python(tmp_path, HOOK, str(out)).send(summary)
    env = json.loads(out.read_text())["env"]
    for key in ("SCHEDULE_ID", "SCHEDULE_NAME", "PREVIOUS_PASS_RATE", "FINISHED_AT"):
        assert env[f"CALLBOARD_{key}"] == "", key


async def test_a_non_zero_exit_is_a_failure_with_the_last_stderr_line(tmp_path: Path) -> None:
    code = "import sys\nsys.stderr.write('starting\\nno route to chat\\n\\n')\nsys.exit(3)"
    with pytest.raises(NotifyError, match=r"^python[\d.]* exited with 3: no route to chat$"):
        await _python(tmp_path, code).send(make_summary())


async def test_a_hook_over_its_timeout_is_killed(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(NotifyError, match=r"timed out after 0\.3s"):
        await _python(tmp_path, "import time\ntime.sleep(30)", timeout_s=0.3).send(make_summary())
    assert time.monotonic() - started < 5


async def test_a_missing_program_is_a_failure(tmp_path: Path) -> None:
    sender = CommandSender(CommandHookSettings(command=f"{tmp_path}/no-such-hook --token=abc"))
    with pytest.raises(NotifyError, match=r"^cannot start no-such-hook: No such file or directory$"):
        await sender.send(make_summary())
