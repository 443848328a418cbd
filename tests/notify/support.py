"""Test support: a batch summary factory, and local receivers — an HTTP endpoint, an SMTP server with
STARTTLS and login."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from callboard.core.notify.summary import BatchSummary, FailingTest

SMTP_USER = "notifier"
SMTP_PASSWORD = "s3cret-smtp-Pa55"


def make_summary(**overrides: Any) -> BatchSummary:
    """A nightly batch with 2 failures and 1 error; ``overrides`` replace any field."""
    fields: dict[str, Any] = {
        "batch_id": 42,
        "label": "nightly smoke",
        "source": "schedule",
        "schedule_id": 3,
        "schedule_name": "nightly",
        "status": "finished",
        "total": 10,
        "passed": 7,
        "failed": 2,
        "error": 1,
        "pass_rate": 70.0,
        "previous_pass_rate": 90.0,
        "duration_s": 723.4,
        "finished_at": datetime.datetime(2024, 5, 1, 2, 12, 3, tzinfo=datetime.UTC),
        "failing": (
            FailingTest("greets-caller", "status: expected 200, got 500"),
            FailingTest("books-cleaning", "turn 2: expected /booked/, got 'Sorry?'\nmore detail"),
            FailingTest("after-hours", "timeout after 30s"),
        ),
        "report_hint": "callboard report 42",
    }
    return BatchSummary(**{**fields, **overrides})


@dataclass
class Received:
    """One request the HTTP receiver got."""

    path: str
    json: Any
    content_type: str


@dataclass
class HttpReceiver:
    """Records every POST; answers 500 to the first ``fail_first``, and waits ``delay_s`` before answering."""

    base_url: str = ""
    fail_first: int = 0
    status: int = 200
    delay_s: float = 0.0
    requests: list[Received] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        """Record the request and answer as configured."""
        self.requests.append(Received(request.path_qs, await request.json(), request.content_type))
        await asyncio.sleep(self.delay_s)
        if len(self.requests) <= self.fail_first:
            return web.Response(status=500, text="failing on purpose")
        # A redirect points somewhere that would record nothing, had the sender followed it.
        headers = {"Location": "http://127.0.0.1:9/elsewhere"} if 300 <= self.status < 400 else None
        return web.Response(status=self.status, text="ok", headers=headers)

    def app(self) -> web.Application:
        """An app routing every POST path here."""
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        return app


@dataclass
class SmtpReceiver:
    """Records delivered messages and whether the session that delivered them was TLS and logged in."""

    messages: list[tuple[Envelope, bool, bool]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """aiosmtpd's hook for a complete message."""
        self.messages.append((envelope, session.ssl is not None, bool(session.authenticated)))
        return "250 OK"


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    """Accepts SMTP_USER / SMTP_PASSWORD only."""
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        SMTP_USER.encode(),
        SMTP_PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


def server_tls_context(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A self-signed certificate for localhost / 127.0.0.1: the server's context and the CA file to trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file
