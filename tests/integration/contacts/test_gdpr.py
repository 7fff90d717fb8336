"""GDPR: one person's archive holds everything the console shows about them; after erasing
them, no table holds anything of them but anonymised rows; retention per site."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from tests.integration.api.helpers import start_conversation
from tests.integration.contacts.helpers import contact_of, identified
from tests.support.actors import Scenario, next_frame, raw_socket, running_scenario
from tests.support.server import InProcessServer

from tresen.channels.email_receive import check_receive_mail
from tresen.clock import ManualClock
from tresen.scheduler import ManualScheduler
from tresen.storage.models import (
    AuditEntry,
    Base,
    Callback,
    CobrowseAudit,
    CobrowseSession,
    Conversation,
    PageView,
    Rating,
)

NAME, EMAIL, EXTERNAL = "Jytte Østergaard", "jytte.o@example.dk", "cust-4711"
PHONE, PHONE_STORED = "+45 20 12 34 56", "+4520123456"
IP, AGENT = "203.0.113.77", "JytteMail/7.3"
TEXTS = ("my order 99812 never came", "please call me on my mobile", "tracking says Ribe")
PAGE = "https://shop.example/account/jytte-orders"
NOTE = "prefers phone calls after 16:00"


def mail(body: str) -> bytes:
    return (
        f"Received: from [{IP}] by mx.shop.example; Thu, 1 Jan 2026 09:00:00 +0000\r\n"
        f"From: {NAME} <{EMAIL}>\r\nTo: support@shop.example\r\nSubject: Order 99812\r\n"
        f"User-Agent: {AGENT}\r\nMessage-ID: <jytte-1@example.dk>\r\n"
        "Date: Thu, 1 Jan 2026 09:00:00 +0000\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


async def page_views(sc: Scenario, server: InProcessServer, token_visitor: Any, url: str) -> None:
    ws = await raw_socket(token_visitor.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(json.dumps({"type": "track", "kind": "page", "url": url, "title": NAME}))
    await ws.send(json.dumps({"type": "ping"}))
    await next_frame(ws, "pong")
    await server.rt.radar.flush()
    await ws.close()


async def make_person(server: InProcessServer, sc: Scenario) -> tuple[int, int, list[int]]:
    """Jytte on the web (identified), by email and by phone; a co-browse; a note and a tag.
    Returns (site id, contact id, conversation ids)."""
    site = int((await sc.anna.http.get("/api/sites")).json()[0]["id"])
    v = await identified(sc, EXTERNAL, name=NAME, email=EMAIL, attributes={"city": "Ribe"})
    conv = await start_conversation(v, TEXTS[0], TEXTS[1])
    await page_views(sc, server, v, PAGE)
    receipt = await check_receive_mail(server.rt, site, mail(TEXTS[2]))
    assert receipt.outcome == "stored" and receipt.conversation_id
    cid = await contact_of(sc, v.id)
    r = await sc.anna.patch(
        f"/api/contacts/{cid}",
        json={"add_identities": [{"kind": "phone", "value": PHONE}], "add_tags": ["vip"]},
    )
    assert r.status_code == 200, r.text
    await sc.anna.post(f"/api/contacts/{cid}/notes", json={"body": NOTE})
    now = server.rt.clock.now()
    async with server.rt.db.write() as s:
        cb = CobrowseSession(
            conversation_id=conv, visitor_id=v.id, site_id=site, agent_id=sc.anna.id, created_at=now
        )
        s.add(cb)
        await s.flush()
        s.add(
            CobrowseAudit(
                session_id=cb.id, conversation_id=conv, action="started", actor_kind="agent",
                actor_id=sc.anna.id, detail=f"with {NAME}", at=now,
            )
        )  # fmt: skip
    return site, cid, [conv, receipt.conversation_id]


async def every_value(server: InProcessServer) -> list[tuple[str, str]]:
    """(table, text) for every cell of every table."""
    out = []
    async with server.rt.db.read() as s:
        for table in Base.metadata.sorted_tables:
            for row in (await s.execute(select(table))).all():
                for value in row:
                    if isinstance(value, bytes):
                        text = value.decode("latin-1")
                    elif isinstance(value, (dict, list)):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    out.append((table.name, text.lower()))
    return out


NEEDLES = (NAME, EMAIL, EXTERNAL, PHONE_STORED, IP, AGENT, PAGE, NOTE, *TEXTS)


async def test_export_then_erase_leaves_nothing_of_them(
    server: InProcessServer, scenario: Scenario
) -> None:
    _, cid, convs = await make_person(server, scenario)
    # someone else, whose data must stay
    other = await identified(scenario, "cust-1", name="Other Person", email="other@example.dk")
    await start_conversation(other, "a message that stays")

    # the archive holds what the console shows
    console = (await scenario.anna.http.get(f"/api/contacts/{cid}")).json()
    r = await scenario.anna.http.get(f"/api/contacts/{cid}/gdpr-export")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(r.content))
    doc = json.loads(z.read("person.json"))
    assert doc["contact"] == console
    for conv in convs:
        shown = (await scenario.anna.http.get(f"/api/conversations/{conv}/messages")).json()
        exported = next(c for c in doc["conversations"] if c["id"] == conv)["messages"]
        assert [m["body"] for m in shown] == [m["body"] for m in exported]
    text = json.dumps(doc, ensure_ascii=False)
    for needle in (NAME, EMAIL, EXTERNAL, PHONE_STORED, PAGE, NOTE, *TEXTS, "Ribe", "vip"):
        assert needle in text, needle
    assert len(doc["page_views"]) == 1 and len(doc["cobrowse_audit"]) == 1
    originals = [n for n in z.namelist() if n.startswith("email/")]
    assert len(originals) == 1 and IP.encode() in z.read(originals[0])
    assert_error_free = await scenario.ben.http.get(f"/api/contacts/{cid}/gdpr-export")
    assert assert_error_free.status_code == 403  # admins only

    before = await every_value(server)
    for needle in NEEDLES:
        assert any(needle.lower() in t for _, t in before), needle

    r = await scenario.anna.post(f"/api/contacts/{cid}/erase")
    assert r.status_code == 200, r.text
    assert r.json()["conversations"] == 2

    after = await every_value(server)
    for needle in NEEDLES:
        hits = [table for table, t in after if needle.lower() in t]
        assert not hits, (needle, hits)
    assert any("a message that stays" in t for _, t in after)
    assert any("other@example.dk" in t for _, t in after)
    # the conversations stay as anonymous shells, their messages anonymised
    for conv in convs:
        msgs = (await scenario.anna.http.get(f"/api/conversations/{conv}/messages")).json()
        assert msgs and {m["body"] for m in msgs} == {"[erased]"}
    assert (await scenario.anna.http.get(f"/api/contacts/{cid}")).status_code == 404
    async with server.rt.db.read() as s:
        audit = [(a.action, a.target) for a in (await s.execute(select(AuditEntry))).scalars()]
    assert ("contact.gdpr_export", f"contact:{cid}") in audit
    assert ("contact.erase", f"contact:{cid}") in audit


async def test_erase_can_remove_messages(server: InProcessServer, scenario: Scenario) -> None:
    site, cid, convs = await make_person(server, scenario)
    r = await scenario.anna.http.put(
        f"/api/sites/{site}/privacy",
        json={"message_erasure": "remove"},
        headers={"X-CSRF-Token": scenario.anna.csrf},
    )
    assert r.status_code == 200, r.text
    assert (await scenario.anna.post(f"/api/contacts/{cid}/erase")).status_code == 200
    for conv in convs:
        assert (await scenario.anna.http.get(f"/api/conversations/{conv}/messages")).json() == []
    after = await every_value(server)
    assert not [t for t in after if any(n.lower() in t[1] for n in NEEDLES)]
    assert (await scenario.ben.post(f"/api/contacts/{cid}/erase")).status_code in (403, 404)


async def test_retention_runs_daily_on_the_clock(tmp_path: Path) -> None:
    clock = ManualClock()
    scheduler = ManualScheduler(clock)
    # the radar keeps its own history for a year here: only the site rule deletes
    async with running_scenario(
        tmp_path, clock=clock, scheduler=scheduler, radar_history_days=365
    ) as (server, sc):
        site = int((await sc.anna.http.get("/api/sites")).json()[0]["id"])
        r = await sc.anna.http.put(
            f"/api/sites/{site}/privacy",
            json={"page_view_days": 30, "conversation_days": 90},
            headers={"X-CSRF-Token": sc.anna.csrf},
        )
        assert r.status_code == 200, r.text
        v = await sc.visitor()
        conv = await start_conversation(v, "an old question")
        await page_views(sc, server, v, PAGE)

        async def day(days: int) -> None:
            clock.advance(timedelta(days=days - 1).total_seconds())
            scheduler.advance(86_400)  # the daily timer is due: one run
            await server.app.state.retention.idle()

        async def pages() -> list[Any]:  # the agent's login would expire over these months
            async with server.rt.db.read() as s:
                return list((await s.execute(select(PageView))).scalars())

        async def conversation() -> Conversation | None:
            async with server.rt.db.read() as s:
                return await s.get(Conversation, conv)

        assert len(await pages()) == 1
        await day(29)
        assert len(await pages()) == 1
        await day(2)  # day 31
        assert await pages() == []
        # conversations go 90 days after their last change (timers may have closed it since)
        found = await conversation()
        assert found is not None
        idle = (clock.now() - found.updated_at).days
        await day(89 - idle)
        assert await conversation() is not None
        await day(2)
        assert await conversation() is None
        async with server.rt.db.read() as s:
            runs = [a.after or {} for a in (await s.execute(select(AuditEntry))).scalars()]
        assert {"page_views": 1, "visits": 1, "conversations": 0} in runs
        assert any(r.get("conversations") == 1 for r in runs)


RATING_COMMENT = "Jytte says: the courier was rude"


async def test_erase_reaches_what_other_features_kept(
    server: InProcessServer, scenario: Scenario
) -> None:
    """Webhook delivery bodies (the log keeps them), a callback with her number, a rating
    comment: erasing her leaves none of them; another person's deliveries stay."""
    sub = {
        "url": "http://127.0.0.1:9/hook",
        "event_types": ["message.created", "conversation.opened"],
        "name": "CRM",
        "allow_private": True,
    }
    r = await scenario.anna.post("/api/webhooks", json=sub)
    assert r.status_code == 201, r.text
    site, cid, convs = await make_person(server, scenario)
    other = await identified(scenario, "cust-1", name="Other Person", email="other@example.dk")
    await start_conversation(other, "a message that stays")
    now = server.rt.clock.now()
    async with server.rt.db.write() as s:
        jytte = await s.get(Conversation, convs[0])
        assert jytte is not None
        s.add(
            Callback(
                site_id=site, conversation_id=convs[0], visitor_id=jytte.visitor_id,
                phone=PHONE_STORED, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        s.add(
            Rating(
                conversation_id=convs[0], site_id=site, score=2, comment=RATING_COMMENT,
                created_at=now,
            )
        )  # fmt: skip
    before = await every_value(server)
    assert any(TEXTS[0].lower() in t for table, t in before if table == "webhook_deliveries")
    assert any(RATING_COMMENT.lower() in t for _, t in before)

    r = await scenario.anna.post(f"/api/contacts/{cid}/erase")
    assert r.status_code == 200, r.text
    after = await every_value(server)
    for needle in (*NEEDLES, RATING_COMMENT):
        hits = [table for table, t in after if needle.lower() in t]
        assert not hits, (needle, hits)
    assert any("a message that stays" in t for table, t in after if table == "webhook_deliveries")
    async with server.rt.db.read() as s:
        assert (await s.execute(select(Rating.score))).scalars().all() == [2]  # kept, no comment
