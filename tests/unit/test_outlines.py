"""TestOutline: the facts the catalogue, planner and queue read answer as the parsed definition's do,
and the definition is parsed on use through a bounded cache."""

from __future__ import annotations

from typing import Any

import pytest

from callboard.core.engine.events import EventBus
from callboard.core.engine.selection import limit_keys
from callboard.core.models import TestOutline, dump_test, parse_test
from callboard.core.models.events import RunFinished, RunQueued
from callboard.core.models.imports import ImportRequest
from callboard.core.models.outlines import PARSED_CACHE_SIZE

KINDS: list[dict[str, Any]] = [
    {"name": "h", "kind": "http", "tags": ["a", "b"], "priority": 3, "repeat": 2, "retries": 0,
     "request": {"url": "https://api.example.com/x"}, "checks": [{"status": 200}]},
    {"name": "c", "kind": "conversation", "timeout_s": 12.5,
     "endpoint": {"url": "http://127.0.0.1:8700/chat"}, "turns": [{"say": "hi"}],
     "checks": [{"judge": "The agent greeted the caller"}]},
    {"name": "p", "kind": "call", "caller": [{"say": "hello"}]},
    {"name": "v", "kind": "voice", "endpoint": {"url": "wss://agent.example/media"},
     "caller": [{"say": "hello"}]},
    {"name": "x", "kind": "command", "command": "true"},
]  # fmt: skip


@pytest.mark.parametrize("entry", KINDS, ids=[entry["kind"] for entry in KINDS])
def test_an_outline_answers_as_its_definition(entry: dict[str, Any]) -> None:
    test = parse_test(entry)
    outline = TestOutline.of(test)
    assert (outline.name, outline.kind, outline.tags) == (test.name, test.kind, test.tags)
    assert (outline.priority, outline.repeat, outline.retries) == (test.priority, test.repeat, test.retries)
    assert outline.target() == test.target()
    assert outline.skip_reason() == test.skip_reason()
    assert outline.uses_model() == test.uses_model()
    assert outline.effective_timeout_s() == test.effective_timeout_s()
    assert limit_keys(outline) == limit_keys(test)
    assert outline.definition == test
    assert TestOutline.parse(outline.text) == outline
    assert dump_test(TestOutline.parse(outline.text).definition) == dump_test(test)


def test_parsed_definitions_are_kept_in_a_bounded_cache() -> None:
    tests = [
        parse_test({"name": f"bounded-{n}", "kind": "command", "command": f"echo {n}"})
        for n in range(PARSED_CACHE_SIZE + 50)
    ]
    outlines = [TestOutline.of(test) for test in tests]
    # The oldest left the cache: parsed again from its text, equal but not the same object.
    assert outlines[0].definition == tests[0] and outlines[0].definition is not tests[0]
    # The newest is still cached: the very object it was made from.
    assert outlines[-1].definition is tests[-1]


def test_an_import_request_validates_each_test_into_an_outline() -> None:
    request = ImportRequest.model_validate({"tests": [KINDS[0], KINDS[4]]})
    assert [outline.name for outline in request.tests] == ["h", "x"]
    assert all(isinstance(outline, TestOutline) for outline in request.tests)
    with pytest.raises(ValueError, match=r"tests\.1\.http\.request\.url"):
        ImportRequest.model_validate({"tests": [KINDS[4], {**KINDS[0], "request": {"url": "nope"}}]})


def test_the_event_buffer_gives_back_the_events_published() -> None:
    bus = EventBus(capacity=3)
    published = [
        bus.publish(RunQueued(batch_id=1, run_ids=[1, 2])),
        bus.publish(RunFinished(run_id=1, batch_id=1, test_name="a <b>", status="passed", score=90.0)),
        bus.publish(RunFinished(run_id=2, batch_id=1, test_name="c", status="error", error_kind="timeout")),
    ]
    assert bus.since(0) == published
    assert bus.since(2) == published[2:]
    bus.publish(RunQueued(batch_id=2, run_ids=[3]))
    assert bus.since(0) is None
