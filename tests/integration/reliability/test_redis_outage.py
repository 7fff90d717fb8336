"""Redis is killed for 10 s while a visitor on node a and an agent on node b exchange messages
without waiting for acks (PostgreSQL + Redis, two ``tresen serve`` processes). Sends during the
outage are stored and acknowledged; once Redis is back both nodes catch up from the database:
0 lost, 0 duplicated, order kept, nothing stuck."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.actors import Agent, Visitor
from tests.support.cluster import Exchange, Node, audit, prepare_database
from tests.support.services import RedisServer

TOTAL = 300
OUTAGE_SECONDS = 10  # the fault's length (Redis really is away this long), not a product timer
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


async def _health(node: Node) -> int:
    async with httpx.AsyncClient(timeout=30) as http:
        return (await http.get(node.url + "/healthz")).status_code


async def test_redis_down_for_ten_seconds_under_load(
    pg_url: str, own_redis: RedisServer, tmp_path: Path, nodes: list[Node]
) -> None:
    site_key = await prepare_database(pg_url, tmp_path)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        nodes.append(Node(name, tmp_path / name, pg_url, redis_url=own_redis.url))
    a, b = nodes
    await a.astart()
    await b.astart()
    anna = await Agent.login(b.url, "anna")
    visitor = await Visitor.arrive(a.url, site_key)
    ex = Exchange(visitor.client(), anna.client())
    health: list[tuple[int, int]] = []

    async def outage() -> None:
        await ex.when(lambda: ex.total_acked >= TOTAL // 3)
        own_redis.stop()
        health.append((await _health(a), await _health(b)))
        await asyncio.sleep(OUTAGE_SECONDS)
        own_redis.start()

    await ex.agent.start()
    await ex.visitor.start()
    try:
        await ex.open()
        await ex.run(visitor=TOTAL // 2 - 1, agent=TOTAL // 2, chaos=outage, timeout=120)
        await audit(ex, pg_url)
        assert health == [(503, 503)]  # both nodes said so while Redis was away
        for _ in range(300):  # a deadline: each node's client reconnects on its next call
            if (await _health(a), await _health(b)) == (200, 200):
                break
            await asyncio.sleep(0.1)
        assert (await _health(a), await _health(b)) == (200, 200)
    except BaseException:
        print("node a:", a.log_tail(), "\nnode b:", b.log_tail())
        raise
    finally:
        await ex.visitor.stop()
        await ex.agent.stop()
        await anna.close()
