"""A batch as one self-contained HTML page, to attach to a ticket, mail or archive as a CI artifact.

The page has no scripts and loads nothing: styles are inline, sections fold with ``<details>``, and a
Content-Security-Policy forbids everything else, so the file opens the same offline, from a mail
client or from an artifact store. Every piece of run data (test names, check values, transcripts,
error messages) is HTML-escaped, stripped of control characters and cut to a bounded length, since
agents under test can answer with anything, ``<script>`` included.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from callboard.core.models import CheckResult, Run, RunStatus, TranscriptEntry
from callboard.core.models.reports import BatchReport
from callboard.core.wording import percent

# One check value, error message or transcript line; a response body beyond this is noise in a report.
MAX_TEXT_CHARS = 4_000
# The detail cell of the runs table only hints at the cause; the failures section has the rest.
MAX_DETAIL_CHARS = 200
MAX_TRANSCRIPT_LINES = 500
# Kinds whose transcript is a conversation worth reading (http and command runs have none).
TRANSCRIPT_KINDS = frozenset({"conversation", "call", "voice"})
# Everything but tab/LF/CR, printable ASCII and non-control Unicode: C0/C1 controls and DEL are parse
# errors in HTML, and lone surrogates cannot be encoded as UTF-8 when the page is written.
_UNSAFE_CHARS = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# The two speakers the executors produce get fixed colours; others take the remaining ones in turn.
_SPEAKER_CLASSES = {"agent": 0, "caller": 1}
_SPEAKER_COLOURS = 4
_COUNT_FIELDS = ("total", "passed", "failed", "error", "cancelled", "skipped", "queued", "running")
_CSP = "default-src 'none'; style-src 'unsafe-inline'"
_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5rem; color: #1f2328; background: #fff; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; } h2 { font-size: 1.15rem; margin: 1.6rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
.meta, footer { color: #59636e; }
table { border-collapse: collapse; margin: .3rem 0; }
th, td { border: 1px solid #d1d9e0; padding: .2rem .5rem; text-align: left; vertical-align: top; }
thead th { background: #f6f8fa; position: sticky; top: 0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre, .value { font: 12px/1.4 ui-monospace, monospace; white-space: pre-wrap; word-break: break-word;
  margin: 0; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: 12px;
  font-weight: 600; color: #fff; background: #59636e; }
.st-passed { background: #1a7f37; } .st-failed { background: #cf222e; } .st-error { background: #bc4c00; }
.st-cancelled, .st-skipped { background: #818b98; } .st-queued, .st-running { background: #0969da; }
.flaky { background: #8250df; margin-left: .3rem; }
.bar { display: inline-block; height: .7rem; background: #0969da; vertical-align: middle; }
.transcript { list-style: none; padding: 0; margin: .3rem 0 .8rem; }
.transcript li { padding: .1rem .4rem; border-left: 4px solid; margin: .1rem 0; }
.ts { color: #59636e; font: 12px ui-monospace, monospace; margin-right: .5rem; }
.speaker { font-weight: 600; margin-right: .5rem; }
.spk-0 { border-color: #0969da; background: #ddf4ff; } .spk-1 { border-color: #1a7f37; background: #dafbe1; }
.spk-2 { border-color: #9a6700; background: #fff8c5; } .spk-3 { border-color: #8250df; background: #fbefff; }
.truncated { color: #9a6700; font-style: italic; }
details summary { cursor: pointer; }
"""


