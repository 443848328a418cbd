"""The Tests screen against a real daemon: filter, import (errors in place), delete, details, help."""

from __future__ import annotations

from pathlib import Path

from textual.command import CommandList
from textual.widgets import DataTable, Input, Sparkline, Static, TextArea

from callboard.tui.screens.confirm_screen import ConfirmScreen
from callboard.tui.screens.help_screen import HelpScreen
from callboard.tui.screens.import_screen import ImportScreen
from callboard.tui.screens.test_detail_screen import TestDetailScreen
from callboard.tui.screens.tests_screen import TestsScreen
from callboard.tui.widgets.virtual_table import VirtualTable
from tests.api.conftest import DaemonProcess
from tests.tui.conftest import SIZE, make_app, notifications, run_batch, until


def _names(table: VirtualTable) -> list[str]:
    return [test.name for test in table.rows]


async def test_filter_by_name_tag_or_kind(daemon: DaemonProcess) -> None:
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, TestsScreen)
        table = screen.query_one("#tests", VirtualTable)
        await until(pilot, lambda: table.row_count == 7)
        await pilot.press("slash")
        box = screen.query_one("#filter", Input)
        assert box.has_focus
        await pilot.press(*"broken")
        assert _names(table) == ["echo-wrong", "exits-two"]  # by tag
        assert "2 shown (filter: broken)" in str(screen.query_one("#tests-info", Static).render())
        # Keys typed into the box are text, not commands.
        assert not screen.catalog.selected
        box.value = "call"
        await pilot.pause()
        assert _names(table) == ["no-number-yet"]  # by kind
        box.value = "smoke echo"
        await pilot.pause()
        assert _names(table) == ["echo-hello", "echo-wrong"]  # every word must match
        await pilot.press("enter")
        assert table.has_focus and box.display  # the filter stays while the table has the keys
        await pilot.press("a")
        assert screen.catalog.selected == {1, 2}  # "all" means all shown
        await pilot.press("escape")
        assert table.row_count == 7 and not box.value


async def test_import_error_is_shown_in_place_then_a_good_file_imports(
    daemon: DaemonProcess, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[test]]\nname = "x"\nkind = "http"\nrequest = { url = "http://a" }\nchecks = [{ stauts = 200 }]\n'
    )
    good = tmp_path / "good.toml"
    good.write_text('[[test]]\nname = "brand-new"\nkind = "command"\ncommand = "true"\n')
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#tests", VirtualTable)
        await until(pilot, lambda: table.row_count == 7)
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, ImportScreen))
        dialog = app.screen
        dialog.query_one("#import-path", Input).value = str(bad)
        await pilot.press("enter")
        error = dialog.query_one("#import-error", Static)
        await until(pilot, lambda: "stauts" in str(error.render()))
        text = str(error.render())
        assert "bad.toml:1" in text and "test 'x'" in text and "field 'checks[0]'" in text
        assert app.screen is dialog  # still open, to fix the path
        dialog.query_one("#import-path", Input).value = str(good)
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, ImportScreen))
        await until(pilot, lambda: table.row_count == 8)
        assert "brand-new" in _names(table)
        # The toast comes from the dialog's result callback, which Textual runs after the screen is gone:
        # the catalogue's event can refresh the table first.
        await until(pilot, lambda: any("1 added, 0 updated, 0 unchanged" in n for n in notifications(app)))


async def test_delete_asks_first(daemon: DaemonProcess) -> None:
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#tests", VirtualTable)
        await until(pilot, lambda: table.row_count == 7)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and "echo-hello" in confirm.body
        await pilot.press("n")
        await pilot.pause()
        assert table.row_count == 7
        await pilot.press("d", "y")
        await until(pilot, lambda: table.row_count == 6)
        assert "echo-hello" not in _names(table)
    with daemon.http() as http:
        assert http.get("/v1/tests").json()["tests"][0]["name"] == "echo-wrong"


async def test_details_show_definition_and_recent_scores(daemon: DaemonProcess) -> None:
    run_batch(daemon, names=["echo-wrong"])
    run_batch(daemon, names=["echo-wrong"])
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#tests", VirtualTable)
        await until(pilot, lambda: table.row_count == 7)
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, TestDetailScreen))
        detail = app.screen
        definition = detail.query_one("#test-definition", TextArea)
        await until(pilot, lambda: "echo goodbye" in definition.text)
        assert '[[test]]\nname = "echo-wrong"' in definition.text
        assert detail.query_one("#test-scores", Sparkline).data == [50.0, 50.0]
        await pilot.press("escape")
        assert isinstance(app.screen, TestsScreen)


async def test_help_and_palette_list_the_keys_greyed_when_unavailable(daemon: DaemonProcess) -> None:
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        table = screen.query_one("#tests", VirtualTable)
        await until(pilot, lambda: table.row_count == 7)
        titles = [command.title for command in app.get_system_commands(screen)]
        assert "Run all" in titles and "Run selected" not in titles  # nothing selected yet
        await pilot.press("space")
        titles = [command.title for command in app.get_system_commands(screen)]
        assert "Run selected" in titles and "Simulations" in titles and "Tests" not in titles
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        keys = app.screen.query_one(DataTable)
        rows = [list(map(str, keys.get_row_at(index))) for index in range(keys.row_count)]
        assert ["r", "Run selected", "Queue the selected tests"] in rows
        assert ["^r", "Reload", "Read the tests again"] in rows  # not in the footer, still listed here
        await pilot.press("escape")
        # From the command palette, by name.
        await pilot.press("ctrl+p", *"run selected")
        await until(pilot, lambda: any(options.option_count for options in app.screen.query(CommandList)))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and confirm.title_text == "Run 1 test?"


async def test_tests_added_or_deleted_elsewhere_show_without_a_reload(daemon: DaemonProcess) -> None:
    app = make_app(daemon)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one("#tests", VirtualTable)
        await until(pilot, lambda: table.row_count == 7)
        # Another client (the CLI, a script) imports a test, then deletes one.
        added = {"name": "added-elsewhere", "kind": "command", "command": "true"}
        with daemon.http() as http:
            http.post("/v1/tests/import", json={"tests": [added]}).raise_for_status()
        await until(pilot, lambda: "added-elsewhere" in _names(table))
        first = table.rows[0]
        with daemon.http() as http:
            assert http.delete(f"/v1/tests/{first.id}").status_code == 204
        await until(pilot, lambda: first.name not in _names(table))
        assert table.row_count == 7
    await app.context.client.aclose()
