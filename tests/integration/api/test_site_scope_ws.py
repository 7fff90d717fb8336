"""Site scoping over WebSocket: an agent's console gets the inbox, radar and co-browse frames of
its own sites only, cannot watch or act on another site's conversations, and routing offers it
only its sites' chats. Admins' consoles get every site's frames."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.api.sites_world import TwoSites, chat, two_sites
from tests.support.actors import Scenario, next_frame, raw_socket, running_scenario


@pytest.fixture
async def world(scenario: Scenario) -> AsyncIterator[TwoSites]:
    w = await two_sites(scenario)
    yield w
    await w.close()


class Console:
    """An agent's socket that records every frame it receives."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, agent: Any) -> Console:
        ws = await raw_socket(await agent.ws_url(), origin=None)
        await next_frame(ws, "welcome")
        await ws.send(json.dumps({"type": "resume", "conversations": {}}))
        return cls(ws)

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.frames.append(json.loads(raw))
        except Exception:
            return

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame))

    async def until(self, predicate: Any, timeout: float = 10) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for f in self.frames:
                if predicate(f):
                    return f
            assert asyncio.get_running_loop().time() < deadline, self.frames
            await asyncio.sleep(0.02)

    def conversation_ids(self) -> set[int]:
        """Every conversation any received frame names."""
        ids = set()
        for f in self.frames:
            conv = f.get("conversation")
            if isinstance(conv, dict):
                ids.add(conv["id"])
            if isinstance(f.get("conversation_id"), int):
                ids.add(f["conversation_id"])
        return ids

    async def close(self) -> None:
        await self.ws.close()
        self._task.cancel()


def _is_conv(conv_id: int) -> Any:
    return lambda f: f["type"] == "conversation" and f["conversation"]["id"] == conv_id


def _is_message(conv_id: int, body: str) -> Any:
    return lambda f: (
        f["type"] == "message" and f["conversation_id"] == conv_id and f["body"] == body
    )


async def test_inbox_frames_reach_only_the_consoles_of_the_site(world: TwoSites) -> None:
    ben, cora, anna = (
        await Console.open(world.sc.ben),
        await Console.open(world.cora),
        await Console.open(world.sc.anna),
    )
    ws2, conv2 = await chat(await world.visitor(world.site2), "for site two")
    ws1, conv1 = await chat(await world.visitor(world.site1), "for site one")
    for ws, conv, body in ((ws2, conv2, "more two"), (ws1, conv1, "more one")):
        frame = {"type": "send", "conversation_id": conv, "client_msg_id": "m2", "body": body}
        await ws.send(json.dumps(frame))
        await next_frame(ws, "ack")
    # Each console got its own site's news (in bus order, so the other site's would be here)
    await cora.until(_is_message(conv2, "more two"))
    await ben.until(_is_message(conv1, "more one"))
    await anna.until(_is_message(conv1, "more one"))
    await anna.until(_is_message(conv2, "more two"))
    await cora.until(_is_conv(conv2))
    await ben.until(_is_conv(conv1))
    assert conv2 not in ben.conversation_ids()
    assert conv1 not in cora.conversation_ids()
    for c in (ben, cora, anna):
        await c.close()
    await ws1.close()
    await ws2.close()


async def test_watch_send_typing_and_cobrowse_on_another_site_are_refused(
    world: TwoSites,
) -> None:
    ws2, conv2 = await chat(await world.visitor(world.site2), "secret of site two")
    ben = await Console.open(world.sc.ben)
    await ben.send(type="watch", conversation_id=conv2, seq=0)
    err = await ben.until(lambda f: f["type"] == "error")
    assert err["code"] == "no_such_conversation"
    await ben.send(type="send", conversation_id=conv2, client_msg_id="b1", body="hi")
    await ben.until(lambda f: f["type"] == "error" and f is not err)
    await ben.send(type="cobrowse_request", conversation_id=conv2)
    await ben.send(type="resume", conversations={str(conv2): 0})
    await ben.send(type="ping")
    await ben.until(lambda f: f["type"] == "pong")
    assert not any(f["type"] == "message" for f in ben.frames)
    assert not any(f["type"] == "cobrowse" for f in ben.frames)
    assert conv2 not in {f["conversation"]["id"] for f in ben.frames if f["type"] == "conversation"}
    r = await world.cora.http.get(f"/api/conversations/{conv2}/messages")
    assert [m["body"] for m in r.json()] == ["secret of site two"]
    await ben.close()
    await ws2.close()


