"""Visits that span pages, over real sockets with manual time: pages in order with their focused
time, tabs as one row, restraint that holds across page loads and a server restart."""

from __future__ import annotations

from sqlalchemy import func, select
from tests.support.actors import next_frame
from tests.support.browsing import Tab
from tests.support.radar_world import World, settled

from tresen.storage.models import Visit

ANY_SHOP_PAGE = {
    "name": "Help on any shop page",
    "priority": 10,
    "when": {"url": {"glob": "/shop/*"}},
    "action": {"type": "invite", "text": {"en": "Can I help?"}},
}
THIRD_PAGE = {
    "name": "Three pages in",
    "priority": 10,
    "when": {"pages_viewed": {"gte": 3}},
    "action": {"type": "invite", "text": {"en": "Found what you need?"}},
}


async def test_five_pages_make_one_visit_with_its_pages_and_summed_time(world: World) -> None:
    visitor = await world.sc.visitor()
    tab = Tab(visitor)
    for i, path in enumerate(("/", "/shop/lamps", "/shop/products/nord-lamp", "/cart", "/help")):
        await tab.open(path)  # a page load: a new socket in the same tab
        await tab.handled()
        world.advance(10 + i)  # 10, 11, 12, 13, 14 s on each page
    live = await world.live(visitor.id)
    assert live is not None
    assert live["pages_viewed"] == 5 and live["tabs"] == 1
    assert [p["url"].removeprefix("https://shop.example") for p in live["pages"]] == [
        "/",
        "/shop/lamps",
        "/shop/products/nord-lamp",
        "/cart",
        "/help",
    ]
    assert [round(p["seconds"]) for p in live["pages"]] == [10, 11, 12, 13, 14]
    assert live["time_on_site"] == 60.0
    assert live["entry_url"] == "https://shop.example/"
    # A reconnect that reports the same page load again is not a new page view.
    await tab.page("/help")
    await tab.handled()
    assert (await world.live(visitor.id))["pages_viewed"] == 5  # type: ignore[index]
    await tab.close()
    await world.srv.rt.radar.flush()
    async with world.srv.rt.db.read() as s:
        visits = list((await s.execute(select(Visit))).scalars())
    assert len(visits) == 1
    assert visits[0].page_count == 5 and visits[0].focused_seconds == 60.0


async def test_three_tabs_are_one_row_with_one_invitation_in_the_focused_tab(
    world: World,
) -> None:
    await world.add_rule(ANY_SHOP_PAGE)
    visitor = await world.sc.visitor()
    tabs = [Tab(visitor, f"tab{i}") for i in range(3)]
    await tabs[0].open("/", focused=False)
    await tabs[1].open("/about", focused=False)
    await tabs[2].open("/contact", focused=True)
    await tabs[0].page("/shop/lamps", focused=False)  # not reported as a new page load
    for tab in tabs:
        await tab.handled()
    live = await world.live(visitor.id)
    assert live is not None and live["tabs"] == 3 and live["pages_viewed"] == 3
    await tabs[1].open("/shop/lamps", focused=False)  # the rule holds now; tab 2 has focus
    await settled(tabs[1], world)
    offers = [await next_frame(t.ws, "offer") for t in tabs]
    assert {o["offer_id"] for o in offers} == {offers[0]["offer_id"]}  # one invitation ...
    assert offers[0]["tab"] == "tab2"  # ... shown only by the widget in the focused tab
    await tabs[0].open("/shop/sofas", focused=True)
    await settled(tabs[0], world)
    assert len(await world.offers()) == 1  # none more while it is unanswered
    rows = [v for v in (await world.sc.anna.http.get("/api/radar/visitors")).json()]
    assert [v["id"] for v in rows].count(visitor.id) == 1
    for tab in tabs:
        await tab.close()


async def test_no_thanks_holds_on_the_next_pages_and_after_a_restart(world: World) -> None:
    await world.add_rule(ANY_SHOP_PAGE)
    visitor = await world.sc.visitor()
    tab = Tab(visitor)
    await tab.open("/shop/lamps")
    offer = await next_frame(tab.ws, "offer")
    await tab.reply(offer["offer_id"], "dismissed")
    await tab.handled()
    for path in ("/shop/sofas", "/shop/chairs", "/shop/tables"):  # pages 2-4
        world.advance(60)
        await tab.open(path)
        await settled(tab, world)
        assert (await world.live(visitor.id))["invited"] is False  # type: ignore[index]
    await world.closed(tab)
    await world.restart()
    world.advance(600)  # within the visit's 30 minutes
    await tab.reconnect("/shop/tables")  # the open page's socket comes back: no new page
    await settled(tab, world)
    assert (await world.live(visitor.id))["pages_viewed"] == 4  # type: ignore[index]
    await tab.open("/shop/beds")
    await settled(tab, world)
    live = await world.live(visitor.id)
    assert live is not None and live["invited"] is False
    assert live["pages_viewed"] == 5  # the same visit, picked up from the database
    assert [o.outcome for o in await world.offers()] == ["dismissed"]
    world.advance(24 * 3600)  # "no thanks" holds 24 hours; then a new page may bring one
    await tab.open("/shop/lamps")
    await next_frame(tab.ws, "offer")
    await tab.close()


