"""The README's recipe for pointing your own state dir at the telephony simulator works as written:
its ``[twilio]`` block (the simulator's documented test account) and a call test through the CLI."""

from __future__ import annotations

import re
from pathlib import Path

from callboard.core.simulator.config import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from callboard.core.simulator.server import simulator_process
from tests.conftest import EXAMPLES, REPO, CliRunner


def _readme_twilio_block() -> str:
    found = re.search(
        r"cat >> callboard.toml <<'TOML'\n(.*?)\nTOML\n", (REPO / "README.md").read_text(), re.S
    )
    assert found, "the README lost its simulator recipe"
    return found.group(1)


def test_the_readme_simulator_recipe_places_a_call(run_cli: CliRunner, tmp_path: Path) -> None:
    block = _readme_twilio_block()
    assert DEFAULT_ACCOUNT_SID in block and DEFAULT_AUTH_TOKEN in block  # the documented credentials
    with simulator_process() as url:
        # The tests run in tmp_path: ./callboard.toml is the config file, as in the README.
        (tmp_path / "callboard.toml").write_text(block.replace("http://127.0.0.1:8710", url) + "\n")
        assert run_cli("import", str(EXAMPLES / "calls.toml")).returncode == 0
        result = run_cli("run", "after-hours-call", "--wait", timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"│\s+1 │\s+1 │", result.stdout), result.stdout
