"""The self-contained HTML report of a batch, read back with the standard library's HTML parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

from callboard.core.models import Batch, BatchStatus, CheckResult, Run, RunStatus, TranscriptEntry
from callboard.core.reports.html_report import MAX_TEXT_CHARS, MAX_TRANSCRIPT_LINES, html_report
from callboard.core.reports.tabular import build_report
from tests.reports.factories import T0, make_run

XSS = "<script>alert(1)</script>"
VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(child if isinstance(child, str) else child.text() for child in self.children)

    def iter(self) -> list[Node]:
        found: list[Node] = []
        stack: list[Node] = [self]
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(reversed([child for child in node.children if isinstance(child, Node)]))
        return found

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [
            node
            for node in self.iter()
            if (tag is None or node.tag == tag) and (cls is None or cls in node.classes)
        ]

    def by_id(self, ident: str) -> Node:
        matches = [node for node in self.iter() if node.attrs.get("id") == ident]
        assert len(matches) == 1, f"{len(matches)} elements with id {ident!r}"
        return matches[0]


class TreeBuilder(HTMLParser):
    """A strict tree: every element must be closed in order, so unbalanced markup fails the test."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]
        self.declarations: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.declarations.append(decl)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(document: str) -> Node:
    builder = TreeBuilder()
    builder.feed(document)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements"
    assert builder.declarations == ["DOCTYPE html"]
    return builder.root


def make_batch(**changes: Any) -> Batch:
    fields: dict[str, Any] = {
        "id": 7,
        "label": "nightly",
        "source": "cli",
        "status": BatchStatus.FINISHED,
        "created_at": T0,
        "finished_at": T0 + timedelta(seconds=95),
    }
    return Batch(**(fields | changes))


def render(runs: list[Run], batch: Batch | None = None, **options: Any) -> str:
    batch = batch or make_batch()
    return html_report(build_report(batch, runs), runs, generated_at=T0, **options)


def sample_runs() -> list[Run]:
    return [
        make_run(
            1, "greets", score=100.0, duration_ms=250.0, checks=[CheckResult(name="status", passed=True)]
        ),
        make_run(
            2,
            "greets",
            RunStatus.FAILED,
            trial=2,
            score=50.0,
            duration_ms=1500.0,
            checks=[
                CheckResult(name="status", passed=True),
                CheckResult(name="reply contains", passed=False, expected="help", actual="sorry"),
                CheckResult(name="latency", passed=False, expected=800, actual=1234.5, message="too slow"),
            ],
        ),
        make_run(
            3, "lookup", RunStatus.ERROR, duration_ms=30_000.0, error_kind="timeout", error_message="no reply"
        ),
        make_run(
            4,
            "books-cleaning",
            RunStatus.PASSED,
            kind="conversation",
            score=100.0,
            duration_ms=2000.0,
            transcript=[
                TranscriptEntry(speaker="caller", text="I'd like to book a cleaning", start=0.0, end=0.0),
                TranscriptEntry(speaker="agent", text="When suits you?", start=0.42, end=0.42),
            ],
        ),
        make_run(
            5,
            "after-hours",
            RunStatus.FAILED,
            kind="call",
            score=0.0,
            duration_ms=65_000.0,
            checks=[CheckResult(name="agent_says", passed=False, expected="closed", actual="we are open")],
            transcript=[
                TranscriptEntry(speaker="agent", text="Thanks for calling.", start=1.5, end=3.25),
                TranscriptEntry(speaker="caller", text="Are you open on Sunday?", start=4.0, end=6.0),
                TranscriptEntry(speaker="channel 2", text="(hold music)", start=62.0, end=70.5),
            ],
        ),
        make_run(6, "after-hours", RunStatus.SKIPPED, kind="call", skip_reason="no phone number"),
        make_run(7, "slow", RunStatus.CANCELLED),
    ]


def rows(root: Node) -> list[Node]:
    return root.by_id("runs").find_all("tr", cls="run")


def cells(row: Node) -> list[str]:
    return [cell.text() for cell in row.find_all("td")]


def test_the_summary_shows_counts_pass_rate_scores_and_duration() -> None:
    root = parse(render(sample_runs()))
    summary = {
        node.attrs["id"]: node.text() for node in root.by_id("summary").find_all("td") if node.attrs.get("id")
    }
    assert summary == {
        "count-total": "7",
        "count-passed": "2",
        "count-failed": "2",
        "count-error": "1",
        "count-cancelled": "1",
        "count-skipped": "1",
        "count-queued": "0",
        "count-running": "0",
        "pass-rate": "40.0%",
        "score-count": "4",
        "score-min": "0",
        "score-median": "75",
        "score-mean": "62.5",
        "score-max": "100",
        "duration": "1m 35s",
        "run-time": "1m 39s",
        "flaky-count": "0",
    }
    assert root.find_all("title")[0].text() == "callboard — batch 7: nightly"
    assert "2024-05-01 12:00:00+00:00" in root.find_all("footer")[0].text()


