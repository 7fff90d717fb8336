"""The embedded SMTP listener facing more than a private network: STARTTLS with the operator's
certificate, mail refused before TLS when required, and AUTH required of the sender (only
inside TLS). Real sockets, a real SMTP client (aiosmtplib), a self-signed certificate."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import aiosmtplib
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select
from tests.integration.channels.test_email_outbound import (
    SMTP_PASSWORD,
    SMTP_USER,
    configure_mailbox,
)
from tests.support.actors import running_scenario
from tests.support.mail import MailSink
from tests.support.server import InProcessServer
from tests.support.services import free_port

from tresen.channels.smtp_listener import ListenerConfigError, listener_options
from tresen.settings import Settings
from tresen.storage.models import InboundMail

MTA_USER, MTA_PASSWORD = "relay", "relay-pw-7"
MAIL = (
    b"From: Kunde <kunde@example.com>\r\nTo: support@shop.example\r\n"
    b"Subject: Bestellung\r\nMessage-ID: <tls-1@example.com>\r\n\r\nHallo!\r\n"
)


def self_signed(folder: Path) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp.crt", folder / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def trusting(cert: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=cert)
    context.check_hostname = False  # the listener is reached as 127.0.0.1
    return context


@pytest.fixture
async def shop(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[InProcessServer, str]]:
    cert, key = self_signed(tmp_path)
    sink = MailSink(SMTP_USER, SMTP_PASSWORD).start()
    try:
        async with running_scenario(
            tmp_path,
            database_url,
            smtp_enabled=True,
            smtp_port=free_port(),
            smtp_tls_cert=cert,
            smtp_tls_key=key,
            smtp_require_tls=True,
            smtp_auth_user=MTA_USER,
            smtp_auth_password=MTA_PASSWORD,
        ) as (srv, sc):
            await configure_mailbox(sc, sink.port)
            yield srv, cert
    finally:
        sink.stop()


async def stored(srv: InProcessServer) -> list[str]:
    async with srv.rt.db.read() as s:
        return list((await s.execute(select(InboundMail.rfc_message_id))).scalars())


async def test_starttls_and_auth_then_stored(shop: tuple[InProcessServer, str]) -> None:
    srv, cert = shop
    errors, text = await aiosmtplib.send(
        MAIL,
        sender="kunde@example.com",
        recipients=["support@shop.example"],
        hostname="127.0.0.1",
        port=srv.settings.smtp_port,
        start_tls=True,
        tls_context=trusting(cert),
        username=MTA_USER,
        password=MTA_PASSWORD,
    )
    assert not errors and "stored" in text
    assert await stored(srv) == ["<tls-1@example.com>"]


async def test_plaintext_is_refused_before_any_mail(shop: tuple[InProcessServer, str]) -> None:
    srv, _ = shop
    with pytest.raises(aiosmtplib.SMTPResponseException) as err:
        await aiosmtplib.send(
            MAIL,
            sender="kunde@example.com",
            recipients=["support@shop.example"],
            hostname="127.0.0.1",
            port=srv.settings.smtp_port,
            start_tls=False,
        )
    assert err.value.code == 530  # must issue STARTTLS first
    assert await stored(srv) == []


async def test_wrong_or_missing_credentials_are_refused(shop: tuple[InProcessServer, str]) -> None:
    srv, cert = shop
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await aiosmtplib.send(
            MAIL,
            sender="kunde@example.com",
            recipients=["support@shop.example"],
            hostname="127.0.0.1",
            port=srv.settings.smtp_port,
            start_tls=True,
            tls_context=trusting(cert),
            username=MTA_USER,
            password="guess",
        )
    with pytest.raises(aiosmtplib.SMTPResponseException) as err:
        await aiosmtplib.send(
            MAIL,
            sender="kunde@example.com",
            recipients=["support@shop.example"],
            hostname="127.0.0.1",
            port=srv.settings.smtp_port,
            start_tls=True,
            tls_context=trusting(cert),
        )
    assert err.value.code == 530  # authentication required
    assert await stored(srv) == []


def test_half_configured_listener_is_a_clear_error(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    cases = [
        ({"smtp_tls_cert": cert}, "both TRESEN_SMTP_TLS_CERT"),
        ({"smtp_require_tls": True}, "needs a certificate"),
        ({"smtp_auth_user": "relay"}, "both TRESEN_SMTP_AUTH_USER"),
        ({"smtp_tls_cert": cert, "smtp_tls_key": str(tmp_path / "missing.key")}, "certificate"),
    ]
    for changes, message in cases:
        with pytest.raises(ListenerConfigError, match=message):
            listener_options(Settings(secret_key="x" * 32, **changes))  # type: ignore[arg-type]
    ok = listener_options(Settings(secret_key="x" * 32, smtp_tls_cert=cert, smtp_tls_key=key))
    assert ok["tls_context"] is not None and ok["auth_required"] is False
