"""Messenger (the human-agent tag, public page comments answered publicly or privately),
Telegram (its secret-token header), media customers send, moving a web chat to WhatsApp with a
signed reference, and the FAQ bot answering on WhatsApp; the platforms faked at the HTTP edge."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.integration.assist.test_bot import seed_faq
from tests.integration.channels.test_messaging import bodies, reply
from tests.support.actors import ORIGIN, Scenario, next_frame, raw_socket
from tests.support.channel_world import (
    BOT_TOKEN,
    FB_SECRET,
    PAGE_ID,
    PHONE_ID,
    PSID,
    TG_SECRET,
    WA_ID,
    connect,
    connect_whatsapp,
    now_ts,
    post_hook,
)
from tests.support.platforms import (
    FakePlatforms,
    fb_comment,
    fb_message,
    tg_update,
    wa_envelope,
    wa_text,
)
from tests.support.server import InProcessServer

from tresen.scheduler import ManualScheduler
from tresen.storage.models import ChannelMedia, Conversation, Message


@pytest.fixture
def database_url() -> None:
    """SQLite only: ``running_scenario``'s default database."""
    return None


@pytest.fixture
def shop_settings(fake: FakePlatforms) -> dict[str, Any]:
    return {
        "session_ttl_seconds": 30 * 24 * 3600,
        "channel_media_max_bytes": 1000,
        **fake.settings(),
    }


async def conversations(srv: InProcessServer, channel: str) -> list[Conversation]:
    async with srv.rt.db.read() as s:
        stmt = select(Conversation).where(Conversation.channel == channel)
        return list((await s.execute(stmt.order_by(Conversation.id))).scalars())


async def test_messenger_uses_the_human_agent_tag_after_24_hours_and_stops_after_7_days(
    shop: tuple[InProcessServer, Scenario], fake: FakePlatforms, timers: ManualScheduler
) -> None:
    srv, sc = shop
    account = await connect(
        sc,
        kind="messenger",
        external_id=PAGE_ID,
        access_token="page-token",
        app_secret=FB_SECRET,
        verify_token="v",
    )
    ts_ms = now_ts(timers) * 1000
    r = await post_hook(
        sc, account, fb_message(PAGE_ID, PSID, "mid.1", ts_ms, "hello, world!"), secret=FB_SECRET
    )
    assert r.status_code == 200 and r.json()["stored"] == 1
    [conv] = await conversations(srv, "messenger")
    assert (await reply(sc, conv.id, "Hi there", "r1")).status_code == 201
    await srv.rt.events.drain()
    timers.advance(30 * 3600)  # after 24 hours: the tag
    assert (await reply(sc, conv.id, "Following up", "r2")).status_code == 201
    await srv.rt.events.drain()
    first, second = fake.sent("/me/messages")
    assert first.body == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Hi there"},
    }
    assert second.body["messaging_type"] == "MESSAGE_TAG" and second.body["tag"] == "HUMAN_AGENT"
    assert first.headers["authorization"] == "Bearer page-token"
    timers.advance(7 * 24 * 3600)
    refused = await reply(sc, conv.id, "Anyone?", "r3")
    assert refused.status_code == 409 and refused.json()["code"] == "window_closed"


async def test_a_page_comment_is_answered_publicly_and_privately(
    shop: tuple[InProcessServer, Scenario], fake: FakePlatforms, timers: ManualScheduler
) -> None:
    srv, sc = shop
    account = await connect(
        sc,
        kind="messenger",
        external_id=PAGE_ID,
        access_token="page-token",
        app_secret=FB_SECRET,
        verify_token="v",
    )
    comment = fb_comment(
        PAGE_ID,
        "4455",
        "Erik Lund",
        "111_222",
        "999_111",
        now_ts(timers),
        "My order never arrived!",
    )
    assert (await post_hook(sc, account, comment, secret=FB_SECRET)).json()["stored"] == 1
    # the page's own answer comes back through the feed too: not a customer's item
    own = fb_comment(PAGE_ID, PAGE_ID, "Shop", "111_333", "999_111", now_ts(timers), "Sorry!")
    assert (await post_hook(sc, account, own, secret=FB_SECRET)).json()["stored"] == 0
    [public] = await conversations(srv, "facebook")
    assert public.meta["public"] is True and public.meta["comment_id"] == "111_222"
    composer = (await sc.anna.http.get(f"/api/conversations/{public.id}/composer")).json()
    assert composer["public"] and composer["private_reply"] and composer["window"] is None

    assert (
        await reply(sc, public.id, "Sorry to hear that, we will check.", "p1")
    ).status_code == 201
    await srv.rt.events.drain()
    [answer] = fake.sent("/111_222/comments")
    assert answer.body == {"message": "Sorry to hear that, we will check."}

    fake.psid_for_comment["111_222"] = PSID
    r = await sc.anna.post(
        f"/api/conversations/{public.id}/private-reply",
        json={"body": "Could you send me your order number?", "client_msg_id": "pr1"},
    )
    assert r.status_code == 201, r.text
    private_id = r.json()["conversation_id"]
    await srv.rt.events.drain()
    [dm] = fake.sent("/me/messages")
    assert dm.body == {
        "message": {"text": "Could you send me your order number?"},
        "recipient": {"comment_id": "111_222"},
    }
    again = await sc.anna.post(
        f"/api/conversations/{public.id}/private-reply",
        json={"body": "Twice?", "client_msg_id": "pr2"},
    )
    assert again.status_code == 409
    # the commenter answers in Messenger: the private conversation continues
    later = (now_ts(timers) + 60) * 1000
    await post_hook(
        sc, account, fb_message(PAGE_ID, PSID, "mid.r1", later, "#4711"), secret=FB_SECRET
    )
    [private] = await conversations(srv, "messenger")
    assert private.id == private_id and private.meta["comment_conversation_id"] == public.id
    assert private.assignee_id is not None
    assert await bodies(srv, private_id) == ["Could you send me your order number?", "#4711"]


