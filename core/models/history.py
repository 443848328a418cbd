"""What the store aggregates for trends and flaky tests: a row per test per batch, and per version."""

from __future__ import annotations

from typing import NamedTuple


class BatchVerdicts(NamedTuple):
    """One test in one batch: its runs there that passed, failed or errored, how many passed, and the
    mean score of those with one (None when none has)."""

    test_name: str
    batch_id: int
    judged: int
    passed: int
    mean_score: float | None


class VersionVerdicts(NamedTuple):
    """One test at one version: its passes and failures among the test's newest passed/failed runs."""

    test_name: str
    version: int
    passes: int
    failures: int