def test_one_row_per_run_with_kind_trial_status_score_duration_and_cause() -> None:
    root = parse(render(sample_runs()))
    table = rows(root)
    # Ordered by test name, then trial.
    assert [row.attrs["id"] for row in table] == [f"run-{n}" for n in (5, 6, 4, 1, 2, 3, 7)]
    by_id = {row.attrs["id"]: row for row in table}
    assert cells(by_id["run-2"])[:7] == ["2", "greets", "http", "2", "failed", "50", "1.50 s"]
    # The first failed check is the cause shown, expected vs actual as JSON.
    assert cells(by_id["run-2"])[7].startswith('reply contains: expected "help", got "sorry"')
    assert cells(by_id["run-3"])[4:8] == ["error", "—", "30.00 s", "timeout: no reply · details"]
    assert cells(by_id["run-6"])[7] == "no phone number"
    assert cells(by_id["run-1"])[5:8] == ["100", "250 ms", ""]
    assert cells(by_id["run-5"])[6] == "1m 05s"
    badges = {row.attrs["id"]: row.find_all("span", cls="status")[0] for row in table}
    assert badges["run-7"].classes == {"badge", "status", "st-cancelled"}
    assert badges["run-1"].classes == {"badge", "status", "st-passed"}


def test_failing_checks_show_expected_and_actual_for_failed_and_errored_runs() -> None:
    root = parse(render(sample_runs()))
    section = root.by_id("failures")
    articles = section.find_all("article", cls="failure")
    assert [article.attrs["id"] for article in articles] == ["failure-5", "failure-2", "failure-3"]
    checks = [
        [cell.text() for cell in row.find_all("td")]
        for row in root.by_id("failure-2").find_all("tr", cls="check")
    ]
    assert checks == [
        ["reply contains", '"help"', '"sorry"', ""],
        ["latency", "800", "1234.5", "too slow"],
    ]
    assert root.by_id("failure-3").find_all("pre", cls="error")[0].text() == "timeout: no reply"
    assert "Failing checks and errors (3 runs)" in section.text()


def test_transcripts_of_conversation_and_call_runs_are_coloured_by_speaker_with_times() -> None:
    runs = [
        *sample_runs(),
        make_run(8, "odd", kind="http", transcript=[TranscriptEntry(speaker="x", text="y")]),
    ]
    root = parse(render(runs))
    runs_with_transcripts = root.by_id("transcripts").find_all("details")
    # Call/conversation runs only, in table order; failed ones open.
    assert [node.attrs["id"] for node in runs_with_transcripts] == ["transcript-5", "transcript-4"]
    assert "open" in runs_with_transcripts[0].attrs and "open" not in runs_with_transcripts[1].attrs
    lines = [
        (
            line.classes - {"line"},
            line.find_all("span", cls="ts")[0].text(),
            line.find_all("span", cls="speaker")[0].text(),
            line.find_all("span", cls="text")[0].text(),
        )
        for line in root.by_id("transcript-5").find_all("li", cls="line")
    ]
    assert lines == [
        ({"spk-0"}, "0:01.5–0:03.2", "agent", "Thanks for calling."),
        ({"spk-1"}, "0:04.0–0:06.0", "caller", "Are you open on Sunday?"),
        ({"spk-2"}, "1:02.0–1:10.5", "channel 2", "(hold music)"),
    ]
    conversation = [line.text() for line in root.by_id("transcript-4").find_all("li", cls="line")]
    assert conversation == ["0:00.0callerI'd like to book a cleaning", "0:00.4agentWhen suits you?"]
    assert root.by_id("transcript-4").find_all("li")[0].classes == {"line", "spk-1"}


def test_no_transcripts_section_without_transcripts_and_an_empty_batch_renders() -> None:
    root = parse(render([]))
    assert not [node for node in root.iter() if node.attrs.get("id") == "transcripts"]
    assert rows(root) == []
    assert root.by_id("pass-rate").text() == "—"
    assert root.by_id("failures").find_all("p")[0].text() == "None."


def test_everything_from_run_data_is_escaped() -> None:
    runs = [
        make_run(
            1,
            XSS,
            RunStatus.FAILED,
            kind="call",
            target="<iframe src=http://evil>",
            checks=[
                CheckResult(
                    name="<b>bold</b>",
                    passed=False,
                    expected="</td></tr><script>x()</script>",
                    actual={"<img src=x onerror=alert(1)>": "&amp;"},
                    message="\"quoted\" & 'single'",
                )
            ],
            transcript=[TranscriptEntry(speaker="<style>", text="</li><script>steal()</script>")],
        ),
        make_run(2, "ok", RunStatus.ERROR, kind='"><script>', error_message="<!-- comment --></pre>"),
    ]
    document = render(runs, batch=make_batch(label=XSS, source="<svg onload=x>"), flaky={XSS})
    assert "<script" not in document.lower()
    root = parse(document)
    tags = {node.tag for node in root.iter()}
    assert not tags & {"script", "img", "iframe", "svg", "b"}
    assert len(root.find_all("style")) == 1
    assert len(rows(root)) == 2
    # The data reads back as it was given.
    assert cells(rows(root)[0])[1] == XSS + "flaky"
    assert cells(rows(root)[1])[1:3] == ["ok", '"><script>']
    assert root.find_all("title")[0].text() == f"callboard — batch 7: {XSS}"
    check = [cell.text() for cell in root.by_id("failure-1").find_all("td")]
    assert check == [
        "<b>bold</b>",
        '"</td></tr><script>x()</script>"',
        '{"<img src=x onerror=alert(1)>": "&amp;"}',
        "\"quoted\" & 'single'",
    ]
    assert root.by_id("failure-2").find_all("pre")[0].text() == "<!-- comment --></pre>"
    line = root.by_id("transcript-1").find_all("li")[0]
    assert line.find_all("span", cls="speaker")[0].text() == "<style>"
    assert line.find_all("span", cls="text")[0].text() == "</li><script>steal()</script>"


