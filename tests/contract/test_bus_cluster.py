"""What only the Redis Cluster bus must do: spread topics over the masters, and follow a
failover (planned, or a master killed) to the new master, then say it reconnected so listeners
catch up from the database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.cluster import key_slot

from tests.contract.test_bus import Inbox
from tests.support.redis_cluster import RedisClusterServer
from tresen.realtime.buses import create_bus
from tresen.realtime.redis_cluster_bus import PREFIX, RedisClusterBus

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterServer]:
    """Its own cluster: these tests change who the masters are."""
    server = RedisClusterServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
async def buses(cluster: RedisClusterServer) -> AsyncIterator[tuple[RedisClusterBus, ...]]:
    made = [create_bus(cluster.url, name) for name in ("pub", "sub")]
    for bus in made:
        await bus.start()
    yield tuple(made)  # type: ignore[misc]
    for bus in made:
        await bus.close()


def topic() -> str:
    return "t-" + uuid.uuid4().hex[:10]


async def delivered_after(pub: RedisClusterBus, t: str, inbox: Inbox, what: str) -> None:
    """Publish until it arrives (a failover may still be settling), then nothing twice."""

    async def until() -> None:
        while what not in inbox.payloads:
            await pub.publish(t, what)
            await asyncio.sleep(0.1)

    await asyncio.wait_for(until(), 20)


async def test_topics_spread_over_every_master(buses: tuple[RedisClusterBus, ...]) -> None:
    pub, sub = buses
    topics = [(topic(), Inbox()) for _ in range(30)]
    for t, inbox in topics:
        await sub.subscribe(t, inbox)
    assert len(sub._shards) == 3  # one subscriber connection per master, each its own slots
    for t, _ in topics:
        pub.publish_nowait(t, "hi " + t)
    for t, inbox in topics:
        await inbox.wait(1)
        assert inbox.got == [(t, "hi " + t)]


async def failover_then_delivery(
    cluster: RedisClusterServer, buses: tuple[RedisClusterBus, ...], *, kill: bool
) -> None:
    pub, sub = buses
    back = asyncio.Event()
    sub.reconnected.append(back.set)
    t, inbox = topic(), Inbox()
    await sub.subscribe(t, inbox)
    await pub.publish(t, "before")
    await inbox.wait(1)
    master = cluster.master_of_slot(key_slot((PREFIX + t).encode()))
    replica = cluster.replica_of(master)
    if kill:
        await asyncio.to_thread(cluster.kill, master)
    else:
        cluster.cli(replica, "cluster", "failover")
    await asyncio.to_thread(cluster.wait_master, replica)
    await asyncio.wait_for(back.wait(), 20)  # the listeners were told to catch up
    assert sub._home[PREFIX + t] == f"127.0.0.1:{replica}"
    await delivered_after(pub, t, inbox, "after")
    assert inbox.payloads[0] == "before" and set(inbox.payloads[1:]) == {"after"}


async def test_a_planned_failover_is_followed(
    cluster: RedisClusterServer, buses: tuple[RedisClusterBus, ...]
) -> None:
    await failover_then_delivery(cluster, buses, kill=False)


async def test_a_killed_master_is_followed_to_its_replica(
    cluster: RedisClusterServer, buses: tuple[RedisClusterBus, ...]
) -> None:
    await failover_then_delivery(cluster, buses, kill=True)
