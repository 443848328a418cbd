"""A real daemon notifies a webhook when a batch finishes with failures; the URL's token stays out of
its log."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from aiohttp import web

from tests.api.conftest import start_daemon_process, wait_batch
from tests.engine.conftest import Server, serve


async def test_failed_batch_is_posted_to_the_webhook(tmp_path: Path) -> None:
    received: list[dict[str, object]] = []

    async def hook(request: web.Request, server: Server) -> web.StreamResponse:
        received.append(await request.json())
        return web.Response(status=204)

    async with serve(hook) as receiver:
        url = f"{receiver.url}/hooks/s3cr3t-token"
        webhooks = json.dumps([{"url": url, "format": "json"}])
        daemon = await asyncio.to_thread(
            start_daemon_process, tmp_path / "state", NOTIFY__WEBHOOKS=webhooks, NOTIFY__WHEN="failure"
        )
        try:
            tests = [
                {"name": "good", "kind": "command", "command": "true", "checks": [{"exit_code": 0}]},
                {"name": "bad", "kind": "command", "command": "false", "checks": [{"exit_code": 0}]},
            ]
            with daemon.http() as http:
                http.post("/v1/tests/import", json={"tests": tests})
                only_good = http.post("/v1/batches", json={"names": ["good"]}).json()["batch"]["id"]
                both = http.post("/v1/batches", json={"all": True}).json()["batch"]["id"]
                await asyncio.to_thread(wait_batch, http, only_good)
                await asyncio.to_thread(wait_batch, http, both)
            for _ in range(200):
                if received:
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
        finally:
            await asyncio.to_thread(daemon.stop)
    log = (tmp_path / "state" / "logs" / "daemon.log").read_text()
    assert [body["batch_id"] for body in received] == [both], log  # the passing batch sent nothing
    body = received[0]
    assert body["failed"] == 1 and body["passed"] == 1
    assert [entry["name"] for entry in body["failing"]] == ["bad"]  # type: ignore[union-attr]
    log = (tmp_path / "state" / "logs" / "daemon.log").read_text()
    assert "s3cr3t-token" not in log
