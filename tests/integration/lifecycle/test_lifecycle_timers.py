"""Re-engagement and timers on the injected clock: the silent mark at exactly the configured
second (not before), the gentle message sent automatically, the chat closed after M minutes of
silence, the waiting highlight (also in the supervisor's overview), and a restart in between."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from tests.support.actors import Scenario, make_scenario, next_frame, raw_socket
from tests.support.server import InProcessServer, test_settings

from tresen.clock import ManualClock
from tresen.scheduler import ManualScheduler
from tresen.storage.migrate import upgrade_async


class World:
    def __init__(self, tmp_path: Path, database_url: str) -> None:
        self.clock = ManualClock()
        self.timers = ManualScheduler(self.clock)
        # Raw test sockets answer no pings: keep them through the simulated minutes.
        self.conf = test_settings(
            tmp_path, database_url, idle_timeout_seconds=86400, heartbeat_seconds=3600
        )
        self.srv: InProcessServer | None = None

    async def start(self) -> None:
        self.timers = ManualScheduler(self.clock)  # a restarted node has fresh timers
        self.srv = InProcessServer(self.conf, clock=self.clock, scheduler=self.timers)
        await self.srv.start()

    async def stop(self) -> None:
        assert self.srv is not None
        await self.srv.stop()

    async def advance(self, seconds: int) -> None:
        assert self.srv is not None
        self.timers.advance(seconds)
        await self.srv.app.state.lifecycle.settle()
        await self.srv.rt.events.drain()


@asynccontextmanager
async def world(tmp_path: Path, database_url: str) -> AsyncIterator[tuple[World, Scenario]]:
    w = World(tmp_path, database_url)
    await upgrade_async(w.conf.database_url)
    await w.start()
    assert w.srv is not None
    sc = await make_scenario(w.srv)
    try:
        yield w, sc
    finally:
        await sc.close()
        await w.stop()


async def settings(sc: Scenario, **values: Any) -> dict[str, Any]:
    sites = (await sc.anna.http.get("/api/sites")).json()
    r = await sc.anna.http.put(
        f"/api/sites/{sites[0]['id']}/lifecycle",
        json=values,
        headers={"X-CSRF-Token": sc.anna.csrf},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


async def chat_with_anna(sc: Scenario, body: str = "Hallo, ich habe eine Frage") -> tuple[Any, int]:
    """A visitor's chat assigned to Anna (by hand: no routing timing in these tests)."""
    v = await sc.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(json.dumps({"type": "send", "client_msg_id": "m1", "body": body}))
    conv_id = int((await next_frame(ws, "ack"))["conversation_id"])
    r = await sc.anna.patch(f"/api/conversations/{conv_id}", json={"assignee_id": sc.anna.id})
    assert r.status_code == 200, r.text
    return ws, conv_id


async def agent_says(sc: Scenario, conv_id: int, body: str) -> None:
    r = await sc.anna.post(f"/api/conversations/{conv_id}/messages", json={"body": body})
    assert r.status_code == 201, r.text


async def marks(sc: Scenario, conv_id: int) -> dict[str, Any]:
    conv = (await sc.anna.http.get(f"/api/conversations/{conv_id}")).json()
    return dict(conv["meta"].get("lifecycle") or {})


async def messages(sc: Scenario, conv_id: int) -> list[dict[str, Any]]:
    return list((await sc.anna.http.get(f"/api/conversations/{conv_id}/messages")).json())


async def test_silent_mark_at_the_configured_second_not_before(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url) as (w, sc):
        await settings(sc, silent_after_seconds=90, close_after_minutes=0)
        ws, conv_id = await chat_with_anna(sc)
        await agent_says(sc, conv_id, "Welche Bestellnummer haben Sie?")
        await w.advance(89)
        assert "silent" not in await marks(sc, conv_id)
        await w.advance(1)
        mark = await marks(sc, conv_id)
        assert mark["silent"] == 2  # the agent's question (the visitor wrote 1)
        assert "Sind Sie noch da?" in mark["text"]  # the suggestion, in the visitor's German
        # Nothing was sent by itself: auto_nudge is off.
        assert [m["author"]["kind"] for m in await messages(sc, conv_id)][-1] == "agent"
        assert len(await messages(sc, conv_id)) == 2
        # The visitor answers: the mark goes at the next pass.
        await ws.send(
            json.dumps(
                {"type": "send", "conversation_id": conv_id, "client_msg_id": "m2", "body": "12"}
            )
        )
        await next_frame(ws, "ack")
        await w.advance(1)
        assert "silent" not in await marks(sc, conv_id)
        await ws.close()


