"""Holdout and goals over real sockets: the control group is not invited and is recorded as
held out (sticky, also after a restart); purchases are attributed to the visit; the rule's
figures compare invited and held-out visitors."""

from __future__ import annotations

from typing import Any

from tests.support.actors import next_frame
from tests.support.browsing import Tab
from tests.support.radar_world import World, settled

from tresen.radar.holdout import held_out

RULE = {
    "name": "Help on any shop page, half held out",
    "priority": 10,
    "when": {"url": {"glob": "/shop/*"}},
    "action": {"type": "message", "text": {"en": "Use WINTER15 for 15 % off."}},
    "control": 0.5,
    "goal": {"event": "purchase"},
}


async def buy(tab: Tab, value: float) -> None:
    await tab.send(
        {"type": "track", "kind": "event", "name": "purchase", "props": {"value": value}}
    )


async def test_held_out_visitors_are_not_invited_and_the_figures_compare_groups(
    world: World,
) -> None:
    rule_id = await world.add_rule(RULE)
    visitors = [await world.sc.visitor() for _ in range(12)]
    control = [v for v in visitors if held_out(rule_id, v.id, 0.5)]
    invited = [v for v in visitors if v not in control]
    assert control and invited  # 12 visitors at 50 %: both groups (fixed by the ids)
    tabs: dict[int, Tab] = {}
    for v in visitors:
        tabs[v.id] = tab = Tab(v)
        await tab.open("/shop/lamps")
        await settled(tab, world)
        if v in invited:
            await next_frame(tab.ws, "offer")
    # Every invited visitor buys for 100; one held-out visitor buys for 40.
    for v in invited:
        await buy(tabs[v.id], 100)
    await buy(tabs[control[0].id], 40)
    for v in visitors:  # sticky: the next page does not invite a held-out visitor either
        await tabs[v.id].open("/shop/sofas")
        await settled(tabs[v.id], world)
    offers = await world.offers()
    held = [o for o in offers if o.outcome == "held_out"]
    assert sorted(o.visitor_id for o in held) == sorted(v.id for v in control)  # once each
    assert sorted(o.visitor_id for o in offers if o.outcome != "held_out") == sorted(
        v.id for v in invited
    )
    for v in control:
        live = await world.live(v.id)
        assert live is not None and live["offers_today"] == 0
        assert [o["outcome"] for o in live["offers"]] == ["held_out"]
    await world.srv.rt.radar.flush()
    f: dict[str, Any] = (await world.sc.anna.http.get(f"/api/radar/rules/{rule_id}/figures")).json()
    n_inv, n_ctl = len(invited), len(control)
    assert (f["matched"], f["shown"], f["held_out"]) == (12, n_inv, n_ctl)
    assert f["invited_group"]["rate"] == 1.0 and f["invited_group"]["value_per_visitor"] == 100
    assert f["held_out_group"]["converted"] == 1
    assert f["held_out_group"]["value_per_visitor"] == 40 / n_ctl
    assert f["lift"]["difference"] == 1.0 - 1 / n_ctl
    for tab in tabs.values():
        await tab.close()
    # After a restart the assignment holds (it is a hash of rule and visitor).
    for v in control[:1]:
        await world.closed(tabs[v.id])
    await world.restart()
    tab = tabs[control[0].id]
    world.advance(3600)
    await tab.open("/shop/chairs")
    await settled(tab, world)
    assert (await world.live(control[0].id))["invited"] is False  # type: ignore[index]
    await tab.close()
