"""A second, minimal OpenAI-compatible Chat Completions server, written here so the tests prove nothing
depends on the bundled scripted model's quirks. It records every request (headers and body), answers in
whatever structured-output mode it is asked (or refuses modes it is told to), and plays queued faults."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

STUB_KEY = "sk-stub-0123456789abcdef-secret"
_STUB = web.AppKey("stub", "StubModel")


@dataclass
class StubModel:
    """What the stub answers and what it received."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    refuse_modes: set[str] = field(default_factory=set)  # "json_schema", "tool"
    faults: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)  # served first, in order
    user_lines: list[str] = field(default_factory=list)  # then the user says it reached the goal
    verdicts: list[str] = field(default_factory=list)  # "pass", "fail" or raw text; then "pass"
    usage: tuple[int, int] = (100, 10)

    def bodies(self, schema: str) -> list[dict[str, Any]]:
        """The request bodies that asked for ``schema`` (judge_verdict or simulated_user_line)."""
        return [r["body"] for r in self.requests if _schema_name(r["body"]) == schema]


def _schema_name(body: dict[str, Any]) -> str:
    if "response_format" in body:
        return str(body["response_format"]["json_schema"]["name"])
    if "tools" in body:
        return str(body["tools"][0]["function"]["name"])
    system = body["messages"][0]["content"]
    return "judge_verdict" if "Criterion:" in system else "simulated_user_line"


def _mode(body: dict[str, Any]) -> str:
    return "json_schema" if "response_format" in body else "tool" if "tools" in body else "json"


async def _completions(request: web.Request) -> web.Response:
    stub = request.app[_STUB]
    body = await request.json()
    stub.requests.append({"headers": dict(request.headers), "body": body})
    if request.headers.get("Authorization") != f"Bearer {STUB_KEY}":
        return web.json_response({"error": {"message": "bad key", "code": "invalid_api_key"}}, status=401)
    if stub.faults:
        status, text, headers = stub.faults.pop(0)
        return web.Response(status=status, text=text, headers=headers)
    mode = _mode(body)
    if mode in stub.refuse_modes:
        return web.json_response({"error": {"message": f"{mode} is not supported"}}, status=400)
    if _schema_name(body) == "judge_verdict":
        verdict = stub.verdicts.pop(0) if stub.verdicts else "pass"
        output = json.dumps({"reason": f"stub says {verdict}", "verdict": verdict})
        if verdict not in ("pass", "fail"):
            output = verdict  # raw, malformed text
    else:
        done = not stub.user_lines
        line = "" if done else stub.user_lines.pop(0)
        status = "goal_done" if done else "continue"
        output = json.dumps({"message": line, "status": status, "reason": "stub user"})
    message: dict[str, Any] = {"role": "assistant", "content": output}
    if mode == "tool":
        function = {"name": _schema_name(body), "arguments": output}
        call = {"id": "c1", "type": "function", "function": function}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
    elif mode == "json":
        message["content"] = f"Here you are:\n```json\n{output}\n```"
    prompt, completion = stub.usage
    return web.json_response(
        {
            "id": "x",
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion},
        }
    )


async def serve_stub() -> AsyncIterator[StubModel]:
    """Run the stub on 127.0.0.1; yields it with ``url`` set to its /v1 base."""
    stub = StubModel()
    app = web.Application()
    app[_STUB] = stub
    app.router.add_post("/v1/chat/completions", _completions)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    stub.url = str(server.make_url("/v1"))
    try:
        yield stub
    finally:
        await server.close()
