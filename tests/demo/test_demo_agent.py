"""The demo agent over real sockets: endpoints, dialogue, sessions, errors, and the CLI entry point."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from callboard.core.demo import create_app
from callboard.core.demo.receptionist import SessionStore


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    server = TestServer(create_app(latency_ms=0), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as session:
        yield session
    await server.close()


async def chat(client: aiohttp.ClientSession, message: str, session_id: str | None = None) -> dict[str, Any]:
    async with client.post("/chat", json={"message": message, "session_id": session_id}) as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def test_health_and_hours(client: aiohttp.ClientSession) -> None:
    async with client.get("/health") as response:
        assert (response.status, await response.json()) == (
            200,
            {"status": "ok", "service": "callboard-demo-agent"},
        )
    async with client.get("/hours") as response:
        hours = await response.json()
    assert (
        hours["monday"] == "9:00-17:00" and hours["saturday"] == "9:00-13:00" and hours["sunday"] == "closed"
    )
    assert len(hours) == 7


async def test_greeting(client: aiohttp.ClientSession) -> None:
    reply = await chat(client, "hello")
    assert "help" in reply["reply"] and reply["session_id"]


async def test_booking_keeps_state_per_session(client: aiohttp.ClientSession) -> None:
    first = await chat(client, "I'd like to book a cleaning")
    assert first["reply"] == "Sure — when would you like to come in?"
    session = first["session_id"]
    other = await chat(client, "Tuesday at 3pm")  # a new session has nothing pending
    assert "booked" not in other["reply"] and other["session_id"] != session
    booked = await chat(client, "Tuesday at 3pm", session)
    assert booked["reply"].startswith("You're booked for Tuesday at 3pm.") and booked["session_id"] == session


async def test_rescheduling(client: aiohttp.ClientSession) -> None:
    first = await chat(client, "I need to reschedule my appointment")
    assert first["reply"] == "No problem — what new day and time works for you?"
    moved = await chat(client, "Thursday at 10am", first["session_id"])
    assert moved["reply"] == "Done — your appointment is moved to Thursday at 10am."


async def test_hours_question_and_fallback(client: aiohttp.ClientSession) -> None:
    hours = await chat(client, "Hi, are you open on Sunday?")
    assert "Sunday" in hours["reply"] and "closed" in hours["reply"]
    fallback = await chat(client, "What's the weather like?")
    assert "Sorry" in fallback["reply"]


async def test_replies_are_deterministic(client: aiohttp.ClientSession) -> None:
    assert (await chat(client, "hello"))["reply"] == (await chat(client, "hello"))["reply"]


@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        ("not json", "JSON"),
        ("[1, 2]", "object"),
        ('{"session_id": null}', "message"),
        ('{"message": ""}', "message"),
        ('{"message": "hi", "session_id": 5}', "session_id"),
    ],
)
async def test_bad_requests_are_400(client: aiohttp.ClientSession, body: str, phrase: str) -> None:
    async with client.post("/chat", data=body) as response:
        assert response.status == 400
        assert phrase in (await response.json())["error"]


async def test_unknown_path_and_method(client: aiohttp.ClientSession) -> None:
    async with client.get("/nope") as response:
        assert response.status == 404 and "error" in await response.json()
    async with client.get("/chat") as response:
        assert response.status == 405 and response.headers["Allow"] == "POST"


def test_session_store_evicts_the_least_recently_used() -> None:
    store = SessionStore(max_sessions=2)
    first, first_session = store.open(None)
    second, second_session = store.open(None)
    assert store.open(first)[1] is first_session  # touching it makes `second` the least recently used
    store.open(None)
    assert len(store) == 2
    assert store.open(first)[1] is first_session
    assert store.open(second)[1] is not second_session  # evicted: it comes back as a fresh session


def test_runs_as_a_module_on_a_free_port() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "callboard.core.demo", "--port", "0", "--latency-ms", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("demo agent listening on http://127.0.0.1:")
        url = line.split()[4]
        with urllib.request.urlopen(f"{url}/health", timeout=10) as response:
            assert response.read() == b'{"status": "ok", "service": "callboard-demo-agent"}'
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
