"""Chat replies a visitor did not see reach them by email: a known visitor leaves the chat, the
agent's answers stay unread for ``email_followup_minutes`` and go out as one threaded mail; the
customer's answer to it continues the same chat. What the visitor read in the chat is never
mailed, and a customer who came back from a mail into a live chat gets mail only for what they
left unread. Real sockets, a real SMTP server (aiosmtpd), the clock advanced by hand."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from tests.integration.channels.test_email_outbound import (
    configure_mailbox,
    deliveries,
    leave_message,
    reply,
)
from tests.support.actors import Scenario, next_frame, raw_socket
from tests.support.mail import MailSink
from tests.support.server import InProcessServer

from tresen.channels.email_receive import check_receive_mail
from tresen.channels.followup import queue_followups
from tresen.scheduler import ManualScheduler
from tresen.security.identity import identity_hash
from tresen.storage.models import Conversation, Message, Outbox

MINUTES = 10


@pytest.fixture
def shop_settings() -> dict[str, Any]:
    return {
        "overflow_wait_seconds": 0,
        "email_followup_minutes": MINUTES,
        "outbox_sweep_seconds": 15,
    }


async def known_visitor_chat(
    srv: InProcessServer, sc: Scenario, email: str
) -> tuple[Any, Any, int]:
    """A signed-in customer (their address known from identify) opens a chat; Anna takes it."""
    r = await sc.anna.patch(f"/api/agents/{sc.anna.id}", json={"status": "online"})
    assert r.status_code == 200, r.text
    hashed = identity_hash(sc.identity_secret, "cust-7")
    v = await sc.visitor(identity={"id": "cust-7", "email": email, "hash": hashed})
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(
        json.dumps({"type": "send", "client_msg_id": "v1", "body": "Do you ship to Aarhus?"})
    )
    conv_id = int((await next_frame(ws, "ack"))["conversation_id"])
    await srv.rt.routing.run_once()
    conv = (await sc.anna.http.get(f"/api/conversations/{conv_id}")).json()
    assert conv["assignee_id"] == sc.anna.id
    return v, ws, conv_id


async def mark_read(ws: Any, conv_id: int, seq: int) -> None:
    """The visitor reads up to ``seq``; the pong after it says the server has handled it."""
    await ws.send(json.dumps({"type": "read", "conversation_id": conv_id, "seq": seq}))
    await ws.send(json.dumps({"type": "ping"}))
    await next_frame(ws, "pong")


async def sweep(srv: InProcessServer, timers: ManualScheduler, seconds: float) -> None:
    timers.advance(seconds)
    await srv.app.state.outbox.idle()


async def test_unseen_replies_are_mailed_once_and_the_answer_continues_the_chat(
    shop: tuple[InProcessServer, Scenario], sink: MailSink, timers: ManualScheduler
) -> None:
    srv, sc = shop
    await configure_mailbox(sc, sink.port)
    _, ws, conv_id = await known_visitor_chat(srv, sc, "Kunde@Example.com")
    await ws.close()  # the visitor closes the tab before the answer comes
    await reply(sc, conv_id, "Yes, we ship to Aarhus.", "a1")
    await sweep(srv, timers, 60)
    await reply(sc, conv_id, "It takes two days.", "a2")
    await srv.rt.events.drain()

    await sweep(srv, timers, MINUTES * 60 - 61)  # the first reply is 9:59 unseen: nothing yet
    assert sink.received == []
    await sweep(srv, timers, 15)
    [mail] = [r.message for r in sink.received]
    assert sink.received[0].rcpt_tos == ["Kunde@Example.com"]
    text = mail.get_body(("plain",)).get_content()
    assert "Yes, we ship to Aarhus." in text and "It takes two days." in text
    assert mail["Subject"].startswith("Re: Your chat with Shop [#")
    assert mail["Reply-To"].startswith(f"support+{conv_id}-")
    [item] = await deliveries(sc, conv_id)
    assert item["status"] == "sent" and item["external_id"] == mail["Message-ID"]

    await sweep(srv, timers, 3600)  # swept again and again: still one mail
    assert len(sink.received) == 1

    # a later reply, unseen too: its own mail, threaded on the first, without the old text
    await reply(sc, conv_id, "Tracking number: 42.", "a3")
    await sweep(srv, timers, MINUTES * 60 + 15)
    second = sink.received[1].message
    body = second.get_body(("plain",)).get_content()
    assert "Tracking number: 42." in body and "Aarhus" not in body
    assert second["In-Reply-To"] == mail["Message-ID"]

    # the customer answers the mail: it lands in the same conversation, still a chat
    answer = (
        f"From: Kunde <kunde@example.com>\r\nTo: {second['Reply-To']}\r\n"
        f"Subject: {second['Subject']}\r\nMessage-ID: <answer-1@example.com>\r\n"
        f"In-Reply-To: {second['Message-ID']}\r\n\r\nThanks, see you Tuesday!\r\n"
    ).encode()
    site_id = (await sc.anna.http.get("/api/sites")).json()[0]["id"]
    receipt = await check_receive_mail(srv.rt, site_id, answer)
    assert (receipt.outcome, receipt.conversation_id) == ("stored", conv_id)
    async with srv.rt.db.read() as s:
        conv = await s.get(Conversation, conv_id)
        bodies = list(
            (
                await s.execute(
                    select(Message.body)
                    .where(Message.conversation_id == conv_id)
                    .order_by(Message.seq)
                )
            ).scalars()
        )
    # the chat was closed after the agent's unanswered replies (the lifecycle's timer): the
    # answer reopens it as email work; an open chat would have stayed a chat
    assert conv is not None and (conv.status, conv.channel) in (
        ("pending", "email"),
        ("open", "web"),
    )
    assert bodies[-1] == "Thanks, see you Tuesday!"


async def test_what_the_visitor_read_is_never_mailed(
    shop: tuple[InProcessServer, Scenario], sink: MailSink, timers: ManualScheduler
) -> None:
    srv, sc = shop
    await configure_mailbox(sc, sink.port)
    _, ws, conv_id = await known_visitor_chat(srv, sc, "kunde@example.com")
    sent = await reply(sc, conv_id, "Yes, we do.", "a1")
    await next_frame(ws, "message")
    await mark_read(ws, conv_id, sent["seq"])
    await srv.rt.events.drain()
    await sweep(srv, timers, MINUTES * 60 * 3)
    assert sink.received == []
    assert await deliveries(sc, conv_id) == []
    await ws.close()


async def test_read_between_queueing_and_sending_is_skipped(
    shop: tuple[InProcessServer, Scenario], sink: MailSink, timers: ManualScheduler
) -> None:
    """The follow-up was queued, then the visitor came back and read it before it went out."""
    srv, sc = shop
    await configure_mailbox(sc, sink.port)
    _, ws, conv_id = await known_visitor_chat(srv, sc, "kunde@example.com")
    sent = await reply(sc, conv_id, "Yes, we do.", "a1")
    await srv.rt.events.drain()
    timers.clock.advance(MINUTES * 60 + 1)  # time passes; no sweep has run yet
    assert await queue_followups(srv.rt) == 1
    assert await queue_followups(srv.rt) == 0  # queued once, whoever sweeps again
    await mark_read(ws, conv_id, sent["seq"])
    await srv.rt.events.drain()
    await sweep(srv, timers, 15)
    assert sink.received == []
    [item] = await deliveries(sc, conv_id)
    assert item["status"] == "skipped"
    await ws.close()


async def test_no_address_or_no_mailbox_means_no_mail(
    shop: tuple[InProcessServer, Scenario], sink: MailSink, timers: ManualScheduler
) -> None:
    srv, sc = shop
    v = await sc.visitor()  # anonymous: no address
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(json.dumps({"type": "send", "client_msg_id": "v1", "body": "Hi"}))
    anon_conv = int((await next_frame(ws, "ack"))["conversation_id"])
    await ws.close()
    _, ws2, known_conv = await known_visitor_chat(srv, sc, "kunde@example.com")
    await ws2.close()
    await reply(sc, anon_conv, "Hello!", "a1")
    await reply(sc, known_conv, "Hello!", "a2")
    await sweep(srv, timers, MINUTES * 60 + 15)  # the site has no mailbox yet
    async with srv.rt.db.read() as s:
        assert (await s.execute(select(Outbox.id))).first() is None
    await configure_mailbox(sc, sink.port)
    await sweep(srv, timers, 15)
    assert [r.rcpt_tos for r in sink.received] == [["kunde@example.com"]]


async def test_chat_link_from_a_mail_mails_only_what_stays_unread(
    shop: tuple[InProcessServer, Scenario], sink: MailSink, timers: ManualScheduler
) -> None:
    """An email conversation whose customer came into a live chat by its link: replies are
    not mailed at once; one read in the chat is never mailed, one left unread is, later."""
    srv, sc = shop
    await configure_mailbox(sc, sink.port)
    conv_id = await leave_message(srv, sc, "kunde@example.com")
    r = await sc.anna.post(f"/api/conversations/{conv_id}/chat-invite", json={})
    assert r.status_code == 201, r.text
    token = r.json()["link"].rsplit("/", 1)[1]
    v = await sc.visitor(invite=token)
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    here = {"type": "send", "client_msg_id": "c1", "body": "Here I am!", "conversation_id": conv_id}
    await ws.send(json.dumps(here))
    await next_frame(ws, "ack")
    await srv.rt.events.drain()
    mails_before = len(sink.received)  # the invitation mail itself

    read = await reply(sc, conv_id, "Hi, I see you are here now.", "a1")
    await next_frame(ws, "message")
    await mark_read(ws, conv_id, read["seq"])
    await srv.rt.events.drain()
    await sweep(srv, timers, 1)
    assert len(sink.received) == mails_before  # not mailed while they chat
    await ws.close()
    await reply(sc, conv_id, "Are you still there?", "a2")
    await srv.rt.events.drain()
    await sweep(srv, timers, MINUTES * 60 + 15)
    new = [m.message for m in sink.received[mails_before:]]
    assert len(new) == 1
    assert "Are you still there?" in new[0].get_body(("plain",)).get_content()
    states = {d["seq"]: d["status"] for d in await deliveries(sc, conv_id)}
    assert states[read["seq"]] == "skipped"