async def test_gentle_message_sent_automatically_when_configured(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url) as (w, sc):
        await settings(
            sc,
            silent_after_seconds=120,
            auto_nudge=True,
            close_after_minutes=0,
            nudge_texts={"en": "Still with us?"},
        )
        ws, conv_id = await chat_with_anna(sc, "Hello, I have a question about my order")
        await agent_says(sc, conv_id, "What is your order number?")
        await w.advance(119)
        assert len(await messages(sc, conv_id)) == 2
        await w.advance(1)
        nudge = await next_frame(ws, "message")
        while nudge["body"] != "Still with us?":
            nudge = await next_frame(ws, "message")
        assert nudge["author"]["kind"] == "agent" and nudge["author"]["id"] == sc.anna.id
        await w.advance(1)
        assert "silent" in await marks(sc, conv_id)  # still silent after the gentle message
        # Once per silence: no second gentle message two minutes later.
        await w.advance(300)
        bodies = [m["body"] for m in await messages(sc, conv_id)]
        assert bodies.count("Still with us?") == 1
        await ws.close()


async def test_closed_after_m_minutes_of_silence(tmp_path: Path, database_url: str) -> None:
    async with world(tmp_path, database_url) as (w, sc):
        await settings(sc, silent_after_seconds=30, close_after_minutes=2)
        ws, conv_id = await chat_with_anna(sc, "Hello, is the jacket in stock?")
        await agent_says(sc, conv_id, "Which size do you need?")
        await w.advance(30)
        assert (await marks(sc, conv_id))["silent"] == 2
        await w.advance(89)  # 119 s of silence
        conv = (await sc.anna.http.get(f"/api/conversations/{conv_id}")).json()
        assert conv["status"] == "open"
        await w.advance(1)
        conv = (await sc.anna.http.get(f"/api/conversations/{conv_id}")).json()
        assert conv["status"] == "resolved"
        assert conv["meta"]["ended"]["by"] == "timer"
        last = (await messages(sc, conv_id))[-1]
        assert last["author"]["kind"] == "system" and "closed this chat" in last["body"]
        # The widget hears the end (to offer the transcript and a rating).
        frame = await next_frame(ws, "conversation")
        while frame["conversation"]["status"] != "resolved" or not frame["conversation"]["ended"]:
            frame = await next_frame(ws, "conversation")
        assert frame["conversation"]["ended"]["scale"] == "stars"
        await ws.close()


async def test_waiting_visitor_highlighted_for_agent_and_supervisor(
    tmp_path: Path, database_url: str
) -> None:
    async with world(tmp_path, database_url) as (w, sc):
        await settings(sc, wait_highlight_seconds=20)
        ws, conv_id = await chat_with_anna(sc)
        await w.advance(19)
        assert "waiting" not in await marks(sc, conv_id)
        view = (await sc.anna.http.get("/api/routing/overview")).json()
        assert view["highlighted"] == []
        await w.advance(1)
        assert (await marks(sc, conv_id))["waiting"] == 1
        view = (await sc.anna.http.get("/api/routing/overview")).json()
        assert [(h["conversation_id"], h["flag"], h["agent_id"]) for h in view["highlighted"]] == [
            (conv_id, "waiting", sc.anna.id)
        ]
        await agent_says(sc, conv_id, "Guten Tag! Wie kann ich helfen?")
        await w.advance(1)
        assert "waiting" not in await marks(sc, conv_id)
        await ws.close()


async def test_timers_survive_a_restart(tmp_path: Path, database_url: str) -> None:
    async with world(tmp_path, database_url) as (w, sc):
        await settings(sc, silent_after_seconds=120, close_after_minutes=5)
        ws, conv_id = await chat_with_anna(sc, "Hello, about my invoice")
        await agent_says(sc, conv_id, "Could you send me the invoice number?")
        await w.advance(60)
        await ws.close()
        await w.stop()  # the node goes away; its timers with it
        w.clock.advance(59)
        await w.start()
        await w.advance(0)
        assert "silent" not in await marks(sc, conv_id)  # 119 s
        await w.advance(1)
        assert (await marks(sc, conv_id))["silent"] == 2  # 120 s, counted from the stored message
        await w.stop()
        w.clock.advance(179)  # 299 s of silence while no node ran
        await w.start()
        await w.advance(0)
        conv = (await sc.anna.http.get(f"/api/conversations/{conv_id}")).json()
        assert conv["status"] == "open"
        await w.advance(1)
        conv = (await sc.anna.http.get(f"/api/conversations/{conv_id}")).json()
        assert conv["status"] == "resolved" and conv["meta"]["ended"]["by"] == "timer"
