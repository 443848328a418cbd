"""JSONPath lookups with parsed expressions cached: jsonpath_ng's parser is far slower than a lookup."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.ext import parse
from jsonpath_ng.jsonpath import Child, Fields, Root

_MISSING = object()


@lru_cache(maxsize=4096)
def compile_jsonpath(path: str) -> JSONPath:
    """The parsed expression (extended syntax: filters, arithmetic), parsed once per process."""
    return parse(path)


@lru_cache(maxsize=4096)
def _plain_keys(path: str) -> tuple[str, ...] | None:
    """The keys of a path that only names fields from the root (``$.reply``, ``$.user.name``), as
    jsonpath_ng parsed it; None for anything else (indexes, wildcards, filters, descendants)."""
    keys: list[str] = []
    node = compile_jsonpath(path)
    while isinstance(node, Child) and isinstance(node.right, Fields) and len(node.right.fields) == 1:
        key = node.right.fields[0]
        if key == "*":
            return None
        keys.append(key)
        node = node.left
    return tuple(reversed(keys)) if isinstance(node, Root) and keys else None


def first_match(path: str, document: Any) -> tuple[bool, Any]:
    """``(True, value)`` for the first match of ``path`` in ``document``, or ``(False, None)``."""
    keys = _plain_keys(path)
    if keys is not None:
        # The common case, looked up directly (jsonpath_ng wraps every step in objects): each step
        # must be an object with that key, as jsonpath_ng's field lookup requires.
        for key in keys:
            if not isinstance(document, dict) or key not in document:
                return False, None
            document = document[key]
        return True, document
    matches = compile_jsonpath(path).find(document)
    if not matches:
        return False, None
    return True, matches[0].value
