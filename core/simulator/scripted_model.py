"""An OpenAI-compatible Chat Completions endpoint with a scripted model, for the demo and the tests.

``POST /v1/chat/completions`` and ``GET /v1/models`` in the shapes of OpenAI's API reference
(https://platform.openai.com/docs/api-reference/chat/create, …/models/list, error codes in
https://platform.openai.com/docs/guides/error-codes): ``Authorization: Bearer`` with the key
``SCRIPTED_MODEL_KEY`` (401 ``invalid_api_key`` otherwise), the model ``SCRIPTED_MODEL`` (404
``model_not_found`` otherwise), structured output through ``response_format`` ``json_schema``, a forced
function tool, or plain JSON text, and ``usage`` counted as one token per four characters.

Which part it plays comes from the schema's name (``simulated_user_line`` / ``judge_verdict``) or, in
plain mode, from the ``Persona:`` / ``Criterion:`` lines of callboard's default prompts. The answers come
from ``scripted_clinic``: deterministic, keyword-driven — a stand-in, not a judge to trust.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from callboard.core.simulator.scripted_clinic import judge_turn, user_turn

SCRIPTED_MODEL = "scripted-clinic"
# The simulator's own key: not a secret (like its test account's auth token).
SCRIPTED_MODEL_KEY = "sim-llm-key"
_LINE = re.compile(r"^(?:\[[^\]]*\]\s*)?([^:\n]+):\s?(.*)$")
_ids = itertools.count(1)


async def _models(request: Request) -> Response:
    if (refused := _unauthorized(request)) is not None:
        return refused
    model = {"id": SCRIPTED_MODEL, "object": "model", "created": 0, "owned_by": "callboard-simulator"}
    return JSONResponse({"object": "list", "data": [model]})


async def _chat_completions(request: Request) -> Response:
    if (refused := _unauthorized(request)) is not None:
        return refused
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return _error(400, "We could not parse the JSON body of your request.", None)
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list) or not all(_is_message(m) for m in messages) or not messages:
        return _error(
            400, "'messages' must be a non-empty array of {role, content} objects.", None, "messages"
        )
    model = body.get("model")
    if model != SCRIPTED_MODEL:
        return _error(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            "model_not_found",
            "model",
        )
    answer = _answer(_task(body, messages), messages)
    return JSONResponse(_completion(body, messages, json.dumps(answer)))


def _is_message(message: Any) -> bool:
    return isinstance(message, dict) and isinstance(message.get("role"), str) and "content" in message


def _unauthorized(request: Request) -> Response | None:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and key == SCRIPTED_MODEL_KEY:
        return None
    return _error(401, "Incorrect API key provided.", "invalid_api_key")


def _error(status: int, message: str, code: str | None, param: str | None = None) -> Response:
    kind = "invalid_request_error"
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}}, status)


def _task(body: dict[str, Any], messages: list[dict[str, Any]]) -> str:
    schema_name = ((body.get("response_format") or {}).get("json_schema") or {}).get("name")
    tools = body.get("tools") or []
    if schema_name is None and tools and isinstance(tools[0], dict):
        schema_name = (tools[0].get("function") or {}).get("name")
    if schema_name in ("simulated_user_line", "judge_verdict"):
        return str(schema_name)
    system = _text(messages[0]) if messages[0]["role"] == "system" else ""
    return "judge_verdict" if re.search(r"^Criterion:", system, re.M) else "simulated_user_line"


def _answer(task: str, messages: list[dict[str, Any]]) -> dict[str, str]:
    system = _text(messages[0]) if messages[0]["role"] == "system" else ""
    if task == "judge_verdict":
        transcript = "\n".join(_text(m) for m in messages[1:] if m["role"] == "user")
        lines = [
            (m.group(1).strip(), m.group(2)) for line in transcript.splitlines() if (m := _LINE.match(line))
        ]
        return judge_turn(_field(system, "Criterion"), [line for line in lines if line[0] != "Transcript"])
    # The conversation as callboard sends it: the agent's lines are "user" messages after the opening one.
    agent = [_text(m) for m in messages[2:] if m["role"] == "user"]
    own = [_text(m) for m in messages[1:] if m["role"] == "assistant"]
    return user_turn(_field(system, "Persona"), _field(system, "Goal"), agent, own)


def _field(system: str, name: str) -> str:
    match = re.search(rf"^{name}:\s*(.*)$", system, re.M)
    return match.group(1).strip() if match else ""


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content if isinstance(content, str) else ""


def _completion(body: dict[str, Any], messages: list[dict[str, Any]], output: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": output, "refusal": None}
    finish = "stop"
    tool_choice = body.get("tool_choice")
    if isinstance(tool_choice, dict) and body.get("tools"):
        name = (tool_choice.get("function") or {}).get("name", "")
        call = {
            "id": f"call_sim_{next(_ids)}",
            "type": "function",
            "function": {"name": name, "arguments": output},
        }
        message, finish = (
            {"role": "assistant", "content": None, "tool_calls": [call], "refusal": None},
            "tool_calls",
        )
    prompt_tokens = math.ceil(sum(len(_text(m)) for m in messages) / 4)
    completion_tokens = math.ceil(len(output) / 4)
    return {
        "id": f"chatcmpl-sim{next(_ids)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": SCRIPTED_MODEL,
        "system_fingerprint": "fp_scripted",
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


ROUTES = [
    Route("/v1/chat/completions", _chat_completions, methods=["POST"]),
    Route("/v1/models", _models, methods=["GET"]),
]
