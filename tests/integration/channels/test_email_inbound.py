"""Inbound email over real sockets: mail sent with an SMTP client to Tresen's embedded listener
(aiosmtpd) continues the customer's conversation (threading by headers, by the signed reply
address and subject tag, never across contacts), starts a new one otherwise, and hostile or
automated mail is refused or recorded without being routed or answered."""

from __future__ import annotations

import json
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy import select
from tests.integration.channels.test_email_outbound import (
    configure_mailbox,
    leave_message,
    reply,
)
from tests.support.actors import Scenario, next_frame, raw_socket
from tests.support.eml import eml
from tests.support.mail import MailSink
from tests.support.server import InProcessServer
from tests.support.services import free_port

from tresen.storage.models import Conversation, InboundMail

Setup = tuple[InProcessServer, Scenario, MailSink]


@pytest.fixture
def shop_settings() -> dict[str, Any]:
    return {
        "overflow_wait_seconds": 0,
        "smtp_enabled": True,
        "smtp_port": free_port(),
        "email_max_bytes": 200_000,
        "email_per_sender_per_hour": 10,
    }


@pytest.fixture
async def shop(sink: MailSink, shop: tuple[InProcessServer, Scenario]) -> Setup:
    """The shop (``conftest.py``) with its mailbox sending to ``sink``."""
    srv, sc = shop
    await configure_mailbox(sc, sink.port)
    return srv, sc, sink


async def send(srv: InProcessServer, raw: bytes, to: str = "support@shop.example") -> str:
    """Deliver with a real SMTP client; the listener's reply (250 once stored)."""
    errors, reply_text = await aiosmtplib.send(
        raw,
        sender="kunde@example.com",
        recipients=[to],
        hostname="127.0.0.1",
        port=srv.settings.smtp_port,
        start_tls=False,
    )
    assert not errors
    await srv.rt.events.drain()
    return reply_text


async def messages(sc: Scenario, conv_id: int) -> list[dict[str, Any]]:
    r = await sc.anna.http.get(f"/api/conversations/{conv_id}/messages")
    assert r.status_code == 200, r.text
    return list(r.json())


async def inbound(srv: InProcessServer) -> list[InboundMail]:
    async with srv.rt.db.read() as s:
        return list((await s.execute(select(InboundMail).order_by(InboundMail.id))).scalars())


async def answered(srv: InProcessServer, sc: Scenario, sink: MailSink) -> tuple[int, Any]:
    """A left message answered by Anna: the conversation and the mail the customer got."""
    conv_id = await leave_message(srv, sc, "kunde@example.com")
    await reply(sc, conv_id, "Your parcel left today.", "r1")
    await srv.rt.events.drain()
    return conv_id, sink.received[-1].message


async def test_reply_continues_the_conversation_in_the_console(shop: Setup) -> None:
    srv, sc, sink = shop
    conv_id, ours = await answered(srv, sc, sink)
    console = await raw_socket(await sc.anna.ws_url(), origin=sc.base_url)
    await next_frame(console, "welcome")
    await console.send(json.dumps({"type": "watch", "conversation_id": conv_id}))
    mail = eml(
        "gmail_reply",
        IN_REPLY_TO=ours["Message-ID"],
        REFERENCES=ours["Message-ID"],
        SUBJECT=ours["Subject"],
    )
    assert "stored" in await send(srv, mail)
    frame = await next_frame(console, "message")
    assert frame["conversation_id"] == conv_id and frame["author"]["kind"] == "visitor"
    assert frame["body"].startswith("Thanks, that helps!")
    assert "parcel left today" not in frame["body"]  # the quote is stripped for display
    [row] = await inbound(srv)
    assert b"parcel left today" in row.raw and row.outcome == "stored"  # the original kept

    # the same mail again (a retry by the sender's server): acknowledged, stored once
    assert "stored" in await send(srv, mail)
    assert [m["author"]["kind"] for m in await messages(sc, conv_id)].count("visitor") == 2

    # Anna's next answer threads onto the customer's mail
    await reply(sc, conv_id, "Yes, you can.", "r2")
    await srv.rt.events.drain()
    nxt = sink.received[-1].message
    assert nxt["In-Reply-To"] == "<CAKx0Gmail123abc@mail.gmail.com>"
    assert ours["Message-ID"] in nxt["References"]
    await console.close()


