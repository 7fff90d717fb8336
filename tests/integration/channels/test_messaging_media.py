"""Media customers send on Messenger and Telegram (WhatsApp's are in test_messaging_more.py),
checked by their bytes, and a late older message placed by its platform timestamp; on SQLite
and PostgreSQL, the platforms faked at the HTTP edge."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.support.actors import Scenario
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
from tests.support.platforms import FakePlatforms, fb_message, tg_update, wa_text
from tests.support.server import InProcessServer

from tresen.scheduler import ManualScheduler
from tresen.storage.models import ChannelMedia, Conversation

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 100
PDF = b"%PDF-1.4\n" + b"%%EOF\n" * 10


@pytest.fixture
def shop_settings(fake: FakePlatforms) -> dict[str, Any]:
    return {"channel_media_max_bytes": 1000, **fake.settings()}


async def messages(sc: Scenario, conv_id: int) -> list[dict[str, Any]]:
    r = await sc.anna.http.get(f"/api/conversations/{conv_id}/messages")
    assert r.status_code == 200, r.text
    return list(r.json())


async def only_conversation(srv: InProcessServer) -> Conversation:
    async with srv.rt.db.read() as s:
        return (await s.execute(select(Conversation))).scalar_one()


def fb_attachment(mid: str, ts_ms: int, kind: str, url: str) -> dict[str, Any]:
    payload = fb_message(PAGE_ID, PSID, mid, ts_ms, "")
    message = payload["entry"][0]["messaging"][0]["message"]
    del message["text"]
    message["attachments"] = [{"type": kind, "payload": {"url": url}}]
    return payload


async def test_messenger_media_are_stored_by_their_bytes(
    shop: tuple[InProcessServer, Scenario], fake: FakePlatforms, timers: ManualScheduler
) -> None:
    srv, sc = shop
    account = await connect(
        sc,
        kind="messenger",
        external_id=PAGE_ID,
        access_token="fb-token",
        app_secret=FB_SECRET,
        verify_token="v",
    )
    fake.media["photo1"] = ("image/png", PNG)
    fake.media["fakepng"] = ("image/png", b"<html><script>alert(1)</script></html>")
    fake.media["huge"] = ("application/pdf", b"%PDF" + b"x" * 5000)
    ts = now_ts(timers) * 1000
    for mid, kind, media in [
        ("mid.p1", "image", "photo1"),
        ("mid.p2", "image", "fakepng"),
        ("mid.p3", "file", "huge"),
    ]:
        r = await post_hook(
            sc, account, fb_attachment(mid, ts, kind, f"{fake.url}/cdn/{media}"), FB_SECRET
        )
        assert r.status_code == 200
    conv = await only_conversation(srv)
    bodies = [m["body"] for m in await messages(sc, conv.id)]
    assert bodies[0].startswith("[image] http")
    assert bodies[1:] == [
        "[image not stored: too large or unavailable]",
        "[file not stored: too large or unavailable]",
    ]
    async with srv.rt.db.read() as s:
        [media] = (await s.execute(select(ChannelMedia))).scalars().all()
    assert media.data == PNG and media.content_type == "image/png"
    got = await sc.anna.http.get(bodies[0].split()[1])
    assert got.status_code == 200 and got.content == PNG


async def test_telegram_photo_and_document_are_stored(
    shop: tuple[InProcessServer, Scenario], fake: FakePlatforms, timers: ManualScheduler
) -> None:
    srv, sc = shop
    account = await connect(sc, kind="telegram", access_token=BOT_TOKEN, verify_token=TG_SECRET)
    fake.media["AgADphoto"] = ("image/jpeg", PNG)  # Telegram says jpeg; the bytes say png
    fake.media["BQADdoc"] = ("application/pdf", PDF)
    photo = tg_update(1, 1111111, 10, now_ts(timers), "")
    del photo["message"]["text"]
    photo["message"]["photo"] = [
        {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "AgADphoto", "file_unique_id": "b", "width": 800, "height": 800},
    ]
    photo["message"]["caption"] = "scratch on the door"
    doc = tg_update(2, 1111111, 11, now_ts(timers), "")
    del doc["message"]["text"]
    doc["message"]["document"] = {
        "file_id": "BQADdoc",
        "file_unique_id": "d",
        "file_name": "receipt.pdf",
        "mime_type": "application/pdf",
    }
    path = "/hooks/" + account["webhook_url"].split("/hooks/", 1)[1]
    async with httpx.AsyncClient(base_url=sc.base_url) as client:
        for update in (photo, doc):
            r = await client.post(
                path, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET}
            )
            assert r.status_code == 200 and r.json()["stored"] == 1
    conv = await only_conversation(srv)
    shown = await messages(sc, conv.id)
    first, second = [m["body"] for m in shown]
    # the console previews them from the message's file list
    assert [(a["name"], a["type"]) for m in shown for a in m["attachments"]] == [
        ("image", "image/png"),
        ("receipt.pdf", "application/pdf"),
    ]
    assert first.startswith("[image] http") and first.endswith("\nscratch on the door")
    assert second.startswith("[file receipt.pdf] http")
    async with srv.rt.db.read() as s:
        rows = (await s.execute(select(ChannelMedia).order_by(ChannelMedia.id))).scalars().all()
    assert [(r.content_type, r.data) for r in rows] == [
        ("image/png", PNG),
        ("application/pdf", PDF),
    ]
    assert any(c.path == f"/bot{BOT_TOKEN}/getFile" for c in fake.calls)
    doc_served = await sc.anna.http.get(second.split()[2])
    assert doc_served.headers["content-disposition"] == 'attachment; filename="receipt.pdf"'


async def test_a_late_older_message_is_placed_by_its_platform_time(
    shop: tuple[InProcessServer, Scenario], timers: ManualScheduler
) -> None:
    srv, sc = shop
    account = await connect_whatsapp(sc)
    start = now_ts(timers)
    timers.clock.advance(120)
    # the newer message arrives first; the customer's older one comes in a later call
    await post_hook(sc, account, wa_text(PHONE_ID, WA_ID, "wamid.N2", start + 60, "second"))
    timers.clock.advance(5)
    conv = await only_conversation(srv)
    r = await sc.anna.post(
        f"/api/conversations/{conv.id}/messages", json={"body": "hello!", "client_msg_id": "a1"}
    )
    assert r.status_code == 201
    timers.clock.advance(30)
    await post_hook(sc, account, wa_text(PHONE_ID, WA_ID, "wamid.N1", start, "first"))
    shown = await messages(sc, conv.id)
    assert [m["body"] for m in shown] == ["second", "hello!", "first"]  # seq: arrival
    by_time = sorted(shown, key=lambda m: (m["created_at"], m["seq"]))
    assert [m["body"] for m in by_time] == ["first", "second", "hello!"]
    # the reply window still counts from the newest message the customer wrote
    conv = await only_conversation(srv)
    newest = datetime.fromtimestamp(start + 60, UTC)
    assert datetime.fromisoformat((conv.meta or {})["customer_at"]) == newest
