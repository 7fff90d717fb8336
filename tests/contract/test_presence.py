"""Presence counts for both backends; with Redis, across nodes, and a dead node stops counting."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from tests.support.services import RedisServer
from tresen.realtime import redis_presence as presence_mod
from tresen.realtime.presence import MemoryPresence, Presence
from tresen.realtime.redis_presence import RedisPresence


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Presence, Presence]]:
    """Two 'nodes' sharing one presence store (the same object for memory)."""
    if request.param == "memory":
        one = MemoryPresence()
        yield one, one
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    client = redis.Redis.from_url(server.url)
    await client.flushdb()
    a, b = RedisPresence(client, "node-a"), RedisPresence(client, "node-b")
    await a.start()
    await b.start()
    yield a, b
    await a.stop()
    await b.stop()
    await client.aclose()


async def test_counts_add_up_across_nodes(backend: tuple[Presence, Presence]) -> None:
    a, b = backend
    await a.change("a:1", +1)
    await b.change("a:1", +1)
    assert await a.count("a:1") == 2 and await b.count("a:1") == 2
    await a.change("a:1", -1)
    assert await b.count("a:1") == 1
    await b.change("a:1", -1)
    assert await a.count("a:1") == 0
    assert await a.count("v:7") == 0  # keys are independent


@pytest.mark.redis
async def test_a_dead_node_no_longer_counts(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = redis.Redis.from_url(redis_server.url)
    await client.flushdb()
    crashed, alive = RedisPresence(client, "crashed"), RedisPresence(client, "alive")
    await crashed.start()
    await alive.start()
    await crashed.change("a:1", +1)
    assert await alive.count("a:1") == 1
    await crashed.stop()  # stops heartbeating, as a killed process would
    later = time.time() + presence_mod.NODE_TTL + 1
    monkeypatch.setattr(presence_mod.time, "time", lambda: later)
    await alive._heartbeat()  # the survivor keeps beating
    assert await alive.count("a:1") == 0
    await alive.stop()
    await client.aclose()
