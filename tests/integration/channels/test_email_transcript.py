"""The transcript of a chat by email (docs/channels.md): the visitor asks for it at the end of
the chat, an agent sends it from the console; it goes out through the site's mailbox from the
outbox (a real SMTP server, aiosmtpd), text + escaped HTML in the visitor's language, threaded,
and its state is shown on the note that records it. Bad addresses, a chat not ended, strangers
and too many requests are refused clearly. SQLite and PostgreSQL (``database_url``)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.integration.channels.test_email_outbound import (
    configure_mailbox,
    deliveries,
    reply,
)
from tests.support.actors import Scenario, Visitor, next_frame, raw_socket
from tests.support.mail import MailSink
from tests.support.server import InProcessServer

from tresen.channels.email_receive import check_receive_mail
from tresen.security.identity import identity_hash
from tresen.storage.models import Message, Outbox


@pytest.fixture
def shop_settings() -> dict[str, Any]:
    return {
        "overflow_wait_seconds": 0,
        "email_followup_minutes": 0,
        "outbox_retry_seconds": 30,
        "outbox_max_attempts": 2,
    }


async def chat(
    srv: InProcessServer, sc: Scenario, first: str, email: str | None = None
) -> tuple[Visitor, int]:
    """A visitor (known by ``email`` when given) chats with Anna; she answers; the chat ends."""
    r = await sc.anna.patch(f"/api/agents/{sc.anna.id}", json={"status": "online"})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = {}
    if email:
        hashed = identity_hash(sc.identity_secret, "cust-9")
        body["identity"] = {"id": "cust-9", "email": email, "hash": hashed}
    v = await sc.visitor(**body)
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(json.dumps({"type": "send", "client_msg_id": "v1", "body": first}))
    conv_id = int((await next_frame(ws, "ack"))["conversation_id"])
    await srv.rt.routing.run_once()
    await reply(sc, conv_id, "Use <b>code</b> SPRING & save 10 %.", "a1")
    await ws.close()
    await srv.rt.events.drain()
    return v, conv_id


async def end(srv: InProcessServer, sc: Scenario, conv_id: int) -> None:
    r = await sc.anna.patch(f"/api/conversations/{conv_id}", json={"status": "resolved"})
    assert r.status_code == 200, r.text
    await srv.rt.events.drain()


async def ask(v: Visitor, conv_id: int, email: str, **extra: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=v.base_url, timeout=30) as http:
        return await http.post(
            "/api/visitor/transcript-mail",
            headers={"Authorization": f"Bearer {v.token}", "Origin": v.origin},
            json={"site_key": v.site_key, "conversation_id": conv_id, "email": email, **extra},
        )


async def settled(srv: InProcessServer) -> None:
    await srv.rt.events.drain()
    await srv.app.state.outbox.idle()


async def test_visitor_asks_at_the_end_and_the_transcript_arrives(
    shop: tuple[InProcessServer, Scenario], sink: MailSink
) -> None:
    srv, sc = shop
    await configure_mailbox(sc, sink.port)
    v, conv_id = await chat(srv, sc, "Do you have a discount code?")

    r = await ask(v, conv_id, "me@example.org")
    assert r.status_code == 409 and r.json()["code"] == "not_ended", r.text
    await end(srv, sc, conv_id)
    r = await ask(v, conv_id, "me@example.org")
    assert r.status_code == 202, r.text
    assert r.json()["to"] == "m***@example.org"  # the widget is told where, masked
    await settled(srv)

    [got] = sink.received
    assert got.rcpt_tos == ["me@example.org"]
    mail = got.message
    assert mail["Subject"].startswith("Your chat with Shop") and f"[#{conv_id}-" in mail["Subject"]
    assert mail["Message-ID"].startswith(f"<tresen.{conv_id}.")
    assert mail["Reply-To"].startswith(f"support+{conv_id}-")
    assert mail["From"].addresses[0].addr_spec == "support@shop.example"
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "You:\n  Do you have a discount code?" in text
    assert "Anna" in text and "Use <b>code</b> SPRING & save 10 %." in text
    assert "The chat has ended." in text  # the end notice the visitor saw
    assert "Transcript by email" not in text  # internal notes never
    html = mail.get_body(("html",)).get_content()
    assert "Use &lt;b&gt;code&lt;/b&gt; SPRING &amp; save 10 %." in html
    assert "<b>code</b>" not in html

    items = await deliveries(sc, conv_id)
    [item] = [i for i in items if i["kind"] == "transcript"]
    assert item["status"] == "sent" and item["external_id"] == mail["Message-ID"]
    async with srv.rt.db.read() as s:
        where = (Message.conversation_id == conv_id, Message.seq == item["seq"])
        note = (await s.execute(select(Message).where(*where))).scalar_one()
    assert note.internal and note.body == "Transcript by email to m***@example.org"


async def test_agent_sends_it_to_the_known_contact_in_their_language(
    shop: tuple[InProcessServer, Scenario], sink: MailSink
) -> None:
    srv, sc = shop
    await configure_mailbox(sc, sink.port)
    _, conv_id = await chat(
        srv, sc, "Guten Tag, haben Sie einen Gutscheincode für mich?", email="kunde@example.de"
    )
    # an agent may send it before the end too; no address given: the known contact's
    r = await sc.anna.post(f"/api/conversations/{conv_id}/transcript-mail", json={})
    assert r.status_code == 202, r.text
    assert r.json()["to"] == "kunde@example.de"
    await settled(srv)
    [got] = sink.received
    assert got.rcpt_tos == ["kunde@example.de"]
    mail = got.message
    assert mail["Subject"].startswith("Ihr Chat mit Shop vom ")
    text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith("Hier ist der Verlauf Ihres Chats")
    assert "Sie:\n  Guten Tag" in text
    # a second mail in the conversation threads onto the first
    await end(srv, sc, conv_id)
    r = await sc.anna.post(
        f"/api/conversations/{conv_id}/transcript-mail", json={"email": "chef@example.de"}
    )
    assert r.status_code == 202, r.text
    await settled(srv)
    second = sink.received[1].message
    assert second["In-Reply-To"] == mail["Message-ID"]
    assert mail["Message-ID"] in second["References"]

    # the customer answers the transcript: it continues the same conversation; an answer from
    # the other address it was sent to starts a conversation of its own (never someone else's)
    site_id = (await sc.anna.http.get("/api/sites")).json()[0]["id"]
    for n, sender in enumerate(("kunde@example.de", "chef@example.de")):
        answer = (
            f"From: {sender}\r\nTo: {mail['Reply-To']}\r\nSubject: Re: {mail['Subject']}\r\n"
            f"Message-ID: <answer-{n}@example.de>\r\nIn-Reply-To: {mail['Message-ID']}\r\n"
            "\r\nDanke, eine Frage noch.\r\n"
        ).encode()
        receipt = await check_receive_mail(srv.rt, site_id, answer)
        assert receipt.outcome == "stored"
        assert (receipt.conversation_id == conv_id) is (sender == "kunde@example.de"), sender


async def test_refused_mail_is_shown_failed(
    shop: tuple[InProcessServer, Scenario], sink: MailSink
) -> None:
    srv, sc = shop
    await configure_mailbox(sc, sink.port)
    v, conv_id = await chat(srv, sc, "Hello")
    await end(srv, sc, conv_id)
    sink.refuse("550 5.1.1 no such user")
    r = await ask(v, conv_id, "nobody@example.org")
    assert r.status_code == 202, r.text
    await settled(srv)
    [item] = [i for i in await deliveries(sc, conv_id) if i["kind"] == "transcript"]
    assert item["status"] == "failed" and "550" in item["error"]


async def test_bad_requests_are_refused_and_nothing_is_queued(
    shop: tuple[InProcessServer, Scenario], sink: MailSink
) -> None:
    srv, sc = shop
    v, conv_id = await chat(srv, sc, "Hello")
    await end(srv, sc, conv_id)
    r = await ask(v, conv_id, "me@example.org")
    assert r.status_code == 409 and r.json()["code"] == "no_mailbox", r.text
    await configure_mailbox(sc, sink.port)

    for bad in ("not an address", "a@b", "x@example.org\r\nBcc: y@example.org", "<a@b.example>"):
        r = await ask(v, conv_id, bad)
        assert r.status_code == 422 and r.json()["code"] == "bad_address", (bad, r.text)
    r = await ask(v, conv_id, "")  # an anonymous visitor: nothing known to send to
    assert r.status_code == 422 and r.json()["code"] == "no_address", r.text
    stranger = await sc.visitor()
    r = await ask(stranger, conv_id, "me@example.org")
    assert r.status_code == 404, r.text
    async with httpx.AsyncClient(base_url=v.base_url) as http:
        r = await http.post(
            "/api/visitor/transcript-mail",
            json={"site_key": v.site_key, "conversation_id": conv_id, "email": "me@example.org"},
        )
    assert r.status_code == 401, r.text

    for _ in range(3):
        assert (await ask(v, conv_id, "me@example.org")).status_code == 202
    r = await ask(v, conv_id, "me@example.org")
    assert r.status_code == 429 and r.json()["code"] == "too_many_transcripts", r.text
    await settled(srv)
    assert len(sink.received) == 3
    async with srv.rt.db.read() as s:
        rows = (await s.execute(select(Outbox).where(Outbox.conversation_id == conv_id))).all()
    assert len(rows) == 3