@pytest.mark.parametrize("client", ["apple_reply", "thunderbird_reply"])
async def test_clients_thread_by_headers(shop: Setup, client: str) -> None:
    srv, sc, sink = shop
    conv_id, ours = await answered(srv, sc, sink)
    refs = ours["Message-ID"]
    await send(srv, eml(client, IN_REPLY_TO=refs, REFERENCES=refs, SUBJECT="x"))
    [row] = await inbound(srv)
    assert row.conversation_id == conv_id


async def test_outlook_threads_by_reply_address_then_subject_tag(shop: Setup) -> None:
    srv, sc, sink = shop
    conv_id, ours = await answered(srv, sc, sink)
    # broken In-Reply-To, sent to the signed reply address
    await send(srv, eml("outlook_reply", TO=ours["Reply-To"], SUBJECT=ours["Subject"]))
    # broken In-Reply-To, to the plain address: the signed subject tag finds it
    raw = eml("outlook_reply", SUBJECT=ours["Subject"]).replace(b"ABCD5678", b"EFGH0000")
    await send(srv, raw)
    rows = await inbound(srv)
    assert [r.conversation_id for r in rows] == [conv_id, conv_id]


async def test_forged_threading_never_attaches_to_another_contact(shop: Setup) -> None:
    srv, sc, sink = shop
    conv_id, ours = await answered(srv, sc, sink)
    forged = eml(
        "gmail_reply",
        FROM="mallory@evil.example",
        IN_REPLY_TO=ours["Message-ID"],
        REFERENCES=ours["Message-ID"],
        TO=ours["Reply-To"],
        SUBJECT=ours["Subject"],
    )
    await send(srv, forged)
    [row] = await inbound(srv)
    assert row.conversation_id not in (None, conv_id)
    async with srv.rt.db.read() as s:
        other = await s.get(Conversation, row.conversation_id)
    assert other is not None and other.channel == "email" and other.status == "pending"
    assert other.meta["reply_to"] == "mallory@evil.example"


async def test_new_mail_starts_email_work_for_routing(shop: Setup) -> None:
    srv, sc, _sink = shop
    await send(srv, eml("german_latin1", FROM="juergen@example.de"))
    [row] = await inbound(srv)
    async with srv.rt.db.read() as s:
        conv = await s.get(Conversation, row.conversation_id)
    assert conv is not None and (conv.channel, conv.status) == ("email", "pending")
    [msg] = await messages(sc, conv.id)
    assert "Schöne Grüße, Jürgen" in msg["body"] and msg["author"]["name"] == "Jürgen Müller"
    overview = (await sc.anna.http.get("/api/routing/overview")).json()
    assert "email_backlog" in overview


async def test_automated_mail_is_recorded_never_routed_nor_answered(shop: Setup) -> None:
    srv, sc, sink = shop
    conv_id, ours = await answered(srv, sc, sink)
    before = len(await messages(sc, conv_id))
    await send(srv, eml("out_of_office", IN_REPLY_TO=ours["Message-ID"], SUBJECT="x"))
    await send(srv, eml("bounce"))
    own = eml("gmail_reply", FROM="support@shop.example").replace(b"CAKx0", b"LOOP0")
    await send(srv, own)
    assert [r.outcome for r in await inbound(srv)] == ["auto_reply", "bounce", "loop"]
    assert len(await messages(sc, conv_id)) == before
    assert len(sink.received) == 1  # nothing answered them


async def test_hostile_mail(shop: Setup) -> None:
    srv, sc, _sink = shop
    await send(srv, eml("html_script"))
    await send(srv, eml("malformed"))
    rows = await inbound(srv)
    assert [r.outcome for r in rows] == ["stored", "stored"]
    html_body = (await messages(sc, rows[0].conversation_id or 0))[0]["body"]
    assert "<script" not in html_body and "tracker" not in html_body and "Hello team" in html_body

    huge = eml("gmail_reply") + b"x" * 300_000  # over email_max_bytes
    with pytest.raises(aiosmtplib.SMTPResponseException) as err:
        await send(srv, huge)
    assert err.value.code == 552
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
        await send(srv, eml("gmail_reply"), to="someone@elsewhere.example")
    assert len(await inbound(srv)) == 2


async def test_per_sender_rate_limit(shop: Setup) -> None:
    srv, _sc, _sink = shop
    for n in range(12):
        await send(srv, eml("german_latin1").replace(b"latin1-0001", f"bulk-{n}".encode()))
    outcomes = [r.outcome for r in await inbound(srv)]
    assert outcomes == ["stored"] * 10 + ["rate_limited"] * 2
