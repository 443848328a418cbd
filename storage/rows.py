"""Turning stored rows back into domain models.

Runs are read as one JSON document per row, assembled by SQLite (``json_object``), parsed once and
validated by pydantic: cheaper than decoding each JSON column in Python first. Checks stored as the run's
own part come with their labels and are joined before validation.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from typing import Any

from pydantic_core import from_json

from callboard.core.models import Batch, BatchCounts, Run, RunStatus
from callboard.storage.check_labels import join_checks

RUN_SCALARS = (
    "id", "batch_id", "test_id", "test_name", "test_version", "kind", "target", "trial", "priority",
    "status", "skip_reason", "attempt", "max_attempts", "external_id", "queued_at", "started_at",
    "finished_at", "duration_ms", "score", "error_kind", "error_message",
)  # fmt: skip
"""A run's plain columns, in the document both stores assemble."""
RUN_JSON_COLUMNS = ("checks", "metrics", "transcript", "artifacts")

_RUN_FIELDS = [
    *(f"'{name}', runs.{name}" for name in RUN_SCALARS),
    *(f"'{name}', json(runs.{name})" for name in RUN_JSON_COLUMNS),
    # The test as it ran: the version the run refers to.
    "'snapshot', json((SELECT definition FROM test_versions WHERE test_versions.id = runs.version_id))",
    # Checks stored as the run's own part are joined with the labels they name.
    "'check_labels', json((SELECT labels FROM check_labels WHERE check_labels.id = runs.labels_id))",
]
RUN_DOCUMENT = f"json_object({', '.join(_RUN_FIELDS)})"
"""SQL expression: a run row as a JSON document that ``Run`` validates."""

BATCH_COLUMNS = "id, label, source, status, priority, selector, schedule_id, created_at, finished_at"
"""The columns ``batch_from_row`` expects, in order."""


def run_from_document(document: str) -> Run:
    """A Run from the JSON made by ``RUN_DOCUMENT``."""
    data = from_json(document)
    labels = data.pop("check_labels")
    if labels is not None:
        data["checks"] = join_checks(labels, data["checks"])
    return Run.model_validate(data)


def batch_from_row(row: Iterable[Any], counts: BatchCounts) -> Batch:
    """A Batch from a row of ``BATCH_COLUMNS``."""
    values = dict(zip(BATCH_COLUMNS.split(", "), row, strict=True))
    return Batch.model_validate({**values, "selector": json.loads(values["selector"]), "counts": counts})


def counts_from_pairs(pairs: Iterable[tuple[str, int] | sqlite3.Row]) -> BatchCounts:
    """BatchCounts from (status, number of runs) pairs."""
    by_status = {RunStatus(status).value: number for status, number in pairs}
    return BatchCounts(total=sum(by_status.values()), **by_status)
