"""Two ``tresen serve`` processes on PostgreSQL and a Redis Cluster (3 masters, 3 replicas), a
visitor on node a and an agent on node b exchanging messages without waiting for acks. Under
that load, the master serving the visitor's topic is SIGKILLed (its replica takes over), then
the master serving the agent's topic hands over to its replica (``CLUSTER FAILOVER``). Both
nodes' buses follow the slots to the new masters and catch up from the database:
0 lost, 0 duplicated, order kept, on the wire and in the store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.cluster import key_slot
from tests.support.cluster import Node, audit, two_nodes, visitor_meets_agent
from tests.support.redis_cluster import RedisClusterServer

PER_SIDE = 200
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def own_cluster() -> Iterator[RedisClusterServer]:
    """Its own cluster: this test changes who the masters are."""
    server = RedisClusterServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


def slot_of(topic: str) -> int:
    return key_slot(("tresen:" + topic).encode())


async def test_masters_fail_over_under_load(
    pg_url: str, own_cluster: RedisClusterServer, tmp_path: Path, nodes: list[Node]
) -> None:
    site_key, a, b = await two_nodes(pg_url, own_cluster.url, tmp_path, nodes)
    done: list[str] = []
    sent_at: list[int] = []  # messages sent when each failover was complete
    async with visitor_meets_agent(a, b, site_key) as (ex, visitor, anna):

        async def failovers() -> None:
            # 1. The visitor topic's master dies; its replica is elected.
            await ex.when(lambda: ex.total_acked >= PER_SIDE // 3)
            victim = own_cluster.master_of_slot(slot_of(f"v:{visitor.id}"))
            heir = own_cluster.replica_of(victim)
            await asyncio.to_thread(own_cluster.kill, victim)
            await asyncio.to_thread(own_cluster.wait_master, heir)
            done.append(f"killed {victim}, {heir} took over")
            sent_at.append(ex.total_sent)
            # 2. The agent topic's master hands over to its replica (a planned failover).
            await ex.when(lambda: ex.total_acked >= PER_SIDE)
            master = own_cluster.master_of_slot(slot_of(f"a:{anna.id}"))
            if master == heir:  # the same shard, now without a replica: take another master's
                master = own_cluster.master_of_slot(slot_of("inbox"))
            replica = own_cluster.replica_of(master)
            own_cluster.cli(replica, "cluster", "failover")
            await asyncio.to_thread(own_cluster.wait_master, replica)
            done.append(f"{master} handed over to {replica}")
            sent_at.append(ex.total_sent)

        await ex.open()
        await asyncio.gather(
            ex.pump("visitor", PER_SIDE - 1, pause=0.25),
            ex.pump("agent", PER_SIDE, pause=0.25),
            failovers(),
        )
        await ex.settled(90)
        await audit(ex, pg_url)
        assert len(done) == 2, done
        assert max(sent_at) < 2 * PER_SIDE, f"the failovers ended after the load: {sent_at}"
        print(done, "sent when each was over:", sent_at)
        # The failovers reached the buses: both followed the slots and caught up.
        for node in (a, b):
            assert "redis cluster bus resubscribed" in node.log_tail(200_000), node.name
