"""A batch's runs as CSV and JSON, and the numbers behind ``callboard report``.

Everything here is pure data: rendering (rich tables, files) is up to the caller.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections import Counter
from datetime import datetime

from callboard.core.models import Batch, BatchCounts, Run, RunStatus
from callboard.core.models.reports import BatchReport, FailureSummary, ScoreBucket, ScoreStats, SlowRun
from callboard.core.reports.turn_latency import pooled_turn_latency

CSV_COLUMNS = (
    "run_id",
    "batch_id",
    "test",
    "kind",
    "target",
    "trial",
    "attempt",
    "status",
    "score",
    "duration_ms",
    "started_at",
    "finished_at",
    "error_kind",
    "error_message",
    "skip_reason",
    "failed_checks",
)
# Spreadsheets evaluate a cell starting with one of these as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# ...but a plain number such as -3.5 is safe and must stay a number.
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_BUCKET_WIDTH = 10
_BUCKETS = 10


def runs_csv(runs: list[Run]) -> str:
    """The runs as CSV with a header row of ``CSV_COLUMNS``, one row per run.

    Missing values are empty cells, times ISO 8601, ``failed_checks`` the names of the failed checks
    joined by ``"; "``. Text that a spreadsheet would run as a formula gets a leading apostrophe.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for run in runs:
        writer.writerow([_cell(value) for value in _csv_values(run)])
    return buffer.getvalue()


def _csv_values(run: Run) -> tuple[object, ...]:
    return (
        run.id,
        run.batch_id,
        run.test_name,
        run.kind,
        run.target,
        run.trial,
        run.attempt,
        run.status.value,
        run.score,
        run.duration_ms,
        run.started_at,
        run.finished_at,
        run.error_kind,
        run.error_message,
        run.skip_reason,
        "; ".join(check.name for check in run.checks if not check.passed),
    )


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    if text.startswith(_FORMULA_START) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def runs_json(batch: Batch, runs: list[Run]) -> str:
    """``{"batch": ..., "runs": [...]}`` as indented JSON.

    Each run's ``snapshot`` (the whole test definition as it ran) is left out: it can be large and
    repeats for every trial; ``test_id`` and ``test_version`` identify the definition instead.
    """
    # Through model_dump_json, which writes NaN and infinite metrics as null; json.dumps would
    # write NaN/Infinity, which is not JSON.
    document = {
        "batch": json.loads(batch.model_dump_json()),
        "runs": [json.loads(run.model_dump_json(exclude={"snapshot"})) for run in runs],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def build_report(batch: Batch, runs: list[Run], slowest: int = 5, failures_limit: int = 20) -> BatchReport:
    """Counts, pass rate, score distribution, the ``slowest`` longest runs and the first
    ``failures_limit`` failed or errored runs (by run id) of ``batch``; ``total_failures`` counts all."""
    counts = BatchCounts(total=len(runs), **Counter(run.status.value for run in runs))
    timed = sorted(
        (run for run in runs if run.duration_ms is not None),
        key=lambda run: (-(run.duration_ms or 0.0), run.id),
    )
    not_passed = sorted(
        (run for run in runs if run.status in (RunStatus.FAILED, RunStatus.ERROR)), key=lambda run: run.id
    )
    return BatchReport(
        batch=batch,
        counts=counts,
        pass_rate=counts.pass_rate,
        scores=_score_stats([run.score for run in runs if run.score is not None]),
        slowest=tuple(
            SlowRun(run.id, run.test_name, run.trial, run.duration_ms or 0.0) for run in timed[:slowest]
        ),
        failures=tuple(first_failure(run) for run in not_passed[:failures_limit]),
        total_failures=len(not_passed),
        llm_prompt_tokens=int(sum(run.metrics.get("llm_prompt_tokens", 0.0) for run in runs)),
        llm_completion_tokens=int(sum(run.metrics.get("llm_completion_tokens", 0.0) for run in runs)),
        turn_latency=pooled_turn_latency(runs),
    )


def _score_stats(scores: list[float]) -> ScoreStats:
    counts = Counter(min(max(int(score // _BUCKET_WIDTH), 0), _BUCKETS - 1) for score in scores)
    buckets = tuple(
        ScoreBucket(
            low=index * _BUCKET_WIDTH,
            # The last bucket also holds a perfect score.
            high=100 if index == _BUCKETS - 1 else (index + 1) * _BUCKET_WIDTH - 1,
            count=counts[index],
        )
        for index in range(_BUCKETS)
    )
    if not scores:
        return ScoreStats(0, None, None, None, None, buckets)
    return ScoreStats(
        count=len(scores),
        minimum=min(scores),
        median=statistics.median(scores),
        mean=round(statistics.fmean(scores), 2),
        maximum=max(scores),
        buckets=buckets,
    )


def first_failure(run: Run) -> FailureSummary:
    """Why ``run`` did not pass: its first failed check, or else its error."""
    check = next((check for check in run.checks if not check.passed), None)
    if check is None:
        return FailureSummary(
            run_id=run.id,
            test_name=run.test_name,
            trial=run.trial,
            status=run.status,
            check_name=None,
            expected=None,
            actual=None,
            message=run.error_message or "",
            error_kind=run.error_kind,
        )
    return FailureSummary(
        run_id=run.id,
        test_name=run.test_name,
        trial=run.trial,
        status=run.status,
        check_name=check.name,
        expected=check.expected,
        actual=check.actual,
        message=check.message,
        error_kind=None,
    )
