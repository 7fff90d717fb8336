"""One contract for the rate limiters: in memory, on one Redis, on Redis Cluster (shared by
every node)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis

from tests.support.redis_cluster import RedisClusterServer
from tests.support.services import RedisServer
from tresen.realtime.redis_cluster_url import cluster_client
from tresen.security.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("cluster", marks=pytest.mark.redis),
    ]
)
async def limiters(request: pytest.FixtureRequest) -> AsyncIterator[tuple[RateLimiter, ...]]:
    """Two nodes' limiters over one store (the same object in memory)."""
    if request.param == "memory":
        one = MemoryRateLimiter()
        yield one, one
        return
    clients: list[Any] = []
    for _ in range(2):
        if request.param == "cluster":
            cluster: RedisClusterServer = request.getfixturevalue("redis_cluster")
            clients.append(cluster_client(cluster.url))
        else:
            server: RedisServer = request.getfixturevalue("redis_server")
            clients.append(redis.Redis.from_url(server.url))
    yield tuple(RedisRateLimiter(c) for c in clients)
    for c in clients:
        await c.aclose()


def key() -> str:
    return "login:" + uuid.uuid4().hex[:10]  # the Redis servers are shared by the session


async def test_limit_is_shared_between_nodes(limiters: tuple[RateLimiter, ...]) -> None:
    a, b = limiters
    k = key()
    hits = [await (a if i % 2 else b).hit(k, 3, 60) for i in range(5)]
    assert hits == [True, True, True, False, False]
    assert await a.count(k, 60) == 5 and await b.count(k, 60) == 5


async def test_keys_are_independent(limiters: tuple[RateLimiter, ...]) -> None:
    a, b = limiters
    k1, k2 = key(), key()
    for _ in range(2):
        await a.hit(k1, 2, 60)
    assert not await b.hit(k1, 2, 60)
    assert await b.hit(k2, 2, 60)
    assert await a.count(key(), 60) == 0


async def test_a_claim_is_single_use_across_nodes(limiters: tuple[RateLimiter, ...]) -> None:
    a, b = limiters
    k = key()
    assert await a.claim(k, 60) is True
    assert await b.claim(k, 60) is False
    assert await a.claim(k, 60) is False
    assert await b.claim(key(), 60) is True
