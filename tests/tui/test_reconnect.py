"""The daemon goes away and comes back: a banner while it is gone, then every table re-read."""

from __future__ import annotations

import signal
from itertools import groupby

from callboard.core.models.runs import RunStatus
from callboard.tui.messages import ConnectionChanged, Resync
from callboard.tui.screens.simulations_screen import SimulationsScreen
from callboard.tui.widgets.status_header import ConnectionBanner, StatusHeader
from tests.api.conftest import DaemonProcess, start_daemon_process
from tests.tui.conftest import SIZE, Captured, make_app, until


async def test_banner_while_disconnected_then_resync(daemon: DaemonProcess) -> None:
    captured = Captured()
    app = make_app(daemon)
    async with app.run_test(size=SIZE, message_hook=captured) as pilot:
        await pilot.press("2")
        sims = app.screen
        assert isinstance(sims, SimulationsScreen)
        banner = sims.query_one(ConnectionBanner)
        header = sims.query_one(StatusHeader)
        await until(pilot, lambda: header.connected)
        assert not banner.display
        with daemon.http() as http:
            http.post("/v1/batches", json={"names": ["sleeps-a-while"]}).raise_for_status()
        await until(
            pilot,
            lambda: [(v.status, v.tries) for v in sims.window.rows.values()] == [(RunStatus.RUNNING, 1)],
        )

        daemon.stop(signal.SIGKILL)  # mid-run: the next daemon puts the run back in the queue
        await until(pilot, lambda: banner.display)
        assert header.connected is False and "reconnecting" in str(header.render())
        restarted = start_daemon_process(daemon.state_dir, DAEMON__KEEPALIVE_S="0.2")
        try:
            await until(pilot, lambda: header.connected and not banner.display)
            await until(pilot, lambda: captured.of(Resync))
            heard = [message.connected for message in captured.of(ConnectionChanged)]
            assert [state for state, _ in groupby(heard)] == [True, False, True]  # one copy per subscriber
            # The table shows what the new daemon says, not what the old stream last said.
            await until(
                pilot,
                lambda: [(v.status, v.tries) for v in sims.window.rows.values()] == [(RunStatus.RUNNING, 2)],
            )
            with restarted.http() as http:
                http.post("/v1/runs/1/cancel").raise_for_status()
            await until(pilot, lambda: [v.status for v in sims.window.rows.values()] == [RunStatus.CANCELLED])
        finally:
            restarted.stop()
