"""Every new visitor gets its contact in the transaction that creates it: on SQLite through
the group commit (``_new_visitor_grouped``), on PostgreSQL through a session; with many browsers
arriving at once, each gets its own visitor, contact and ``visitor`` identity, and the event of
the contact's creation once. A refused origin or an unknown site writes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from tests.integration.contacts.helpers import contact_of
from tests.support.actors import ORIGIN, running_scenario

from tresen.clock import ManualClock
from tresen.events import ContactCreated
from tresen.storage.models import Contact, ContactIdentity, Visitor

ARRIVING = 20


async def test_new_visitors_each_get_their_contact_at_once(
    tmp_path: Path, database_url: str
) -> None:
    async with running_scenario(tmp_path, database_url) as (srv, sc):
        created: list[ContactCreated] = []
        srv.rt.events.on(ContactCreated, do=created.append, mode="now")
        visitors = await asyncio.gather(*(sc.visitor() for _ in range(ARRIVING)))
        ids = [v.id for v in visitors]
        assert len(set(ids)) == ARRIVING
        contacts = [await contact_of(sc, vid) for vid in ids]
        assert len(set(contacts)) == ARRIVING
        await srv.rt.events.drain()
        assert sorted(e.contact_id for e in created) == sorted(contacts)
        assert {e.via for e in created} == {"visitor"}
        async with srv.rt.db.read() as s:
            rows = (
                await s.execute(select(ContactIdentity).where(ContactIdentity.visitor_id.in_(ids)))
            ).scalars()
            by_visitor = {r.visitor_id: r for r in rows}
            fresh = (await s.execute(select(Contact).where(Contact.id.in_(contacts)))).scalars()
            assert all(c.attributes == {} and c.tags == [] and c.name is None for c in fresh)
        for vid, cid in zip(ids, contacts, strict=True):
            ident = by_visitor[vid]
            assert (ident.contact_id, ident.kind, ident.value) == (cid, "visitor", str(vid))
            assert not ident.verified
        r = await sc.anna.http.get(f"/api/contacts/{contacts[0]}")
        assert r.status_code == 200, r.text


async def test_refused_new_visitors_write_nothing(tmp_path: Path, database_url: str) -> None:
    async with running_scenario(tmp_path, database_url) as (srv, sc):

        async def count() -> tuple[Any, Any]:
            async with srv.rt.db.read() as s:
                v = (await s.execute(select(func.count()).select_from(Visitor))).scalar_one()
                c = (await s.execute(select(func.count()).select_from(Contact))).scalar_one()
                return v, c

        before = await count()
        async with httpx.AsyncClient(base_url=sc.base_url) as http:
            r = await http.post(
                "/api/visitor/session",
                json={"site_key": sc.site_key},
                headers={"Origin": "https://evil.example"},
            )
            assert r.status_code == 403 and r.json()["code"] == "bad_origin"
            r = await http.post(
                "/api/visitor/session", json={"site_key": "nope"}, headers={"Origin": ORIGIN}
            )
            assert r.status_code == 404 and r.json()["code"] == "unknown_site"
        assert await count() == before


async def test_returning_visitor_page_loads_write_only_when_something_changed(
    tmp_path: Path, database_url: str
) -> None:
    """A page load of a known visitor within a minute of the last is checked with a read and
    writes nothing; after that, ``last_seen_at`` moves on. The same visitor and contact either
    way, and a new token each time."""
    clock = ManualClock()
    async with running_scenario(tmp_path, database_url, clock=clock) as (srv, sc):
        first = await sc.visitor()
        contact = await contact_of(sc, first.id)

        async def seen() -> Any:
            async with srv.rt.db.read() as s:
                return (await s.get(Visitor, first.id, populate_existing=True)).last_seen_at

        opened = await seen()
        writes: list[int] = []
        write = srv.rt.db.write

        def counting() -> Any:
            writes.append(1)
            return write()

        srv.rt.db.write = counting  # type: ignore[method-assign]
        clock.advance(30)
        again = await sc.visitor(token=first.token)
        assert again.id == first.id and writes == []
        assert await seen() == opened
        clock.advance(31)
        later = await sc.visitor(token=again.token)
        assert later.id == first.id and writes == [1]
        assert await seen() == clock.now() != opened
        assert await contact_of(sc, first.id) == contact
        async with httpx.AsyncClient(base_url=sc.base_url) as http:
            r = await http.post(
                "/api/visitor/session",
                json={"site_key": sc.site_key, "token": later.token},
                headers={"Origin": "https://evil.example"},
            )
            assert r.status_code == 403 and r.json()["code"] == "bad_origin"
