"""Messaging channels over real sockets, with the platforms faked at the HTTP edge only
(``tests/support/platforms.py``): webhooks signed as Meta and Telegram sign them, the documented
payloads, and the outbound calls Tresen makes recorded by the fake."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tests.support.actors import Scenario, next_frame, raw_socket
from tests.support.channel_world import (
    PHONE_ID,
    WA_ID,
    WA_SECRET,
    WA_VERIFY,
    connect_whatsapp,
    now_ts,
    post_hook,
    site_id,
)
from tests.support.platforms import (
    FakePlatforms,
    meta_signature,
    wa_envelope,
    wa_status,
    wa_text,
)
from tests.support.server import InProcessServer

from tresen.scheduler import ManualScheduler
from tresen.storage.models import ChannelAccount, ChannelEvent, Conversation, Message, Visitor


@pytest.fixture
def shop_settings(fake: FakePlatforms) -> dict[str, Any]:
    return {
        "outbox_retry_seconds": 30,
        "outbox_max_attempts": 3,
        "session_ttl_seconds": 30 * 24 * 3600,  # the agent stays logged in while days pass
        **fake.settings(),
    }


async def count(srv: InProcessServer, model: Any) -> int:
    async with srv.rt.db.read() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def wa_conversation(srv: InProcessServer) -> Conversation:
    async with srv.rt.db.read() as s:
        return (
            await s.execute(select(Conversation).where(Conversation.channel == "whatsapp"))
        ).scalar_one()


async def bodies(srv: InProcessServer, conv_id: int) -> list[str]:
    async with srv.rt.db.read() as s:
        rows = await s.execute(
            select(Message.body).where(Message.conversation_id == conv_id).order_by(Message.seq)
        )
        return list(rows.scalars())


async def delivery_state(ws: Any, state: str) -> dict[str, Any]:
    """The next ``delivery`` frame in ``state`` (a console may follow a conversation through
    more than one topic and get a frame twice)."""
    while True:
        frame = await next_frame(ws, "delivery")
        if frame["state"] == state:
            return frame


async def reply(sc: Scenario, conv_id: int, body: str, cmid: str) -> httpx.Response:
    return await sc.anna.post(
        f"/api/conversations/{conv_id}/messages", json={"body": body, "client_msg_id": cmid}
    )


async def test_account_secrets_are_sealed_and_the_handshake_checks_the_verify_token(
    shop: tuple[InProcessServer, Scenario],
) -> None:
    srv, sc = shop
    view = await connect_whatsapp(sc)
    assert view["access_token_set"] and view["app_secret_set"] and view["verify_token_set"]
    assert "wa-token" not in json.dumps(view) and WA_SECRET not in json.dumps(view)
    async with srv.rt.db.read() as s:
        row = (await s.execute(select(ChannelAccount))).scalar_one()
    assert "wa-token" not in row.access_token_enc and WA_SECRET not in row.app_secret_enc
    listed = (await sc.anna.http.get(f"/api/sites/{await site_id(sc)}/channel-accounts")).json()
    assert "wa-token" not in json.dumps(listed)
    # not for agents who are not admins
    r = await sc.ben.post(
        f"/api/sites/{await site_id(sc)}/channel-accounts",
        json={"kind": "telegram", "access_token": "1:x", "verify_token": "y"},
    )
    assert r.status_code == 403

    path = "/hooks/" + view["webhook_url"].split("/hooks/", 1)[1]
    async with httpx.AsyncClient(base_url=sc.base_url) as client:
        ok = await client.get(
            path,
            params={
                "hub.mode": "subscribe",
                "hub.verify_token": WA_VERIFY,
                "hub.challenge": "1158201444",
            },
        )
        wrong = await client.get(
            path,
            params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "x"},
        )
        unknown = await client.get("/hooks/whatsapp/nope", params={"hub.mode": "subscribe"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    assert wrong.status_code == 403 and unknown.status_code == 404


async def test_wrong_signature_is_401_and_nothing_is_stored(
    shop: tuple[InProcessServer, Scenario], timers: ManualScheduler
) -> None:
    srv, sc = shop
    account = await connect_whatsapp(sc)
    payload = wa_text(PHONE_ID, WA_ID, "wamid.A1", now_ts(timers), "Hello")
    forged = await post_hook(sc, account, payload, secret="not-the-app-secret")
    raw = json.dumps(payload).encode()
    path = "/hooks/" + account["webhook_url"].split("/hooks/", 1)[1]
    async with httpx.AsyncClient(base_url=sc.base_url) as client:
        unsigned = await client.post(path, content=raw)
        # signed, then changed: the signature covers the raw bytes
        tampered = await client.post(
            path,
            content=raw.replace(b"Hello", b"Hellx"),
            headers={"X-Hub-Signature-256": meta_signature(WA_SECRET, raw)},
        )
    assert forged.status_code == unsigned.status_code == tampered.status_code == 401
    assert forged.json()["code"] == "bad_signature"
    assert await count(srv, Message) == 0 and await count(srv, ChannelEvent) == 0
    assert await count(srv, Conversation) == 0


async def test_a_message_arrives_once_and_the_agent_answer_goes_out_with_receipts(
    shop: tuple[InProcessServer, Scenario], fake: FakePlatforms, timers: ManualScheduler
) -> None:
    srv, sc = shop
    account = await connect_whatsapp(sc)
    payload = wa_text(PHONE_ID, WA_ID, "wamid.HBgLMTY1", now_ts(timers), "Does it come in blue?")
    first = await post_hook(sc, account, payload)
    again = await post_hook(sc, account, payload)  # Meta retries what it did not see answered
    assert (first.status_code, first.json()["stored"]) == (200, 1)
    assert (again.status_code, again.json()["stored"]) == (200, 0)
    conv = await wa_conversation(srv)
    assert await bodies(srv, conv.id) == ["Does it come in blue?"]
    assert conv.status == "pending" and conv.meta["recipient"] == WA_ID
    async with srv.rt.db.read() as s:
        visitor = await s.get(Visitor, conv.visitor_id)
    assert visitor is not None and visitor.anon_id.startswith("wa:")
    assert visitor.name == "Sheena Nelson" and visitor.attributes["identities"] == {
        "whatsapp": WA_ID
    }

    console = await raw_socket(await sc.anna.ws_url(), origin=sc.base_url)
    await next_frame(console, "welcome")
    await console.send(json.dumps({"type": "watch", "conversation_id": conv.id}))
    r = await reply(sc, conv.id, "Yes, in navy blue.", "r1")
    assert r.status_code == 201, r.text
    await srv.rt.events.drain()
    sent = await next_frame(console, "delivery")
    assert (sent["state"], sent["channel"]) == ("sent", "whatsapp")
    [call] = fake.sent(f"/{PHONE_ID}/messages")
    assert call.headers["authorization"] == "Bearer wa-token"
    assert call.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"preview_url": False, "body": "Yes, in navy blue."},
    }
    [row] = (await sc.anna.http.get(f"/api/conversations/{conv.id}/deliveries")).json()
    wamid = row["external_id"]
    assert wamid.startswith("wamid.FAKE")

    # read arrives before delivered (out of order): the receipt stays "read"
    ts = now_ts(timers)
    assert (
        await post_hook(sc, account, wa_status(PHONE_ID, wamid, "read", ts + 5, WA_ID))
    ).status_code == 200
    assert (await delivery_state(console, "read"))["seq"] == sent["seq"]
    await post_hook(sc, account, wa_status(PHONE_ID, wamid, "delivered", ts + 2, WA_ID))
    rows = (await sc.anna.http.get(f"/api/conversations/{conv.id}/deliveries")).json()
    assert [(d["status"], d["receipt"]) for d in rows] == [("sent", "read")]


async def test_a_batch_out_of_order_is_stored_in_the_platforms_order(
    shop: tuple[InProcessServer, Scenario], timers: ManualScheduler
) -> None:
    srv, sc = shop
    account = await connect_whatsapp(sc)
    ts = now_ts(timers)

    def msg(mid: str, at: int, body: str) -> dict[str, Any]:
        return {
            "from": WA_ID,
            "id": mid,
            "timestamp": str(at),
            "type": "text",
            "text": {"body": body},
        }

    payload = wa_envelope(
        PHONE_ID,
        {
            "contacts": [{"profile": {"name": "Sheena"}, "wa_id": WA_ID}],
            "messages": [
                msg("wamid.3", ts - 10, "third"),
                msg("wamid.1", ts - 30, "first"),
                msg("wamid.2", ts - 20, "second"),
            ],
        },
    )
    assert (await post_hook(sc, account, payload)).json()["stored"] == 3
    conv = await wa_conversation(srv)
    assert await bodies(srv, conv.id) == ["first", "second", "third"]


async def test_429_is_retried_at_the_backoff_and_a_refusal_is_shown(
    shop: tuple[InProcessServer, Scenario], fake: FakePlatforms, timers: ManualScheduler
) -> None:
    srv, sc = shop
    account = await connect_whatsapp(sc)
    await post_hook(sc, account, wa_text(PHONE_ID, WA_ID, "wamid.X", now_ts(timers), "Hi"))
    conv = await wa_conversation(srv)
    fake.fail_next(
        "/messages",
        429,
        {
            "error": {
                "message": "(#130429) Rate limit hit",
                "type": "OAuthException",
                "code": 130429,
            }
        },
    )
    await reply(sc, conv.id, "One moment", "r1")
    await srv.rt.events.drain()
    await srv.app.state.outbox.idle()
    [d] = (await sc.anna.http.get(f"/api/conversations/{conv.id}/deliveries")).json()
    assert (d["status"], d["attempts"]) == ("pending", 1) and "Rate limit" in d["error"]
    timers.advance(29)  # not due yet
    await srv.app.state.outbox.idle()
    assert len(fake.sent("/messages")) == 1
    timers.advance(1)
    await srv.app.state.outbox.idle()
    assert len(fake.sent("/messages")) == 2
    [d] = (await sc.anna.http.get(f"/api/conversations/{conv.id}/deliveries")).json()
    assert (d["status"], d["attempts"], d["error"]) == ("sent", 2, None)

    # a permanent refusal (a 400 that is not throttling) fails at once, with the platform's words
    fake.fail_next(
        "/messages",
        400,
        {
            "error": {
                "message": "(#131030) Recipient phone number not in allowed list",
                "type": "OAuthException",
                "code": 131030,
            }
        },
    )
    await reply(sc, conv.id, "Hello again", "r2")
    await srv.rt.events.drain()
    rows = (await sc.anna.http.get(f"/api/conversations/{conv.id}/deliveries")).json()
    assert rows[-1]["status"] == "failed" and "not in allowed list" in rows[-1]["error"]


async def test_outside_the_window_only_a_template_goes_out(
    shop: tuple[InProcessServer, Scenario], fake: FakePlatforms, timers: ManualScheduler
) -> None:
    srv, sc = shop
    account = await connect_whatsapp(sc)
    sid = await site_id(sc)
    r = await sc.anna.post(
        f"/api/sites/{sid}/templates",
        json={
            "name": "order_update",
            "language": "en_US",
            "body": "Hello {{1}}, your order {{2}} has shipped.",
        },
    )
    assert r.status_code == 201 and r.json()["variables"] == 2
    bad = await sc.anna.post(f"/api/sites/{sid}/templates", json={"name": "x", "body": "{{2}}"})
    assert bad.status_code == 422
    await post_hook(sc, account, wa_text(PHONE_ID, WA_ID, "wamid.W", now_ts(timers), "Any news?"))
    conv = await wa_conversation(srv)
    composer = (await sc.anna.http.get(f"/api/conversations/{conv.id}/composer")).json()
    assert composer["window"]["mode"] == "free" and composer["window"]["seconds_left"] == 86400
    assert composer["cobrowse"] is False and [t["name"] for t in composer["templates"]] == [
        "order_update"
    ]

    timers.advance(24 * 3600 + 1)
    composer = (await sc.anna.http.get(f"/api/conversations/{conv.id}/composer")).json()
    assert composer["window"]["mode"] == "template"
    console = await raw_socket(await sc.anna.ws_url(), origin=sc.base_url)
    await next_frame(console, "welcome")
    frame = {"type": "send", "conversation_id": conv.id, "client_msg_id": "ws-late", "body": "Hi"}
    await console.send(json.dumps(frame))
    error = await next_frame(console, "error")
    assert (error["code"], error.get("ref")) == ("window_closed", "ws-late")
    assert "approved template" in error["message"]
    await console.close()
    refused = await reply(sc, conv.id, "Your parcel left today", "late")
    assert refused.status_code == 409 and refused.json()["code"] == "window_closed"
    assert "template" in refused.json()["message"]
    tid = composer["templates"][0]["id"]
    wrong = await sc.anna.post(
        f"/api/conversations/{conv.id}/template",
        json={"template_id": tid, "variables": ["Sheena"], "client_msg_id": "t0"},
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "bad_variables"
    ok = await sc.anna.post(
        f"/api/conversations/{conv.id}/template",
        json={"template_id": tid, "variables": ["Sheena", "#1234"], "client_msg_id": "t1"},
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()["body"] == "Hello Sheena, your order #1234 has shipped."
    await srv.rt.events.drain()
    [call] = fake.sent("/messages")
    assert call.body["type"] == "template"
    assert call.body["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Sheena"},
                    {"type": "text", "text": "#1234"},
                ],
            }
        ],
    }
    # the customer writes again: the window is open again
    await post_hook(sc, account, wa_text(PHONE_ID, WA_ID, "wamid.W2", now_ts(timers), "Thanks!"))
    assert (await reply(sc, conv.id, "You are welcome", "r3")).status_code == 201


async def test_a_whatsapp_conversation_is_routed_as_asynchronous_work(
    shop: tuple[InProcessServer, Scenario], timers: ManualScheduler
) -> None:
    """Like email: a pending messaging conversation goes to an agent who takes email work."""
    srv, sc = shop
    account = await connect_whatsapp(sc)
    await post_hook(sc, account, wa_text(PHONE_ID, WA_ID, "wamid.R", now_ts(timers), "Hi"))
    conv = await wa_conversation(srv)
    assert conv.assignee_id is None
    r = await sc.anna.patch(f"/api/agents/{sc.anna.id}", json={"status": "online", "max_chats": 2})
    assert r.status_code == 200, r.text
    await srv.rt.routing.run_once()
    await srv.rt.routing.run_once()
    routed = (await sc.anna.http.get(f"/api/conversations/{conv.id}")).json()
    assert (routed["assignee_id"], routed["status"]) == (sc.anna.id, "pending")


async def test_a_whatsapp_number_on_a_contact_joins_its_chats_to_that_contact(
    shop: tuple[InProcessServer, Scenario], timers: ManualScheduler
) -> None:
    """One customer, many channels: the agent puts the customer's WhatsApp number on their web
    contact; the customer's WhatsApp message lands on that contact, whose page lists the web
    chat and the WhatsApp conversation. An unknown number gets a contact of its own."""
    srv, sc = shop
    account = await connect_whatsapp(sc)
    v = await sc.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(json.dumps({"type": "send", "client_msg_id": "w1", "body": "Hi from the web"}))
    web_conv = int((await next_frame(ws, "ack"))["conversation_id"])
    await ws.close()
    cid = int((await sc.anna.http.get(f"/api/contacts/by-visitor/{v.id}")).json()["contact_id"])
    r = await sc.anna.patch(
        f"/api/contacts/{cid}",
        json={"add_identities": [{"kind": "whatsapp", "value": "+1 650 555 1234"}]},
    )
    assert r.status_code == 200, r.text

    payload = wa_text(PHONE_ID, WA_ID, "wamid.join1", now_ts(timers), "Hi from WhatsApp")
    assert (await post_hook(sc, account, payload)).status_code == 200
    wa_conv = (await wa_conversation(srv)).id
    contact = (await sc.anna.http.get(f"/api/contacts/{cid}")).json()
    shown = {c["id"] for c in contact["conversations"]}
    assert {web_conv, wa_conv} <= shown
    assert any(
        i["kind"] == "whatsapp" and i["value"] == "+16505551234" for i in contact["identities"]
    )

    other = wa_text(PHONE_ID, "4915112345678", "wamid.other", now_ts(timers), "Hallo")
    assert (await post_hook(sc, account, other)).status_code == 200
    async with srv.rt.db.read() as s:
        stranger = (
            await s.execute(
                select(Conversation).where(
                    Conversation.channel == "whatsapp", Conversation.id != wa_conv
                )
            )
        ).scalar_one()
    own = (await sc.anna.http.get(f"/api/contacts/by-visitor/{stranger.visitor_id}")).json()
    assert own["contact_id"] != cid
    theirs = (await sc.anna.http.get(f"/api/contacts/{own['contact_id']}")).json()
    assert any(
        i["kind"] == "whatsapp" and i["value"] == "+4915112345678" and i["verified"]
        for i in theirs["identities"]
    )
