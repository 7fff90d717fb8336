"""Outbound email over real sockets: a visitor leaves a message, an agent answers in the
console, and the answer arrives at a real SMTP server (aiosmtpd) as a threaded mail with a
text and an HTML part; failures are retried with backoff on the injected clock and shown to the
console; a crash right after the commit still sends, once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.support.actors import Scenario, next_frame, raw_socket, running_scenario
from tests.support.mail import SMTP_PASSWORD, SMTP_USER, MailSink
from tests.support.server import InProcessServer, test_settings

from tresen.channels.email import EmailChannel
from tresen.channels.outbox import OutboxWorker
from tresen.clock import ManualClock
from tresen.scheduler import ManualScheduler
from tresen.storage.models import Mailbox, Outbox


async def configure_mailbox(sc: Scenario, port: int) -> dict[str, Any]:
    r = await sc.anna.http.get("/api/sites")
    site_id = r.json()[0]["id"]
    r = await sc.anna.http.put(
        f"/api/sites/{site_id}/mailbox",
        headers={"X-CSRF-Token": sc.anna.csrf},
        json={
            "from_address": "support@shop.example",
            "from_name": "Shop Support",
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "smtp_user": SMTP_USER,
            "smtp_password": SMTP_PASSWORD,
        },
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def leave_message(srv: InProcessServer, sc: Scenario, email: str) -> int:
    """Nobody takes the chat: the visitor leaves a message, to be answered by email."""
    v = await sc.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(json.dumps({"type": "send", "client_msg_id": "m1", "body": "Where is my order?"}))
    conv_id = int((await next_frame(ws, "ack"))["conversation_id"])
    await srv.rt.routing.run_once()
    await next_frame(ws, "overflow")
    choice = {"type": "queue_choice", "conversation_id": conv_id, "choice": "message"}
    await ws.send(json.dumps({**choice, "email": email}))
    await next_frame(ws, "message")
    await ws.close()
    return conv_id


async def reply(sc: Scenario, conv_id: int, body: str, cmid: str) -> dict[str, Any]:
    r = await sc.anna.post(
        f"/api/conversations/{conv_id}/messages", json={"body": body, "client_msg_id": cmid}
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def deliveries(sc: Scenario, conv_id: int) -> list[dict[str, Any]]:
    r = await sc.anna.http.get(f"/api/conversations/{conv_id}/deliveries")
    assert r.status_code == 200, r.text
    return list(r.json())


@pytest.fixture
def shop_settings() -> dict[str, Any]:
    return {
        "overflow_wait_seconds": 0,
        "outbox_retry_seconds": 30,
        "outbox_max_attempts": 3,
        # the tests' consoles answer no pings while the timers advance minutes
        "heartbeat_seconds": 86_400.0,
        "idle_timeout_seconds": 86_400.0 * 3,
    }


async def test_reply_arrives_threaded_with_text_and_escaped_html(
    shop: tuple[InProcessServer, Scenario], sink: MailSink
) -> None:
    srv, sc = shop
    view = await configure_mailbox(sc, sink.port)
    assert view["smtp_password_set"] is True and "s3cret" not in json.dumps(view)
    async with srv.rt.db.read() as s:
        stored = (await s.execute(select(Mailbox))).scalar_one()
    assert SMTP_PASSWORD not in stored.smtp_password_enc  # sealed with the secret key
    conv_id = await leave_message(srv, sc, "kunde@example.com")
    console = await raw_socket(await sc.anna.ws_url(), origin=sc.base_url)
    await next_frame(console, "welcome")

    hostile = "Thanks! <script>alert('x')</script> & <b>bold</b>\n\nSecond paragraph"
    await reply(sc, conv_id, hostile, "r1")
    await srv.rt.events.drain()
    sent = await next_frame(console, "delivery")
    assert (sent["state"], sent["conversation_id"], sent["attempts"]) == ("sent", conv_id, 1)

    assert sink.handler.logins == [(SMTP_USER, SMTP_PASSWORD)]
    [first] = sink.received
    assert first.rcpt_tos == ["kunde@example.com"]
    mail = first.message
    assert "Anna" in mail["From"] and "support@shop.example" in mail["From"]
    assert mail["Reply-To"].startswith(f"support+{conv_id}-")
    assert mail["Subject"].startswith("Re: Your message to Shop [#")
    assert mail["In-Reply-To"] is None
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = mail.get_body(("html",)).get_content()
    assert hostile in text and "Anna" in text
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>bold" not in html
    assert mail.get_content_type() == "multipart/alternative"

    await reply(sc, conv_id, "And one more thing.", "r2")
    await srv.rt.events.drain()
    second = sink.received[1].message
    assert second["In-Reply-To"] == mail["Message-ID"]
    assert mail["Message-ID"] in second["References"]
    assert second["Subject"] == mail["Subject"]

    # internal notes never leave the house
    r = await sc.anna.post(
        f"/api/conversations/{conv_id}/messages",
        json={"body": "note", "client_msg_id": "n1", "internal": True},
    )
    assert r.status_code == 201
    await srv.rt.events.drain()
    assert len(sink.received) == 2
    states = [(d["seq"], d["status"], d["external_id"]) for d in await deliveries(sc, conv_id)]
    assert [s for _, s, _ in states] == ["sent", "sent"]
    assert states[0][2] == mail["Message-ID"]
    await console.close()


async def test_temporary_failure_is_retried_with_backoff_then_sent_once(
    shop: tuple[InProcessServer, Scenario], sink: MailSink, timers: ManualScheduler
) -> None:
    srv, sc = shop
    await configure_mailbox(sc, sink.port)
    conv_id = await leave_message(srv, sc, "kunde@example.com")
    console = await raw_socket(await sc.anna.ws_url(), origin=sc.base_url)
    await next_frame(console, "welcome")
    sink.refuse("451 4.3.0 try again later")
    await reply(sc, conv_id, "Your parcel left today.", "r1")
    await srv.rt.events.drain()
    retry = await next_frame(console, "delivery")
    assert retry["state"] == "retry" and "451" in retry["error"]
    [item] = await deliveries(sc, conv_id)
    assert (item["status"], item["attempts"]) == ("pending", 1)

    timers.advance(29)  # not due before the backoff: nothing is tried
    await srv.app.state.outbox.idle()
    assert (await deliveries(sc, conv_id))[0]["attempts"] == 1
    timers.advance(1)  # 30 s: the second attempt, refused again; next in 60 s
    await srv.app.state.outbox.idle()
    assert (await next_frame(console, "delivery"))["attempts"] == 2
    sink.refuse(None)
    timers.advance(59)
    await srv.app.state.outbox.idle()
    assert sink.received == []
    timers.advance(1)
    await srv.app.state.outbox.idle()
    assert (await next_frame(console, "delivery"))["state"] == "sent"
    timers.advance(3600)
    await srv.app.state.outbox.idle()
    assert len(sink.received) == 1
    await console.close()


async def test_permanent_failure_is_shown_on_the_message(
    shop: tuple[InProcessServer, Scenario], sink: MailSink
) -> None:
    srv, sc = shop
    await configure_mailbox(sc, sink.port)
    conv_id = await leave_message(srv, sc, "nobody@example.com")
    console = await raw_socket(await sc.anna.ws_url(), origin=sc.base_url)
    await next_frame(console, "welcome")
    sink.refuse("550 5.1.1 no such user")
    msg = await reply(sc, conv_id, "Hello?", "r1")
    await srv.rt.events.drain()
    failed = await next_frame(console, "delivery")
    assert (failed["state"], failed["seq"]) == ("failed", msg["seq"])
    assert "550" in failed["error"]
    [item] = await deliveries(sc, conv_id)
    assert item["status"] == "failed" and "no such user" in item["error"]
    await console.close()


async def test_no_mailbox_fails_clearly(shop: tuple[InProcessServer, Scenario]) -> None:
    srv, sc = shop
    conv_id = await leave_message(srv, sc, "kunde@example.com")
    await reply(sc, conv_id, "Hello", "r1")
    await srv.rt.events.drain()
    [item] = await deliveries(sc, conv_id)
    assert item["status"] == "failed" and "no mailbox" in item["error"]


async def test_crash_after_commit_still_sends_exactly_once(
    tmp_path: Path, database_url: str, sink: MailSink
) -> None:
    timers = ManualScheduler(ManualClock())
    settings = dict(overflow_wait_seconds=0)
    async with running_scenario(
        tmp_path, database_url, clock=timers.clock, scheduler=timers, **settings
    ) as (srv, sc):
        await configure_mailbox(sc, sink.port)
        conv_id = await leave_message(srv, sc, "kunde@example.com")
        srv.rt.db.on_commit = lambda events: None  # the process dies right after the commit
        await reply(sc, conv_id, "Committed, then the lights went out.", "r1")
        await srv.rt.events.drain()
        assert sink.received == []
        async with srv.rt.db.read() as s:
            assert (await s.execute(select(Outbox.status))).scalar_one() == "pending"

    # A new process on the same database: its start sweep sends what was left, once, even
    # with a second worker (another node) sweeping at the same moment.
    (tmp_path / "again").mkdir()
    conf = test_settings(tmp_path / "again", database_url, overflow_wait_seconds=0)
    srv2 = InProcessServer(conf, clock=timers.clock, scheduler=timers)
    await srv2.start()
    try:
        other = OutboxWorker(srv2.rt, [EmailChannel(srv2.rt)])
        await asyncio.gather(srv2.app.state.outbox.idle(), other.sweep())
        await srv2.app.state.outbox.idle()
        timers.advance(24 * 3600)
        await asyncio.gather(srv2.app.state.outbox.idle(), other.sweep())
        assert len(sink.received) == 1
        assert sink.received[0].rcpt_tos == ["kunde@example.com"]
    finally:
        await srv2.stop()


async def test_racing_workers_send_once(
    shop: tuple[InProcessServer, Scenario], sink: MailSink, timers: ManualScheduler
) -> None:
    """Three workers (this node's sweep and two more, as other nodes) claim the same due item
    at the same moment: one wins, one mail."""
    srv, sc = shop
    await configure_mailbox(sc, sink.port)
    conv_id = await leave_message(srv, sc, "kunde@example.com")
    sink.refuse("451 later")
    await reply(sc, conv_id, "Once, please.", "r1")
    await srv.rt.events.drain()
    sink.refuse(None)
    async with srv.rt.db.read() as s:
        item_id = (await s.execute(select(Outbox.id))).scalar_one()
    others = [OutboxWorker(srv.rt, [EmailChannel(srv.rt)]) for _ in range(2)]
    timers.advance(30)  # due: this node's sweep starts too
    await asyncio.gather(*(w.attempt(item_id) for w in others), srv.app.state.outbox.idle())
    assert len(sink.received) == 1
    assert sum(w.attempts for w in others) + srv.app.state.outbox.attempts == 2  # 1st + winner