def html_report(
    report: BatchReport,
    runs: list[Run],
    flaky: set[str] | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The batch of ``report`` as a complete HTML document.

    ``runs`` are the batch's runs (those ``report`` was built from): one table row each, ordered by test
    name, trial and run id; every failed or errored run in the failures section with all its failed
    checks (expected vs actual); the transcript of every conversation and call run. Tests named in
    ``flaky`` (see ``history.flaky_tests``) get a "flaky" badge. ``generated_at`` defaults to now (UTC).
    Long texts are cut to ``MAX_TEXT_CHARS`` and transcripts to ``MAX_TRANSCRIPT_LINES`` lines, with a
    marker saying so; the work is linear in the size of the runs.
    """
    flaky = flaky or set()
    moment = generated_at or datetime.now(UTC)
    ordered = sorted(runs, key=lambda run: (run.test_name, run.trial, run.id))
    batch = report.batch
    title = _text(f"callboard — batch {batch.id}: {batch.label}")
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f"<title>{title}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n",
        f"<header>\n<h1>{title}</h1>\n",
        f'<p class="meta">source {_text(batch.source)} · {_text(batch.status.value)} · '
        f"created {_text(_when(batch.created_at))}</p>\n</header>\n",
    ]
    parts.extend(_summary(report, runs, flaky))
    parts.extend(_runs_table(ordered, flaky))
    parts.extend(_failures(ordered, flaky))
    parts.extend(_transcripts(ordered, flaky))
    parts.append(f"<footer><p>Generated by callboard at {_text(_when(moment))}.</p></footer>\n")
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def _summary(report: BatchReport, runs: list[Run], flaky: set[str]) -> Iterable[str]:
    counts = report.counts
    scores = report.scores
    yield '<section id="summary">\n<h2>Summary</h2>\n<table class="summary">\n'
    for field in _COUNT_FIELDS:
        value = getattr(counts, field)
        yield f'<tr><th>{field.capitalize()}</th><td class="num" id="count-{field}">{value}</td></tr>\n'
    yield f'<tr><th>Pass rate</th><td class="num" id="pass-rate">{percent(report.pass_rate, "—")}</td></tr>\n'
    for label, key, value in (
        ("Scored runs", "count", scores.count),
        ("Score min", "min", scores.minimum),
        ("Score median", "median", scores.median),
        ("Score mean", "mean", scores.mean),
        ("Score max", "max", scores.maximum),
    ):
        yield f'<tr><th>{label}</th><td class="num" id="score-{key}">{_number(value)}</td></tr>\n'
    yield (
        f'<tr><th>Duration</th><td class="num" id="duration">{_duration(_wall_ms(report, runs))}</td></tr>\n'
        f'<tr><th>Run time (sum)</th><td class="num" id="run-time">'
        f"{_duration(sum(run.duration_ms or 0.0 for run in runs))}</td></tr>\n"
    )
    if report.llm_prompt_tokens or report.llm_completion_tokens:
        yield (
            f'<tr><th>Model tokens</th><td class="num" id="llm-tokens">{report.llm_prompt_tokens} prompt + '
            f"{report.llm_completion_tokens} completion</td></tr>\n"
        )
    names = sorted({run.test_name for run in runs} & flaky)
    yield f'<tr><th>Flaky tests</th><td class="num" id="flaky-count">{len(names)}</td></tr>\n</table>\n'
    if names:
        yield f'<p id="flaky-tests">Flaky: {", ".join(_text(name) for name in names)}</p>\n'
    if scores.count:
        widest = max(bucket.count for bucket in scores.buckets)
        yield '<h3>Scores</h3>\n<table class="buckets">\n'
        for bucket in scores.buckets:
            # Bars in whole pixels of at most 200, so the table stays narrow for any number of runs.
            width = round(200 * bucket.count / widest)
            yield (
                f'<tr><th>{bucket.label}</th><td class="num">{bucket.count}</td>'
                f'<td><span class="bar" style="width:{width}px"></span></td></tr>\n'
            )
        yield "</table>\n"
    if report.slowest:
        yield '<h3>Slowest runs</h3>\n<ol class="slowest">\n'
        for slow in report.slowest:
            yield (
                f'<li><a href="#run-{slow.run_id}">{_text(slow.test_name)}</a> '
                f"(trial {slow.trial}): {_duration(slow.duration_ms)}</li>\n"
            )
        yield "</ol>\n"
    yield from _turn_latency(report)
    yield "</section>\n"


_TURN_HEADINGS = ("Test", "Runs", "Turns", "p50", "p90", "p95", "Late answers")


def _turn_latency(report: BatchReport) -> Iterable[str]:
    """Turn latency per test, pooled over its trials (call and voice tests)."""
    if not report.turn_latency:
        return
    yield '<h3>Turn latency (pooled over trials)</h3>\n<table class="turn-latency">\n<tr>'
    yield "".join(f"<th>{heading}</th>" for heading in _TURN_HEADINGS) + "</tr>\n"
    for pooled in report.turn_latency:
        percentiles = (pooled.p50_ms, pooled.p90_ms, pooled.p95_ms)
        cells = (pooled.runs, pooled.turns, *(f"{value:g} ms" for value in percentiles), pooled.late_answers)
        row = "".join(f'<td class="num">{cell}</td>' for cell in cells)
        yield f"<tr><th>{_text(pooled.test_name)}</th>{row}</tr>\n"
    yield "</table>\n"


def _runs_table(runs: list[Run], flaky: set[str]) -> Iterable[str]:
    yield (
        f'<section>\n<h2>Runs ({len(runs)})</h2>\n<table id="runs">\n<thead><tr><th>Run</th><th>Test</th>'
        "<th>Kind</th><th>Trial</th><th>Status</th><th>Score</th><th>Duration</th><th>Detail</th>"
        "</tr></thead>\n<tbody>\n"
    )
    for run in runs:
        yield (
            f'<tr id="run-{run.id}" class="run"><td class="num">{run.id}</td>'
            f"<td>{_text(run.test_name)}{_flaky_badge(run, flaky)}</td><td>{_text(run.kind)}</td>"
            f'<td class="num">{run.trial}</td><td>{_status_badge(run.status)}</td>'
            f'<td class="num">{_number(run.score)}</td><td class="num">{_duration(run.duration_ms)}</td>'
            f"<td>{_detail(run)}</td></tr>\n"
        )
    yield "</tbody>\n</table>\n</section>\n"


def _detail(run: Run) -> str:
    """The first failed check or the error, short, with links to the full story further down."""
    parts: list[str] = []
    failing = next((check for check in run.checks if not check.passed), None)
    if run.status is RunStatus.FAILED and failing is not None:
        parts.append(_text(_check_summary(failing), MAX_DETAIL_CHARS))
    elif run.status is RunStatus.ERROR:
        parts.append(_text(_error_summary(run), MAX_DETAIL_CHARS))
    elif run.status is RunStatus.SKIPPED and run.skip_reason:
        parts.append(_text(run.skip_reason, MAX_DETAIL_CHARS))
    if _is_failure(run):
        parts.append(f'<a href="#failure-{run.id}">details</a>')
    if _has_transcript(run):
        parts.append(f'<a href="#transcript-{run.id}">transcript</a>')
    return " · ".join(parts)


def _failures(runs: list[Run], flaky: set[str]) -> Iterable[str]:
    failing = [run for run in runs if _is_failure(run)]
    yield f'<section id="failures">\n<h2>Failing checks and errors ({len(failing)} runs)</h2>\n'
    if not failing:
        yield "<p>None.</p>\n"
    for run in failing:
        yield f'<article class="failure" id="failure-{run.id}">\n<h3>{_run_heading(run, flaky)}</h3>\n'
        if run.status is RunStatus.ERROR:
            yield f'<pre class="error">{_text(_error_summary(run))}</pre>\n'
        checks = [check for check in run.checks if not check.passed]
        if checks:
            yield (
                '<table class="checks">\n<thead><tr><th>Check</th><th>Expected</th><th>Actual</th>'
                "<th>Message</th></tr></thead>\n<tbody>\n"
            )
            for check in checks:
                yield (
                    f'<tr class="check"><td>{_text(check.name)}</td>'
                    f'<td class="value expected">{_text(_show(check.expected))}</td>'
                    f'<td class="value actual">{_text(_show(check.actual))}</td>'
                    f"<td>{_text(check.message)}</td></tr>\n"
                )
            yield "</tbody>\n</table>\n"
        yield "</article>\n"
    yield "</section>\n"


def _transcripts(runs: list[Run], flaky: set[str]) -> Iterable[str]:
    with_transcript = [run for run in runs if _has_transcript(run)]
    if not with_transcript:
        return
    yield f'<section id="transcripts">\n<h2>Transcripts ({len(with_transcript)})</h2>\n'
    for run in with_transcript:
        # Open where something went wrong: that is the transcript a reader came for.
        opened = " open" if run.status is not RunStatus.PASSED else ""
        yield (
            f'<details class="transcript-run" id="transcript-{run.id}"{opened}>\n'
            f"<summary>{_run_heading(run, flaky)}</summary>\n"
            '<ol class="transcript">\n'
        )
        speakers = dict(_SPEAKER_CLASSES)
        for entry in run.transcript[:MAX_TRANSCRIPT_LINES]:
            colour = speakers.setdefault(entry.speaker, len(speakers)) % _SPEAKER_COLOURS
            yield (
                f'<li class="line spk-{colour}"><span class="ts">{_span(entry)}</span>'
                f'<span class="speaker">{_text(entry.speaker)}</span>'
                f'<span class="text">{_text(entry.text)}</span></li>\n'
            )
        yield "</ol>\n"
        hidden = len(run.transcript) - MAX_TRANSCRIPT_LINES
        if hidden > 0:
            yield f'<p class="truncated">… {hidden} more lines not shown</p>\n'
        yield "</details>\n"
    yield "</section>\n"


def _run_heading(run: Run, flaky: set[str]) -> str:
    return (
        f"{_text(run.test_name)}{_flaky_badge(run, flaky)} · trial {run.trial} · "
        f'{_status_badge(run.status)} · <a href="#run-{run.id}">run {run.id}</a>'
    )


def _is_failure(run: Run) -> bool:
    return run.status in (RunStatus.FAILED, RunStatus.ERROR)


def _has_transcript(run: Run) -> bool:
    return run.kind in TRANSCRIPT_KINDS and bool(run.transcript)


def _status_badge(status: RunStatus) -> str:
    # The class comes from the enum, never from run data.
    return f'<span class="badge status st-{status.value}">{_text(status.value)}</span>'


def _flaky_badge(run: Run, flaky: set[str]) -> str:
    return '<span class="badge flaky">flaky</span>' if run.test_name in flaky else ""


def _check_summary(check: CheckResult) -> str:
    summary = f"{check.name}: expected {_show(check.expected)}, got {_show(check.actual)}"
    return f"{summary} ({check.message})" if check.message else summary


def _error_summary(run: Run) -> str:
    if run.error_kind and run.error_message:
        return f"{run.error_kind}: {run.error_message}"
    return run.error_message or run.error_kind or "error"


def _show(value: Any) -> str:
    # JSON, as in the JUnit export: it tells 200 from "200", which is often the whole failure.
    return json.dumps(value, ensure_ascii=False, default=str)


def _span(entry: TranscriptEntry) -> str:
    if entry.start is None:
        return ""
    if entry.end is None or entry.end == entry.start:
        return _clock(entry.start)
    return f"{_clock(entry.start)}–{_clock(entry.end)}"


def _clock(seconds: float) -> str:
    # Rounded first, so 59.96 s reads 1:00.0 rather than 0:60.0.
    minutes, rest = divmod(round(max(seconds, 0.0), 1), 60)
    return f"{int(minutes)}:{rest:04.1f}"


def _wall_ms(report: BatchReport, runs: list[Run]) -> float | None:
    """From the batch's creation to its end, or to the last run that finished if it has not ended."""
    ends = [run.finished_at for run in runs if run.finished_at is not None]
    end = report.batch.finished_at or (max(ends) if ends else None)
    if end is None:
        return None
    return (end - report.batch.created_at).total_seconds() * 1000


def _duration(millis: float | None) -> str:
    if millis is None:
        return "—"
    if millis < 1000:
        return f"{millis:.0f} ms"
    seconds = millis / 1000
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {rest:02d}s" if hours else f"{minutes}m {rest:02d}s"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _when(moment: datetime) -> str:
    return moment.isoformat(sep=" ", timespec="seconds")


def _text(value: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``value`` safe to put anywhere in the page: cleaned, cut to ``limit`` with a marker, escaped."""
    # Cut before escaping, so the cut never splits an entity such as &amp;.
    text = _UNSAFE_CHARS.sub("", value)
    if len(text) > limit:
        text = f"{text[:limit]}… [truncated: {len(text)} characters in all]"
    return html.escape(text, quote=True)
