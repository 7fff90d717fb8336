"""Email blending over real sockets: email work goes to agents only while no chat waits for
them, an untouched item goes back when a chat arrives, and comes back when it is quiet; the
supervisor sees the backlog and moves agents between chat only and chat + email.

Deterministic: a manual clock, and every step ends with a dispatch pass run here."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.actors import (
    Agent,
    Scenario,
    next_frame,
    raw_socket,
    running_scenario,
)
from tests.support.server import InProcessServer

from tresen.clock import ManualClock

Setup = tuple[InProcessServer, Scenario]


@pytest.fixture
async def blend(tmp_path: Path, database_url: str) -> AsyncIterator[Setup]:
    """On SQLite and on PostgreSQL (the dispatch pass locks the email rows there)."""
    async with running_scenario(
        tmp_path, database_url, clock=ManualClock(), sticky_seconds=0
    ) as setup:
        yield setup


async def settle(srv: InProcessServer) -> None:
    """Two passes: the second sees what the first changed (as the kicks would)."""
    await srv.rt.routing.run_once()
    await srv.rt.routing.run_once()


async def conversation(sc: Scenario, conv_id: int) -> dict[str, Any]:
    r = await sc.anna.http.get(f"/api/conversations/{conv_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def chat(sc: Scenario, body: str, skill: str = "Sales") -> tuple[Any, int]:
    v = await sc.visitor()
    ws = await raw_socket(v.ws_url())
    await next_frame(ws, "welcome")
    await ws.send(json.dumps({"type": "send", "client_msg_id": "m1", "body": body, "skill": skill}))
    return ws, int((await next_frame(ws, "ack"))["conversation_id"])


async def leave_message(srv: InProcessServer, sc: Scenario, n: int) -> int:
    """Nobody online: the visitor leaves a message, answered by email: one email item."""
    ws, conv_id = await chat(sc, f"question {n}")
    await srv.rt.routing.run_once()
    await next_frame(ws, "overflow")
    await ws.send(
        json.dumps(
            {
                "type": "queue_choice",
                "conversation_id": conv_id,
                "choice": "message",
                "email": f"kunde{n}@example.com",
            }
        )
    )
    await next_frame(ws, "message")
    await ws.close()
    conv = await conversation(sc, conv_id)
    assert (conv["status"], conv["channel"], conv["assignee_id"]) == ("pending", "email", None)
    return conv_id


async def held_by(sc: Scenario, ids: list[int], agent_id: int) -> list[int]:
    """The email items (still pending) this agent holds."""
    out = []
    for i in ids:
        conv = await conversation(sc, i)
        if conv["assignee_id"] == agent_id and conv["status"] == "pending":
            out.append(i)
    return out


async def online(sc: Scenario, agent: Agent, **changes: Any) -> None:
    r = await sc.anna.patch(f"/api/agents/{agent.id}", json={"status": "online", **changes})
    assert r.status_code == 200, r.text


async def test_chats_first_then_email_when_quiet(blend: Setup) -> None:
    srv, sc = blend
    mail = [await leave_message(srv, sc, n) for n in (1, 2)]
    await online(sc, sc.anna, max_chats=2)  # email only while no chat: 0 < 2 - reserve 1
    await settle(srv)
    first = await held_by(sc, mail, sc.anna.id)
    assert first == [mail[0]]  # one email slot, the oldest item

    ws, chat_id = await chat(sc, "Ich brauche Hilfe")  # a chat arrives: it goes first
    await settle(srv)
    assert (await conversation(sc, chat_id))["assignee_id"] == sc.anna.id
    assert await held_by(sc, mail, sc.anna.id) == []  # the untouched item went back
    assert (await conversation(sc, mail[0]))["status"] == "pending"

    r = await sc.anna.patch(f"/api/conversations/{chat_id}", json={"status": "resolved"})
    assert r.status_code == 200, r.text
    await settle(srv)
    assert await held_by(sc, mail, sc.anna.id) == [mail[0]]  # quiet again: back to email
    await ws.close()


async def test_a_started_email_stays_and_resolving_frees_the_slot(blend: Setup) -> None:
    srv, sc = blend
    mail = [await leave_message(srv, sc, n) for n in (1, 2)]
    await online(sc, sc.anna, max_chats=2)
    await settle(srv)
    r = await sc.anna.post(f"/api/conversations/{mail[0]}/messages", json={"body": "Antwort"})
    assert r.status_code == 201, r.text  # the agent replied: the item is touched

    ws, chat_id = await chat(sc, "Hallo")
    await settle(srv)
    assert (await conversation(sc, chat_id))["assignee_id"] == sc.anna.id
    assert await held_by(sc, mail, sc.anna.id) == [mail[0]]  # started work is not taken away

    await sc.anna.patch(f"/api/conversations/{chat_id}", json={"status": "resolved"})
    await settle(srv)
    assert await held_by(sc, mail, sc.anna.id) == [mail[0]]  # one slot: no second item
    r = await sc.anna.patch(f"/api/conversations/{mail[0]}", json={"status": "resolved"})
    assert r.status_code == 200, r.text
    await settle(srv)
    assert await held_by(sc, mail, sc.anna.id) == [mail[1]]  # the slot is free again
    await ws.close()


async def test_chat_only_agent_never_gets_email_and_supervisor_sees_it(blend: Setup) -> None:
    srv, sc = blend
    r = await sc.anna.post(
        "/api/agents",
        json={
            "username": "sven",
            "password": "correct horse battery",
            "role": "supervisor",
            "skills": ["Sales"],
        },
    )
    assert r.status_code == 201, r.text
    sven = await Agent.login(sc.base_url, "sven")
    try:
        mail = [await leave_message(srv, sc, n) for n in (1, 2)]
        await online(sc, sc.anna, max_chats=2)
        await settle(srv)
        assert await held_by(sc, mail, sc.anna.id) == [mail[0]]

        view = (await sven.http.get("/api/routing/overview")).json()
        assert view["email_backlog"] == [
            {"skill": "Sales", "backlog": 1, "oldest_seconds": 0, "assigned": 1}
        ]
        row = next(a for a in view["agents"] if a["id"] == sc.anna.id)
        assert (row["email_load"], row["takes_email"], row["load"]) == (1, True, 0)

        # Sven moves anna to chats only: her untouched item goes back, no new email comes.
        r = await sven.patch(f"/api/agents/{sc.anna.id}", json={"takes_email": False})
        assert r.status_code == 200 and r.json()["takes_email"] is False, r.text
        assert (await sven.patch(f"/api/agents/{sc.anna.id}", json={"max_chats": 9})).is_error
        assert (
            await sc.ben.patch(f"/api/agents/{sc.anna.id}", json={"takes_email": True})
        ).is_error
        await settle(srv)
        await settle(srv)
        assert await held_by(sc, mail, sc.anna.id) == []
        view = (await sven.http.get("/api/routing/overview")).json()
        assert view["email_backlog"][0]["backlog"] == 2
        row = next(a for a in view["agents"] if a["id"] == sc.anna.id)
        assert (row["email_load"], row["takes_email"]) == (0, False)

        await sven.patch(f"/api/agents/{sc.anna.id}", json={"takes_email": True})
        await settle(srv)
        assert await held_by(sc, mail, sc.anna.id) == [mail[0]]  # back to email when moved
    finally:
        await sven.close()
