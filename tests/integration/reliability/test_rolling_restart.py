"""A rolling restart of two nodes under load loses nothing.

Node A gets SIGTERM, exits, starts again; then node B. A stopping node closes every socket with
1012 ("service restart"), and the clients reconnect to the other node at once, resume, and resend
what was not acknowledged. Visitor and agent keep sending throughout; afterwards every message
is acknowledged, received exactly once by both sides in seq order, and stored exactly once.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest
from tests.support.actors import Agent, Visitor, _bind
from tests.support.cluster import Exchange, Node, audit, prepare_database
from tests.support.services import RedisServer

from tresen.client import TresenClient

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


async def restart(node: Node, ex: Exchange, *, acked_before: int) -> int:
    """Once ``acked_before`` messages are acknowledged, SIGTERM ``node``, wait for it to exit
    and start it again. Returns its exit status."""
    await ex.when(lambda: ex.total_acked >= acked_before)
    assert node.proc is not None
    node.proc.terminate()
    code = await asyncio.to_thread(node.proc.wait, 30)
    await node.astart()
    return code


async def test_rolling_restart_of_two_nodes_under_load_loses_nothing(
    pg_url: str, redis_server: RedisServer, tmp_path: Path, nodes: list[Node]
) -> None:
    site_key = await prepare_database(pg_url, tmp_path)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        nodes.append(Node(name, tmp_path / name, pg_url, redis_url=redis_server.url))
    a, b = nodes
    await a.astart()
    await b.astart()
    # The agent holds a login on each node, so a ticket comes from whichever one is up.
    anna_a, anna_b = await Agent.login(a.url, "anna"), await Agent.login(b.url, "anna")
    visitor = await Visitor.arrive(a.url, site_key)
    agent = TresenClient([_bind(anna_b.ws_url, b.ws_url), _bind(anna_a.ws_url, a.ws_url)])
    ex = Exchange(visitor.client([a.ws_url, b.ws_url]), agent)
    seen: dict[str, list[str]] = {"visitor": [], "agent": []}
    for side, client in ex.sides():

        def record(frame: dict[str, Any], side: str = side) -> None:
            if frame["type"] == "welcome":
                seen[side].append(frame["node"])

        client.on_frame = record
    await ex.agent.start()
    await ex.visitor.start()
    exits: list[int] = []
    rolled = asyncio.Event()

    async def roll() -> None:
        exits.append(await restart(a, ex, acked_before=40))
        exits.append(await restart(b, ex, acked_before=ex.total_acked + 40))
        rolled.set()

    async def load() -> None:
        """Both sides keep sending, without waiting for acks, until the roll is over."""
        while not rolled.is_set():
            await ex.pump("visitor", 1, batch=1, pause=0.01)
            await ex.pump("agent", 1, batch=1, pause=0.01)
        await ex.pump("visitor", 10)
        await ex.pump("agent", 10)

    try:
        await ex.open()
        await asyncio.gather(load(), roll())
        await ex.settled(120)
        await audit(ex, pg_url)
        # uvicorn shuts down, then re-raises SIGTERM: the status a clean stop has (systemd
        # counts it as success). Neither the request grace nor the flush ran out.
        assert exits == [-signal.SIGTERM, -signal.SIGTERM]
        for node in (a, b):
            assert "timeout graceful shutdown exceeded" not in node.log_tail(100_000)
            assert "exiting without it" not in node.log_tail(100_000)
        # Each stopping node told its sockets to go elsewhere: the visitor heard it from A and
        # from B, the agent from B; both came back on the node that was up.
        assert ex.visitor.stats.restarts >= 2 and ex.agent.stats.restarts >= 1
        assert seen["visitor"][:2] == ["a", "b"] and "a" in seen["visitor"][2:]
        assert seen["agent"][:2] == ["b", "a"]
    except BaseException:
        print("sent/acked:", ex.total_sent, ex.total_acked, "welcomes:", seen)
        print("node a:", a.log_tail(), "\nnode b:", b.log_tail())
        raise
    finally:
        await ex.visitor.stop()
        await ex.agent.stop()
        await anna_a.close()
        await anna_b.close()
