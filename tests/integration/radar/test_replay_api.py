"""Replay of a draft rule over the visits stored by real sockets, with the agents'
availability as it was logged."""

from __future__ import annotations

from tests.support.browsing import Tab
from tests.support.radar_world import World

DRAFT = {
    "name": "draft: a minute on a product, Sales free",
    "when": {
        "all": [
            {"url": {"glob": "/shop/products/*"}},
            {"time_on_page": {"gte": 60}},
            {"agent_free": {"skill": "Sales"}},
        ]
    },
    "action": {"type": "invite", "skill": "Sales", "text": {"en": "Can I help?"}},
}


async def test_replay_counts_what_the_draft_would_have_done(world: World) -> None:
    r = await world.sc.anna.patch(f"/api/agents/{world.sc.anna.id}", json={"status": "online"})
    assert r.status_code == 200
    await world.srv.rt.events.drain()
    await world.srv.rt.radar.refresh_capacity()  # Sales has free slots from now on (logged)
    start = world.clock.now().timestamp()
    lingers, hurries = await world.sc.visitor(), await world.sc.visitor()
    a, b = Tab(lingers), Tab(hurries)
    await a.open("/shop/products/lamp")
    await b.open("/shop/products/kettle")
    await a.handled()
    await b.handled()
    world.advance(30)
    await b.open("/")  # 30 s on the product only
    await b.handled()
    world.advance(40)
    await a.open("/cart")  # 70 s on the product
    await a.handled()
    for tab in (a, b):
        await world.closed(tab)
    await world.srv.rt.radar.flush()
    r = await world.sc.anna.post("/api/radar/rules/replay", json={"rule": DRAFT, "days": 1})
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["visits"] == 2 and result["matched_visitors"] == 1
    assert result["let_through"] == 1
    [match] = result["matches"]
    assert match["visitor_id"] == lingers.id and match["at"] == start + 60
    bad = await world.sc.anna.post(
        "/api/radar/rules/replay", json={"rule": {**DRAFT, "when": {"pages": 1}}}
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_rule"
    denied = await world.sc.ben.post("/api/radar/rules/replay", json={"rule": DRAFT})
    assert denied.status_code == 403


FORM_DRAFT = {
    "name": "draft: three minutes on the contract form",
    "when": {"form_dwell": {"form": "contract", "gte": 180}},
    "action": {"type": "message", "text": {"en": "Questions about the contract?"}},
}


async def test_replay_adds_up_form_dwell_from_the_stored_journey(world: World) -> None:
    start = world.clock.now().timestamp()
    slow, quick = await world.sc.visitor(), await world.sc.visitor()
    a, b = Tab(slow), Tab(quick)
    await a.open("/contract")
    await b.open("/contract")
    for tab in (a, b):
        await tab.send({"type": "track", "kind": "form", "form": "contract"})
        await tab.handled()
    world.advance(100)
    await a.send({"type": "track", "kind": "form", "form": None})  # a break of 50 s
    await b.open("/contract/next")  # 100 s in the form, then a page load ends it
    for tab in (a, b):
        await tab.handled()
    world.advance(50)
    await a.send({"type": "track", "kind": "form", "form": "contract"})
    await a.handled()
    world.advance(120)  # 220 s in the form: 180 s were reached at 100 + 50 + 80
    await a.open("/thanks")
    await a.handled()
    for tab in (a, b):
        await world.closed(tab)
    await world.srv.rt.radar.flush()
    r = await world.sc.anna.post("/api/radar/rules/replay", json={"rule": FORM_DRAFT, "days": 1})
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["visits"] == 2 and result["not_evaluated"] == []
    assert result["matches"] == [
        {"visitor_id": slow.id, "visit_id": result["matches"][0]["visit_id"], "at": start + 230}
    ]
