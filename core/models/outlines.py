"""A stored test in compact form: the few facts that listing, planning and queueing read, plus the
definition's JSON text, which is parsed only when a run starts (or someone asks for the definition).

A parsed ``TestDefinition`` is a tree of pydantic models, about 6 kB per test; 10,000 of them held
by the catalogue and again by 10,000 queued runs were most of the daemon's memory. An outline is
about 1 kB (mostly the text). Parsed definitions are kept in a small, bounded cache: the trials of
one test follow each other in a batch, and the tests someone looks at are few.
"""

from __future__ import annotations

import json
import sys
from collections import OrderedDict
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from callboard.core.models.definitions import TestDefinition, dump_test, parse_test_text

# Parsed definitions kept (about 6 kB each): enough for the trials of a test and the runs in flight.
PARSED_CACHE_SIZE = 512


class TestOutline:
    """What the catalogue, the planner and the queue need of a test, without its parsed tree.

    The facts are read once from the parsed definition (``of``); ``target()``, ``skip_reason()``,
    ``uses_model()`` and ``effective_timeout_s()`` answer as ``TestDefinition``'s methods do, so code
    that only needs them takes either. ``text`` is the definition in suite form as stored (JSON).
    """

    __test__ = False  # not a pytest class
    __slots__ = (
        "_skip_reason",
        "_target",
        "_timeout_s",
        "_uses_model",
        "kind",
        "name",
        "priority",
        "repeat",
        "retries",
        "tags",
        "text",
    )

    def __init__(self, test: TestDefinition, text: str) -> None:
        self.name = _own_copy(test.name)
        self.kind = test.kind
        # Tags repeat across tests (nightly, smoke, team-…): one string each.
        self.tags = [sys.intern(_own_copy(tag)) for tag in test.tags]
        self.priority = test.priority
        self.repeat = test.repeat
        self.retries = test.retries
        self._target = _own_copy(test.target())
        self._skip_reason = test.skip_reason()
        self._uses_model = test.uses_model()
        self._timeout_s = test.effective_timeout_s()
        self.text = text
        _PARSED.keep(text, test)

    @classmethod
    def of(cls, test: TestDefinition) -> TestOutline:
        """The outline of a parsed test, with its text as the store keeps it (``definition_text``)."""
        return cls(test, definition_text(test))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # Validated as a TestDefinition (the same schema, the same errors), then kept as an outline:
        # an import of 10,000 tests does not hold 10,000 parsed trees at once.
        return core_schema.no_info_after_validator_function(cls.of, handler.generate_schema(TestDefinition))

    @classmethod
    def parse(cls, text: str) -> TestOutline:
        """The outline of a stored definition (its JSON text); validates it (pydantic.ValidationError)."""
        return cls(_PARSED.parse(text), text)

    @property
    def definition(self) -> TestDefinition:
        """The parsed definition (from the bounded cache, or parsed now)."""
        return _PARSED.parse(self.text)

    def target(self) -> str:
        """What the test talks to (``TestDefinition.target``)."""
        return self._target

    def skip_reason(self) -> str | None:
        """Why this test cannot run now, or None (``TestDefinition.skip_reason``)."""
        return self._skip_reason

    def uses_model(self) -> bool:
        """Whether a run of this test talks to the model (``TestDefinition.uses_model``)."""
        return self._uses_model

    def effective_timeout_s(self) -> float:
        """The timeout in force (``TestDefinition.effective_timeout_s``)."""
        return self._timeout_s

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TestOutline) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"TestOutline({self.name!r}, {self.kind!r})"


def _own_copy(text: str) -> str:
    """A new string equal to ``text``. A parsed test's strings are those of the parsed request (pydantic
    keeps them): an outline kept for long holding them would pin the memory of the whole request's
    JSON (tens of megabytes for 10,000 tests) in the allocator's arenas after it is freed."""
    return text.encode().decode()


def definition_text(test: TestDefinition) -> str:
    """A test in suite form as compact JSON: how the store keeps its definition."""
    return json.dumps(dump_test(test), separators=(",", ":"), ensure_ascii=False)


class _ParsedDefinitions:
    """Parsed definitions by their text, least recently used first out.

    Keyed by the text itself: the outlines hold that very string, so a lookup hashes it once (Python
    keeps a string's hash) and compares by identity; the cache adds no copy of any text.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._parsed: OrderedDict[str, TestDefinition] = OrderedDict()

    def parse(self, text: str) -> TestDefinition:
        test = self._parsed.get(text)
        if test is None:
            test = parse_test_text(text)
            self.keep(text, test)
        else:
            self._parsed.move_to_end(text)
        return test

    def keep(self, text: str, test: TestDefinition) -> None:
        self._parsed[text] = test
        self._parsed.move_to_end(text)
        while len(self._parsed) > self._size:
            self._parsed.popitem(last=False)


_PARSED = _ParsedDefinitions(PARSED_CACHE_SIZE)
