"""Two ``tresen serve`` processes share PostgreSQL and Redis and behave as one.

A visitor on node A and an agent on node B exchange messages through the Redis bus. Then node A
is SIGKILLed mid-exchange; the visitor's client fails over to node B and resumes there.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.actors import Agent, Visitor, next_frame, raw_socket
from tests.support.cluster import Exchange, Node, audit, prepare_database
from tests.support.services import RedisServer
from websockets.exceptions import ConnectionClosed

TOTAL = 300
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@dataclass
class Cluster:
    a: Node
    b: Node
    database_url: str
    site_key: str


@pytest.fixture
async def cluster(
    pg_url: str, redis_server: RedisServer, tmp_path: Path, nodes: list[Node]
) -> AsyncIterator[Cluster]:
    site_key = await prepare_database(pg_url, tmp_path)
    for name in ("a", "b"):
        var = tmp_path / name
        var.mkdir()
        nodes.append(Node(name, var, pg_url, redis_url=redis_server.url))
    a, b = nodes
    await a.astart()
    await b.astart()
    yield Cluster(a, b, pg_url, site_key)


def welcomes(ex: Exchange) -> dict[str, list[str]]:
    """Which node each side's connections landed on, in order."""
    seen: dict[str, list[str]] = {"visitor": [], "agent": []}
    for side, client in ex.sides():

        def record(frame: dict[str, Any], side: str = side) -> None:
            if frame["type"] == "welcome":
                seen[side].append(frame["node"])

        client.on_frame = record
    return seen


@pytest.fixture
async def anna(cluster: Cluster) -> AsyncIterator[Agent]:
    agent = await Agent.login(cluster.b.url, "anna")
    yield agent
    await agent.close()


async def test_visitor_on_a_and_agent_on_b_exchange_through_redis(
    cluster: Cluster, anna: Agent
) -> None:
    visitor = await Visitor.arrive(cluster.a.url, cluster.site_key)
    ex = Exchange(visitor.client(), anna.client())
    nodes_seen = welcomes(ex)
    await ex.agent.start()
    await ex.visitor.start()
    try:
        await ex.open()
        await ex.run(visitor=TOTAL // 2 - 1, agent=TOTAL // 2)
        await audit(ex, cluster.database_url)
        assert set(nodes_seen["visitor"]) == {"a"} and set(nodes_seen["agent"]) == {"b"}
    finally:
        await ex.visitor.stop()
        await ex.agent.stop()


async def test_visitor_fails_over_to_b_when_a_is_killed(cluster: Cluster, anna: Agent) -> None:
    visitor = await Visitor.arrive(cluster.a.url, cluster.site_key)
    ex = Exchange(visitor.client([cluster.a.ws_url, cluster.b.ws_url]), anna.client())
    nodes_seen = welcomes(ex)
    await ex.agent.start()
    await ex.visitor.start()
    at_kill: list[tuple[int, int]] = []

    async def kill_a() -> None:
        at_kill.append(await ex.crash(cluster.a, after_acked=TOTAL // 3))

    try:
        await ex.open()
        await ex.run(visitor=TOTAL // 2 - 1, agent=TOTAL // 2, chaos=kill_a)
        await audit(ex, cluster.database_url)
        # The visitor moved from a to b; the agent stayed on b (a loaded machine may make it
        # reconnect there, e.g. as a slow consumer, which the audit above shows is harmless).
        assert nodes_seen["visitor"][0] == "a" and set(nodes_seen["visitor"][1:]) == {"b"}
        assert set(nodes_seen["agent"]) == {"b"}
        sent, acked = at_kill[0]
        assert sent - acked >= 10, "the kill should hit messages in flight"
    except BaseException:
        print("sent/acked at kill:", at_kill, "\nnode a:", cluster.a.log_tail())
        print("node b:", cluster.b.log_tail())
        raise
    finally:
        await ex.visitor.stop()
        await ex.agent.stop()


async def test_logout_on_a_closes_the_sessions_socket_on_b(cluster: Cluster) -> None:
    """Ending a session reaches the sockets it opened on every node, through the bus."""
    ben = await Agent.login(cluster.a.url, "ben")
    ws = await raw_socket(await ben.ws_url(cluster.b.ws_url), origin=None)
    try:
        assert (await next_frame(ws, "welcome"))["node"] == "b"
        assert (await ben.post("/api/auth/logout")).status_code == 200  # on node a
        ended = await next_frame(ws, "error", timeout=30)
        assert ended["code"] == "session_ended"
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
    finally:
        await ws.close()
        await ben.close()
