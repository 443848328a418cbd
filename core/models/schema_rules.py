"""Rules a request model checks in code, stated in its JSON schema too, so the OpenAPI document says
exactly what the daemon accepts (and a schema-valid request is never refused for its form)."""

from __future__ import annotations

from typing import Any


def any_of_non_empty(*fields: str, flag: str | None = None) -> dict[str, Any]:
    """JSON schema: at least one of ``fields`` is a non-empty list (or ``flag`` is true), as the
    handlers require, so the OpenAPI document says exactly what is accepted."""
    branches: list[dict[str, Any]] = [
        {"required": [name], "properties": {name: {"type": "array", "minItems": 1}}} for name in fields
    ]
    if flag is not None:
        branches.append({"required": [flag], "properties": {flag: {"const": True}}})
    return {"anyOf": branches}


def any_given(*fields: str) -> dict[str, Any]:
    """JSON schema: at least one of ``fields`` is given and not null."""
    return {
        "anyOf": [{"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in fields]
    }


def at_most_one_of(*fields: str) -> dict[str, Any]:
    """JSON schema: at most one of ``fields`` is given and not null."""
    none = {"properties": {name: {"type": "null"} for name in fields}}
    return {"oneOf": [none, *exactly_one_of(*fields)["oneOf"]]}


def case_insensitive(*words: str, prefix: bool = False) -> str:
    """A JSON-schema pattern matching one of ``words`` in any case (JSON Schema has no flags): the
    whole value, or with ``prefix`` its start."""
    spelled = ("".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in word) for word in words)
    return "^(" + "|".join(spelled) + (")" if prefix else ")$")


def exactly_one_of(*fields: str) -> dict[str, Any]:
    """JSON schema: exactly one of ``fields`` is given and not null."""
    return {
        "oneOf": [
            {
                "required": [name],
                "properties": {
                    name: {"not": {"type": "null"}},
                    **{other: {"type": "null"} for other in fields if other != name},
                },
            }
            for name in fields
        ]
    }


def _cron_field(value: str, step: str | None) -> str:
    item = f"\\*(/({step}))?|{value}" if step else f"\\*|{value}"
    return f"({item})(,({item}))*"


CRON_PATTERN = (
    "^"
    + " ".join(
        [
            _cron_field("[0-5]?\\d", "[1-9]|[1-5]\\d"),
            _cron_field("1?\\d|2[0-3]", "[1-9]|1\\d|2[0-3]"),
            _cron_field("[1-9]|[12]\\d|3[01]", "[1-9]|[12]\\d|30"),
            _cron_field("[1-9]|1[0-2]", "[1-9]|1[01]"),
            _cron_field("[0-7]", None),
        ]
    )
    + "$"
)
"""The common cron forms (``*``, ``*/n``, numbers and lists of them) as a JSON-schema pattern; the
daemon also accepts ranges (``1-5``), which a pattern cannot bound."""


_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# A host name's last label starts with a letter: a host that ends in a number ("agent.3", "a.0x1f") is
# read as an IPv4 address by the URL standard (WHATWG, "ends in a number"), which the daemon follows.
_HOST = f"(({_LABEL}\\.)*[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?|{_OCTET}(\\.{_OCTET}){{3}})"
URL_PATTERN = f"^https?://{_HOST}(:[1-9][0-9]{{0,3}})?([/?#][^\\s]*)?$"
"""An http(s) URL with a host name or an IPv4 address, as the JSON schema states it (the daemon parses
it as a URL)."""

SUITE_PATH_PATTERN = "^/.*\\.([tT][oO][mM][lL]|[cC][sS][vV])$"
"""An absolute path to a .toml or .csv suite file."""

TAG_PATTERN = "^ *[^\\x00-\\x20\\x7f-\\x9f\\u2028\\u2029\\s,]+ *$"
"""A tag: one word without spaces, commas or control characters (spaces around are trimmed)."""

_SEP = "[\\t\\n\\v\\f\\r ().-]"
PHONE_PATTERN = f"^{_SEP}*(\\+{_SEP}*[1-9]({_SEP}*[0-9]){{1,14}}{_SEP}*)?$"
"""An E.164 number (``+`` and 2 to 15 digits), written with spaces, dots, dashes or brackets if wished
(the daemon strips them); blank means no number yet."""

_PY_SPACE = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
WEBSOCKET_URL_PATTERN = f"^[Ww][Ss][Ss]?://[^/{_PY_SPACE}][^{_PY_SPACE}]*$"
"""A ws:// or wss:// URL with a host and no whitespace (Python's ``str.isspace``, which the daemon uses)."""
