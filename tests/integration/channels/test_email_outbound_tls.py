"""Outgoing mail over TLS against a real TLS SMTP server (aiosmtpd with a certificate this test
makes): STARTTLS and implicit TLS with AUTH inside TLS; an untrusted certificate fails clearly
(and nothing is sent) unless the mailbox turns verification off; a server without STARTTLS is
never used in plain text when the mailbox asks for it; a wrong password fails for good."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.integration.channels.test_email_outbound import (
    SMTP_PASSWORD,
    SMTP_USER,
    deliveries,
    leave_message,
    reply,
)
from tests.support.actors import Scenario, running_scenario
from tests.support.mail import MailSink
from tests.support.nginx import self_signed
from tests.support.server import InProcessServer

from tresen.scheduler import ManualScheduler

RETRY = 30


@asynccontextmanager
async def shop(
    tmp_path: Path, database_url: str, timers: ManualScheduler, ca_file: str
) -> AsyncIterator[tuple[InProcessServer, Scenario]]:
    async with running_scenario(
        tmp_path,
        database_url,
        clock=timers.clock,
        scheduler=timers,
        overflow_wait_seconds=0,
        email_followup_minutes=0,
        outbox_retry_seconds=RETRY,
        outbox_max_attempts=3,
        mail_ca_file=ca_file,
    ) as setup:
        yield setup


async def mailbox(sc: Scenario, port: int, security: str, **extra: Any) -> None:
    site_id = (await sc.anna.http.get("/api/sites")).json()[0]["id"]
    body = {
        "from_address": "support@shop.example",
        "from_name": "Shop Support",
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_security": security,
        "smtp_user": SMTP_USER,
        **extra,
    }
    r = await sc.anna.http.put(
        f"/api/sites/{site_id}/mailbox", headers={"X-CSRF-Token": sc.anna.csrf}, json=body
    )
    assert r.status_code == 200, r.text


async def answer(srv: InProcessServer, sc: Scenario) -> tuple[int, dict[str, Any]]:
    """A customer's message answered by Anna; the delivery of her reply once it was tried."""
    conv_id = await leave_message(srv, sc, "kunde@example.com")
    await reply(sc, conv_id, "Ihre Bestellung ist unterwegs.", "a1")
    await srv.rt.events.drain()
    await srv.app.state.outbox.idle()
    [item] = await deliveries(sc, conv_id)
    return conv_id, item


@pytest.mark.parametrize("mode", ["starttls", "tls"])
async def test_trusted_certificate_tls_and_auth(
    tmp_path: Path, database_url: str, timers: ManualScheduler, mode: str
) -> None:
    cert, key = self_signed("127.0.0.1", tmp_path)
    sink = MailSink(SMTP_USER, SMTP_PASSWORD, tls=mode, cert=str(cert), key=str(key)).start()
    try:
        async with shop(tmp_path, database_url, timers, str(cert)) as (srv, sc):
            await mailbox(sc, sink.port, mode, smtp_password=SMTP_PASSWORD)
            _, item = await answer(srv, sc)
            assert item["status"] == "sent", item
            [got] = sink.received
            assert got.tls and got.rcpt_tos == ["kunde@example.com"]
            assert sink.handler.logins == [(SMTP_USER, SMTP_PASSWORD)]
            assert (
                "Ihre Bestellung ist unterwegs." in got.message.get_body(("plain",)).get_content()
            )
    finally:
        sink.stop()


async def test_untrusted_certificate_fails_clearly_until_the_mailbox_allows_it(
    tmp_path: Path, database_url: str, timers: ManualScheduler
) -> None:
    cert, key = self_signed("127.0.0.1", tmp_path)
    sink = MailSink(SMTP_USER, SMTP_PASSWORD, tls="starttls", cert=str(cert), key=str(key)).start()
    try:
        async with shop(tmp_path, database_url, timers, "") as (srv, sc):  # CA not known
            await mailbox(sc, sink.port, "starttls", smtp_password=SMTP_PASSWORD)
            conv_id, item = await answer(srv, sc)
            assert item["status"] == "pending" and item["attempts"] == 1, item
            assert "TLS certificate of 127.0.0.1 is not trusted" in item["error"], item
            assert "verify_tls" in item["error"]
            assert sink.received == [] and sink.handler.logins == []  # no password sent

            await mailbox(sc, sink.port, "starttls", verify_tls=False)  # password kept
            timers.advance(RETRY)
            await srv.app.state.outbox.idle()
            [item] = await deliveries(sc, conv_id)
            assert item["status"] == "sent" and item["attempts"] == 2, item
            assert [r.tls for r in sink.received] == [True]
            assert sink.handler.logins == [(SMTP_USER, SMTP_PASSWORD)]
    finally:
        sink.stop()


async def test_starttls_is_never_skipped_when_the_server_lacks_it(
    tmp_path: Path, database_url: str, timers: ManualScheduler
) -> None:
    sink = MailSink(SMTP_USER, SMTP_PASSWORD).start()  # plain text only
    try:
        async with shop(tmp_path, database_url, timers, "") as (srv, sc):
            await mailbox(sc, sink.port, "starttls", smtp_password=SMTP_PASSWORD)
            _, item = await answer(srv, sc)
            assert item["status"] == "pending" and "STARTTLS" in item["error"], item
            assert sink.received == [] and sink.handler.logins == []
    finally:
        sink.stop()


async def test_wrong_password_inside_tls_fails_for_good(
    tmp_path: Path, database_url: str, timers: ManualScheduler
) -> None:
    cert, key = self_signed("127.0.0.1", tmp_path)
    sink = MailSink(SMTP_USER, SMTP_PASSWORD, tls="tls", cert=str(cert), key=str(key)).start()
    try:
        async with shop(tmp_path, database_url, timers, str(cert)) as (srv, sc):
            await mailbox(sc, sink.port, "tls", smtp_password="not-the-password")
            _, item = await answer(srv, sc)
            assert item["status"] == "failed" and "535" in item["error"], item
            assert sink.received == []
            # (aiosmtplib tries PLAIN, then LOGIN: both refused)
            assert set(sink.handler.logins) == {(SMTP_USER, "not-the-password")}
    finally:
        sink.stop()
