"""Fixtures: a local HTTP receiver and a local SMTP server (STARTTLS required, login required)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from aiosmtpd.smtp import SMTP

from tests.notify.support import HttpReceiver, SmtpReceiver, authenticator, server_tls_context


@pytest.fixture
async def receiver() -> AsyncIterator[HttpReceiver]:
    """An HTTP endpoint on 127.0.0.1 recording every POST; ``base_url`` is set."""
    receiver = HttpReceiver()
    server = TestServer(receiver.app(), host="127.0.0.1")
    await server.start_server()
    receiver.base_url = str(server.make_url("")).rstrip("/")
    try:
        yield receiver
    finally:
        await server.close()


@dataclass
class SmtpServer:
    """A running SMTP server: what it received, its port, and the CA file that trusts its certificate."""

    received: SmtpReceiver
    port: int
    ca_file: Path


@pytest.fixture
async def smtp_server(tmp_path: Path) -> AsyncIterator[SmtpServer]:
    """aiosmtpd in this test's event loop (the sender's smtplib runs in a thread), on an ephemeral port."""
    tls_context, ca_file = server_tls_context(tmp_path)
    received = SmtpReceiver()
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(
            received,
            hostname="localhost",
            tls_context=tls_context,
            require_starttls=True,
            authenticator=authenticator,
            auth_required=True,
        ),
        "127.0.0.1",
        0,
    )
    try:
        yield SmtpServer(received, server.sockets[0].getsockname()[1], ca_file)
    finally:
        server.close()
        await server.wait_closed()
