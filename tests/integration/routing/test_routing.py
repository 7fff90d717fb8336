"""Routing over real sockets: assignment, queue position and wait, overflow choices, transfer,
priority, sticky agents, accept timeouts and auto-away."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.actors import Scenario, next_frame, raw_socket, running_scenario
from tests.support.server import InProcessServer

from tresen.clock import ManualClock
from tresen.scheduler import ManualScheduler
from tresen.security.identity import identity_hash as sign_identity


async def online(sc: Scenario, agent: Any, **changes: Any) -> None:
    if changes:
        r = await sc.anna.patch(f"/api/agents/{agent.id}", json=changes)
        assert r.status_code == 200, r.text
    r = await agent.patch(f"/api/agents/{agent.id}", json={"status": "online"})
    assert r.status_code == 200, r.text


async def visitor_writes(
    sc: Scenario, body: str = "Hallo", skill: str | None = "Sales", **arrive: Any
) -> tuple[Any, int]:
    v = await sc.visitor(**arrive)
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    frame: dict[str, Any] = {"type": "send", "client_msg_id": "m1", "body": body}
    if skill:
        frame["skill"] = skill
    await ws.send(json.dumps(frame))
    ack = await next_frame(ws, "ack")
    return ws, int(ack["conversation_id"])


async def conversation(sc: Scenario, conv_id: int) -> dict[str, Any]:
    r = await sc.anna.http.get(f"/api/conversations/{conv_id}")
    return dict(r.json())


async def until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_free_agent_with_the_skill_gets_the_chat(scenario: Scenario) -> None:
    await online(scenario, scenario.ben)  # Support only
    await online(scenario, scenario.anna)  # Sales
    ws, conv_id = await visitor_writes(scenario, skill="Sales")

    async def assigned() -> bool:
        return (await conversation(scenario, conv_id))["assignee_id"] == scenario.anna.id

    await until(assigned)
    await ws.close()


async def test_queue_position_and_wait_then_connected_when_a_slot_frees(
    scenario: Scenario,
) -> None:
    await online(scenario, scenario.anna, max_chats=1)
    ws1, first = await visitor_writes(scenario, "first")
    ws2, second = await visitor_writes(scenario, "second")
    queue = await next_frame(ws2, "queue")
    assert queue["conversation_id"] == second and queue["position"] == 1
    assert queue["estimated_wait_seconds"] > 0
    assert (await conversation(scenario, second))["assignee_id"] is None
    r = await scenario.anna.patch(f"/api/conversations/{first}", json={"status": "resolved"})
    assert r.status_code == 200
    update = await next_frame(ws2, "conversation")
    assert update["conversation"]["assignee_id"] == scenario.anna.id
    await ws1.close()
    await ws2.close()


async def test_nobody_online_offers_message_callback_or_bot(scenario: Scenario) -> None:
    ws, conv_id = await visitor_writes(scenario)
    overflow = await next_frame(ws, "overflow")
    assert overflow["reason"] == "nobody_online"
    assert set(overflow["options"]) == {"wait", "message", "callback", "bot"}
    await ws.send(
        json.dumps(
            {
                "type": "queue_choice",
                "conversation_id": conv_id,
                "choice": "message",
                "email": "petra@example.com",
            }
        )
    )
    note = await next_frame(ws, "message")
    assert note["author"]["kind"] == "system" and "petra@example.com" in note["body"]
    conv = await conversation(scenario, conv_id)
    assert conv["status"] == "pending" and conv["channel"] == "email"
    await ws.close()


async def test_callback_and_leaving_the_queue(scenario: Scenario) -> None:
    ws, conv_id = await visitor_writes(scenario)
    await next_frame(ws, "overflow")
    await ws.send(
        json.dumps({"type": "queue_choice", "conversation_id": conv_id, "choice": "callback"})
    )
    err = await next_frame(ws, "error")
    assert "phone" in err["message"]
    await ws.send(
        json.dumps(
            {
                "type": "queue_choice",
                "conversation_id": conv_id,
                "choice": "callback",
                "phone": "+49 30 1234567",
                "when": "after 17:00",
            }
        )
    )
    note = await next_frame(ws, "message")
    assert "+49 30 1234567" in note["body"]
    ws2, conv2 = await visitor_writes(scenario, "another")
    await ws2.send(
        json.dumps({"type": "queue_choice", "conversation_id": conv2, "choice": "leave"})
    )
    await next_frame(ws2, "message")
    assert (await conversation(scenario, conv2))["status"] == "abandoned"
    await ws.close()
    await ws2.close()


async def test_gold_customer_jumps_the_queue(scenario: Scenario) -> None:
    await online(scenario, scenario.anna, max_chats=1)
    ws0, busy = await visitor_writes(scenario, "occupies anna")
    ws1, plain = await visitor_writes(scenario, "plain")
    gold_identity = {
        "id": "cust-1",
        "hash": sign_identity(scenario.identity_secret, "cust-1"),
        "attributes": {"segment": "gold"},
    }
    ws2, gold = await visitor_writes(scenario, "gold", identity=gold_identity)
    await scenario.anna.patch(f"/api/conversations/{busy}", json={"status": "resolved"})

    async def gold_served() -> bool:
        return (await conversation(scenario, gold))["assignee_id"] == scenario.anna.id

    await until(gold_served)
    assert (await conversation(scenario, plain))["assignee_id"] is None
    for ws in (ws0, ws1, ws2):
        await ws.close()


async def test_transfer_with_note_to_another_skill(scenario: Scenario) -> None:
    await online(scenario, scenario.anna)
    await online(scenario, scenario.ben)
    ws, conv_id = await visitor_writes(scenario, "Meine Rechnung ist falsch")

    async def anna_has_it() -> bool:
        return (await conversation(scenario, conv_id))["assignee_id"] == scenario.anna.id

    await until(anna_has_it)
    r = await scenario.anna.post(
        f"/api/conversations/{conv_id}/transfer",
        json={"skill": "Support", "note": "billing question"},
    )
    assert r.status_code == 200, r.text

    async def ben_has_it() -> bool:
        return (await conversation(scenario, conv_id))["assignee_id"] == scenario.ben.id

    await until(ben_has_it)
    history = (await scenario.ben.http.get(f"/api/conversations/{conv_id}/messages")).json()
    assert history[0]["body"] == "Meine Rechnung ist falsch"
    assert any(m["internal"] and "billing question" in m["body"] for m in history)
    await ws.send(json.dumps({"type": "resume", "conversations": {str(conv_id): 0}}))
    await next_frame(ws, "resumed")
    await ws.close()


async def test_supervisor_overview(scenario: Scenario) -> None:
    await online(scenario, scenario.anna, max_chats=1)
    ws1, _ = await visitor_writes(scenario, "one")
    ws2, waiting_id = await visitor_writes(scenario, "two")
    await next_frame(ws2, "queue")
    view = (await scenario.anna.http.get("/api/routing/overview")).json()
    assert view["queues"] == [
        {
            "skill": "Sales",
            "waiting": 1,
            "longest_wait_seconds": view["queues"][0]["longest_wait_seconds"],
        }
    ]
    assert view["waiting"][0]["conversation_id"] == waiting_id
    anna = next(a for a in view["agents"] if a["id"] == scenario.anna.id)
    assert (anna["status"], anna["load"], anna["max_chats"]) == ("online", 1, 1)
    assert (await scenario.ben.http.get("/api/routing/overview")).status_code == 403
    await ws1.close()
    await ws2.close()


@pytest.fixture
async def manual(tmp_path: Path) -> AsyncIterator[tuple[InProcessServer, ManualClock, Scenario]]:
    """A server on a manual clock that offers chats (accept within 30 s), sticky for 30 s."""
    clock = ManualClock()
    async with running_scenario(tmp_path, clock=clock, accept_seconds=30, sticky_seconds=30) as (
        srv,
        sc,
    ):
        yield srv, clock, sc


async def test_offer_times_out_and_goes_to_the_next_agent(
    manual: tuple[InProcessServer, ManualClock, Scenario],
) -> None:
    srv, clock, sc = manual
    await online(sc, sc.anna)
    await online(sc, sc.ben, skills=["Sales"])
    ws, conv_id = await visitor_writes(sc)
    await srv.rt.routing.run_once()
    first = (await conversation(sc, conv_id))["offered_to"]
    assert first in (sc.anna.id, sc.ben.id)
    clock.advance(29)
    await srv.rt.routing.run_once()
    assert (await conversation(sc, conv_id))["offered_to"] == first
    clock.advance(1)
    await srv.rt.routing.run_once()
    await srv.rt.routing.run_once()
    second = (await conversation(sc, conv_id))["offered_to"]
    assert second not in (None, first)
    other = sc.anna if second == sc.anna.id else sc.ben
    r = await other.post(f"/api/conversations/{conv_id}/accept")
    assert r.status_code == 200 and r.json()["assignee_id"] == second
    await ws.close()


async def test_returning_customer_waits_briefly_for_their_agent(
    manual: tuple[InProcessServer, ManualClock, Scenario],
) -> None:
    srv, clock, sc = manual
    await online(sc, sc.anna, max_chats=1)
    v = await sc.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(
        json.dumps({"type": "send", "client_msg_id": "a", "body": "hi", "skill": "Sales"})
    )
    conv1 = (await next_frame(ws, "ack"))["conversation_id"]
    await sc.anna.patch(f"/api/conversations/{conv1}", json={"assignee_id": sc.anna.id})
    await sc.anna.patch(f"/api/conversations/{conv1}", json={"status": "resolved"})
    busy_ws, busy = await visitor_writes(sc, "keeps anna busy")
    await srv.rt.routing.run_once()
    assert (await conversation(sc, busy))["offered_to"] == sc.anna.id
    assert (await sc.anna.post(f"/api/conversations/{busy}/accept")).status_code == 200
    await online(sc, sc.ben, skills=["Sales"])
    await ws.send(
        json.dumps({"type": "send", "client_msg_id": "b", "body": "again", "skill": "Sales"})
    )
    conv2 = (await next_frame(ws, "ack"))["conversation_id"]
    assert conv2 != conv1
    conv = await conversation(sc, conv2)
    assert conv["offered_to"] is None and conv["assignee_id"] is None
    await srv.rt.routing.run_once()
    assert (await conversation(sc, conv2))["offered_to"] is None  # waits for anna
    clock.advance(30)
    await srv.rt.routing.run_once()
    assert (await conversation(sc, conv2))["offered_to"] == sc.ben.id
    await ws.close()
    await busy_ws.close()


async def test_auto_away_when_all_consoles_disconnect(tmp_path: Path) -> None:
    """Away only once no console of the agent is left after the grace period (manual time)."""
    clock = ManualClock()
    timers = ManualScheduler(clock)
    async with running_scenario(tmp_path, clock=clock, scheduler=timers, auto_away_seconds=30) as (
        srv,
        sc,
    ):
        consoles = f"a:{sc.anna.id}"

        async def consoles_open(n: int) -> bool:
            return bool(await srv.rt.presence.count(consoles) == n)

        await online(sc, sc.anna)
        one, two = sc.anna.client(), sc.anna.client()
        await one.start()
        await two.start()
        await one.stop()
        await until(lambda: consoles_open(1))
        timers.advance(31)
        await srv.rt.events.drain()
        me = (await sc.anna.http.get("/api/auth/me")).json()["agent"]
        assert me["status"] == "online"  # one console is still there
        await two.stop()
        await until(lambda: consoles_open(0))
        timers.advance(29)

        async def status() -> str:
            return str((await sc.anna.http.get("/api/auth/me")).json()["agent"]["status"])

        assert await status() == "online"  # not before the grace period is over
        timers.advance(1)

        async def away() -> bool:
            return await status() == "away"

        await until(away)


async def test_expert_with_higher_skill_level_gets_the_chat(scenario: Scenario) -> None:
    r = await scenario.anna.post(
        "/api/agents",
        json={
            "username": "carla",
            "password": "correct horse battery",
            "skills": ["Sales"],
            "skill_levels": {"Sales": 3},
            "departments": ["Mobile"],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["skill_levels"] == {"Sales": 3} and r.json()["departments"] == ["Mobile"]
    bad = await scenario.anna.post(
        "/api/agents",
        json={"username": "dora", "password": "correct horse battery", "skill_levels": {"x": 9}},
    )
    assert bad.status_code == 422 and "skill_levels" in bad.json()["message"]
    carla = r.json()["id"]
    await online(scenario, scenario.anna)
    await scenario.anna.patch(f"/api/agents/{carla}", json={"status": "online"})
    ws, conv_id = await visitor_writes(scenario, "Welcher Tarif passt?")

    async def expert_has_it() -> bool:
        return (await conversation(scenario, conv_id))["assignee_id"] == carla

    await until(expert_has_it)
    await ws.close()


async def test_visitor_who_leaves_while_queued_is_abandoned(tmp_path: Path) -> None:
    """Gone for the grace period: abandoned. Back within it (a page navigation): still waiting."""
    clock = ManualClock()
    timers = ManualScheduler(clock)
    async with running_scenario(
        tmp_path, clock=clock, scheduler=timers, abandon_after_seconds=20
    ) as (srv, sc):
        ws, gone = await visitor_writes(sc, "Hallo?")
        navigator = await sc.visitor()
        ws2 = await raw_socket(navigator.ws_url())
        await next_frame(ws2, "welcome")
        await ws2.send(
            json.dumps(
                {"type": "send", "client_msg_id": "n1", "body": "Ich bleibe", "skill": "Sales"}
            )
        )
        stays = (await next_frame(ws2, "ack"))["conversation_id"]
        await ws.close()
        await ws2.close()
        ws3 = await raw_socket(navigator.ws_url())  # the next page of the site
        await next_frame(ws3, "welcome")

        async def sockets(visitor_id: int, n: int) -> bool:
            return bool(await srv.rt.presence.count(f"v:{visitor_id}") == n)

        await until(lambda: sockets(navigator.id, 1))
        gone_visitor = (await conversation(sc, gone))["visitor_id"]
        await until(lambda: sockets(gone_visitor, 0))
        timers.advance(19)
        assert (await conversation(sc, gone))["status"] == "open"  # within the grace period
        timers.advance(1)

        async def abandoned() -> bool:
            return (await conversation(sc, gone))["status"] == "abandoned"

        await until(abandoned)
        timers.advance(60)
        await srv.rt.events.drain()
        kept = await conversation(sc, stays)
        assert kept["status"] == "open" and kept["queued_at"] is not None
        view = (await sc.anna.http.get("/api/routing/overview")).json()
        assert [w["conversation_id"] for w in view["waiting"]] == [stays]
        await ws3.close()
