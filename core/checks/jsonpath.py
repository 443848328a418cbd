"""JSONPath lookups with parsed expressions cached: jsonpath_ng's parser is far slower than a lookup."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.ext import parse

_MISSING = object()


@lru_cache(maxsize=4096)
def compile_jsonpath(path: str) -> JSONPath:
    """The parsed expression (extended syntax: filters, arithmetic), parsed once per process."""
    return parse(path)


def first_match(path: str, document: Any) -> tuple[bool, Any]:
    """``(True, value)`` for the first match of ``path`` in ``document``, or ``(False, None)``."""
    matches = compile_jsonpath(path).find(document)
    if not matches:
        return False, None
    return True, matches[0].value