async def test_no_invitation_while_a_chat_is_open_even_after_a_restart(world: World) -> None:
    await world.add_rule(ANY_SHOP_PAGE)
    visitor = await world.sc.visitor()
    tab = Tab(visitor)
    await tab.open("/")
    await tab.send({"type": "send", "client_msg_id": "q1", "body": "Hallo?"})  # queued
    conv = (await next_frame(tab.ws, "conversation"))["conversation"]
    await world.srv.rt.events.drain()
    await world.closed(tab)
    await world.restart()
    await tab.open("/shop/lamps")
    await settled(tab, world)
    live = await world.live(visitor.id)
    assert live is not None and live["chatting"] is True and live["invited"] is False
    r = await world.sc.anna.patch(f"/api/conversations/{conv['id']}", json={"status": "resolved"})
    assert r.status_code == 200
    await world.srv.rt.events.drain()
    world.advance(3600)
    await tab.open("/shop/sofas")
    await settled(tab, world)
    assert (await world.live(visitor.id))["invited"] is False  # type: ignore[index]
    await world.closed(tab)
    await world.restart()
    world.advance(3 * 3600 + 1)  # 4 h after the chat ended (restarted meanwhile)
    await tab.open("/shop/chairs")
    await next_frame(tab.ws, "offer")
    await tab.close()


async def test_at_most_three_a_day_across_visits_and_one_per_page_view(world: World) -> None:
    await world.add_rule(ANY_SHOP_PAGE)
    visitor = await world.sc.visitor()
    tab = Tab(visitor)
    for i in range(3):
        await tab.open(f"/shop/p{i}")
        offer = await next_frame(tab.ws, "offer")
        world.advance(121)  # unanswered: ignored after 2 minutes, on the same page
        await settled(tab, world)
        assert (await world.live(visitor.id))["invited"] is False  # type: ignore[index]
        assert len(await world.offers()) == i + 1  # one per page view
        assert offer["offer_id"] == (await world.offers())[-1].id
    await world.closed(tab)
    world.advance(31 * 60)  # the visit ends; a new one starts, the cap holds
    await tab.open("/shop/p4")
    await settled(tab, world)
    live = await world.live(visitor.id)
    assert live is not None and live["pages_viewed"] == 1 and live["invited"] is False
    async with world.srv.rt.db.read() as s:
        assert (await s.execute(select(func.count()).select_from(Visit))).scalar_one() == 2
    world.advance(24 * 3600)
    await tab.open("/shop/p5")
    await next_frame(tab.ws, "offer")
    await tab.close()


async def test_a_rule_on_pages_viewed_fires_on_the_third_page(world: World) -> None:
    await world.add_rule(THIRD_PAGE)
    visitor = await world.sc.visitor()
    tab = Tab(visitor)
    for path in ("/", "/shop"):
        await tab.open(path)
        await settled(tab, world)
        assert (await world.live(visitor.id))["invited"] is False  # type: ignore[index]
    await tab.open("/shop/lamps")
    offer = await next_frame(tab.ws, "offer")
    assert offer["text"] == "Found what you need?"
    await tab.close()


async def test_site_policy_shortens_the_no_thanks_pause(world: World) -> None:
    await world.add_rule(ANY_SHOP_PAGE)
    site = (await world.sc.anna.http.get("/api/sites")).json()[0]
    r = await world.sc.anna.patch(
        f"/api/radar/policy/{site['id']}", json={"dismiss_hours": 1, "max_per_day": 5}
    )
    assert r.status_code == 200, r.text
    assert r.json()["dismiss_hours"] == 1
    await world.srv.rt.events.drain()
    visitor = await world.sc.visitor()
    tab = Tab(visitor)
    await tab.open("/shop/lamps")
    offer = await next_frame(tab.ws, "offer")
    await tab.reply(offer["offer_id"], "dismissed")
    await tab.handled()
    world.advance(30 * 60)
    await tab.open("/shop/sofas")
    await settled(tab, world)
    assert (await world.live(visitor.id))["invited"] is False  # type: ignore[index]
    world.advance(31 * 60)  # the pause ends at its exact second, on the page she is on
    await next_frame(tab.ws, "offer")
    bad = await world.sc.anna.patch(f"/api/radar/policy/{site['id']}", json={"max_per_day": -1})
    assert bad.status_code == 422
    await tab.close()


async def test_a_tab_left_open_and_idle_for_30_minutes_starts_a_new_visit(world: World) -> None:
    visitor = await world.sc.visitor()
    tab = Tab(visitor)
    await tab.open("/")
    await tab.page("/shop", focused=True)  # a second page in the same page load (an SPA)
    await tab.handled()
    tab.view = "spa-2"
    await tab.page("/shop/lamps")
    await tab.handled()
    assert (await world.live(visitor.id))["pages_viewed"] == 2  # type: ignore[index]
    world.advance(30 * 60)  # idle: no page, no event
    tab.view = "spa-3"
    await tab.page("/shop/sofas")
    await tab.handled()
    live = await world.live(visitor.id)
    assert live is not None and live["pages_viewed"] == 1 and live["tabs"] == 1
    assert live["entry_url"] == "https://shop.example/shop/sofas"
    await world.closed(tab)
    async with world.srv.rt.db.read() as s:
        rows = list((await s.execute(select(Visit).order_by(Visit.id))).scalars())
    assert [v.page_count for v in rows] == [2, 1]
