"""Run rows as JSON documents, assembled by PostgreSQL as SQLite's ``json_object`` does for the SQLite
store, so both validate the same document (``storage.rows.run_from_document``)."""

from __future__ import annotations

_RUN_SCALARS = (
    "id", "batch_id", "test_id", "test_name", "test_version", "kind", "target", "trial", "priority",
    "status", "skip_reason", "attempt", "max_attempts", "external_id", "queued_at", "started_at",
    "finished_at", "duration_ms", "score", "error_kind", "error_message",
)  # fmt: skip
_RUN_JSON_COLUMNS = ("checks", "metrics", "transcript", "artifacts")

_RUN_FIELDS = [
    *(f"'{name}', runs.{name}" for name in _RUN_SCALARS),
    *(f"'{name}', runs.{name}::json" for name in _RUN_JSON_COLUMNS),
    "'snapshot', (SELECT definition FROM test_versions WHERE test_versions.id = runs.version_id)::json",
    "'check_labels', (SELECT labels FROM check_labels WHERE check_labels.id = runs.labels_id)::json",
]
# json_build_object takes at most 100 arguments; a run has 27 fields (54 arguments).
RUN_DOCUMENT = f"json_build_object({', '.join(_RUN_FIELDS)})::text"
"""SQL expression: a run row as a JSON document that ``Run`` validates."""
