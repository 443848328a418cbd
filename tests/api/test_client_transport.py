"""The client's own HTTP/1.1 on the daemon's socket (``core.client.http11``): kept-alive connections
survive a daemon restart, many requests share one client at once, a daemon that does not answer
ends a request with a clear error, and query lists and error bodies arrive as the API reads them."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from callboard.core.client import ApiFailure, CallboardClient, DaemonUnavailable
from tests.api.conftest import DaemonProcess, http_tests, start_daemon_process


async def test_a_kept_alive_connection_closed_by_a_restart_is_not_reused(daemon: DaemonProcess) -> None:
    async with CallboardClient(daemon.paths.socket) as client:
        first = await client.health()
        daemon.stop()
        restarted = start_daemon_process(daemon.state_dir, DAEMON__KEEPALIVE_S="0.2")
        try:
            again = await client.health()  # the old connection is closed: a new one is made
            assert again.pid == restarted.process.pid != first.pid
        finally:
            restarted.stop()


async def test_many_requests_at_once_on_one_client(daemon: DaemonProcess, agent_url: str) -> None:
    async with CallboardClient(daemon.paths.socket) as client:
        await client.import_tests(tests=http_tests(agent_url, 30))
        answers = await asyncio.gather(*(client.list_tests(search=f"api-{i:05d}") for i in range(30)))
        assert [[test.name for test in tests] for tests in answers] == [[f"api-{i:05d}"] for i in range(30)]
        # A list in the query repeats its key, as the API reads it.
        runs = await client.list_runs(status=["passed", "failed"], limit=5)
        assert runs.runs == []


async def test_an_error_answer_carries_the_daemons_code_and_message(daemon: DaemonProcess) -> None:
    async with CallboardClient(daemon.paths.socket) as client:
        with pytest.raises(ApiFailure) as failure:
            await client.get_batch(999_999)
        assert failure.value.status == 404
        assert "999999" in failure.value.message


async def test_no_daemon_names_the_socket(tmp_path: Path) -> None:
    missing = tmp_path / "none.sock"
    async with CallboardClient(missing) as client:
        with pytest.raises(DaemonUnavailable, match=r"no daemon answers on .*none\.sock"):
            await client.health()


async def test_a_daemon_that_never_answers_ends_the_request_at_the_timeout(tmp_path: Path) -> None:
    path = tmp_path / "mute.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as mute:
        mute.bind(str(path))
        mute.listen()  # accepts connections and never answers: a hung daemon
        async with CallboardClient(path, timeout_s=0.5) as client:
            with pytest.raises(DaemonUnavailable, match=r"did not answer GET /v1/queue within 0\.5 s"):
                await client.queue()
