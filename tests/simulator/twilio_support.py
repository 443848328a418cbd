"""Pointing twilio's own client at the simulator, and checking its answers against Twilio's OpenAPI."""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

OAI_DIR = Path(__file__).parent / "twilio_oai"  # a subset of Twilio's documents; see its README
OAI_DOCUMENTS = {"/2010-04-01/": "twilio_api_v2010.json", "/v2/": "twilio_intelligence_v2.json"}
TWILIO_HOSTS = ("https://api.twilio.com", "https://intelligence.twilio.com")
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message", "more_info", "status"],
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string"},
        "more_info": {"type": "string", "pattern": r"^https://www\.twilio\.com/docs/errors/\d+$"},
        "status": {"type": "integer"},
        "details": {"type": "object"},
    },
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Exchange:
    """One request the client made and what came back."""

    method: str
    path: str
    status: int
    body: str
    content_type: str


class SimulatorHttpClient(TwilioHttpClient):
    """twilio's HTTP client with Twilio's two API hosts rewritten to the simulator; keeps every exchange."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url
        self.exchanges: list[Exchange] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        for host in TWILIO_HOSTS:
            if url.startswith(host):
                url = self.base_url + url[len(host) :]
        response = super().request(method, url, *args, **kwargs)
        path = url[len(self.base_url) :].split("?")[0]
        content_type = response.headers.get("content-type", "") if response.headers else ""
        self.exchanges.append(Exchange(method, path, response.status_code, response.text, content_type))
        return response


def _nullable_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: ``nullable`` becomes a null type, and every object that lists its
    properties must have exactly those (so a missing or extra field fails)."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_to_json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if "$ref" in node:
            node = {"anyOf": [{"$ref": node.pop("$ref")}, {"type": "null"}], **node}
        elif "type" in node:
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
    if node.get("type") == "object" and isinstance(node.get("properties"), dict) and node["properties"]:
        node.setdefault("required", sorted(node["properties"]))
        node.setdefault("additionalProperties", False)
    return node


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())

    @checker.checks("date-time-rfc-2822", raises=(TypeError, ValueError))
    def rfc2822(value: object) -> bool:
        return not isinstance(value, str) or parsedate_to_datetime(value).tzinfo is not None

    @checker.checks("date-time", raises=ValueError)
    def iso8601(value: object) -> bool:
        return not isinstance(value, str) or bool(datetime.fromisoformat(value.replace("Z", "+00:00")))

    return checker


@cache
def _document(name: str) -> dict[str, Any]:
    raw = json.loads((OAI_DIR / name).read_text())
    doc = copy.deepcopy(raw)
    doc["components"] = _nullable_to_json_schema(raw["components"])
    return doc


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts) + "$")


def operation_for(method: str, path: str) -> tuple[str, str, dict[str, Any]] | None:
    """(document, path template, operation) of the OpenAPI operation serving this request, if any."""
    for prefix, name in OAI_DOCUMENTS.items():
        if path.startswith(prefix):
            doc = _document(name)
            for template, item in doc["paths"].items():
                if method.lower() in item and _template_regex(template).match(path):
                    return name, template, item[method.lower()]
    return None


def validate_exchange(exchange: Exchange) -> str | None:
    """Check one JSON answer against its documented schema (errors against Twilio's error shape).
    Returns the OpenAPI path template it was checked against, None for non-Twilio or non-JSON answers."""
    found = operation_for(exchange.method, exchange.path)
    if found is None or not exchange.content_type.startswith("application/json"):
        return None
    name, template, operation = found
    body = json.loads(exchange.body)
    if exchange.status >= 400:
        Draft202012Validator(ERROR_SCHEMA).validate(body)
        assert body["status"] == exchange.status
        return template
    responses = operation["responses"]
    assert str(exchange.status) in responses, f"{exchange.method} {template}: undocumented {exchange.status}"
    schema = _nullable_to_json_schema(
        responses[str(exchange.status)]["content"]["application/json"]["schema"]
    )
    root = {**schema, "components": _document(name)["components"]}
    Draft202012Validator(root, format_checker=_format_checker()).validate(body)
    return template
