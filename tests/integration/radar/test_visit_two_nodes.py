"""One visitor, two tabs, each served by a different node (two ``tresen serve`` processes on
PostgreSQL and Redis): one visit. The node that took the visit first holds it; the other relays
its tab to it. One row with two tabs in the live list, the pages of both tabs counted once, one
invitation shown in the focused tab, "no thanks" kept wherever the next page lands."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.actors import Agent, Visitor, next_frame
from tests.support.browsing import Tab
from tests.support.cluster import Node, prepare_database
from tests.support.services import RedisServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
RULE = {
    "name": "Third page",
    "priority": 10,
    "when": {"pages_viewed": {"gte": 3}},
    "action": {"type": "invite", "text": {"en": "Can I help?"}},
}


@pytest.fixture
def nodes() -> Iterator[list[Node]]:
    started: list[Node] = []
    yield started
    for node in started:
        node.stop()


@pytest.fixture
async def two(
    pg_url: str, redis_server: RedisServer, tmp_path: Path, nodes: list[Node]
) -> AsyncIterator[tuple[Node, Node, str]]:
    site_key = await prepare_database(pg_url, tmp_path)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        nodes.append(Node(name, tmp_path / name, pg_url, redis_url=redis_server.url))
    for node in nodes:
        await node.astart()
    yield nodes[0], nodes[1], site_key


async def rows(agents: list[Agent], visitor_id: int) -> list[dict[str, Any]]:
    """The visitor's rows in every node's live list (one each: the holder's own, and the
    others' replica of it, ``radar.census``)."""
    found = []
    for agent in agents:
        r = await agent.http.get("/api/radar/visitors")
        assert r.status_code == 200, r.text
        mine = [v for v in r.json() if v["id"] == visitor_id]
        assert len(mine) <= 1, mine
        found += mine
    return found


async def settled(agents: list[Agent], visitor_id: int, **want: Any) -> dict[str, Any]:
    """The visitor's row, the same on every node, once the node holding it has handled what
    was sent (and the others heard of it)."""
    seen: list[dict[str, Any]] = []
    for _ in range(600):
        seen = await rows(agents, visitor_id)
        if len(seen) == len(agents) and all(
            all(row.get(k) == v for k, v in want.items()) for row in seen
        ):
            return seen[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"wanted a row with {want} on each node, the live lists show {seen}")


async def test_two_tabs_on_two_nodes_are_one_visit(two: tuple[Node, Node, str]) -> None:
    a, b, site_key = two
    anna_a, anna_b = await Agent.login(a.url, "anna"), await Agent.login(b.url, "anna")
    agents = [anna_a, anna_b]
    tabs: list[Tab] = []
    try:
        r = await anna_a.post("/api/radar/rules", json={"rule": RULE})
        assert r.status_code == 201, r.text
        visitor = await Visitor.arrive(a.url, site_key)
        one = Tab(visitor, "tab-one")  # served by node A
        two_ = Tab(dataclasses.replace(visitor, base_url=b.url), "tab-two")  # by node B
        tabs += [one, two_]
        await one.open("/shop/lamps", focused=False)
        await one.handled()
        await settled(agents, visitor.id, pages_viewed=1)
        await two_.open("/shop/sofas", focused=True)
        await two_.handled()
        row = await settled(agents, visitor.id, pages_viewed=2, tabs=2)
        assert row["invited"] is False and row["focused"] is True

        await one.open("/shop/chairs", focused=False)  # the third page: in the unfocused tab
        offer = await next_frame(two_.ws, "offer")  # node B's socket: the focused tab
        assert offer["tab"] == "tab-two" and offer["text"] == "Can I help?"
        shown = await next_frame(one.ws, "offer")  # the other tab hears of it, not for it
        assert shown["offer_id"] == offer["offer_id"] and shown["tab"] == "tab-two"
        row = await settled(agents, visitor.id, pages_viewed=3, tabs=2, invited=True)
        assert row["offers_today"] == 1
        assert [p["url"].rsplit("/", 1)[1] for p in row["pages"]] == ["lamps", "sofas", "chairs"]

        await two_.reply(offer["offer_id"], "dismissed")  # "no thanks" on node B
        await two_.handled()
        row = await settled(agents, visitor.id, invited=False)
        assert [o["outcome"] for o in row["offers"]] == ["dismissed"]

        for tab, page in ((two_, "/shop/beds"), (one, "/shop/rugs"), (two_, "/shop/desks")):
            await tab.open(page, focused=True)
            await tab.handled()
        row = await settled(agents, visitor.id, pages_viewed=6, tabs=2)
        assert row["invited"] is False and row["offers_today"] == 1  # no thanks holds

        for tab in tabs:  # both tabs close: the visit is written through and let go
            await tab.close()
        fresh = Tab(dataclasses.replace(visitor, base_url=b.url), "tab-three")
        tabs.append(fresh)
        await fresh.open("/shop/tables")  # a new tab later, on node B
        await fresh.handled()
        row = await settled(agents, visitor.id, pages_viewed=7, tabs=1)
        assert row["invited"] is False and row["offers_today"] == 1
        assert [o["outcome"] for o in row["offers"]] == ["dismissed"]
    finally:
        for tab in tabs:
            await tab.close()
        await anna_a.close()
        await anna_b.close()


async def test_a_node_that_stops_hands_the_visit_to_the_node_relaying_its_tab(
    two: tuple[Node, Node, str],
) -> None:
    a, b, site_key = two
    anna_b = await Agent.login(b.url, "anna")
    tabs: list[Tab] = []
    try:
        visitor = await Visitor.arrive(a.url, site_key)
        one = Tab(visitor, "tab-one")  # node A takes the visit
        two_ = Tab(dataclasses.replace(visitor, base_url=b.url), "tab-two")  # B relays to A
        tabs += [one, two_]
        await one.open("/shop/lamps", focused=False)
        await one.handled()
        await two_.open("/shop/sofas", focused=True)
        await two_.handled()
        # B keeps no copy of its own: it lists its replica of A's row
        await settled([anna_b], visitor.id, pages_viewed=2, tabs=2)
        await asyncio.to_thread(a.stop)  # A writes the visit through and lets go: B takes it
        two_.view = "next-view"  # the same socket on B, the next page (as a single-page app)
        await two_.page("/shop/chairs")
        await two_.handled()
        row = await settled([anna_b], visitor.id, pages_viewed=3, tabs=1)
        assert [p["url"].rsplit("/", 1)[1] for p in row["pages"]] == ["lamps", "sofas", "chairs"]
    finally:
        for tab in tabs:
            await tab.close()
        await anna_b.close()
