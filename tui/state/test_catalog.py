"""The Tests screen's data: every test, which are selected, and which match the filter."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from callboard.core.models.api import TestSummary
from callboard.core.models.runs import RunStatus


def _haystack(test: TestSummary, *, flaky: bool) -> str:
    # "flaky" is a word of the haystack so that the filter can find flaky tests.
    return " ".join([test.name, test.kind, *test.tags, *(["flaky"] if flaky else [])]).lower()


@dataclass(frozen=True)
class RunPlan:
    """What a Run Selected / Run All would do: how many tests run, and who is skipped why."""

    total: int
    skipped: dict[str, list[str]] = field(default_factory=dict)

    @property
    def skipped_count(self) -> int:
        """Tests that will be skipped."""
        return sum(len(names) for names in self.skipped.values())

    @property
    def runnable(self) -> int:
        """Tests that will run."""
        return self.total - self.skipped_count


class TestCatalog:
    """Tests by id in name order, the selection, which are flaky, and the filtered view."""

    __test__ = False

    def __init__(self) -> None:
        self.tests: list[TestSummary] = []
        self.by_id: dict[int, TestSummary] = {}
        self.by_name: dict[str, TestSummary] = {}
        self.selected: set[int] = set()
        # test name -> the version at which it both passed and failed (from the daemon's trends)
        self.flaky: dict[str, int] = {}
        self.query = ""
        self.visible: list[TestSummary] = []
        self._haystacks: list[str] = []

    def load(self, tests: list[TestSummary]) -> None:
        """Replace every test (the selection keeps the ids that still exist)."""
        self.tests = tests
        self.by_id = {test.id: test for test in tests}
        self.by_name = {test.name: test for test in tests}
        self.selected &= self.by_id.keys()
        self._index()

    def set_flaky(self, flaky: dict[str, int]) -> None:
        """Replace which tests are flaky (name -> version)."""
        if flaky != self.flaky:
            self.flaky = flaky
            self._index()

    def _index(self) -> None:
        self._haystacks = [_haystack(test, flaky=test.name in self.flaky) for test in self.tests]
        self.apply_filter(self.query)

    def apply_filter(self, query: str) -> list[TestSummary]:
        """Show the tests whose name, kind or a tag contains every word of ``query`` ("flaky" also
        matches the flaky tests)."""
        self.query = query
        words = query.lower().split()
        if not words:
            self.visible = self.tests
        elif len(words) == 1:
            word = words[0]
            self.visible = [
                test for test, hay in zip(self.tests, self._haystacks, strict=True) if word in hay
            ]
        else:
            self.visible = [
                test
                for test, hay in zip(self.tests, self._haystacks, strict=True)
                if all(word in hay for word in words)
            ]
        return self.visible

    def toggle(self, test_id: int) -> None:
        """Select or unselect one test."""
        self.selected ^= {test_id}

    def toggle_visible(self) -> None:
        """Select every visible test, or unselect them all when they already are."""
        ids = {test.id for test in self.visible}
        if ids <= self.selected:
            self.selected -= ids
        else:
            self.selected |= ids

    def remove(self, test_ids: set[int]) -> None:
        """Forget deleted tests."""
        self.load([test for test in self.tests if test.id not in test_ids])

    def plan(self, tests: list[TestSummary]) -> RunPlan:
        """How running ``tests`` would go, from each test's skip reason."""
        skipped: dict[str, list[str]] = {}
        for test in tests:
            if test.skip_reason:
                skipped.setdefault(test.skip_reason, []).append(test.name)
        return RunPlan(total=len(tests), skipped=skipped)

    def selected_tests(self) -> list[TestSummary]:
        """The selected tests in name order."""
        return [test for test in self.tests if test.id in self.selected]

    def record_finish(
        self, test_name: str, status: RunStatus, score: float | None, at: datetime
    ) -> TestSummary | None:
        """A run of ``test_name`` reached a final status, its last result as the API also counts it
        (None if the test is unknown)."""
        test = self.by_name.get(test_name)
        if test is None:
            return None
        test.last_status = status
        test.last_score = score
        test.last_run_at = at
        return test
