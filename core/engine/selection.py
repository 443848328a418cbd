"""Which tests a batch runs, and which of them are skipped with a reason."""

from __future__ import annotations

import itertools
import operator
import re
from functools import lru_cache
from urllib.parse import urlsplit

from callboard.core.models import StoredTest, TestDefinition, TestOutline
from callboard.core.models.selection import Selection


class SelectionError(ValueError):
    """The selection names tests that do not exist, or nothing at all."""


class UnknownTests(SelectionError):
    """The selection names ids or names that no stored test has."""


def choose(tests: list[StoredTest], selection: Selection) -> list[StoredTest]:
    """Resolve a selection against the stored tests, in name order; unknown ids or names are an error."""
    if selection.empty:
        raise SelectionError("nothing selected: give test names, ids, tags, or all")
    by_id = {test.id: test for test in tests} if selection.ids else {}
    by_name = {test.name: test for test in tests} if selection.names else {}
    missing = [str(i) for i in selection.ids if i not in by_id] + [
        n for n in selection.names if n not in by_name
    ]
    if missing:
        raise UnknownTests(f"no such test(s): {', '.join(missing)}")
    if selection.all:
        return tests if _in_name_order(tests) else sorted(tests, key=lambda t: t.name)
    picked = {i: by_id[i] for i in selection.ids}
    picked.update({by_name[n].id: by_name[n] for n in selection.names})
    wanted_tags = set(selection.tags)
    picked.update({t.id: t for t in tests if wanted_tags.intersection(t.outline.tags)})
    return sorted(picked.values(), key=lambda t: t.name)


def unmatched(tests: list[StoredTest], selection: Selection) -> list[str]:
    """What the selection names that matches no stored test: ``tag 'x'``, ``test 'y'``, ``id 7``."""
    ids = {test.id for test in tests}
    names = {test.name for test in tests}
    tags = {tag for test in tests for tag in test.outline.tags}
    return (
        [f"tag {tag!r}" for tag in selection.tags if tag not in tags]
        + [f"test {name!r}" for name in selection.names if name not in names]
        + [f"id {test_id}" for test_id in selection.ids if test_id not in ids]
    )


def _in_name_order(tests: list[StoredTest]) -> bool:
    names = [test.name for test in tests]
    return all(map(operator.lt, names, itertools.islice(names, 1, None)))


# The limit key of runs that talk to the model (simulated users, judges): [llm].concurrency.
MODEL_KEY = "llm"


def limit_keys(test: TestDefinition | TestOutline) -> tuple[str, ...]:
    """The limits a run of this test counts against: its kind, its target where it has one, and the
    model when it uses one."""
    keys = _own_keys(test)
    return (*keys, MODEL_KEY) if test.uses_model() else keys


def _own_keys(test: TestDefinition | TestOutline) -> tuple[str, ...]:
    if test.kind in ("http", "conversation"):
        # Queueing 10,000 tests parses 10,000 URLs: only the scheme and authority matter, and they
        # repeat, so they are parsed once each.
        scheme, _, rest = test.target().partition("://")
        return (f"kind:{test.kind}", _host_key(scheme, _AUTHORITY_END.split(rest, maxsplit=1)[0]))
    if test.kind == "call":
        return (f"kind:{test.kind}", "twilio")
    if test.kind == "voice":
        scheme, _, rest = test.target().partition("://")
        secure = "https" if scheme.lower() == "wss" else "http"
        return (f"kind:{test.kind}", _host_key(secure, _AUTHORITY_END.split(rest, maxsplit=1)[0]))
    return (f"kind:{test.kind}",)


_AUTHORITY_END = re.compile(r"[/?#]")


@lru_cache(maxsize=4096)
def _host_key(scheme: str, authority: str) -> str:
    parts = urlsplit(f"{scheme}://{authority}")
    return f"host:{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
