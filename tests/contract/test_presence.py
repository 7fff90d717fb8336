"""Presence counts for every backend (memory, one Redis, Redis Cluster); with Redis, across nodes,
and a dead node stops counting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis

from tests.support.redis_cluster import RedisClusterServer
from tests.support.services import RedisServer
from tresen.realtime import redis_presence as presence_mod
from tresen.realtime.presence import MemoryPresence, Presence
from tresen.realtime.redis_cluster_url import cluster_client
from tresen.realtime.redis_presence import RedisPresence


def redis_client(request: pytest.FixtureRequest, backend: str) -> Any:
    """A client of the session's single Redis or of its Redis Cluster."""
    if backend == "cluster":
        cluster: RedisClusterServer = request.getfixturevalue("redis_cluster")
        return cluster_client(cluster.url)
    server: RedisServer = request.getfixturevalue("redis_server")
    return redis.Redis.from_url(server.url)


REDIS_BACKENDS = [
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("cluster", marks=pytest.mark.redis),
]


@pytest.fixture(params=["memory", *REDIS_BACKENDS])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Presence, Presence]]:
    """Two 'nodes' sharing one presence store (the same object for memory)."""
    if request.param == "memory":
        one = MemoryPresence()
        yield one, one
        return
    client = redis_client(request, request.param)
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


@pytest.mark.parametrize("store", REDIS_BACKENDS)
async def test_a_dead_node_no_longer_counts(
    store: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = redis_client(request, store)
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


async def test_concurrent_changes_add_up(backend: tuple[Presence, Presence]) -> None:
    """A tab closing while another opens, again and again: no opening is lost between a count
    reaching zero and its removal."""
    a, b = backend
    await a.change("v:9", +1)
    for _ in range(30):
        await asyncio.gather(a.change("v:9", -1), a.change("v:9", +1))
    await b.change("v:9", +1)
    assert await a.count("v:9") == 2


@pytest.mark.parametrize("store", REDIS_BACKENDS)
async def test_one_live_node_holds_a_key_until_it_lets_go_or_dies(
    store: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = redis_client(request, store)
    await client.flushdb()
    a, b, c = (RedisPresence(client, n) for n in ("a", "b", "c"))
    for node in (a, b, c):
        await node.start()
    assert await a.claim("visit:1") is None  # a holds it
    assert await a.claim("visit:1") is None  # and keeps holding it
    assert await b.claim("visit:1") == "a"
    assert await b.claim("visit:2") is None  # keys are independent
    await b.release("visit:1")  # not b's to let go
    assert await c.claim("visit:1") == "a"
    await a.release("visit:1")
    assert await c.claim("visit:1") is None
    assert await a.claim("visit:1") == "c"
    await c.stop()  # stops heartbeating, as a killed process would
    later = time.time() + presence_mod.NODE_TTL + 1
    monkeypatch.setattr(presence_mod.time, "time", lambda: later)
    await b._heartbeat()
    await a._heartbeat()
    results = await asyncio.gather(a.claim("visit:1"), b.claim("visit:1"))
    assert results in ([None, "a"], ["b", None])  # exactly one survivor took it over
    for node in (a, b):
        await node.stop()
    await client.aclose()


async def test_one_process_holds_everything() -> None:
    one = MemoryPresence()
    assert await one.claim("visit:1") is None
    await one.release("visit:1")
    assert await one.claim("visit:1") is None
