"""Shared fixtures: every test gets its own state dir and never sees the user's config."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("CALLBOARD_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """A fresh state dir for this test."""
    path = tmp_path / "state"
    path.mkdir()
    return path


CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(state_dir: Path) -> CliRunner:
    """Run the real ``callboard`` CLI in a subprocess against this test's state dir."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "CALLBOARD_STATE_DIR": str(state_dir), **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "callboard.core", *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=timeout,
        )

    return run