async def test_telegram_checks_its_secret_token_and_answers_with_sendmessage(
    shop: tuple[InProcessServer, Scenario], fake: FakePlatforms, timers: ManualScheduler
) -> None:
    srv, sc = shop
    account = await connect(sc, kind="telegram", access_token=BOT_TOKEN, verify_token=TG_SECRET)
    assert account["external_id"] == "110201543"
    path = "/hooks/" + account["webhook_url"].split("/hooks/", 1)[1]
    update = tg_update(10000, 1111111, 1365, now_ts(timers), "Hallo, ist das lieferbar?")
    async with httpx.AsyncClient(base_url=sc.base_url) as client:
        wrong = await client.post(
            path, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
        )
        assert wrong.status_code == 401 and await conversations(srv, "telegram") == []
        ok = await client.post(
            path, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
        )
        dup = await client.post(
            path, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
        )
    assert ok.json()["stored"] == 1 and dup.json()["stored"] == 0
    [conv] = await conversations(srv, "telegram")
    assert await bodies(srv, conv.id) == ["Hallo, ist das lieferbar?"]
    assert (await reply(sc, conv.id, "Ja, ab morgen.", "r1")).status_code == 201
    await srv.rt.events.drain()
    [call] = fake.sent("/sendMessage")
    assert call.path == f"/bot{BOT_TOKEN}/sendMessage"
    assert call.body == {"chat_id": "1111111", "text": "Ja, ab morgen."}
    rows = (await sc.anna.http.get(f"/api/conversations/{conv.id}/deliveries")).json()
    assert rows[0]["status"] == "sent" and rows[0]["external_id"].startswith("1111111:")


async def test_an_image_is_stored_within_limits_and_served_without_sniffing(
    shop: tuple[InProcessServer, Scenario], fake: FakePlatforms, timers: ManualScheduler
) -> None:
    srv, sc = shop
    account = await connect_whatsapp(sc)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    fake.media["1003383421387256"] = ("image/png", png)
    fake.media["2222"] = ("application/pdf", b"%PDF" + b"x" * 5000)  # over the 1000-byte limit

    def image(mid: str, media_id: str, kind: str, extra: dict[str, Any]) -> dict[str, Any]:
        return wa_envelope(
            PHONE_ID,
            {
                "contacts": [{"profile": {"name": "Sheena"}, "wa_id": WA_ID}],
                "messages": [
                    {
                        "from": WA_ID,
                        "id": mid,
                        "timestamp": str(now_ts(timers)),
                        "type": kind,
                        kind: {"id": media_id, **extra},
                    }
                ],
            },
        )

    await post_hook(
        sc,
        account,
        image(
            "wamid.I1",
            "1003383421387256",
            "image",
            {"mime_type": "image/png", "caption": "broken lid"},
        ),
    )
    await post_hook(
        sc,
        account,
        image(
            "wamid.I2", "2222", "document", {"mime_type": "application/pdf", "filename": "bill.pdf"}
        ),
    )
    fetches = len([c for c in fake.calls if c.path == "/media/1003383421387256"])
    await post_hook(
        sc,
        account,
        image(
            "wamid.I1",
            "1003383421387256",
            "image",
            {"mime_type": "image/png", "caption": "broken lid"},
        ),
    )
    assert len([c for c in fake.calls if c.path == "/media/1003383421387256"]) == fetches == 1
    async with srv.rt.db.read() as s:
        [media] = list((await s.execute(select(ChannelMedia))).scalars())
        conv = (await s.execute(select(Conversation))).scalar_one()
    assert media.data == png and media.content_type == "image/png"
    first, second = await bodies(srv, conv.id)
    assert first.startswith("[image] http://") and first.endswith("\nbroken lid")
    assert second.startswith("[file not stored")
    url = first.split()[1]
    r = await sc.anna.http.get(url)
    assert r.status_code == 200 and r.content == png
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"].startswith("inline")
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(url)).status_code == 401


