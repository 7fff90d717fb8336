"""The live visitor list and manual invitations do not depend on which node answers (two
``tresen serve`` processes on PostgreSQL and Redis). Each node keeps a replica of the other
holders' rows (their feed, and a census every ``TRESEN_RADAR_CENSUS_SECONDS``, shortened here):
a visitor held on node A is listed on node B, also when B starts later, and leaves B's list
when they go or when A dies; an agent on B tests a rule on and invites a visitor held on A; an
offer nobody answered
yet goes with the visit when its node stops."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.support.actors import Agent, Visitor, next_frame, raw_socket
from tests.support.browsing import Tab
from tests.support.cluster import Node, prepare_database
from tests.support.services import RedisServer

from tresen.storage.db import Database
from tresen.storage.models import RadarOffer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
CENSUS = "0.3"  # seconds: a dead holder's rows go after three of them
SECOND_PAGE = {
    "name": "Second page",
    "priority": 10,
    "when": {"pages_viewed": {"gte": 2}},
    "action": {"type": "invite", "text": {"en": "Can I help?"}},
}


@dataclasses.dataclass
class Cluster:
    pg_url: str
    redis_url: str
    tmp: Path
    site_key: str
    nodes: list[Node]

    async def start(self, name: str) -> Node:
        (self.tmp / name).mkdir()
        node = Node(name, self.tmp / name, self.pg_url, redis_url=self.redis_url)
        node.env["TRESEN_RADAR_CENSUS_SECONDS"] = CENSUS
        node.env["TRESEN_VISIT_GRACE_SECONDS"] = "0.5"  # a closed tab leaves the list soon
        node.env["TRESEN_LOGIN_ATTEMPTS_PER_MINUTE"] = "1000"  # one Redis for every test
        self.nodes.append(node)
        await node.astart()
        return node


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        node.stop()


@pytest.fixture
async def cluster(
    pg_url: str, redis_server: RedisServer, tmp_path: Path, nodes: list[Node]
) -> AsyncIterator[Cluster]:
    site_key = await prepare_database(pg_url, tmp_path)
    yield Cluster(pg_url, redis_server.url, tmp_path, site_key, nodes)


async def row_on(agent: Agent, visitor_id: int) -> dict[str, Any] | None:
    r = await agent.http.get("/api/radar/visitors")
    assert r.status_code == 200, r.text
    found = [v for v in r.json() if v["id"] == visitor_id]
    assert len(found) <= 1, found
    return found[0] if found else None


async def listed(agent: Agent, visitor_id: int, **want: Any) -> dict[str, Any]:
    """The visitor's row in the live list of the agent's node, once it shows ``want``."""
    seen = None
    for _ in range(600):
        seen = await row_on(agent, visitor_id)
        if seen is not None and all(seen.get(k) == v for k, v in want.items()):
            return seen
        await asyncio.sleep(0.05)
    raise AssertionError(f"wanted a row with {want}, the live list shows {seen}")


async def unlisted(agent: Agent, visitor_id: int) -> None:
    for _ in range(600):
        if await row_on(agent, visitor_id) is None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the visitor is still listed")


def on(visitor: Visitor, node: Node) -> Visitor:
    return dataclasses.replace(visitor, base_url=node.url)


async def test_a_visitor_held_on_one_node_is_listed_on_a_node_started_later(
    cluster: Cluster,
) -> None:
    a = await cluster.start("a")
    anna_a = await Agent.login(a.url, "anna")
    visitor = await Visitor.arrive(a.url, cluster.site_key)
    tab = Tab(visitor, "tab-one")
    agents = [anna_a]
    try:
        await tab.open("/shop/lamps")
        await tab.handled()
        await listed(anna_a, visitor.id, pages_viewed=1)
        b = await cluster.start("b")  # it asks the others for a census as it starts
        anna_b = await Agent.login(b.url, "anna")
        agents.append(anna_b)
        row = await listed(anna_b, visitor.id, pages_viewed=1, tabs=1)
        assert row["url"].endswith("/shop/lamps") and row["site_id"] == 1

        await tab.open("/shop/sofas")  # a page load, still on node A: B hears the change
        await tab.handled()
        row = await listed(anna_b, visitor.id, pages_viewed=2)
        assert [p["url"].rsplit("/", 1)[1] for p in row["pages"]] == ["lamps", "sofas"]
        assert (await row_on(anna_a, visitor.id) or {}).get("pages_viewed") == 2

        await tab.close()  # the visitor goes: after the grace period, from every list
        await unlisted(anna_a, visitor.id)
        await unlisted(anna_b, visitor.id)
    finally:
        await tab.close()
        for agent in agents:
            await agent.close()


async def test_the_rows_of_a_holder_that_died_expire_on_the_other_nodes(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a"), await cluster.start("b")
    anna_b = await Agent.login(b.url, "anna")
    console = await raw_socket(await anna_b.ws_url(), origin=b.url)  # same-origin
    visitor = await Visitor.arrive(a.url, cluster.site_key)
    tab = Tab(visitor, "tab-one")
    try:
        await next_frame(console, "welcome")
        await console.send(json.dumps({"type": "subscribe", "view": "visitors"}))
        await tab.open("/shop/lamps")
        await tab.handled()
        await listed(anna_b, visitor.id, pages_viewed=1)
        await a.akill()  # no goodbye: its rows go once no census has come for a while
        await unlisted(anna_b, visitor.id)
        while True:  # B's console with the visitors view open is told as well
            frame = await next_frame(console, "radar")
            if visitor.id in frame["gone"]:
                break
    finally:
        await console.close()
        await anna_b.close()
        tab.ws = None  # its node is gone


async def test_an_agent_on_another_node_invites_a_visitor_and_accepting_opens_a_chat(
    cluster: Cluster,
) -> None:
    a, b = await cluster.start("a"), await cluster.start("b")
    anna_a, anna_b = await Agent.login(a.url, "anna"), await Agent.login(b.url, "anna")
    visitor = await Visitor.arrive(a.url, cluster.site_key)
    one, two = Tab(visitor, "tab-one"), Tab(visitor, "tab-two")  # both on node A
    try:
        await one.open("/shop/lamps", focused=False)
        await two.open("/shop/sofas", focused=True)
        await two.handled()
        await listed(anna_b, visitor.id, tabs=2, focused=True, pages_viewed=2)
        # a rule test asked on B is answered by A, which holds the visit: as A answers it
        third_page = {**SECOND_PAGE, "when": {"pages_viewed": {"gte": 3}}}
        for rule, holds in ((SECOND_PAGE, True), (third_page, False)):
            probe = {"visitor_id": visitor.id, "rule": rule}
            here, there = [
                await x.post("/api/radar/rules/test", json=probe) for x in (anna_a, anna_b)
            ]
            assert here.status_code == there.status_code == 200, (here.text, there.text)
            assert here.json() == there.json() and there.json()["holds"] is holds
        r = await anna_b.post(
            "/api/radar/rules/test", json={"visitor_id": 999999, "rule": SECOND_PAGE}
        )
        assert r.status_code == 404 and r.json()["code"] == "visitor_not_live"

        r = await anna_b.post(f"/api/radar/visitors/{visitor.id}/invite", json={"text": "Hej!"})
        assert r.status_code == 201, r.text
        offer_id = r.json()["offer_id"]
        offer = await next_frame(two.ws, "offer")  # node A's socket of the focused tab
        assert offer["offer_id"] == offer_id and offer["tab"] == "tab-two"
        assert offer["text"] == "Hej!" and offer["agent_name"]
        shown = await next_frame(one.ws, "offer")  # the other tab hears of it, not for it
        assert shown["tab"] == "tab-two"

        await two.reply(offer_id, "accepted")
        conv = (await next_frame(two.ws, "conversation"))["conversation"]
        assert conv["assignee_id"] == anna_b.id
        for agent in (anna_a, anna_b):  # the holder noted it; B's replica shows it too
            row = await listed(agent, visitor.id, chatting=True)
            assert [(o["id"], o["outcome"]) for o in row["offers"]] == [(offer_id, "accepted")]

        r = await anna_b.post("/api/radar/visitors/999999/invite", json={"text": "Hej!"})
        assert r.status_code == 404 and r.json()["code"] == "visitor_not_live"
    finally:
        for tab in (one, two):
            await tab.close()
        await anna_a.close()
        await anna_b.close()


async def test_an_unanswered_offer_goes_on_when_its_node_stops(cluster: Cluster) -> None:
    a, b = await cluster.start("a"), await cluster.start("b")
    anna_b = await Agent.login(b.url, "anna")
    r = await anna_b.post("/api/radar/rules", json={"rule": SECOND_PAGE})
    assert r.status_code == 201, r.text
    rule_id = r.json()["id"]
    visitor = await Visitor.arrive(a.url, cluster.site_key)
    one = Tab(visitor, "tab-one")  # node A takes the visit
    two = Tab(on(visitor, b), "tab-two")  # B relays this tab to A
    try:
        await one.open("/shop/lamps", focused=False)
        await one.handled()
        await listed(anna_b, visitor.id, pages_viewed=1)
        await two.open("/shop/sofas", focused=True)  # the second page: A invites
        offer = await next_frame(two.ws, "offer")
        assert offer["tab"] == "tab-two"
        await listed(anna_b, visitor.id, invited=True, tabs=2)

        await asyncio.to_thread(a.stop)  # writes the visit through; B takes it, offer and all
        row = await listed(anna_b, visitor.id, tabs=1)
        assert row["invited"] is True and row["offers_today"] == 1
        await two.reply(offer["offer_id"], "dismissed")  # answered on the new holder
        await two.handled()
        row = await listed(anna_b, visitor.id, invited=False)
        assert [(o["id"], o["outcome"]) for o in row["offers"]] == [
            (offer["offer_id"], "dismissed")
        ]
        two.view = "next-view"
        await two.page("/shop/chairs")  # "no thanks" holds: no new offer on the next page
        await two.handled()
        row = await listed(anna_b, visitor.id, pages_viewed=3)
        assert row["invited"] is False and row["offers_today"] == 1

        db = Database(cluster.pg_url)
        try:
            async with db.read() as s:
                stored = (
                    await s.execute(
                        select(RadarOffer.id, RadarOffer.outcome).where(
                            RadarOffer.visitor_id == visitor.id
                        )
                    )
                ).all()
        finally:
            await db.dispose()
        assert [tuple(o) for o in stored] == [(offer["offer_id"], "dismissed")]  # counted once
        r = await anna_b.http.get(f"/api/radar/rules/{rule_id}/figures")
        assert r.status_code == 200, r.text
        assert r.json()["shown"] == 1
    finally:
        for tab in (one, two):
            await tab.close()
        await anna_b.close()
