"""Delivery only to those who need it: with 50 agent consoles online, a conversation's messages
reach its visitor, the consoles of the agent who has it and consoles that watch it, and no other
agent's socket; live-visitor updates reach only consoles with the visitors view open."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.support.actors import PASSWORD, Agent, Scenario, raw_socket, running_scenario

from tresen.agents.actions import check_create_agent
from tresen.clock import ManualClock
from tresen.events import MessageCreated
from tresen.scheduler import ManualScheduler

CONSOLES = 50


@dataclass
class Console:
    """One socket, reading everything it is sent in the background."""

    ws: Any
    name: str
    frames: list[dict[str, Any]] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, url: str, name: str, origin: str | None = None) -> Console:
        console = cls(await raw_socket(url, origin=origin), name)
        console.reader = asyncio.create_task(console._read())
        await console.wait(lambda f: f["type"] == "welcome")
        await console.send(type="resume", conversations={})
        return console

    async def _read(self) -> None:
        async for raw in self.ws:
            self.frames.append(json.loads(raw))

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame))

    async def wait(self, pred: Any, timeout: float = 10) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                for f in self.frames:
                    if pred(f):
                        return f
                await asyncio.sleep(0.01)

    def messages(self, conv_id: int) -> list[int]:
        return [
            f["seq"]
            for f in self.frames
            if f["type"] == "message" and f["conversation_id"] == conv_id
        ]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f["type"] == kind]

    async def close(self) -> None:
        await self.ws.close()
        if self.reader is not None:
            await asyncio.gather(self.reader, return_exceptions=True)


@dataclass
class Room:
    sc: Scenario
    srv: Any
    timers: ManualScheduler
    anna: list[Console]  # two consoles of the agent who gets the chat
    ben: Console  # watches it
    others: list[Console]  # everybody else

    @property
    def everyone(self) -> list[Console]:
        return [*self.anna, self.ben, *self.others]


@pytest.fixture
async def room(tmp_path: Path) -> AsyncIterator[Room]:
    clock = ManualClock()
    timers = ManualScheduler(clock)
    async with running_scenario(tmp_path, clock=clock, scheduler=timers) as (srv, sc):
        names = [f"agent{i}" for i in range(8)]
        for name in names:
            await check_create_agent(srv.rt, name, PASSWORD, skills=["Support"])
        agents = [await Agent.login(srv.url, name) for name in names]
        anna = [await Console.open(await sc.anna.ws_url(), f"anna{i}") for i in range(2)]
        ben = await Console.open(await sc.ben.ws_url(), "ben")
        others = []
        for i in range(CONSOLES - 3):
            agent = agents[i % len(agents)]
            others.append(await Console.open(await agent.ws_url(), f"{agent.id}/{i}"))
        room = Room(sc, srv, timers, anna, ben, others)
        yield room
        for console in room.everyone:
            await console.close()
        for agent in agents:
            await agent.close()


async def _visitor(room: Room) -> tuple[Console, int]:
    visitor = await room.sc.visitor()
    console = await Console.open(visitor.ws_url(), "visitor", origin="https://shop.example")
    await console.send(type="send", client_msg_id="v1", body="Hallo, wer hilft mir?")
    ack = await console.wait(lambda f: f["type"] == "ack")
    return console, ack["conversation_id"]


async def _marker(room: Room) -> None:
    """A message of a new, unassigned conversation reaches every console (the inbox). Frames
    published before it have reached every console once it has."""
    visitor = await room.sc.visitor()
    ws = await Console.open(visitor.ws_url(), "marker", origin="https://shop.example")
    await ws.send(type="send", client_msg_id="m1", body="marker")
    conv = (await ws.wait(lambda f: f["type"] == "ack"))["conversation_id"]
    for console in room.everyone:
        await console.wait(lambda f, c=conv: f["type"] == "message" and f["conversation_id"] == c)
    await ws.close()


async def test_messages_reach_the_visitor_the_assigned_agent_and_watchers_only(room: Room) -> None:
    visitor, conv = await _visitor(room)
    # Unassigned: the first message is inbox news for every agent who may take it.
    for console in room.everyone:
        await console.wait(lambda f: f["type"] == "message" and f["conversation_id"] == conv)
    r = await room.sc.anna.patch(
        f"/api/conversations/{conv}", json={"assignee_id": room.sc.anna.id}
    )
    assert r.status_code == 200, r.text
    await room.ben.send(type="watch", conversation_id=conv)
    await _marker(room)  # the watch has been handled before the marker's frames were sent
    before = {c.name: len(c.messages(conv)) for c in room.everyone}

    await visitor.send(type="send", client_msg_id="v2", conversation_id=conv, body="Noch da?")
    await visitor.send(type="typing", conversation_id=conv, is_typing=True)
    anna_ws = room.anna[0]
    await anna_ws.send(
        type="send", client_msg_id="a1", conversation_id=conv, body="note", internal=True
    )
    await anna_ws.send(type="send", client_msg_id="a2", conversation_id=conv, body="Ja, ich!")
    for console in [*room.anna, room.ben]:
        await console.wait(lambda f: f["type"] == "message" and f.get("client_msg_id") == "a2")
    await visitor.wait(lambda f: f["type"] == "message" and f.get("client_msg_id") == "a2")
    await _marker(room)

    for console in [*room.anna, room.ben]:
        assert console.messages(conv)[-3:] == [2, 3, 4]  # in order, the internal note included
        assert any(t["conversation_id"] == conv for t in console.of_type("typing"))
    assert visitor.messages(conv) == [1, 2, 4]  # never the internal note
    for console in room.others:
        assert len(console.messages(conv)) == before[console.name], console.name
        assert not [t for t in console.of_type("typing") if t["conversation_id"] == conv]
    # ... while conversation changes still reach every console's inbox
    assert all(
        any(f["conversation"]["id"] == conv for f in c.of_type("conversation")) for c in room.others
    )

    # Unwatched: ben hears no more of it.
    await room.ben.send(type="unwatch", conversation_id=conv)
    await _marker(room)
    heard = len(room.ben.messages(conv))
    await anna_ws.send(type="send", client_msg_id="a3", conversation_id=conv, body="Gern.")
    await visitor.wait(lambda f: f["type"] == "message" and f.get("client_msg_id") == "a3")
    await _marker(room)
    assert len(room.ben.messages(conv)) == heard
    await visitor.close()


async def test_watch_with_a_position_sends_what_came_after_it(room: Room) -> None:
    visitor, conv = await _visitor(room)
    r = await room.sc.anna.patch(
        f"/api/conversations/{conv}", json={"assignee_id": room.sc.anna.id}
    )
    assert r.status_code == 200
    await visitor.send(type="send", client_msg_id="v2", conversation_id=conv, body="zwei")
    await visitor.send(type="send", client_msg_id="v3", conversation_id=conv, body="drei")
    await room.anna[0].wait(lambda f: f["type"] == "message" and f.get("client_msg_id") == "v3")
    late = room.others[0]
    await late.send(type="watch", conversation_id=conv, seq=1)
    await late.wait(lambda f: f["type"] == "message" and f.get("client_msg_id") == "v3")
    assert late.messages(conv) == [1, 2, 3]  # seq 1 as inbox news, then 2 and 3 from the store
    await visitor.close()


async def test_live_visitor_updates_reach_only_consoles_with_the_view_open(room: Room) -> None:
    watcher = room.others[0]
    await watcher.send(type="subscribe", view="visitors")
    await _marker(room)
    visitor = await room.sc.visitor()
    page = await Console.open(visitor.ws_url(), "page", origin="https://shop.example")
    url = "https://shop.example/shop/cart"
    await page.send(type="track", kind="page", url=url, title="Cart")
    await _marker(room)  # the track frame is handled
    room.timers.advance(0.25)  # the feed's next frame
    batch = await watcher.wait(lambda f: f["type"] == "radar" and f["visitors"])
    assert [v["url"] for v in batch["visitors"] if v["id"] == visitor.id] == [url]
    await _marker(room)
    for console in [*room.anna, room.ben, *room.others[1:]]:
        assert console.of_type("radar") == [], console.name

    await watcher.send(type="unsubscribe", view="visitors")
    await _marker(room)
    seen = len(watcher.of_type("radar"))
    await page.send(type="track", kind="page", url="https://shop.example/", title="Home")
    await _marker(room)
    room.timers.advance(0.25)
    await _marker(room)
    assert len(watcher.of_type("radar")) == seen
    await page.close()


async def test_a_hanging_or_failing_listener_delays_no_ack_and_loses_no_delivery(
    room: Room,
) -> None:
    rt = room.srv.rt
    stuck = asyncio.Event()
    heard: list[int] = []

    async def hang(event: MessageCreated) -> None:
        await stuck.wait()

    def fail(event: MessageCreated) -> None:
        raise RuntimeError("a broken listener")

    both = asyncio.Event()

    async def note(event: MessageCreated) -> None:
        heard.append(event.seq)
        if len(heard) == 2:
            both.set()

    rt.events.on(MessageCreated, do=hang, name="hang")
    rt.events.on(MessageCreated, do=fail, mode="now", name="fail")
    rt.events.on(MessageCreated, do=note, name="note")
    visitor, conv = await _visitor(room)  # acked although "hang" never returns
    await visitor.send(type="send", client_msg_id="v2", conversation_id=conv, body="zwei")
    await visitor.wait(lambda f: f["type"] == "ack" and f["client_msg_id"] == "v2")
    await room.anna[0].wait(lambda f: f["type"] == "message" and f.get("client_msg_id") == "v2")
    async with asyncio.timeout(10):
        await both.wait()  # while "hang" still hangs
    assert heard == [1, 2]

    assert rt.events.stats()["fail"].failed >= 2
    assert rt.events.stats()["hang"].handled == 0
    stuck.set()
    await visitor.close()