async def test_radar_feed_carries_only_the_sites_visitors(tmp_path: Path) -> None:
    # No grace period: a visitor leaves the live list as soon as its last tab closes.
    async with running_scenario(tmp_path, visit_grace_seconds=0) as (_server, sc):
        world = await two_sites(sc)
        try:
            await _radar_feed(world)
        finally:
            await world.close()


async def _radar_feed(world: TwoSites) -> None:
    ben, anna = await Console.open(world.sc.ben), await Console.open(world.sc.anna)
    for c in (ben, anna):
        await c.send(type="subscribe", view="visitors")
    v1, v2 = await world.visitor(world.site1), await world.visitor(world.site2)
    sockets = []
    for v in (v2, v1):
        ws = await raw_socket(v.ws_url(), origin=v.origin)
        await next_frame(ws, "welcome")
        track = {"type": "track", "kind": "page", "url": "https://shop.example/a", "view": "p1"}
        await ws.send(json.dumps(track))
        sockets.append(ws)

    def shows(visitor_id: int) -> Any:
        return lambda f: f["type"] == "radar" and any(v["id"] == visitor_id for v in f["visitors"])

    await anna.until(shows(v2.id))
    await anna.until(shows(v1.id))
    await ben.until(shows(v1.id))
    ben_seen = {v["id"] for f in ben.frames if f["type"] == "radar" for v in f["visitors"]}
    assert ben_seen == {v1.id}
    for ws in sockets:
        await ws.close()
    await anna.until(lambda f: f["type"] == "radar" and v2.id in f["gone"])
    await ben.until(lambda f: f["type"] == "radar" and v1.id in f["gone"])
    assert not any(f["type"] == "radar" and v2.id in f["gone"] for f in ben.frames)
    await ben.close()
    await anna.close()


async def test_routing_offers_an_agent_only_their_sites_chats(world: TwoSites) -> None:
    sc = world.sc
    r = await sc.ben.patch(f"/api/agents/{sc.ben.id}", json={"status": "online"})
    assert r.status_code == 200
    ws2, conv2 = await chat(await world.visitor(world.site2), "anyone?")

    async def conv(conv_id: int) -> dict[str, Any]:
        return dict((await sc.anna.http.get(f"/api/conversations/{conv_id}")).json())

    # ben is online and free but does not serve site 2: the chat waits (a later chat of
    # his site is his, which shows the passes ran)
    ws1, conv1 = await chat(await world.visitor(world.site1), "hello")
    deadline = asyncio.get_running_loop().time() + 10
    while (await conv(conv1))["assignee_id"] != sc.ben.id:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    assert (await conv(conv2))["assignee_id"] is None
    r = await world.cora.patch(f"/api/agents/{world.cora.id}", json={"status": "online"})
    assert r.status_code == 200
    while (await conv(conv2))["assignee_id"] != world.cora.id:
        assert asyncio.get_running_loop().time() < deadline + 10
        await asyncio.sleep(0.05)
    await ws1.close()
    await ws2.close()


async def test_a_change_of_sites_closes_the_console_to_reconnect(world: TwoSites) -> None:
    cora = await Console.open(world.cora)
    r = await world.sc.anna.patch(
        f"/api/agents/{world.cora.id}", json={"site_ids": [world.site1, world.site2]}
    )
    assert r.status_code == 200
    closed = await asyncio.wait_for(cora.ws.wait_closed(), 10)
    assert closed is None and cora.ws.close_code == 4002
    await cora.close()
    # reconnected, cora follows site 1's inbox as well
    cora = await Console.open(world.cora)
    ws1, conv1 = await chat(await world.visitor(world.site1), "now yours too")
    await cora.until(_is_conv(conv1))
    await cora.close()
    await ws1.close()
