"""A voice run's recording opens in the system's player from the run's details (``o``); other runs have
no such key. The system player is stood in for by an ``xdg-open`` on PATH that notes what it was given."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from callboard.core.simulator import simulator_process
from callboard.tui.screens.run_detail_screen import RunDetailScreen
from tests.api.conftest import DaemonProcess
from tests.tui.conftest import SIZE, make_app, notifications, run_batch, until


@pytest.fixture(scope="module")
def sim_url() -> Iterator[str]:
    with simulator_process() as url:
        yield url


@pytest.fixture
def player(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the stand-in player writes the path it was asked to open."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opened = tmp_path / "opened.txt"
    script = bin_dir / "xdg-open"
    script.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{opened}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return opened


async def test_o_opens_a_voice_runs_recording(daemon: DaemonProcess, sim_url: str, player: Path) -> None:
    voice = {
        "name": "voice-hello",
        "kind": "voice",
        "endpoint": {"url": sim_url.replace("http://", "ws://", 1) + "/media"},
        "caller": [{"wait": "speech"}, {"hangup": True}],
    }
    with daemon.http() as http:
        http.post("/v1/tests/import", json={"tests": [voice]}).raise_for_status()
    run_batch(daemon, names=["voice-hello", "echo-hello"])
    with daemon.http() as http:
        runs = {run["test_name"]: run["id"] for run in http.get("/v1/runs").json()["runs"]}
        recording = http.get(f"/v1/runs/{runs['voice-hello']}").json()["artifacts"]["recording"]
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(RunDetailScreen(runs["echo-hello"]))
        screen = app.screen
        assert isinstance(screen, RunDetailScreen)
        await until(pilot, lambda: screen.run is not None)
        assert screen.check_action("open_recording", ()) is False  # a command run has no recording
        await pilot.press("escape")
        await app.push_screen(RunDetailScreen(runs["voice-hello"]))
        voice_screen = app.screen
        assert isinstance(voice_screen, RunDetailScreen)
        await until(pilot, lambda: voice_screen.run is not None)
        await pilot.press("o")
        await until(pilot, lambda: any(f"Opening {recording}" in note for note in notifications(app)))
        deadline = time.monotonic() + 10
        while not (player.exists() and player.read_text()):
            assert time.monotonic() < deadline, "the player was not started"
            await pilot.pause(0.05)
    assert player.read_text() == recording
