"""The event stream (ids, resume, keep-alive, resets, disconnects) and many clients at once."""

from __future__ import annotations

import asyncio
import socket

import httpx

from callboard.core.client import CallboardClient
from callboard.core.models.api import BatchRequest
from callboard.core.models.events import AnyEvent, BatchFinished, EventsReset, RunFinished, TestsChanged
from tests.api.conftest import DaemonProcess, http_tests


async def _until_finished(client: CallboardClient, last_id: int, batch_id: int) -> list[AnyEvent]:
    seen: list[AnyEvent] = []
    async for event in client.events(last_id=last_id, reconnect=False):
        seen.append(event)
        if isinstance(event, BatchFinished) and event.batch_id == batch_id:
            return seen
    raise AssertionError("stream ended")


async def test_events_have_ids_and_resume_from_last_event_id(daemon: DaemonProcess, agent_url: str) -> None:
    async with CallboardClient(daemon.paths.socket) as client:
        await client.import_tests(tests=http_tests(agent_url, 5))
        start = (await client.queue()).last_event_id
        created = await client.create_batch(BatchRequest(all=True))
        events = await asyncio.wait_for(_until_finished(client, start, created.batch.id), 30)
        ids = [event.id for event in events]
        assert ids == sorted(set(ids)) and ids[0] == start + 1
        finished = [e.run_id for e in events if isinstance(e, RunFinished)]
        assert sorted(finished) == sorted(set(finished)) and len(finished) == 5
        # A client that saw only the first three events gets exactly the rest, in order.
        replay = await asyncio.wait_for(_until_finished(client, ids[2], created.batch.id), 30)
        assert [event.id for event in replay] == ids[3:]


async def test_changes_to_tests_are_announced(daemon: DaemonProcess) -> None:
    suite = http_tests("http://127.0.0.1:9", 3)
    async with CallboardClient(daemon.paths.socket) as client:
        start = (await client.queue()).last_event_id
        await client.import_tests(tests=suite)
        await client.import_tests(tests=suite)  # unchanged: nothing to announce
        await client.delete_test((await client.list_tests())[0].id)

        async def changes() -> list[tuple[str, int]]:
            seen: list[tuple[str, int]] = []
            async for event in client.events(last_id=start, reconnect=False):
                if isinstance(event, TestsChanged):
                    seen.append((event.how, event.count))
                    if event.how == "delete":
                        return seen
            raise AssertionError("stream ended")

        assert await asyncio.wait_for(changes(), 30) == [("import", 3), ("delete", 1)]


async def test_unknown_last_event_id_starts_with_a_reset(daemon: DaemonProcess) -> None:
    async with CallboardClient(daemon.paths.socket) as client:
        for last_id in (1, 10**15 * 9):
            async for event in client.events(last_id=last_id, reconnect=False):
                assert isinstance(event, EventsReset)
                break


def test_keep_alive_comments_and_filters(daemon: DaemonProcess) -> None:
    with (
        daemon.http() as http,
        http.stream(
            "GET", "/v1/events", params={"types": "batch.finished"}, timeout=httpx.Timeout(5.0)
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = response.iter_lines()
        seen = [next(lines) for _ in range(6)]
    assert ": keep-alive" in seen


def test_clients_that_vanish_mid_stream_do_not_hurt_the_daemon(daemon: DaemonProcess) -> None:
    request = b"GET /v1/events HTTP/1.1\r\nHost: callboard\r\nAccept: text/event-stream\r\n\r\n"
    for _ in range(20):
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        raw.settimeout(5)
        raw.connect(str(daemon.paths.socket))
        raw.sendall(request)
        assert raw.recv(1024).startswith(b"HTTP/1.1 200")
        raw.close()
    half = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    half.connect(str(daemon.paths.socket))
    half.sendall(b'POST /v1/batches HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"al')
    half.close()
    with daemon.http() as http:
        assert http.get("/v1/health").status_code == 200
        with http.stream("GET", "/v1/events") as response:
            assert next(response.iter_lines()).startswith("retry:")
    assert daemon.process.poll() is None


async def test_a_hundred_clients_at_once(daemon: DaemonProcess, agent_url: str) -> None:
    async with CallboardClient(daemon.paths.socket) as setup:
        await setup.import_tests(tests=http_tests(agent_url, 10))

    async def one(index: int) -> int:
        async with CallboardClient(daemon.paths.socket) as client:
            assert len(await client.list_tests()) == 10
            await client.queue()
            stream = client.events(reconnect=False)
            if index % 10 == 0:
                created = await client.create_batch(BatchRequest(all=True, label=f"client {index}"))
                return created.batch.id
            async for _ in stream:
                break
            return 0

    readers = [asyncio.create_task(one(i)) for i in range(100)]
    results = await asyncio.wait_for(asyncio.gather(*readers), 60)
    batch_ids = [r for r in results if r]
    assert len(batch_ids) == 10
    async with CallboardClient(daemon.paths.socket) as client:
        for _ in range(600):
            batches = [await client.get_batch(b) for b in batch_ids]
            if all(b.status != "running" for b in batches):
                break
            await asyncio.sleep(0.05)
        assert all(b.counts.passed == 10 for b in batches)
