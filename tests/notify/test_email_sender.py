"""Email sender against a local SMTP server that requires STARTTLS and login."""

from __future__ import annotations

import asyncio
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

import pytest
from aiosmtpd.smtp import SMTP

from callboard.core.notify.base import NotifyError
from callboard.core.notify.mail import EMAIL_LISTED_FAILING, EmailSender, build_message
from callboard.core.notify.settings import EmailSettings
from callboard.core.notify.summary import FailingTest
from tests.notify.conftest import SmtpServer
from tests.notify.support import SMTP_PASSWORD, SMTP_USER, SmtpReceiver, make_summary


def _settings(server: SmtpServer, **overrides: Any) -> EmailSettings:
    return EmailSettings.model_validate(
        {
            "host": "127.0.0.1",
            "port": server.port,
            "username": SMTP_USER,
            "password": SMTP_PASSWORD,
            "ca_file": str(server.ca_file),
            "from_addr": "callboard@example.com",
            "to": ["qa@example.com", "oncall@example.com"],
            "timeout_s": 5,
            **overrides,
        }
    )


def _delivered(server: SmtpServer) -> EmailMessage:
    (envelope, over_tls, authenticated), *_ = server.received.messages
    assert over_tls and authenticated
    assert envelope.mail_from == "callboard@example.com"
    assert envelope.rcpt_tos == ["qa@example.com", "oncall@example.com"]
    assert isinstance(envelope.original_content, bytes)
    return cast(EmailMessage, message_from_bytes(envelope.original_content, policy=policy.default))


async def test_the_message_arrives_over_starttls_with_login(smtp_server: SmtpServer) -> None:
    await EmailSender(_settings(smtp_server)).send(make_summary())
    message = _delivered(smtp_server)
    assert message["Subject"] == (
        "[callboard] Batch 'nightly smoke' (#42) finished: 7/10 passed (70%, was 90%), 2 failed, 1 error, "
        "in 12m 3s"
    )
    assert message["To"] == "qa@example.com, oncall@example.com"
    assert message.get_content_type() == "text/plain"
    lines = message.get_content().splitlines()
    assert "Schedule:  nightly (#3)" in lines and "Finished:  2024-05-01 02:12:03+00:00" in lines
    assert "  - greets-caller: status: expected 200, got 500" in lines
    assert lines[-1] == "Report: callboard report 42"


async def test_a_certificate_not_trusted_is_refused(smtp_server: SmtpServer) -> None:
    with pytest.raises(NotifyError, match=r"SMTP to 127\.0\.0\.1:\d+ failed: SSLCertVerificationError"):
        await EmailSender(_settings(smtp_server, ca_file=None)).send(make_summary())
    await EmailSender(_settings(smtp_server, ca_file=None, verify_tls=False)).send(make_summary())
    assert len(smtp_server.received.messages) == 1


async def test_a_wrong_password_is_a_failure_that_does_not_quote_it(smtp_server: SmtpServer) -> None:
    with pytest.raises(NotifyError, match="SMTPAuthenticationError") as caught:
        await EmailSender(_settings(smtp_server, password="wrong-Pa55word")).send(make_summary())
    assert "wrong-Pa55word" not in str(caught.value)
    assert smtp_server.received.messages == []


async def test_a_server_without_starttls_is_refused_not_used_in_clear_text(smtp_server: SmtpServer) -> None:
    received = SmtpReceiver()
    plain = await asyncio.get_running_loop().create_server(lambda: SMTP(received), "127.0.0.1", 0)
    try:
        port = plain.sockets[0].getsockname()[1]
        with pytest.raises(NotifyError, match="SMTPNotSupportedError"):
            await EmailSender(_settings(smtp_server, port=port)).send(make_summary())
    finally:
        plain.close()
        await plain.wait_closed()
    assert received.messages == []


async def test_an_unreachable_server_is_a_failure(smtp_server: SmtpServer, unused_tcp_port: int) -> None:
    with pytest.raises(NotifyError, match="ConnectionRefusedError"):
        await EmailSender(_settings(smtp_server, port=unused_tcp_port)).send(make_summary())


def test_subject_stays_one_line_and_the_body_caps_failures(smtp_server: SmtpServer) -> None:
    failing = tuple(FailingTest(f"t{i}", "boom") for i in range(EMAIL_LISTED_FAILING + 2))
    message = build_message(_settings(smtp_server), make_summary(label="evil\r\nBcc: x@y.z", failing=failing))
    assert "\n" not in message["Subject"] and message["Bcc"] is None
    body = message.get_content()
    assert body.count("  - t") == EMAIL_LISTED_FAILING and "… and 2 more" in body
