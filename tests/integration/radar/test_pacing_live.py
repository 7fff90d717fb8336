"""Pacing by predicted wait on a running server: with every chat slot of the only Sales agent
taken, one invitation still goes out (an accepted one would be answered within 20 s as chats
end), the next waits; rules' acceptance rates come from the stored offers."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.radar.test_radar_live import PRODUCT_RULE, add_rule, page, set_status
from tests.support.actors import Scenario, next_frame, raw_socket
from tests.support.server import InProcessServer

from tresen.radar.history import acceptance_rates


async def busy_chat(sc: Scenario, srv: InProcessServer, n: int) -> Any:
    v = await sc.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    frame = {"type": "send", "client_msg_id": f"c{n}", "body": "Hallo", "skill": "Sales"}
    await ws.send(json.dumps(frame))
    await next_frame(ws, "ack")
    await srv.rt.routing.run_once()
    return ws


async def no_offer(ws: Any) -> bool:
    try:
        await next_frame(ws, "offer", timeout=0.7)
    except TimeoutError:
        return True
    return False


async def test_full_agent_gets_one_paced_invitation_then_rates_follow_outcomes(
    scenario: Scenario, server: InProcessServer
) -> None:
    assert server.rt.settings.radar_pacing == "predicted_wait"
    rule_id = await add_rule(scenario, PRODUCT_RULE)
    await set_status(scenario, "online")
    chats = [await busy_chat(scenario, server, n) for n in range(4)]  # anna: 4 of 4 slots
    radar = server.rt.radar
    await radar.refresh_capacity()
    assert radar.capacity.free_slots("Sales") == 0
    load = radar.capacity.load("Sales", 0.0)
    assert load is not None and (load.slots, load.busy, load.queued) == (4, 4, 0)

    first, second = [await raw_socket((await scenario.visitor()).ws_url()) for _ in range(2)]
    for ws in (first, second):
        await next_frame(ws, "welcome")
    await page(first, "/shop/product/phone-x")
    offer = await next_frame(first, "offer")  # 0.25 x 240 s / 4 slots = 15 s <= 20 s
    await page(second, "/shop/product/phone-x")
    assert await no_offer(second)  # 0.5 x 60 s = 30 s: waits

    await first.send(
        json.dumps({"type": "offer_reply", "offer_id": offer["offer_id"], "outcome": "dismissed"})
    )
    await next_frame(second, "offer")  # the declined one's weight went back: the next is asked
    assert await acceptance_rates(server.rt, 14) == {rule_id: (0 + 1) / (1 + 4)}
    for ws in [*chats, first, second]:
        await ws.close()
