"""What a batch makes of each selected test: how many trials, whether it is skipped and why, and the
limits its runs count against. Kept per test version, since the same tests are queued again and again
(Run All, nightly schedules) and 10,000 of them must queue in well under 100 ms."""

from __future__ import annotations

from callboard.core.engine.selection import limit_keys
from callboard.core.models import StoredTest, TestDefinition, TestOutline
from callboard.storage.batches_repo import BatchEntry

_CACHE_SIZE = 200_000


class BatchPlanner:
    """Batch entries and limit keys, made once per test version."""

    def __init__(self, supported_kinds: set[str], call_allowlist: tuple[str, ...] = ()) -> None:
        self._supported = supported_kinds
        self._allowlist = call_allowlist
        self._entries: dict[tuple[int, int, int | None], BatchEntry] = {}
        self._keys: dict[tuple[int, int], tuple[str, ...]] = {}

    def entry(self, test: StoredTest, repeat: int | None) -> BatchEntry:
        """The test's entry in a batch (``repeat`` trials, or the test's own)."""
        key = (test.id, test.version, repeat)
        entry = self._entries.get(key)
        if entry is None:
            if len(self._entries) >= _CACHE_SIZE:
                self._entries.clear()
                self._keys.clear()
            outline = test.outline
            entry = self._entries[key] = BatchEntry(
                test=test,
                trials=repeat or outline.repeat,
                skip_reason=self.skip_reason(outline),
                max_attempts=outline.retries + 1,
            )
        return entry

    def keys(self, entry: BatchEntry) -> tuple[str, ...]:
        """The limits the entry's runs count against."""
        test = entry.test
        keys = self._keys.get((test.id, test.version))
        if keys is None:
            keys = self._keys[(test.id, test.version)] = limit_keys(test.outline)
        return keys

    def skip_reason(self, definition: TestDefinition | TestOutline) -> str | None:
        """Why runs of this test are skipped before they start, or None."""
        if reason := definition.skip_reason():
            return reason
        if definition.kind not in self._supported:
            return f"{definition.kind} tests are not supported yet"
        allowlist = self._allowlist
        if definition.kind == "call" and allowlist and not definition.target().startswith(allowlist):
            return f"{definition.target()} is not in twilio.allowed_numbers"
        return None
