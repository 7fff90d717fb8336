"""A visit moves between two nodes sharing PostgreSQL and Redis: node B picks up what node A
wrote through (pages, the "no thanks"), and the live list on B shows the whole journey."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from tests.support.actors import Agent, make_scenario, next_frame
from tests.support.browsing import Tab
from tests.support.server import InProcessServer, test_settings
from tests.support.services import RedisServer

from tresen.storage.migrate import upgrade_async

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
RULE = {
    "name": "Help on any shop page",
    "priority": 10,
    "when": {"url": {"glob": "/shop/*"}},
    "action": {"type": "invite", "text": {"en": "Can I help?"}},
}


async def until_away(node: InProcessServer, visitor_id: int) -> None:
    for _ in range(500):
        if node.rt.radar.away(visitor_id):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("node still holds the visitor's tab")


async def test_the_visit_and_its_no_thanks_move_to_the_other_node(
    pg_url: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    await upgrade_async(pg_url)
    nodes = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        conf = test_settings(tmp_path / name, pg_url, redis_url=redis_server.url, node_name=name)
        nodes.append(InProcessServer(conf))
    a, b = nodes
    await a.start()
    await b.start()
    sc = await make_scenario(a)
    anna_b = await Agent.login(b.url, "anna")
    try:
        r = await sc.anna.post("/api/radar/rules", json={"rule": RULE})
        assert r.status_code == 201, r.text
        visitor = await sc.visitor()
        tab = Tab(visitor)
        tab.visitor.base_url = a.url  # the first pages are served by node A
        await tab.open("/shop/lamps")
        offer = await next_frame(tab.ws, "offer")
        await tab.reply(offer["offer_id"], "dismissed")
        await tab.handled()
        await tab.open("/shop/sofas")
        await tab.handled()
        await tab.close()
        await until_away(a, visitor.id)
        tab.visitor.base_url = b.url  # node A's socket is gone; the next page lands on B
        await tab.open("/shop/chairs")
        await tab.handled()
        rows = (await anna_b.http.get("/api/radar/visitors")).json()
        me = next(v for v in rows if v["id"] == visitor.id)
        assert me["pages_viewed"] == 3
        assert [p["url"].rsplit("/", 1)[1] for p in me["pages"]] == ["lamps", "sofas", "chairs"]
        assert me["invited"] is False and me["offers_today"] == 1
        assert [o["outcome"] for o in me["offers"]] == ["dismissed"]
        await tab.close()
    finally:
        await anna_b.close()
        await sc.close()
        await b.stop()
        await a.stop()
