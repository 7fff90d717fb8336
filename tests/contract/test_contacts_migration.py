"""0013_contacts turns every existing visitor into a contact: one per person, merged by
verified external id and by email within a site, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tresen.storage.migrate import upgrade


async def test_visitors_become_contacts(database_url: str) -> None:
    await asyncio.to_thread(upgrade, database_url, "0009_reports")
    engine = create_async_engine(database_url)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    visitors = [
        # id, site, anon, external id, name, email
        (1, 1, "a1", None, None, None),  # anonymous: a contact of its own
        (2, 1, "a2", "u-7", "Ada", "ada@example.com"),  # identified
        (3, 1, "email:x", None, "Ada L.", "ADA@example.com"),  # wrote in by mail
        (4, 1, "a4", None, None, "ada@example.com"),  # left the address in the widget
        (5, 2, "a5", "u-7", "Other Ada", "ada@example.com"),  # another site: another person
        (6, 1, "a6", None, "Bo", "bo@example.com"),
    ]
    try:
        async with engine.begin() as conn:
            for site in (1, 2):
                await conn.execute(
                    text(
                        "INSERT INTO sites (id, name, widget_key, allowed_origins, "
                        "identity_secret, created_at, radar_policy) "
                        "VALUES (:id, 'S', :key, '[]', 'x', :at, '{}')"
                    ),
                    {"id": site, "key": f"k{site}", "at": at},
                )
            for vid, site, anon, ext, name, email in visitors:
                await conn.execute(
                    text(
                        "INSERT INTO visitors (id, site_id, anon_id, external_id, name, email, "
                        "attributes, created_at, last_seen_at) VALUES "
                        "(:id, :site, :anon, :ext, :name, :email, :attrs, :at, :at)"
                    ),
                    {
                        "id": vid, "site": site, "anon": anon, "ext": ext, "name": name,
                        "email": email, "attrs": f'{{"v{vid}": 1}}', "at": at,
                    },
                )  # fmt: skip
        await asyncio.to_thread(upgrade, database_url, "0013_contacts")
        async with engine.connect() as conn:
            owner = dict(
                (
                    await conn.execute(
                        text(
                            "SELECT visitor_id, contact_id FROM contact_identities "
                            "WHERE kind = 'visitor'"
                        )
                    )
                ).all()
            )
            idents = (
                await conn.execute(
                    text("SELECT contact_id, kind, value, verified FROM contact_identities")
                )
            ).all()
            names = dict((await conn.execute(text("SELECT id, name FROM contacts"))).all())
    finally:
        await engine.dispose()
    assert set(owner) == {1, 2, 3, 4, 5, 6}
    ada = owner[2]
    assert owner[3] == owner[4] == ada
    assert len({owner[1], ada, owner[5], owner[6]}) == 4
    assert len(names) == 4
    ada_idents = {(k, v, bool(ver)) for c, k, v, ver in idents if c == ada and k != "visitor"}
    assert ada_idents == {("external_id", "u-7", True), ("email", "ada@example.com", True)}
    bo = {(k, v, bool(ver)) for c, k, v, ver in idents if c == owner[6] and k != "visitor"}
    assert bo == {("email", "bo@example.com", False)}
    assert names[owner[1]] is None and names[owner[6]] == "Bo"
