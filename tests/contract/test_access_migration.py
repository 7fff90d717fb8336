"""Upgrading to 0011_access changes nothing anyone sees: every agent serves every site that
existed before; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tresen.storage.migrate import upgrade


async def test_existing_agents_get_every_existing_site(database_url: str) -> None:
    await asyncio.to_thread(upgrade, database_url, "0009_reports")
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as conn:
            for i in (1, 2):
                await conn.execute(
                    text(
                        "INSERT INTO sites (id, name, widget_key, allowed_origins, identity_secret,"
                        " created_at, radar_policy) VALUES (:i, :n, :k, '[]', 's',"
                        " CURRENT_TIMESTAMP, '{}')"
                    ),
                    {"i": i, "n": f"site {i}", "k": f"key{i}"},
                )
            for i, role in ((1, "admin"), (2, "agent"), (3, "supervisor")):
                await conn.execute(
                    text(
                        "INSERT INTO agents (id, username, display_name, password_hash, role,"
                        " skills, skill_levels, departments, max_chats, status, is_active,"
                        " takes_email, created_at) VALUES (:i, :u, :u, 'x', :r, '[]', '{}', '[]',"
                        " 4, 'offline', true, true, CURRENT_TIMESTAMP)"
                    ),
                    {"i": i, "u": f"agent{i}", "r": role},
                )
        await asyncio.to_thread(upgrade, database_url, "head")
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT agent_id, site_id FROM agent_sites"))).all()
    finally:
        await engine.dispose()
    assert sorted(tuple(r) for r in rows) == [(a, s) for a in (1, 2, 3) for s in (1, 2)]
