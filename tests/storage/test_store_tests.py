"""The tests repository: all-or-nothing imports matched by name, lookups and filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

import pytest

from callboard.core.models import TestDefinition, parse_test
from callboard.storage import ImportCounts, Store

MakeTest = Callable[..., TestDefinition]


async def test_import_adds_then_updates_changed_tests_and_keeps_unchanged_ones(
    store: Store, make_test: MakeTest
) -> None:
    first = await store.tests.upsert_many([make_test("a"), make_test("b")])
    assert first == ImportCounts(added=["a", "b"], updated=[], unchanged=[])
    before = await store.tests.get("b")

    second = await store.tests.upsert_many(
        [make_test("a"), make_test("b", checks=[{"status": 201}]), make_test("c")]
    )

    assert second == ImportCounts(added=["c"], updated=["b"], unchanged=["a"])
    a, b, c = [await store.tests.get(name) for name in "abc"]
    assert a is not None and b is not None and c is not None and before is not None
    assert (a.version, b.version, c.version) == (1, 2, 1)
    assert b.id == before.id
    assert b.created_at == before.created_at
    assert b.updated_at > before.updated_at
    assert b.definition == make_test("b", checks=[{"status": 201}])
    assert await store.tests.count() == 3


async def test_reordering_fields_is_not_a_change(store: Store) -> None:
    entry = {"name": "a", "kind": "http", "request": {"url": "http://127.0.0.1/", "method": "POST"}}
    reordered = {"request": {"method": "POST", "url": "http://127.0.0.1/"}, "kind": "http", "name": "a"}
    await store.tests.upsert_many([parse_test(entry)])
    counts = await store.tests.upsert_many([parse_test(reordered)])
    assert counts.unchanged == ["a"]


async def test_duplicate_names_change_nothing(store: Store, make_test: MakeTest) -> None:
    await store.tests.upsert_many([make_test("kept")])

    with pytest.raises(ValueError, match="duplicate test names: twice"):
        await store.tests.upsert_many([make_test("new"), make_test("twice"), make_test("twice")])

    assert [test.name for test in await store.tests.list()] == ["kept"]


async def test_get_by_id_or_name(store: Store, make_test: MakeTest) -> None:
    await store.tests.upsert_many([make_test("a", tags=["smoke"], priority=5)])
    by_name = await store.tests.get("a")
    assert by_name is not None
    by_id = await store.tests.get(by_name.id)
    assert by_id == by_name
    assert by_name.definition.priority == 5
    assert by_name.created_at.tzinfo is not None and by_name.created_at.utcoffset() == UTC.utcoffset(None)
    assert await store.tests.get("missing") is None
    assert await store.tests.get(by_name.id + 100) is None


async def test_list_filters_by_tag_kind_and_search_ordered_by_name(store: Store, make_test: MakeTest) -> None:
    command = parse_test({"name": "e2e_login", "kind": "command", "command": "true", "tags": ["smoke"]})
    await store.tests.upsert_many(
        [
            make_test("zeta", tags=["smoke"]),
            make_test("alpha", tags=["nightly"]),
            make_test("100%-ready", tags=["smoke", "nightly"]),
            command,
        ]
    )

    names = [test.name for test in await store.tests.list()]
    assert names == ["100%-ready", "alpha", "e2e_login", "zeta"]
    assert [t.name for t in await store.tests.list(tag="smoke")] == ["100%-ready", "e2e_login", "zeta"]
    assert [t.name for t in await store.tests.list(kind="command")] == ["e2e_login"]
    assert [t.name for t in await store.tests.list(tag="smoke", kind="http")] == ["100%-ready", "zeta"]
    assert [t.name for t in await store.tests.list(search="ALP")] == ["alpha"]
    # LIKE wildcards in the search text are literal characters.
    assert [t.name for t in await store.tests.list(search="%")] == ["100%-ready"]
    assert [t.name for t in await store.tests.list(search="e_l")] == ["e2e_login"]
    assert [t.name for t in await store.tests.list(search="a_p")] == []  # would match "alpha" as a wildcard
    assert await store.tests.list(tag="missing") == []


async def test_delete_returns_how_many_existed(store: Store, make_test: MakeTest) -> None:
    await store.tests.upsert_many([make_test("a"), make_test("b"), make_test("c")])
    a, b = await store.tests.get("a"), await store.tests.get("b")
    assert a is not None and b is not None

    assert await store.tests.delete([a.id, b.id, 9999]) == 2

    assert [test.name for test in await store.tests.list()] == ["c"]
    assert await store.tests.delete([]) == 0


async def test_stored_definitions_round_trip(store: Store) -> None:
    conversation = parse_test(
        {
            "name": "books-cleaning",
            "kind": "conversation",
            "tags": ["booking"],
            "endpoint": {"url": "http://localhost:8700/chat", "reply": "$.reply", "session": "$.session_id"},
            "turns": [
                {"say": "I'd like to book a cleaning", "expect": [{"contains": "when"}]},
                {"say": "Tuesday at 3pm", "expect": [{"regex": "(?i)booked|confirmed"}]},
            ],
        }
    )
    call = parse_test(
        {"name": "after-hours", "kind": "call", "phone": "+15555550100", "caller": [{"pause": 2}]}
    )
    await store.tests.upsert_many([conversation, call])

    stored = {test.name: test.definition for test in await store.tests.list()}

    assert stored == {"books-cleaning": conversation, "after-hours": call}
