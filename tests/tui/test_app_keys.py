"""App-wide keys against a real daemon: quitting from every mode, screen and dialog; the command palette
lists callboard's commands only; the cancel dialog's buttons say what they do."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.widgets import Button

from callboard.core.models.runs import RunStatus
from callboard.tui.screens.confirm_screen import ConfirmScreen
from callboard.tui.screens.simulations_screen import SimulationsScreen
from tests.api.conftest import DaemonProcess
from tests.tui.conftest import SIZE, make_app, run_batch, until


@pytest.mark.parametrize(
    "keys",
    [
        ("4", "1"),  # used to raise ScreenStackError on quit
        ("2", "1"),  # likewise
        ("3", "2", "4"),
        ("1", "2", "enter"),  # from a run's details
        ("1", "enter"),  # from a test's details (its own q closes it; the second q quits)
        ("2", "question_mark"),  # from the help (q closes it; the second q quits)
        ("R",),  # from a confirmation
    ],
)
async def test_quitting_is_clean_from_every_screen_and_dialog(
    daemon: DaemonProcess, keys: tuple[str, ...]
) -> None:
    run_batch(daemon, names=["echo-hello"])
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query("#tests") and app.screen.query_one("#tests").row_count)
        for key in keys:
            await pilot.press(key)
            await pilot.pause(0.2)
        # q closes a dialog that has it as its own key, then quits; a y/n question waits for an answer,
        # and ctrl+q quits from anywhere.
        for key in ("q", "q", "ctrl+q"):
            if not app.is_running:
                break
            await pilot.press(key)
            await pilot.pause(0.2)
    await app.context.client.aclose()
    assert app.return_code == 0


async def test_the_palette_lists_callboards_commands_only(daemon: DaemonProcess) -> None:
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.screen.query_one("#tests").row_count)
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Run all", "Import", "Simulations", "Trends", "Help", "Quit"} <= set(titles)
        assert not {"Theme", "Screenshot", "Maximize", "Keys", "Minimize"} & set(titles)
        assert len(titles) == len(set(titles))
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press("escape")
    await app.context.client.aclose()


async def test_the_cancel_dialog_says_cancel_it_or_keep_it(daemon: DaemonProcess) -> None:
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        sims = app.screen
        assert isinstance(sims, SimulationsScreen)
        with daemon.http() as http:
            http.post("/v1/batches", json={"names": ["sleeps-a-while"]}).raise_for_status()
        await until(pilot, lambda: [v.status for v in sims.window.rows.values()] == [RunStatus.RUNNING])
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        labels = [str(button.label) for button in app.screen.query(Button)]
        assert labels == ["Cancel it (y)", "Keep it (n)"]
        await pilot.press("n")
        await until(pilot, lambda: app.screen is sims)
        assert [v.status for v in sims.window.rows.values()] == [RunStatus.RUNNING]
        with daemon.http() as http:
            http.post("/v1/batches/1/cancel").raise_for_status()
    await app.context.client.aclose()


async def test_a_first_run_says_what_to_press(daemon: DaemonProcess) -> None:
    client_app = make_app(daemon)
    app = type(client_app)(client_app.context.client, first_run=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: len(app._notifications) == 1)
        (note,) = list(app._notifications)
        assert note.title == "Welcome: what to press"
        assert note.message.startswith("R runs every test")
        await until(pilot, lambda: app.screen.query_one("#tests").row_count == 7)
        await pilot.press("R")  # and R does what it says
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert app.screen.title_text == "Run 7 tests?"
    await app.context.client.aclose()
    plain = make_app(daemon)
    async with plain.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause(0.3)
        assert list(plain._notifications) == []
    await plain.context.client.aclose()
