"""A two-site test world: site 1 ("Shop", served by ben), site 2 ("Other", served by cora);
anna is an admin and sees both. Everything is set up through the HTTP API, as an admin would."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tests.support.actors import PASSWORD, Agent, Scenario, Visitor, next_frame, raw_socket

OTHER_ORIGIN = "https://other.example"


@dataclass
class TwoSites:
    sc: Scenario
    site1: int
    site2: int
    site2_key: str
    cora: Agent

    async def visitor(self, site: int, **body: Any) -> Visitor:
        if site == self.site1:
            return await self.sc.visitor(**body)
        return await Visitor.arrive(self.sc.base_url, self.site2_key, OTHER_ORIGIN, **body)

    async def close(self) -> None:
        await self.cora.close()


async def two_sites(sc: Scenario) -> TwoSites:
    sites = (await sc.anna.http.get("/api/sites")).json()
    site1 = sites[0]["id"]
    r = await sc.anna.post("/api/sites", json={"name": "Other", "allowed_origins": [OTHER_ORIGIN]})
    assert r.status_code == 201, r.text
    site2, key2 = r.json()["id"], r.json()["widget_key"]
    r = await sc.anna.post(
        "/api/agents",
        json={
            "username": "cora",
            "password": PASSWORD,
            "display_name": "Cora",
            "site_ids": [site2],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["site_ids"] == [site2]
    cora = await Agent.login(sc.base_url, "cora")
    return TwoSites(sc, site1, site2, key2, cora)


async def chat(visitor: Visitor, body: str = "Hallo") -> tuple[Any, int]:
    """The visitor's socket (left open) and the conversation it opened."""
    ws = await raw_socket(visitor.ws_url(), origin=visitor.origin)
    await next_frame(ws, "welcome")
    await ws.send(json.dumps({"type": "send", "client_msg_id": "m1", "body": body}))
    ack = await next_frame(ws, "ack")
    return ws, int(ack["conversation_id"])
