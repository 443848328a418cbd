"""Run rows as JSON documents, assembled by PostgreSQL as SQLite's ``json_object`` does for the SQLite
store, so both validate the same document (``storage.rows.run_from_document``)."""

from __future__ import annotations

from callboard.storage.rows import RUN_JSON_COLUMNS, RUN_SCALARS

_RUN_FIELDS = [
    *(f"'{name}', runs.{name}" for name in RUN_SCALARS),
    *(f"'{name}', runs.{name}::json" for name in RUN_JSON_COLUMNS),
    "'snapshot', (SELECT definition FROM test_versions WHERE test_versions.id = runs.version_id)::json",
    "'check_labels', (SELECT labels FROM check_labels WHERE check_labels.id = runs.labels_id)::json",
]
# json_build_object takes at most 100 arguments; a run has 27 fields (54 arguments).
RUN_DOCUMENT = f"json_build_object({', '.join(_RUN_FIELDS)})::text"
"""SQL expression: a run row as a JSON document that ``Run`` validates."""
