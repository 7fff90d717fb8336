"""Co-browsing across two ``tresen serve`` processes sharing PostgreSQL and Redis.

The visitor's socket is on node A, the agent's on node B (raw WebSockets, no browser): consent,
the mirrored events, the agent's commands, the relay's privacy checks (a batch with an unmasked
value is dropped; typing into a blocked password field is refused by the relay's gate on A) and
stopping from either side all cross the Redis bus.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.actors import Agent, Visitor, next_frame, raw_socket
from tests.support.cluster import Node, prepare_database
from tests.support.services import RedisServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

NAME, PASSWORD, BLOCKED = 10, 11, 12


@pytest.fixture
async def pair(
    pg_url: str, redis_server: RedisServer, tmp_path: Path, nodes: list[Node]
) -> AsyncIterator[tuple[Node, Node, str]]:
    site_key = await prepare_database(pg_url, tmp_path)
    for name in ("a", "b"):
        var = tmp_path / name
        var.mkdir()
        nodes.append(Node(name, var, pg_url, redis_url=redis_server.url))
    await nodes[0].astart()
    await nodes[1].astart()
    yield nodes[0], nodes[1], site_key


def _el(nid: int, tag: str, **attrs: str) -> dict[str, Any]:
    return {"type": 2, "id": nid, "tagName": tag, "attributes": attrs, "childNodes": []}


def snapshot(name_value: str = "****") -> dict[str, Any]:
    """A full snapshot as rrweb writes it: the name field masked, the password blocked."""
    fields = [
        _el(NAME, "input", name="name", value=name_value),
        _el(PASSWORD, "input", rr_width="200px", rr_height="20px"),  # blocked: no attributes
        _el(BLOCKED, "div", rr_width="300px", rr_height="40px"),
    ]
    body = {"type": 2, "id": 2, "tagName": "body", "attributes": {}, "childNodes": fields}
    return {"type": 2, "timestamp": 1, "data": {"node": {"type": 0, "id": 1, "childNodes": [body]}}}


def typed(nid: int, text: str) -> dict[str, Any]:
    return {"type": 3, "timestamp": 2, "data": {"source": 5, "id": nid, "text": text}}


async def send(ws: Any, **frame: Any) -> None:
    await ws.send(json.dumps(frame, separators=(",", ":")))


async def events(ws: Any, session: int, *evs: dict[str, Any], url: str = "https://x/") -> None:
    # As the widget frame writes it: the type first (the server's fast path keys on it).
    await send(ws, type="cobrowse_events", session_id=session, events=list(evs), url=url)


async def quiet(ws: Any, kinds: set[str], seconds: float = 0.7) -> list[dict[str, Any]]:
    """Every frame of ``kinds`` that arrives within ``seconds``."""
    seen: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] in kinds:
                    seen.append(frame)
    except TimeoutError:
        pass
    return seen


async def state(ws: Any, status: str, session: int) -> dict[str, Any]:
    while True:
        frame = await next_frame(ws, "cobrowse")
        if frame["session_id"] == session and frame["status"] == status:
            return frame


async def start_session(visitor: Any, agent: Any, conv: int) -> int:
    await send(agent, type="cobrowse_request", conversation_id=conv)
    asked = await next_frame(visitor, "cobrowse")
    assert asked["status"] == "requested" and asked["agent_name"] == "Anna"
    session = int(asked["session_id"])
    await send(visitor, type="cobrowse_reply", session_id=session, accept=True)
    await state(agent, "active", session)
    await state(visitor, "active", session)
    await send(agent, type="cobrowse_watch", session_id=session)
    notice = await next_frame(visitor, "cobrowse_notice")
    assert notice["code"] == "snapshot_needed"
    return session


async def test_cobrowse_between_nodes(pair: tuple[Node, Node, str]) -> None:
    a, b, site_key = pair
    v = await Visitor.arrive(a.url, site_key)
    anna = await Agent.login(b.url, "anna")
    visitor = await raw_socket(v.ws_url())
    agent = await raw_socket(await anna.ws_url(), origin=None)
    try:
        assert (await next_frame(visitor, "welcome"))["node"] == "a"
        assert (await next_frame(agent, "welcome"))["node"] == "b"
        await send(visitor, type="send", client_msg_id="m1", body="Können Sie mir zeigen?")
        conv = int((await next_frame(visitor, "ack"))["conversation_id"])
        session = await start_session(visitor, agent, conv)

        # The recorder's events on A reach the agent on B.
        await events(visitor, session, snapshot(), typed(NAME, "*****"))
        got = await next_frame(agent, "cobrowse_events")
        assert got["session_id"] == session and len(got["events"]) == 2

        # A batch with an unmasked value is dropped on A: B gets the notice, never the value.
        await events(visitor, session, typed(NAME, "Jana Kowalski"))
        dropped = await next_frame(agent, "cobrowse_notice")
        assert dropped["code"] == "dropped"
        assert (await next_frame(visitor, "cobrowse_notice"))["code"] == "dropped"
        await events(visitor, session, snapshot("Jana Kowalski"))
        assert (await next_frame(agent, "cobrowse_notice"))["code"] == "dropped"
        await events(visitor, session, snapshot())  # and the mirror goes on afterwards
        assert (await next_frame(agent, "cobrowse_events"))["events"][0]["type"] == 2

        # Commands from B reach the page on A.
        await send(agent, type="cobrowse_command", session_id=session, action="pointer", node=NAME)
        cmd = await next_frame(visitor, "cobrowse_command")
        assert (cmd["action"], cmd["node"], cmd["agent_name"]) == ("pointer", NAME, "Anna")
        await send(agent, type="cobrowse_command", session_id=session, action="navigate", url="/x")
        cmd = await next_frame(visitor, "cobrowse_command")
        assert (cmd["action"], cmd["url"]) == ("navigate", "/x")
        await send(
            agent, type="cobrowse_command", session_id=session, action="fill", node=NAME, value="J"
        )
        cmd = await next_frame(visitor, "cobrowse_command")
        assert (cmd["action"], cmd["node"], cmd["value"]) == ("fill", NAME, "J")

        # Control needs the second consent, given on A and seen on B.
        await send(agent, type="cobrowse_command", session_id=session, action="scroll", x=0, y=300)
        assert (await next_frame(agent, "error"))["code"] == "no_control"
        await send(visitor, type="cobrowse_control", session_id=session, granted=True)
        assert (await state(agent, "active", session))["control"] is True
        await send(agent, type="cobrowse_command", session_id=session, action="scroll", x=0, y=300)
        cmd = await next_frame(visitor, "cobrowse_command")
        assert (cmd["action"], cmd["y"]) == ("scroll", 300)
        await send(
            agent, type="cobrowse_command", session_id=session, action="type", node=NAME, value="an"
        )
        cmd = await next_frame(visitor, "cobrowse_command")
        assert (cmd["action"], cmd["node"], cmd["value"]) == ("type", NAME, "an")

        # Typing into the blocked password field (or any field not shown) is refused on A.
        for node in (PASSWORD, BLOCKED, 999):
            await send(
                agent,
                type="cobrowse_command",
                session_id=session,
                action="type",
                node=node,
                value="secret",
            )
            refused = await next_frame(agent, "cobrowse_notice")
            assert refused["code"] == "refused"
        assert await quiet(visitor, {"cobrowse_command"}) == []

        # The agent on B stops: the visitor on A is told, and the relay refuses further batches.
        await send(agent, type="cobrowse_stop", session_id=session)
        assert (await state(visitor, "ended", session))["by"] == "agent"
        await events(visitor, session, typed(NAME, "***"))
        assert (await next_frame(visitor, "error"))["code"] == "session_closed"
        assert await quiet(agent, {"cobrowse_events"}) == []
        # Field commands of an ended session go nowhere.
        await send(
            agent, type="cobrowse_command", session_id=session, action="fill", node=NAME, value="x"
        )
        assert (await next_frame(agent, "error"))["code"] == "session_closed"

        # A second session, stopped by the visitor on A: the agent on B is told at once.
        second = await start_session(visitor, agent, conv)
        await events(visitor, second, snapshot())
        await next_frame(agent, "cobrowse_events")
        await send(visitor, type="cobrowse_stop", session_id=second)
        assert (await state(agent, "ended", second))["by"] == "visitor"
        r = await anna.http.get(f"/api/cobrowse/audit?conversation_id={conv}")
        actions = [row["action"] for row in r.json()]
        assert actions.count("started") == 2 and actions.count("stopped") == 2
        assert {"requested", "control_granted", "navigate", "fill"} <= set(actions)
    finally:
        await visitor.close()
        await agent.close()
        await anna.close()
