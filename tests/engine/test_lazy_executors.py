"""The daemon loads an executor's stack only when a test of its kind runs: a daemon that runs HTTP tests
never imports twilio, numpy, the voice stack or the model client (issue #18: its memory)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# What each kind's executor brings in, which the daemon does not need for HTTP tests.
# (The settings import core.telephony's settings module, plain pydantic: its call flow is the stack.)
STACKS = ["twilio", "numpy", "webrtcvad", "callboard.core.telephony.call_flow", "callboard.core.voice.caller"]
_PROBE = """
import json, sys
import callboard.core.daemon.server  # everything the daemon imports to start
from callboard.core.config import load_settings
from callboard.core.executors.registry import build_executors

stacks = json.loads(sys.argv[1])
settings = load_settings()
executors = build_executors(twilio=settings.twilio, llm=settings.llm, voice=settings.voice)
loaded = lambda: [name for name in stacks if name in sys.modules]
report = {"kinds": sorted(executors), "started": loaded()}
executors["http"]
executors["command"]
report["after_http"] = loaded()
executors["call"]
report["after_call"] = loaded()
print(json.dumps(report))
"""


def test_only_the_kinds_that_run_load_their_stacks(tmp_path: Path) -> None:
    env = {**os.environ, "CALLBOARD_STATE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(STACKS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["kinds"] == ["call", "command", "conversation", "http", "voice"]
    assert report["started"] == []
    assert report["after_http"] == []
    assert {"twilio", "callboard.core.telephony.call_flow"} <= set(report["after_call"])
