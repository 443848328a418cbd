"""Retention: delete old history a whole batch at a time (so every batch kept stays complete and
exportable), then VACUUM to give the space back."""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from callboard.storage.timestamps import to_text

if TYPE_CHECKING:  # the Store itself uses this module
    from callboard.storage.store import Store

log = logging.getLogger(__name__)

# Finished batches only: a running batch is never pruned, whatever its age.
_OLDER_THAN = "SELECT id FROM batches WHERE status != 'running' AND created_at < ?"
# Newest first, the running total of runs per finished batch; the batches past the cap go.
_PAST_MAX_RUNS = """
SELECT id FROM (
    SELECT batches.id, SUM(COUNT(runs.id)) OVER (ORDER BY batches.id DESC) AS kept
    FROM batches LEFT JOIN runs ON runs.batch_id = batches.id
    GROUP BY batches.id
) AS totals JOIN batches USING (id) WHERE kept > ? AND batches.status != 'running'
"""

# Versions that no run refers to any more and that are no test's current definition.
_UNUSED_VERSIONS = """
DELETE FROM test_versions
WHERE NOT EXISTS (SELECT 1 FROM runs WHERE runs.version_id = test_versions.id)
  AND NOT EXISTS (SELECT 1 FROM tests WHERE tests.version_id = test_versions.id)
"""

# The lists of check labels the doomed runs name (found through runs_by_batch), and of those the ones no
# run names any more. There is no index on labels_id (it would cost every run ~10 bytes): a list still in
# use is found among the oldest runs left at once; only a list that is really gone needs a whole scan.
_NAMED_LABELS = "SELECT DISTINCT labels_id FROM runs WHERE labels_id IS NOT NULL AND batch_id IN ({marks})"
_UNUSED_CHECK_LABELS = """
DELETE FROM check_labels WHERE id IN (SELECT value FROM json_each(?))
  AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.labels_id = check_labels.id)
"""


@dataclass(frozen=True)
class PruneResult:
    """What a prune removed."""

    batches: int
    runs: int
    vacuumed: bool


async def prune(store: Store, older_than: datetime | None, max_runs: int | None) -> PruneResult:
    """Delete finished batches (and their runs) created before ``older_than``, and the oldest finished
    batches beyond ``max_runs`` runs in all; then VACUUM when anything went."""
    async with store.gate.transaction() as conn:
        doomed: set[int] = set()
        if older_than is not None:
            doomed |= {
                row[0] for row in await (await conn.execute(_OLDER_THAN, (to_text(older_than),))).fetchall()
            }
        if max_runs is not None:
            doomed |= {row[0] for row in await (await conn.execute(_PAST_MAX_RUNS, (max_runs,))).fetchall()}
        ids = sorted(doomed)
        runs = 0
        if ids:
            marks = ", ".join("?" * len(ids))
            named = [row[0] for row in await conn.execute_fetchall(_NAMED_LABELS.format(marks=marks), ids)]
            runs = (await conn.execute(f"DELETE FROM runs WHERE batch_id IN ({marks})", ids)).rowcount
            await conn.execute(f"DELETE FROM batches WHERE id IN ({marks})", ids)
            await conn.execute(_UNUSED_VERSIONS)
            await conn.execute(_UNUSED_CHECK_LABELS, (json.dumps(named),))
    vacuumed = False
    if ids:
        try:
            async with store.gate.outside_transaction() as conn:
                await conn.execute("VACUUM")
                await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            vacuumed = True
        except sqlite3.OperationalError as exc:  # a reader held the database; space comes back next time
            log.warning("prune: VACUUM skipped: %s", exc)
    return PruneResult(batches=len(ids), runs=runs, vacuumed=vacuumed)
