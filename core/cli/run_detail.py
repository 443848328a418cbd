"""``callboard show RUN``: one run in full."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from callboard.core.cli.run_display import STATUS_STYLE
from callboard.core.literal import literal, literal_cells
from callboard.core.models import Run
from callboard.core.wording import shorten_value

_SPEAKER_STYLE = {"agent": "cyan", "caller": "green", "user": "green", "assistant": "cyan"}
_VALUE_CHARS = 200


def _short(value: object) -> str:
    return shorten_value(value, _VALUE_CHARS)


def _when(run: Run) -> str:
    parts = [f"queued {run.queued_at.astimezone():%Y-%m-%d %H:%M:%S}"]
    if run.started_at:
        parts.append(f"started {run.started_at.astimezone():%H:%M:%S}")
    if run.finished_at:
        parts.append(f"finished {run.finished_at.astimezone():%H:%M:%S}")
    if run.duration_ms is not None:
        parts.append(f"took {run.duration_ms / 1000:.3f}s")
    return ", ".join(parts)


def _turn_timeline(run: Run) -> Table:
    """A voice run's turns on the playback timeline, each agent turn with the wait before it."""
    timeline = Table("at", "until", "speaker", "after", "text", title="turn timeline", title_justify="left")
    previous_end: float | None = None
    for entry in run.transcript:
        after = ""
        if entry.speaker == "agent" and previous_end is not None and entry.start is not None:
            after = f"{(entry.start - previous_end) * 1000:.0f} ms"
        at = "" if entry.start is None else f"{entry.start:7.2f}s"
        until = "" if entry.end is None else f"{entry.end:7.2f}s"
        speaker = Text(entry.speaker, style=_SPEAKER_STYLE.get(entry.speaker, "white"))
        timeline.add_row(at, until, speaker, after, Text(entry.text))
        previous_end = entry.end if entry.speaker == "caller" else None
    return timeline


def run_view(run: Run) -> Group:
    """Status, score and timings; checks with expected vs actual (failures first); transcript;
    metrics; artifacts; the error and its kind."""
    head = Table.grid(padding=(0, 2))
    style = STATUS_STYLE[run.status]
    score = "-" if run.score is None else f"{run.score:g}"
    head.add_row(
        *literal_cells("run", f"{run.id} (batch {run.batch_id}, trial {run.trial}, attempt {run.attempt})")
    )
    head.add_row(*literal_cells("test", f"{run.test_name} v{run.test_version} [{run.kind}] {run.target}"))
    head.add_row(literal("status"), Text.assemble(literal(run.status.value, style), f"  score {score}"))
    head.add_row(*literal_cells("when", _when(run)))
    if run.external_id:
        head.add_row(*literal_cells("external id", run.external_id))
    if run.skip_reason:
        head.add_row(*literal_cells("skipped", run.skip_reason))
    if run.error_message or run.error_kind:
        head.add_row(
            literal("error"), literal(f"{run.error_kind or 'error'}: {run.error_message or ''}", "magenta")
        )
    parts: list[Table] = [head]
    if run.checks:
        checks = Table("", "check", "expected", "actual", "message", title="checks", title_justify="left")
        for check in sorted(run.checks, key=lambda c: c.passed):
            mark = literal("✓", "green") if check.passed else literal("✗", "red")
            checks.add_row(
                mark, *literal_cells(check.name, _short(check.expected), _short(check.actual), check.message)
            )
        parts.append(checks)
    if run.transcript and run.kind == "voice":
        parts.append(_turn_timeline(run))
    elif run.transcript:
        transcript = Table("at", "speaker", "text", title="transcript", title_justify="left")
        for entry in run.transcript:
            at = "" if entry.start is None else f"{entry.start:7.2f}s"
            speaker_style = _SPEAKER_STYLE.get(entry.speaker, "white")
            transcript.add_row(literal(at), literal(entry.speaker, speaker_style), literal(entry.text))
        parts.append(transcript)
    if run.metrics:
        metrics = Table("metric", "value", title="metrics", title_justify="left")
        for name, value in sorted(run.metrics.items()):
            metrics.add_row(*literal_cells(name, f"{value:g}"))
        parts.append(metrics)
    if run.artifacts:
        artifacts = Table("artifact", "value", title="artifacts", title_justify="left")
        for name, artifact in sorted(run.artifacts.items()):
            artifacts.add_row(*literal_cells(name, _short(artifact)))
        parts.append(artifacts)
    return Group(*parts)
