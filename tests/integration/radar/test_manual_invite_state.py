"""A manual invitation, once accepted, marks the visitor as chatting; the rule test says so."""

from __future__ import annotations

import asyncio
import json

from tests.support.actors import Scenario, next_frame, raw_socket

RULE = {
    "name": "Anyone",
    "when": {"url": {"glob": "/*"}},
    "action": {"type": "invite", "text": {"en": "Hi"}},
}


async def test_accepted_manual_invite_blocks_offers_until_the_chat_ends(
    scenario: Scenario,
) -> None:
    visitor = await scenario.visitor()
    ws = await raw_socket(visitor.ws_url())
    await next_frame(ws, "welcome")
    page = {"type": "track", "kind": "page", "url": "https://shop.example/", "title": "Home"}
    await ws.send(json.dumps(page))
    await ws.send(json.dumps({"type": "ping"}))
    await next_frame(ws, "pong")

    probe = {"visitor_id": visitor.id, "rule": RULE}
    r = await scenario.anna.post("/api/radar/rules/test", json=probe)
    assert r.status_code == 200, r.text
    assert r.json()["holds"] is True and r.json()["blocked"] is False

    r = await scenario.anna.post(f"/api/radar/visitors/{visitor.id}/invite", json={"text": "Hej"})
    assert r.status_code == 201, r.text
    offer = await next_frame(ws, "offer")
    reply = {"type": "offer_reply", "offer_id": offer["offer_id"], "outcome": "accepted"}
    await ws.send(json.dumps(reply))
    conv = (await next_frame(ws, "conversation"))["conversation"]
    assert conv["assignee_id"] == scenario.anna.id

    for _ in range(100):  # marked right after the conversation is opened and announced
        live = (await scenario.anna.http.get("/api/radar/visitors")).json()
        if next(v for v in live if v["id"] == visitor.id)["chatting"]:
            break
        await asyncio.sleep(0.02)
    assert next(v for v in live if v["id"] == visitor.id)["chatting"] is True
    r = await scenario.anna.post("/api/radar/rules/test", json=probe)
    assert r.status_code == 200, r.text  # "blocked until the chat ends" is not a JSON number
    assert r.json()["blocked"] is True and r.json()["blocked_until"] is None
    await ws.close()
