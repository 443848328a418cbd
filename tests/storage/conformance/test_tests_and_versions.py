"""Conformance: importing, listing, replacing and deleting tests; versions and what runs refer to."""

from __future__ import annotations

import gc
import json

import pytest
from pydantic import BaseModel

from callboard.core.models import HttpTest, TestOutline, dump_test
from callboard.core.models.outlines import PARSED_CACHE_SIZE
from callboard.storage.batches_repo import BatchEntry
from callboard.storage.errors import NameTakenError, StoreError
from callboard.storage.interface import StoreBackend
from tests.storage.conftest import http_test


async def test_upsert_counts_and_versions(store: StoreBackend) -> None:
    first = await store.tests.upsert_many([http_test("b"), http_test("a", tags=["smoke"])])
    assert (first.added, first.updated, first.unchanged) == (["b", "a"], [], [])
    again = await store.tests.upsert_many([http_test("a", tags=["smoke"]), http_test("b", tags=["new"])])
    assert (again.added, again.updated, again.unchanged) == ([], ["b"], ["a"])
    a, b = await store.tests.get("a"), await store.tests.get("b")
    assert a is not None and b is not None
    assert (a.version, b.version) == (1, 2)
    assert b.definition.tags == ["new"]
    assert await store.tests.count() == 2
    with pytest.raises(ValueError, match="duplicate test names: a"):
        await store.tests.upsert_many([http_test("a"), http_test("a")])


async def test_list_filters_and_order(store: StoreBackend) -> None:
    await store.tests.upsert_many(
        [
            http_test("Zeta", tags=["smoke"]),
            http_test("alpha_1", tags=["smoke", "nightly"]),
            http_test("alpha%2"),
            http_test("beta", kind="http"),
        ]
    )
    assert [t.definition.name for t in await store.tests.list()] == ["Zeta", "alpha%2", "alpha_1", "beta"]
    assert [t.definition.name for t in await store.tests.list(tag="smoke")] == ["Zeta", "alpha_1"]
    assert [t.definition.name for t in await store.tests.list(tag="nightly")] == ["alpha_1"]
    assert [t.definition.name for t in await store.tests.list(search="ALPHA")] == ["alpha%2", "alpha_1"]
    assert [t.definition.name for t in await store.tests.list(search="%")] == ["alpha%2"]
    assert [t.definition.name for t in await store.tests.list(search="_")] == ["alpha_1"]
    assert await store.tests.list(kind="command") == []


async def test_replace_renames_and_bumps_only_on_change(store: StoreBackend) -> None:
    await store.tests.upsert_many([http_test("a"), http_test("b")])
    a = await store.tests.get("a")
    assert a is not None
    same = await store.tests.replace(a.id, http_test("a"))
    assert same is not None and same.version == 1
    renamed = await store.tests.replace(a.id, http_test("c", tags=["x"]))
    assert renamed is not None and (renamed.definition.name, renamed.version) == ("c", 2)
    assert [t.definition.name for t in await store.tests.list(tag="x")] == ["c"]
    with pytest.raises(NameTakenError):
        await store.tests.replace(a.id, http_test("b"))
    assert await store.tests.replace(9999, http_test("d")) is None


async def test_runs_keep_the_version_they_ran_and_outlive_their_test(store: StoreBackend) -> None:
    await store.tests.upsert_many([http_test("a", tags=["old"])])
    old = await store.tests.get("a")
    assert old is not None
    batch = (await store.batches.create("one", "cli", 0, {}, [BatchEntry(old)])).batch
    await store.tests.upsert_many([http_test("a", tags=["new"])])
    (run,) = await store.runs.page(batch_id=batch.id)
    assert run.snapshot["tags"] == ["old"] and run.test_version == 1
    assert await store.tests.delete([old.id, 12345]) == 1
    assert await store.tests.get("a") is None
    kept = await store.runs.get(run.id)
    assert kept is not None and kept.test_id is None and kept.snapshot["tags"] == ["old"]


async def test_a_batch_of_a_changed_test_is_refused_and_writes_nothing(store: StoreBackend) -> None:
    await store.tests.upsert_many([http_test("a")])
    stale = await store.tests.get("a")
    assert stale is not None
    await store.tests.upsert_many([http_test("a", tags=["changed"])])
    with pytest.raises(StoreError, match="select them again"):
        await store.batches.create("stale", "cli", 0, {}, [BatchEntry(stale)])
    assert await store.batches.list() == []
    assert await store.runs.count() == 0


async def test_the_catalogue_holds_outlines_and_parses_on_use(store: StoreBackend) -> None:
    """10,000 parsed definitions were most of the daemon's memory: the store keeps each test as an
    outline (its facts and its text), and at most the bounded cache's parsed definitions stay alive."""
    count = PARSED_CACHE_SIZE + 100
    await store.tests.upsert_many(
        [
            TestOutline.of(http_test(f"outlined-{index:04}", tags=["many", f"group-{index % 3}"]))
            for index in range(count)
        ]
    )
    listed = await store.tests.list()
    assert len(listed) == count
    for stored in listed:  # every definition parsed once more, through the bounded cache
        definition = stored.definition
        assert stored.outline.target() == definition.target()
        assert stored.outline.tags == definition.tags
        assert json.loads(stored.outline.text) == dump_test(definition)
    del definition
    held = [ref for stored in listed for ref in gc.get_referents(stored, stored.outline)]
    assert not any(isinstance(ref, BaseModel) for ref in held)
    gc.collect()
    parsed = [t for t in gc.get_objects() if isinstance(t, HttpTest) and t.name.startswith("outlined-")]
    assert len(parsed) <= PARSED_CACHE_SIZE
    del parsed
    tagged = await store.tests.list(tag="group-1")
    assert [t.name for t in tagged] == [f"outlined-{index:04}" for index in range(count) if index % 3 == 1]
    assert all(a.outline is b.outline for a, b in zip(tagged, listed[1::3], strict=True))
