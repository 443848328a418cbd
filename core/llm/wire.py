"""The OpenAI Chat Completions wire format, and structured output three ways.

``POST {base_url}/chat/completions`` with ``model``, ``messages``, ``temperature`` and ``seed``
(https://platform.openai.com/docs/api-reference/chat/create). The answer must be a JSON object of a
given JSON Schema; servers differ in how that can be asked, so there are three modes, tried in order
until the server accepts one (then remembered per model):

1. ``json_schema`` — ``response_format = {"type": "json_schema", "json_schema": {name, strict, schema}}``
   (OpenAI structured outputs; vLLM, Ollama, llama.cpp and LiteLLM accept it too);
2. ``tool`` — one function tool with the schema as its parameters, forced with ``tool_choice``; the
   object is the call's ``arguments``;
3. ``json`` — no server-side constraint: the schema is appended to the system prompt and the first JSON
   object in the reply's text is taken.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from callboard.core.llm.errors import MalformedOutput
from callboard.core.wording import shorten

Mode = Literal["json_schema", "tool", "json"]


@dataclass(frozen=True)
class Schema:
    """A named JSON Schema for one structured answer."""

    name: str
    description: str
    schema: dict[str, Any]


def request_body(
    model: str,
    messages: list[dict[str, str]],
    schema: Schema,
    mode: Mode,
    temperature: float,
    seed: int | None,
) -> dict[str, Any]:
    """The JSON body of one chat completion request in ``mode``."""
    body: dict[str, Any] = {"model": model, "temperature": temperature}
    if seed is not None:
        body["seed"] = seed
    if mode == "json_schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": schema.name, "strict": True, "schema": schema.schema},
        }
    elif mode == "tool":
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": schema.name,
                    "description": schema.description,
                    "parameters": schema.schema,
                },
            }
        ]
        body["tool_choice"] = {"type": "function", "function": {"name": schema.name}}
    else:
        messages = _with_schema_instruction(messages, schema)
    body["messages"] = messages
    return body


def _with_schema_instruction(messages: list[dict[str, str]], schema: Schema) -> list[dict[str, str]]:
    instruction = (
        "\n\nAnswer with one JSON object and nothing else, matching this JSON Schema:\n"
        + json.dumps(schema.schema)
    )
    if messages and messages[0]["role"] == "system":
        first = {"role": "system", "content": messages[0]["content"] + instruction}
        return [first, *messages[1:]]
    return [{"role": "system", "content": instruction.strip()}, *messages]


def parse_answer(document: Any, mode: Mode) -> tuple[dict[str, Any], str]:
    """The structured object and the raw text it came from; raises MalformedOutput."""
    try:
        message = document["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        raise MalformedOutput("the response has no choices[0].message") from None
    raw: Any = None
    if isinstance(message, dict):
        calls = message.get("tool_calls") or []
        if calls and isinstance(calls, list) and isinstance(calls[0], dict):
            raw = (calls[0].get("function") or {}).get("arguments")
        if raw is None:
            raw = message.get("content")
    if not isinstance(raw, str) or not raw.strip():
        raise MalformedOutput("the model answered with no content")
    return _json_object(raw), raw


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        # Plain-JSON mode: models wrap the object in prose or a code fence; take the outermost braces.
        start, end = text.find("{"), text.rfind("}")
        if start < 0 or end <= start:
            raise MalformedOutput(f"not JSON: {_excerpt(text)}") from None
        try:
            value = json.loads(text[start : end + 1])
        except json.JSONDecodeError:
            raise MalformedOutput(f"not JSON: {_excerpt(text)}") from None
    if not isinstance(value, dict):
        raise MalformedOutput(f"not a JSON object: {_excerpt(text)}")
    return value


def usage_of(document: Any) -> tuple[int, int]:
    """(prompt_tokens, completion_tokens) from the response's ``usage``; zeros when it has none."""
    usage = document.get("usage") if isinstance(document, dict) else None
    if not isinstance(usage, dict):
        return 0, 0
    return _count(usage.get("prompt_tokens")), _count(usage.get("completion_tokens"))


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def error_message(text: str) -> str:
    """The ``error.message`` of an OpenAI-style error body, or the start of the body."""
    try:
        document = json.loads(text)
    except ValueError:
        return _excerpt(text)
    error = document.get("error") if isinstance(document, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return _excerpt(error["message"])
    if isinstance(error, str):
        return _excerpt(error)
    return _excerpt(text)


def _excerpt(text: str) -> str:
    return shorten(text.strip(), 300)
