"""Webhook sender against a local receiver: the JSON body, the Slack text, and what counts as failure."""

from __future__ import annotations

import pytest

from callboard.core.notify.base import NotifyError
from callboard.core.notify.settings import WebhookSettings
from callboard.core.notify.summary import FailingTest
from callboard.core.notify.webhook import SLACK_LISTED_FAILING, WebhookSender, slack_text
from tests.notify.support import HttpReceiver, make_summary


def _sender(url: str, format: str = "json", timeout_s: float = 5.0) -> WebhookSender:
    settings = WebhookSettings.model_validate({"url": url, "format": format, "timeout_s": timeout_s})
    return WebhookSender(settings)


async def test_json_posts_the_summary(receiver: HttpReceiver) -> None:
    await _sender(f"{receiver.base_url}/hook/tok3n?key=k").send(make_summary())
    (request,) = receiver.requests
    assert request.path == "/hook/tok3n?key=k" and request.content_type == "application/json"
    assert request.json == make_summary().as_dict()


async def test_slack_posts_text_only(receiver: HttpReceiver) -> None:
    await _sender(f"{receiver.base_url}/services/T/B/x", "slack").send(make_summary())
    (request,) = receiver.requests
    assert set(request.json) == {"text"}
    lines = request.json["text"].splitlines()
    assert lines[0] == (
        ":x: *callboard* batch *nightly smoke* (#42) finished: "
        "7/10 passed (70%, was 90%), 2 failed, 1 error, in 12m 3s"
    )
    assert lines[1:] == [
        "*Failing:*",
        "• `greets-caller` — status: expected 200, got 500",
        "• `books-cleaning` — turn 2: expected /booked/, got 'Sorry?'",
        "• `after-hours` — timeout after 30s",
        "Report: `callboard report 42`",
    ]


def test_slack_text_escapes_and_caps() -> None:
    failing = tuple(FailingTest(f"t`{i}", "got <b> & more") for i in range(SLACK_LISTED_FAILING + 3))
    text = slack_text(make_summary(label="a <b> & c", failing=failing))
    assert "*a &lt;b&gt; &amp; c*" in text
    assert "• `t'0` — got &lt;b&gt; &amp; more" in text
    assert text.count("• ") == SLACK_LISTED_FAILING and "_…and 3 more_" in text
    clean = make_summary(passed=10, failed=0, error=0, pass_rate=100.0, failing=(), report_hint="")
    assert slack_text(clean).startswith(":white_check_mark: ") and "\n" not in slack_text(clean)
    dropped = make_summary(failed=0, error=0, cancelled=3, failing=())
    assert slack_text(dropped).startswith(":warning: ")


@pytest.mark.parametrize("status", [500, 404, 302])
async def test_a_non_2xx_answer_is_a_failure_named_by_host(receiver: HttpReceiver, status: int) -> None:
    receiver.status = status
    with pytest.raises(NotifyError) as caught:
        await _sender(f"{receiver.base_url}/hook/tok3n").send(make_summary())
    assert str(caught.value) == f"127.0.0.1 answered HTTP {status}"
    assert len(receiver.requests) == 1  # a redirect is not followed


async def test_an_unreachable_endpoint_is_a_failure(unused_tcp_port: int) -> None:
    with pytest.raises(NotifyError, match=r"^POST to 127\.0\.0\.1 failed: ClientConnectorError") as caught:
        await _sender(f"http://127.0.0.1:{unused_tcp_port}/hook/tok3n").send(make_summary())
    assert "tok3n" not in str(caught.value)
    # One plain reason, without aiohttp's internals (ssl:default on a plain-http URL).
    assert str(caught.value).endswith(f"cannot connect to 127.0.0.1:{unused_tcp_port}: Connection refused")


async def test_a_slow_endpoint_times_out(receiver: HttpReceiver) -> None:
    receiver.delay_s = 2.0
    with pytest.raises(NotifyError, match="TimeoutError"):
        await _sender(f"{receiver.base_url}/h", timeout_s=0.2).send(make_summary())
