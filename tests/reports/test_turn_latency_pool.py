"""Turn latency pooled over a test's trials: the batch report's p50/p90/p95 per test, for any kind."""

from __future__ import annotations

from rich.console import Console

from callboard.core.cli.run_display import report_view
from callboard.core.reports.html_report import html_report
from callboard.core.reports.tabular import build_report
from callboard.core.reports.turn_latency import pooled_turn_latency, turn_latencies
from tests.reports.factories import make_batch, make_run


def trial(run_id: int, name: str, *latencies: float, late: int = 0, kind: str = "call") -> object:
    metrics = {f"turn_latency_ms.{index}": value for index, value in enumerate(latencies, start=1)}
    metrics |= {"turn_latency_p90_ms": max(latencies), "late_answer_count": float(late)}
    return make_run(run_id, name, kind=kind, metrics=metrics)


RUNS = [
    trial(1, "books [bold]call[/]", 800.0, 1200.0),
    trial(2, "books [bold]call[/]", 900.0, 6000.0, late=1),
    trial(3, "books [bold]call[/]", 1000.0, 1100.0, 950.0),
    trial(4, "voice-greeting", 400.0, kind="voice"),
    make_run(5, "http-only", metrics={"latency_ms": 20.0}),
]


def test_turns_of_every_trial_are_pooled_per_test() -> None:
    calls, voice = pooled_turn_latency(RUNS)  # type: ignore[arg-type]
    assert (calls.test_name, calls.runs, calls.turns, calls.late_answers) == ("books [bold]call[/]", 3, 7, 1)
    # Seven turns: 800 900 950 1000 1100 1200 6000 — one call alone (2-3 turns) has no meaningful p90.
    assert (calls.p50_ms, calls.p90_ms, calls.p95_ms) == (1000.0, 3120.0, 4560.0)
    assert (voice.test_name, voice.runs, voice.turns, voice.p90_ms) == ("voice-greeting", 1, 1, 400.0)


def test_per_turn_keys_are_read_in_turn_order_and_nothing_else() -> None:
    metrics = {"turn_latency_ms.10": 3.0, "turn_latency_ms.2": 2.0, "turn_latency_ms.1": 1.0,
               "turn_latency_ms.p": 9.0, "turn_latency_p90_ms": 9.0}  # fmt: skip
    assert turn_latencies(metrics) == [1.0, 2.0, 3.0]


def test_the_report_shows_the_pool_in_the_terminal_and_in_html_literally() -> None:
    report = build_report(make_batch(), RUNS)  # type: ignore[arg-type]
    assert [pooled.test_name for pooled in report.turn_latency] == ["books [bold]call[/]", "voice-greeting"]
    console = Console(width=140, record=True)
    console.print(report_view(report))
    text = console.export_text()
    assert "turn latency (pooled over trials)" in text and "books [bold]call[/]" in text
    assert "3120 ms" in text
    page = html_report(report, RUNS)  # type: ignore[arg-type]
    assert "Turn latency (pooled over trials)" in page and "books [bold]call[/]" in page
    assert '<td class="num">3120 ms</td>' in page
