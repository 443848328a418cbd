"""The notifier: policies per channel, retries with backoff, giving up, bounded close, no secret in logs."""

from __future__ import annotations

import logging
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from callboard.core.notify.notifier import Notifier, backoff_s
from callboard.core.notify.settings import NotifySettings
from callboard.core.notify.summary import BatchSummary
from callboard.core.notify.webhook import WebhookSender
from tests.notify.conftest import SmtpServer
from tests.notify.support import SMTP_USER, HttpReceiver, make_summary

FAST_RETRIES = {"retry_base_s": 0.01, "retry_max_s": 0.02}
CLEAN = make_summary(passed=10, failed=0, error=0, pass_rate=100.0, failing=())
WEBHOOK_TOKEN = "T0/B0/SECRETwebhookTOKEN"
SMTP_SECRET = "Wr0ng-SECRET-pw"
# Records of the local test servers (they log the paths they are sent) are not the notifier's.
SERVER_LOGGERS = ("mail.log", "aiohttp.access", "aiohttp.server", "aiohttp.web")


def _notifier(close_timeout_s: float = 10.0, **settings: Any) -> Notifier:
    return Notifier(NotifySettings.model_validate({**FAST_RETRIES, **settings}), close_timeout_s)


def _messages(caplog: pytest.LogCaptureFixture, level: int = logging.DEBUG) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= level and not record.name.startswith(SERVER_LOGGERS)
    ]


async def test_a_failed_webhook_is_retried_until_it_succeeds(
    receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="callboard.core.notify")
    receiver.fail_first = 2
    notifier = _notifier(when="always", webhooks=[{"url": f"{receiver.base_url}/hook"}])
    await notifier.batch_finished(CLEAN)
    await notifier.aclose()
    assert len(receiver.requests) == 3
    assert all(request.json == CLEAN.as_dict() for request in receiver.requests)
    messages = _messages(caplog)
    assert [message.split(", retrying")[0] for message in messages[:2]] == [
        "webhook #1 (127.0.0.1): notification for batch 42 failed (attempt 1 of 5)",
        "webhook #1 (127.0.0.1): notification for batch 42 failed (attempt 2 of 5)",
    ]
    assert messages[0].endswith(": 127.0.0.1 answered HTTP 500")
    assert messages[2:] == ["webhook #1 (127.0.0.1): notified batch 42 (attempt 3)"]


async def test_a_webhook_failing_for_good_is_given_up_and_never_holds_the_caller(
    receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.fail_first = 1000
    notifier = _notifier(retries=3, webhooks=[{"url": f"{receiver.base_url}/hook", "format": "slack"}])
    started = time.monotonic()
    await notifier.batch_finished(make_summary())
    assert time.monotonic() - started < 0.05 and receiver.requests == []  # sending happens in the background
    await notifier.aclose()
    assert len(receiver.requests) == 4  # the first attempt and 3 retries
    assert _messages(caplog, logging.ERROR) == [
        "webhook #1 (127.0.0.1): giving up on the notification for batch 42 after 4 attempt(s): "
        "127.0.0.1 answered HTTP 500"
    ]


async def test_each_channel_follows_its_own_policy(receiver: HttpReceiver, tmp_path: Path) -> None:
    marker = tmp_path / "hook-ran"
    touch = shlex.join([sys.executable, "-c", f"open({str(marker)!r}, 'a').write('x')"])
    notifier = _notifier(
        when="failure",
        webhooks=[
            {"url": f"{receiver.base_url}/default"},
            {"url": f"{receiver.base_url}/always", "when": "always"},
            {"url": f"{receiver.base_url}/drop", "when": "drop"},
        ],
        commands=[{"command": touch, "when": "drop"}],
    )
    await notifier.batch_finished(CLEAN)  # all passed, up from 90%
    await notifier.batch_finished(make_summary(batch_id=43, previous_pass_rate=None))  # failures, no previous
    await notifier.batch_finished(make_summary(batch_id=44, failed=0, error=0, failing=()))  # 70%, was 90%
    await notifier.aclose()
    sent = sorted((request.json["batch_id"], request.path) for request in receiver.requests)
    assert sent == [(42, "/always"), (43, "/always"), (43, "/default"), (44, "/always"), (44, "/drop")]
    assert marker.read_text() == "x"  # the drop, once


async def test_nothing_configured_or_nothing_wanted_sends_nothing(receiver: HttpReceiver) -> None:
    await _notifier().batch_finished(make_summary())
    notifier = _notifier(when="drop", webhooks=[{"url": f"{receiver.base_url}/hook"}])
    await notifier.batch_finished(make_summary(previous_pass_rate=None))
    await notifier.aclose()
    assert receiver.requests == []


async def test_close_waits_for_deliveries_but_not_forever(
    receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.delay_s = 30.0
    webhook = {"url": f"{receiver.base_url}/hook", "timeout_s": 60}
    notifier = _notifier(close_timeout_s=0.3, webhooks=[webhook])
    await notifier.batch_finished(make_summary())
    started = time.monotonic()
    await notifier.aclose()
    assert time.monotonic() - started < 2
    assert "abandoning 1 notification(s) still under way at shutdown" in _messages(caplog, logging.WARNING)


async def test_secrets_never_reach_the_log(
    receiver: HttpReceiver,
    smtp_server: SmtpServer,
    unused_tcp_port: int,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.fail_first = 1
    secret_urls = [
        f"{receiver.base_url}/services/{WEBHOOK_TOKEN}",
        f"http://127.0.0.1:{unused_tcp_port}/services/{WEBHOOK_TOKEN}?token=SECRETquery",
    ]
    notifier = _notifier(
        when="always",
        retries=1,
        webhooks=[{"url": url} for url in secret_urls],
        email={
            "host": "127.0.0.1",
            "port": smtp_server.port,
            "ca_file": str(smtp_server.ca_file),
            "username": SMTP_USER,
            "password": SMTP_SECRET,
            "from_addr": "callboard@example.com",
            "to": ["qa@example.com"],
        },
    )
    await notifier.batch_finished(make_summary())
    await notifier.aclose()

    # An unexpected error quoting its URL is scrubbed too.
    async def leaky_send(self: WebhookSender, summary: BatchSummary) -> None:
        raise RuntimeError(f"bug near {self._settings.url.get_secret_value()}")

    monkeypatch.setattr(WebhookSender, "send", leaky_send)
    await notifier.batch_finished(make_summary())
    await notifier.aclose()

    logged = "\n".join(_messages(caplog))
    assert "webhook #1 (127.0.0.1): notified batch 42 (attempt 2)" in logged
    assert "webhook #2 (127.0.0.1): giving up" in logged and "ClientConnectorError" in logged
    assert "email (127.0.0.1): giving up" in logged and "SMTPAuthenticationError" in logged
    assert "RuntimeError: bug near ***" in logged
    for secret in ("SECRETwebhookTOKEN", "SECRETquery", "/services/", SMTP_SECRET):
        assert secret not in logged


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    for attempt, full in ((1, 1.0), (2, 2.0), (3, 4.0), (7, 60.0), (30, 60.0)):
        delays = [backoff_s(attempt, 1.0, 60.0) for _ in range(200)]
        assert all(full / 2 <= delay <= full for delay in delays)
        assert len(set(delays)) > 1