async def test_a_web_chat_continues_on_whatsapp_with_its_history(
    shop: tuple[InProcessServer, Scenario], timers: ManualScheduler
) -> None:
    srv, sc = shop
    account = await connect_whatsapp(sc)
    v = await sc.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(
        json.dumps({"type": "send", "client_msg_id": "m1", "body": "Is the blue one in stock?"})
    )
    conv_id = int((await next_frame(ws, "ack"))["conversation_id"])
    async with httpx.AsyncClient(base_url=sc.base_url) as client:
        r = await client.post(
            "/api/visitor/whatsapp-link",
            json={"site_key": sc.site_key, "conversation_id": conv_id},
            headers={"Authorization": f"Bearer {v.token}", "Origin": ORIGIN},
        )
        stranger = await client.post(
            "/api/visitor/whatsapp-link",
            json={"site_key": sc.site_key, "conversation_id": conv_id + 99},
            headers={"Authorization": f"Bearer {v.token}", "Origin": ORIGIN},
        )
    assert r.status_code == 200, r.text
    assert stranger.status_code == 404
    link = r.json()["url"]
    assert link.startswith("https://wa.me/15550783881?text=") and r.json()["qr_svg"].startswith(
        "<svg"
    )
    from urllib.parse import parse_qs, urlparse

    text = parse_qs(urlparse(link).query)["text"][0]
    await post_hook(sc, account, wa_text(PHONE_ID, WA_ID, "wamid.H1", now_ts(timers), text))
    async with srv.rt.db.read() as s:
        conv = await s.get(Conversation, conv_id)
        assert conv is not None
        assert (conv.channel, conv.meta["recipient"]) == ("whatsapp", WA_ID)
    await post_hook(sc, account, wa_text(PHONE_ID, WA_ID, "wamid.H2", now_ts(timers), "Size M"))
    assert await bodies(srv, conv_id) == ["Is the blue one in stock?", text, "Size M"]
    # the same link used from another number later does not take the conversation over
    await post_hook(sc, account, wa_text(PHONE_ID, "4917000001", "wamid.H3", now_ts(timers), text))
    assert (await bodies(srv, conv_id))[-1] == "Size M"
    # a forged reference starts a conversation of its own
    await post_hook(
        sc,
        account,
        wa_text(
            PHONE_ID, "4915112345", "wamid.F", now_ts(timers), f"hi (ref:{conv_id}-000000000000)"
        ),
    )
    async with srv.rt.db.read() as s:
        count = len(list((await s.execute(select(Conversation.id))).scalars()))
    assert count == 3
    await ws.close()


async def test_the_faq_bot_answers_on_whatsapp_and_hands_over(
    shop: tuple[InProcessServer, Scenario], fake: FakePlatforms, timers: ManualScheduler
) -> None:
    srv, sc = shop
    await seed_faq(sc)
    account = await connect_whatsapp(sc, bot=True)
    await post_hook(
        sc,
        account,
        wa_text(PHONE_ID, WA_ID, "wamid.B1", now_ts(timers), "How do I return something?"),
    )
    await srv.rt.events.drain()
    await srv.rt.events.drain()
    async with srv.rt.db.read() as s:
        conv = (await s.execute(select(Conversation))).scalar_one()
        authors = list(
            (
                await s.execute(
                    select(Message.author_kind)
                    .where(Message.conversation_id == conv.id)
                    .order_by(Message.seq)
                )
            ).scalars()
        )
    assert authors == ["visitor", "bot"]
    [answer] = fake.sent("/messages")
    assert answer.body["text"]["body"] == "Returns are free within 30 days."
    await post_hook(
        sc, account, wa_text(PHONE_ID, WA_ID, "wamid.B2", now_ts(timers), "I want a human")
    )
    await srv.rt.events.drain()
    await srv.rt.events.drain()
    async with srv.rt.db.read() as s:
        conv2 = await s.get(Conversation, conv.id)
    assert conv2 is not None and conv2.queued_at is not None and not conv2.meta.get("bot")
    sent = [c.body["text"]["body"] for c in fake.sent("/messages")]
    assert len(sent) == 2 and "connecting you with a person" in sent[1]
