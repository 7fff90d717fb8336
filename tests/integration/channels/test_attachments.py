"""Files on messages (docs/attachments.md), on SQLite and PostgreSQL, over real sockets: an agent
uploads a file (CSRF, type from the bytes, size cap), sends it with a reply, and it reaches the
conversation's channel: the web visitor downloads it with their token (nobody else), email
carries it as a MIME attachment, WhatsApp / Messenger / Telegram upload it through their APIs
(faked at the HTTP edge). Hostile files are refused; erasure deletes the files."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tests.integration.channels.test_email_outbound import configure_mailbox, leave_message
from tests.support.actors import ORIGIN, Scenario, Visitor, next_frame, raw_socket
from tests.support.channel_world import (
    BOT_TOKEN,
    FB_SECRET,
    PAGE_ID,
    PHONE_ID,
    PSID,
    TG_SECRET,
    WA_ID,
    connect_whatsapp,
    now_ts,
    post_hook,
    site_id,
)
from tests.support.mail import MailSink
from tests.support.platforms import FakePlatforms, fb_message, tg_update, wa_text
from tests.support.server import InProcessServer

from tresen.scheduler import ManualScheduler
from tresen.storage.models import ChannelMedia, ContactIdentity, Conversation, Message

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 200
PDF = b"%PDF-1.4\n" + b"1 0 obj\n<<>>\nendobj\n" * 20


@pytest.fixture
def shop_settings(fake: FakePlatforms) -> dict[str, Any]:
    return {"overflow_wait_seconds": 0, "attachment_max_bytes": 4096, **fake.settings()}


async def upload(sc: Scenario, conv_id: int, name: str, data: bytes, **kw: Any) -> httpx.Response:
    return await sc.anna.post(
        "/api/files", params={"conversation_id": conv_id, "name": name}, content=data, **kw
    )


async def send(sc: Scenario, conv_id: int, keys: list[str], body: str = "") -> dict[str, Any]:
    r = await sc.anna.post(
        f"/api/conversations/{conv_id}/messages",
        json={"body": body, "attachments": keys, "client_msg_id": f"f-{'-'.join(keys)}"},
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def web_chat(sc: Scenario) -> tuple[Visitor, Any, int]:
    v = await sc.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(json.dumps({"type": "send", "client_msg_id": "v1", "body": "Hi, a photo?"}))
    conv_id = int((await next_frame(ws, "ack"))["conversation_id"])
    return v, ws, conv_id


def visitor_get(v: Visitor, key: str, origin: str = ORIGIN) -> httpx.Request:
    return httpx.Request(
        "GET",
        f"{v.base_url}/api/visitor/files/{key}",
        params={"site_key": v.site_key},
        headers={"Authorization": f"Bearer {v.token}", "Origin": origin},
    )


async def test_an_agents_image_reaches_the_web_visitor_and_only_them(
    shop: tuple[InProcessServer, Scenario],
) -> None:
    _srv, sc = shop
    v, ws, conv_id = await web_chat(sc)
    no_csrf = await sc.anna.http.post(
        "/api/files", params={"conversation_id": conv_id, "name": "a.png"}, content=PNG
    )
    assert no_csrf.status_code == 403 and no_csrf.json()["code"] == "csrf"
    r = await upload(sc, conv_id, "../../etc/Lid photo.PNG", PNG)
    assert r.status_code == 201, r.text
    up = r.json()
    assert (up["name"], up["type"], up["size"]) == ("Lid photo.png", "image/png", len(PNG))
    msg = await send(sc, conv_id, [up["key"]], "Like this one?")
    assert msg["attachments"] == [up]

    frame = await next_frame(ws, "message")
    while frame["author"]["kind"] != "agent":
        frame = await next_frame(ws, "message")
    assert frame["attachments"] == [up] and frame["body"] == "Like this one?"
    async with httpx.AsyncClient(timeout=30) as client:
        got = await client.send(visitor_get(v, up["key"]))
        assert got.status_code == 200 and got.content == PNG
        assert got.headers["content-type"] == "image/png"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
        assert got.headers["content-disposition"] == 'inline; filename="Lid photo.png"'
        other = await sc.visitor()
        assert (await client.send(visitor_get(other, up["key"]))).status_code == 404
        assert (
            await client.send(visitor_get(v, up["key"], "https://evil.example"))
        ).status_code == 403
        anonymous = await client.get(
            f"{v.base_url}/api/visitor/files/{up['key']}", params={"site_key": v.site_key}
        )
        assert anonymous.status_code == 401
    # history shows it too, and the upload cannot be sent twice
    hist = (await sc.anna.http.get(f"/api/conversations/{conv_id}/messages")).json()
    assert [m["attachments"] for m in hist] == [[], [up]]
    again = await sc.anna.post(
        f"/api/conversations/{conv_id}/messages",
        json={"body": "", "attachments": [up["key"]], "client_msg_id": "again"},
    )
    assert again.status_code == 422 and again.json()["code"] == "unknown_file"
    await ws.close()


async def test_hostile_files_are_refused_and_nothing_is_stored(
    shop: tuple[InProcessServer, Scenario],
) -> None:
    srv, sc = shop
    v, ws, conv_id = await web_chat(sc)
    html = b"<html><script>alert(document.cookie)</script></html>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for name, data, code, status in [
        ("photo.png", html, "file_type", 422),  # HTML named as an image
        ("logo.svg", svg, "file_type", 422),
        ("notes.txt", b"  <!doctype html><p>hi", "file_type", 422),
        ("app.exe", b"MZ\x90\x00" + b"\x00" * 100, "file_type", 422),
        ("big.png", PNG + b"\x00" * 5000, "file_too_large", 413),
        ("empty.png", b"", "empty_file", 422),
    ]:
        r = await upload(sc, conv_id, name, data)
        assert (r.status_code, r.json()["code"]) == (status, code), name
    async with srv.rt.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(ChannelMedia))).scalar_one() == 0
    # a visitor may not upload unless the site allows it
    up = await _visitor_upload(v, conv_id, "a.png", PNG)
    assert up.status_code == 403 and up.json()["code"] == "uploads_off"
    # a key of another conversation's upload is refused
    _v2, ws2, other = await web_chat(sc)
    key = (await upload(sc, other, "a.png", PNG)).json()["key"]
    r = await sc.anna.post(
        f"/api/conversations/{conv_id}/messages",
        json={"body": "x", "attachments": [key], "client_msg_id": "steal"},
    )
    assert r.status_code == 422 and r.json()["code"] == "unknown_file"
    await ws.close()
    await ws2.close()


async def _visitor_upload(v: Visitor, conv_id: int, name: str, data: bytes) -> httpx.Response:
    async with httpx.AsyncClient(base_url=v.base_url, timeout=30) as client:
        return await client.post(
            "/api/visitor/files",
            params={"site_key": v.site_key, "conversation_id": conv_id, "name": name},
            content=data,
            headers={"Authorization": f"Bearer {v.token}", "Origin": ORIGIN},
        )


async def test_a_visitor_attaches_a_file_where_the_site_allows_it(
    shop: tuple[InProcessServer, Scenario],
) -> None:
    _srv, sc = shop
    sid = await site_id(sc)
    r = await sc.anna.patch(f"/api/sites/{sid}", json={"visitor_uploads": True})
    assert r.status_code == 200 and r.json()["visitor_uploads"] is True
    v, ws, conv_id = await web_chat(sc)
    bad = await _visitor_upload(v, conv_id, "x.pdf", b"<html>")
    assert bad.status_code == 422
    up = (await _visitor_upload(v, conv_id, "invoice.pdf", PDF)).json()
    assert up["type"] == "application/pdf"
    await ws.send(
        json.dumps(
            {
                "type": "send",
                "client_msg_id": "v2",
                "body": "",
                "conversation_id": conv_id,
                "attachments": [up["key"]],
            }
        )
    )
    assert (await next_frame(ws, "ack"))["seq"] == 2
    got = await sc.anna.http.get(f"/api/channel-media/{up['key']}")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"] == 'attachment; filename="invoice.pdf"'
    await ws.close()


async def test_an_email_reply_carries_the_file_as_a_mime_attachment(
    shop: tuple[InProcessServer, Scenario], sink: MailSink
) -> None:
    srv, sc = shop
    await configure_mailbox(sc, sink.port)
    conv_id = await leave_message(srv, sc, "kunde@example.com")
    key = (await upload(sc, conv_id, "Rechnung.pdf", PDF)).json()["key"]
    await send(sc, conv_id, [key], "Your invoice, attached.")
    await srv.rt.events.drain()
    [received] = sink.received
    mail = received.message
    assert mail.get_content_type() == "multipart/mixed"
    [part] = list(mail.iter_attachments())
    assert part.get_filename() == "Rechnung.pdf" and part.get_content_type() == "application/pdf"
    assert part.get_content() == PDF
    assert "Your invoice, attached." in mail.get_body(("plain",)).get_content()


async def test_whatsapp_messenger_and_telegram_upload_the_file(
    shop: tuple[InProcessServer, Scenario], fake: FakePlatforms, timers: ManualScheduler
) -> None:
    srv, sc = shop
    sid = await site_id(sc)
    wa = await connect_whatsapp(sc)
    await post_hook(sc, wa, wa_text(PHONE_ID, WA_ID, "wamid.A1", now_ts(timers), "hi"))
    fb = await sc.anna.post(
        f"/api/sites/{sid}/channel-accounts",
        json={
            "kind": "messenger",
            "external_id": PAGE_ID,
            "access_token": "fb-token",
            "app_secret": FB_SECRET,
            "verify_token": "v",
        },
    )
    await post_hook(
        sc, fb.json(), fb_message(PAGE_ID, PSID, "mid.1", now_ts(timers) * 1000, "hey"), FB_SECRET
    )
    tg = (
        await sc.anna.post(
            f"/api/sites/{sid}/channel-accounts",
            json={"kind": "telegram", "access_token": BOT_TOKEN, "verify_token": TG_SECRET},
        )
    ).json()
    async with httpx.AsyncClient(base_url=sc.base_url, timeout=30) as client:
        r = await client.post(
            "/hooks/" + tg["webhook_url"].split("/hooks/", 1)[1],
            json=tg_update(1, 1111111, 5, now_ts(timers), "hallo"),
            headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
        )
        assert r.status_code == 200
    async with srv.rt.db.read() as s:
        convs = {c.channel: c.id for c in (await s.execute(select(Conversation))).scalars().all()}
    for channel in ("whatsapp", "messenger", "telegram"):
        conv_id = convs[channel]
        image = (await upload(sc, conv_id, "lid.png", PNG)).json()["key"]
        doc = (await upload(sc, conv_id, "manual.pdf", PDF)).json()["key"]
        await send(sc, conv_id, [image, doc], "Two files")
    await srv.rt.events.drain()

    ups = fake.sent(f"/{PHONE_ID}/media")
    assert [u.parts()["file"] for u in ups] == [
        ("lid.png", "image/png", PNG),
        ("manual.pdf", "application/pdf", PDF),
    ]
    assert ups[0].parts()["messaging_product"][2] == b"whatsapp"
    text, img, pdf = [c.body for c in fake.sent(f"/{PHONE_ID}/messages")]
    assert text["type"] == "text" and text["text"]["body"] == "Two files"
    assert img["type"] == "image" and img["image"] == {"id": "media" + img["image"]["id"][5:]}
    assert pdf["type"] == "document" and pdf["document"]["filename"] == "manual.pdf"
    assert img["to"] == WA_ID

    fb_ups = fake.sent("/me/message_attachments")
    assert [u.parts()["filedata"][2] for u in fb_ups] == [PNG, PDF]
    spec = json.loads(fb_ups[0].parts()["message"][2])
    assert spec["attachment"]["type"] == "image"
    sends = [c.body for c in fake.sent("/me/messages")]
    assert sends[0]["message"] == {"text": "Two files"}
    assert sends[1]["message"]["attachment"]["payload"]["attachment_id"].startswith("att")
    assert sends[2]["message"]["attachment"]["type"] == "file"
    assert all(b["recipient"] == {"id": PSID} for b in sends)

    [photo] = fake.sent("/sendPhoto")
    [document] = fake.sent("/sendDocument")
    assert photo.parts()["photo"] == ("lid.png", "image/png", PNG)
    assert photo.parts()["chat_id"][2] == b"1111111"
    assert document.parts()["document"][2] == PDF
    for conv_id in convs.values():
        rows = (await sc.anna.http.get(f"/api/conversations/{conv_id}/deliveries")).json()
        assert [d["status"] for d in rows] == ["sent"]


async def test_a_refused_upload_shows_on_the_message(
    shop: tuple[InProcessServer, Scenario], fake: FakePlatforms, timers: ManualScheduler
) -> None:
    srv, sc = shop
    wa = await connect_whatsapp(sc)
    await post_hook(sc, wa, wa_text(PHONE_ID, WA_ID, "wamid.B1", now_ts(timers), "hi"))
    async with srv.rt.db.read() as s:
        conv = (await s.execute(select(Conversation))).scalar_one()
    fake.fail_next(
        "/media", 400, {"error": {"message": "(#131053) Media upload error", "code": 131053}}
    )
    key = (await upload(sc, conv.id, "lid.png", PNG)).json()["key"]
    await send(sc, conv.id, [key])
    await srv.rt.events.drain()
    [row] = (await sc.anna.http.get(f"/api/conversations/{conv.id}/deliveries")).json()
    assert row["status"] == "failed" and "Media upload error" in row["error"]


async def test_erasure_deletes_the_files(shop: tuple[InProcessServer, Scenario]) -> None:
    srv, sc = shop
    _v, ws, conv_id = await web_chat(sc)
    key = (await upload(sc, conv_id, "lid.png", PNG)).json()["key"]
    await send(sc, conv_id, [key], "photo")
    await ws.close()
    async with srv.rt.db.read() as s:
        conv = await s.get(Conversation, conv_id)
        assert conv is not None
        contact_id = await _contact_of(s, conv.visitor_id)
    export = await sc.anna.http.get(f"/api/contacts/{contact_id}/gdpr-export")
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    [listed] = json.loads(archive.read("person.json"))["files"]
    assert listed["filename"] == "lid.png" and archive.read(listed["file"]) == PNG
    r = await sc.anna.post(f"/api/contacts/{contact_id}/erase")
    assert r.status_code == 200, r.text
    async with srv.rt.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(ChannelMedia))).scalar_one() == 0
        rows = (await s.execute(select(Message.attachments))).scalars().all()
        assert all(a is None for a in rows)
    assert (await sc.anna.http.get(f"/api/channel-media/{key}")).status_code == 404


async def _contact_of(s: Any, visitor_id: int) -> int:
    stmt = select(ContactIdentity.contact_id).where(ContactIdentity.visitor_id == visitor_id)
    return int((await s.execute(stmt)).scalars().first())


async def test_a_retry_after_a_failed_file_sends_only_what_is_missing(
    shop: tuple[InProcessServer, Scenario], fake: FakePlatforms, timers: ManualScheduler
) -> None:
    srv, sc = shop
    wa = await connect_whatsapp(sc)
    await post_hook(sc, wa, wa_text(PHONE_ID, WA_ID, "wamid.C1", now_ts(timers), "hi"))
    async with srv.rt.db.read() as s:
        conv = (await s.execute(select(Conversation))).scalar_one()
    keys = [(await upload(sc, conv.id, n, PNG)).json()["key"] for n in ("a.png", "b.png")]
    fake.fail_next("/media", 503, {"error": {"message": "try later", "code": 2}}, after=1)
    await send(sc, conv.id, keys, "Two photos")
    await srv.rt.events.drain()
    await srv.app.state.outbox.idle()
    [d] = (await sc.anna.http.get(f"/api/conversations/{conv.id}/deliveries")).json()
    assert (d["status"], d["attempts"]) == ("pending", 1)
    assert len(fake.sent(f"/{PHONE_ID}/messages")) == 2  # the text and the first photo
    timers.advance(30)
    await srv.app.state.outbox.idle()
    sent = [c.body for c in fake.sent(f"/{PHONE_ID}/messages")]
    assert [b["type"] for b in sent] == ["text", "image", "image"]  # nothing twice
    [d] = (await sc.anna.http.get(f"/api/conversations/{conv.id}/deliveries")).json()
    assert (d["status"], d["attempts"]) == ("sent", 2)
    assert d["external_id"].startswith("wamid.FAKE")