def test_control_characters_are_stripped() -> None:
    name = "bell\x07 \x1b[31mred\x1b[0m nul\x00 del\x7f c1\x85 surrogate\ud800 tab\tok"
    runs = [
        make_run(1, name, RunStatus.FAILED, checks=[CheckResult(name="c", passed=False, actual="a\x0cb")]),
    ]
    document = render(runs)
    document.encode("utf-8")  # a lone surrogate would make the page impossible to write
    assert not any(char in document for char in "\x00\x07\x0c\x1b\x7f\x85\ud800")
    root = parse(document)
    assert cells(rows(root)[0])[1] == "bell [31mred[0m nul del c1 surrogate tab\tok"


def test_flaky_tests_get_a_badge() -> None:
    root = parse(render(sample_runs(), flaky={"greets", "not-in-this-batch"}))
    flagged = {row.attrs["id"] for row in rows(root) if row.find_all("span", cls="flaky")}
    assert flagged == {"run-1", "run-2"}
    assert root.by_id("flaky-count").text() == "1"
    assert root.by_id("flaky-tests").text() == "Flaky: greets"
    assert root.by_id("failure-2").find_all("span", cls="flaky")
    assert not root.by_id("failure-3").find_all("span", cls="flaky")


def test_the_page_is_self_contained() -> None:
    document = render(sample_runs(), flaky={"greets"})
    root = parse(document)
    nodes = root.iter()
    ids = {node.attrs["id"] for node in nodes if node.attrs.get("id")}
    assert not {"script", "link", "img", "iframe", "object", "embed"} & {node.tag for node in nodes}
    assert not [node for node in nodes if "src" in node.attrs]
    links = [node.attrs["href"] for node in nodes if "href" in node.attrs]
    assert links, "the page links runs, failures and transcripts to each other"
    # Every link is an anchor within the page, and its target exists.
    assert all(link is not None and link.startswith("#") and link[1:] in ids for link in links)
    style = root.find_all("style")[0].text()
    assert "url(" not in style and "@import" not in style
    assert "http://" not in document.replace("http://agent", "") and "https://" not in document
    csp = [node for node in nodes if node.tag == "meta" and node.attrs.get("http-equiv")]
    assert csp[0].attrs["content"] == "default-src 'none'; style-src 'unsafe-inline'"


def test_huge_texts_and_long_transcripts_are_cut_with_a_marker() -> None:
    huge = "x" * (MAX_TEXT_CHARS * 25)
    transcript = [TranscriptEntry(speaker="agent", text=huge if n == 0 else f"line {n}") for n in range(510)]
    runs = [
        make_run(
            1,
            "big",
            RunStatus.FAILED,
            kind="conversation",
            checks=[CheckResult(name="body", passed=False, expected="ok", actual=huge)],
            transcript=transcript,
        )
    ]
    document = render(runs)
    # The huge text appears twice (check value and transcript line), cut each time.
    assert len(document) < len(huge)
    root = parse(document)
    actual = root.by_id("failure-1").find_all("td", cls="actual")[0].text()
    assert actual.endswith(f"… [truncated: {len(huge) + 2} characters in all]")
    assert len(actual) < MAX_TEXT_CHARS + 100
    lines = root.by_id("transcript-1").find_all("li")
    assert len(lines) == MAX_TRANSCRIPT_LINES
    assert "truncated" in lines[0].text()
    assert root.by_id("transcript-1").find_all("p", cls="truncated")[0].text() == "… 10 more lines not shown"


def test_ten_thousand_runs() -> None:
    statuses = (RunStatus.PASSED, RunStatus.FAILED, RunStatus.ERROR, RunStatus.SKIPPED)
    runs = [
        make_run(
            n,
            f"test-{n % 1000:04d}",
            statuses[n % 4],
            trial=n // 1000 + 1,
            duration_ms=float(n),
            score=float(n % 101),
            checks=[CheckResult(name="c", passed=n % 4 != 1, expected=1, actual=2)],
            error_message="boom" if n % 4 == 2 else None,
        )
        for n in range(10_000)
    ]
    root = parse(render(runs))
    assert len(rows(root)) == 10_000
    assert root.by_id("count-total").text() == "10000"
    assert len(root.by_id("failures").find_all("article")) == 5_000
