"""One contract for every Bus backend: MemoryBus (one process), RedisBus (many processes on one
Redis) and RedisClusterBus (many processes on a 3-master Redis Cluster, sharded pub/sub)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.support.redis_cluster import RedisClusterServer
from tests.support.services import RedisServer
from tresen.realtime.bus import Bus
from tresen.realtime.buses import create_bus
from tresen.realtime.memory_bus import MemoryBus
from tresen.realtime.redis_bus import RedisBus
from tresen.realtime.redis_cluster_bus import RedisClusterBus

BusFactory = Callable[[], Awaitable[Bus]]


class Inbox:
    """A handler that records (topic, payload) and lets a test wait for a count."""

    def __init__(self) -> None:
        self.got: list[tuple[str, str]] = []
        self._changed = asyncio.Event()

    def __call__(self, topic: str, payload: str) -> None:
        self.got.append((topic, payload))
        self._changed.set()

    @property
    def payloads(self) -> list[str]:
        return [p for _, p in self.got]

    async def wait(self, count: int, timeout: float = 5) -> None:
        async def until() -> None:
            while len(self.got) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), timeout)


REDIS_BACKENDS = [
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("cluster", marks=pytest.mark.redis),
]


def redis_url(request: pytest.FixtureRequest, backend: str) -> str:
    if backend == "cluster":
        cluster: RedisClusterServer = request.getfixturevalue("redis_cluster")
        return cluster.url
    redis: RedisServer = request.getfixturevalue("redis_server")
    return redis.url


@pytest.fixture(params=["memory", *REDIS_BACKENDS])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[BusFactory]:
    """Builds started buses of one backend. Redis buses behave as separate processes."""
    buses: list[Bus] = []

    async def make() -> Bus:
        bus: Bus
        if request.param == "memory":
            bus = MemoryBus()
        else:
            bus = create_bus(redis_url(request, request.param), uuid.uuid4().hex[:6])
            assert isinstance(bus, RedisClusterBus if request.param == "cluster" else RedisBus)
        await bus.start()
        buses.append(bus)
        return bus

    yield make
    for bus in buses:
        await bus.close()


@pytest.fixture
async def bus(make_bus: BusFactory) -> Bus:
    return await make_bus()


def topic() -> str:
    """A topic no other test uses (the Redis server is shared by the session)."""
    return "t-" + uuid.uuid4().hex[:10]


async def barrier(bus: Bus) -> None:
    """Publish on a fresh topic and wait for it: everything published before has arrived."""
    mark, inbox = topic(), Inbox()
    await bus.subscribe(mark, inbox)
    await bus.publish(mark, "mark")
    await inbox.wait(1)
    await bus.unsubscribe(mark, inbox)


async def test_publish_reaches_subscriber(bus: Bus) -> None:
    t, inbox = topic(), Inbox()
    await bus.subscribe(t, inbox)
    await bus.publish(t, '{"type":"message","body":"Grüezi ✓"}')
    await inbox.wait(1)
    assert inbox.got == [(t, '{"type":"message","body":"Grüezi ✓"}')]


async def test_one_publisher_keeps_its_order(bus: Bus) -> None:
    t, inbox = topic(), Inbox()
    await bus.subscribe(t, inbox)
    for i in range(300):
        await bus.publish(t, str(i))
    await inbox.wait(300)
    assert inbox.payloads == [str(i) for i in range(300)]


async def test_subscribe_returns_then_publish_is_delivered(bus: Bus) -> None:
    """No settling time: the first publish right after subscribe() returns is delivered."""
    inboxes = [(topic(), Inbox()) for _ in range(25)]
    for t, inbox in inboxes:
        await bus.subscribe(t, inbox)
        await bus.publish(t, "first")
    for t, inbox in inboxes:
        await inbox.wait(1)
        assert inbox.got == [(t, "first")]


async def test_unsubscribe_stops_delivery(bus: Bus) -> None:
    t, inbox = topic(), Inbox()
    await bus.subscribe(t, inbox)
    await bus.publish(t, "before")
    await inbox.wait(1)
    await bus.unsubscribe(t, inbox)
    assert bus.topics == 0
    await bus.publish(t, "after")
    await barrier(bus)
    assert inbox.payloads == ["before"]


async def test_unsubscribing_an_unknown_handler_is_harmless(bus: Bus) -> None:
    t, inbox = topic(), Inbox()
    await bus.unsubscribe(t, inbox)
    await bus.subscribe(t, inbox)
    await bus.unsubscribe(t, Inbox())
    await bus.publish(t, "still here")
    await inbox.wait(1)
    assert inbox.payloads == ["still here"]


async def test_every_handler_gets_each_payload_once(bus: Bus) -> None:
    t, first, second = topic(), Inbox(), Inbox()
    await bus.subscribe(t, first)
    await bus.subscribe(t, second)
    assert bus.topics == 1
    await bus.publish(t, "both")
    await first.wait(1)
    await second.wait(1)
    await bus.unsubscribe(t, first)
    await bus.publish(t, "second only")
    await second.wait(2)
    await barrier(bus)
    assert first.payloads == ["both"]
    assert second.payloads == ["both", "second only"]


async def test_failing_handler_does_not_starve_the_others(
    bus: Bus, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(topic: str, payload: str) -> None:
        raise RuntimeError("handler bug")

    t, inbox = topic(), Inbox()
    await bus.subscribe(t, broken)
    await bus.subscribe(t, inbox)
    await bus.publish(t, "one")
    await bus.publish(t, "two")
    await inbox.wait(2)
    assert inbox.payloads == ["one", "two"]
    assert "handler bug" in caplog.text


async def test_topics_are_isolated(bus: Bus) -> None:
    a, b, inbox_a, inbox_b = topic(), topic(), Inbox(), Inbox()
    await bus.subscribe(a, inbox_a)
    await bus.subscribe(b, inbox_b)
    await bus.publish(a, "for a")
    await bus.publish(b, "for b")
    await bus.publish(a + "x", "for nobody")
    await inbox_a.wait(1)
    await inbox_b.wait(1)
    await barrier(bus)
    assert inbox_a.got == [(a, "for a")]
    assert inbox_b.got == [(b, "for b")]


async def test_ping(bus: Bus) -> None:
    assert await bus.ping() is True


# ---- across processes (Redis only) -----------------------------------------------------------


@pytest.fixture(params=REDIS_BACKENDS)
async def two_nodes(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Bus, Bus]]:
    url = redis_url(request, request.param)
    a, b = create_bus(url, "a"), create_bus(url, "b")
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


async def test_two_processes_see_each_others_publishes(
    two_nodes: tuple[Bus, Bus],
) -> None:
    a, b = two_nodes
    t, on_a, on_b = topic(), Inbox(), Inbox()
    await a.subscribe(t, on_a)
    await b.subscribe(t, on_b)
    for i in range(50):
        await a.publish(t, f"a{i}")
        await b.publish(t, f"b{i}")
    await on_a.wait(100)
    await on_b.wait(100)
    for inbox in (on_a, on_b):
        assert [p for p in inbox.payloads if p[0] == "a"] == [f"a{i}" for i in range(50)]
        assert [p for p in inbox.payloads if p[0] == "b"] == [f"b{i}" for i in range(50)]


async def test_subscribed_in_one_process_published_in_another(
    two_nodes: tuple[Bus, Bus],
) -> None:
    a, b = two_nodes
    inboxes = [(topic(), Inbox()) for _ in range(20)]
    for t, inbox in inboxes:
        await b.subscribe(t, inbox)
        await a.publish(t, "first")
    for t, inbox in inboxes:
        await inbox.wait(1)
        assert inbox.got == [(t, "first")]


async def test_one_process_unsubscribing_leaves_the_other_subscribed(
    two_nodes: tuple[Bus, Bus],
) -> None:
    a, b = two_nodes
    t, on_a, on_b = topic(), Inbox(), Inbox()
    await a.subscribe(t, on_a)
    await b.subscribe(t, on_b)
    await a.unsubscribe(t, on_a)
    await a.publish(t, "from a")
    await on_b.wait(1)
    await barrier(a)
    assert on_a.payloads == []
    assert on_b.payloads == ["from a"]


@pytest.mark.redis
async def test_ping_is_false_while_redis_is_down_and_delivery_resumes_after() -> None:
    """Redis restarts (same port): ping reports it, and the subscriptions come back."""
    redis = RedisServer()
    redis.start()
    bus = RedisBus(redis.url, node_name="restart")
    try:
        await bus.start()
        t, inbox = topic(), Inbox()
        await bus.subscribe(t, inbox)
        redis.stop()
        assert await bus.ping() is False
        redis.start()
        assert await bus.ping() is True

        async def delivered_again() -> None:
            while not inbox.got:
                await bus.publish(t, "back")
                await asyncio.sleep(0.1)

        await asyncio.wait_for(delivered_again(), 10)
        assert set(inbox.payloads) == {"back"}
    finally:
        await bus.close()
        redis.stop()
