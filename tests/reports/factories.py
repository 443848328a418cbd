"""Runs and batches built by hand for the report tests (batch 7, "nightly")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from callboard.core.models import Batch, BatchStatus, Run, RunStatus

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


def make_run(
    run_id: int,
    test_name: str = "greets",
    status: RunStatus = RunStatus.PASSED,
    *,
    timed: bool = False,
    **changes: Any,
) -> Run:
    """A run of batch 7; ``timed`` gives a run with a verdict one second of start, finish and duration."""
    fields: dict[str, Any] = {
        "id": run_id,
        "batch_id": 7,
        "test_id": 1,
        "test_name": test_name,
        "test_version": 1,
        "kind": "http",
        "target": "http://agent",
        "status": status,
        "queued_at": T0,
    }
    if timed and status in (RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR):
        fields |= {
            "started_at": T0 + timedelta(seconds=run_id),
            "finished_at": T0 + timedelta(seconds=run_id + 1),
            "duration_ms": 1000.0,
        }
    return Run(**(fields | changes))


def make_batch(**changes: Any) -> Batch:
    """Batch 7, finished."""
    fields: dict[str, Any] = {
        "id": 7, "label": "nightly", "source": "cli", "status": BatchStatus.FINISHED, "created_at": T0,
    }  # fmt: skip
    return Batch(**(fields | changes))
