"""Redis is killed for 10 s while a visitor on node a and an agent on node b exchange messages
without waiting for acks (PostgreSQL + Redis, two ``tresen serve`` processes). Sends during the
outage are stored and acknowledged; once Redis is back both nodes catch up from the database:
0 lost, 0 duplicated, order kept, nothing stuck."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.actors import Agent, Visitor
from tests.support.cluster import (
    Node,
    audit,
    stored_messages,
    two_nodes,
    visitor_meets_agent,
)
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
    site_key, a, b = await two_nodes(pg_url, own_redis.url, tmp_path, nodes)
    health: list[tuple[int, int]] = []
    async with visitor_meets_agent(a, b, site_key) as (ex, _visitor, _anna):

        async def outage() -> None:
            await ex.when(lambda: ex.total_acked >= TOTAL // 3)
            own_redis.stop()
            health.append((await _health(a), await _health(b)))
            await asyncio.sleep(OUTAGE_SECONDS)
            own_redis.start()

        await ex.open()
        await ex.run(visitor=TOTAL // 2 - 1, agent=TOTAL // 2, chaos=outage, timeout=120)
        await audit(ex, pg_url)
        assert health == [(503, 503)]  # both nodes said so while Redis was away
        for _ in range(300):  # a deadline: each node's client reconnects on its next call
            if (await _health(a), await _health(b)) == (200, 200):
                break
            await asyncio.sleep(0.1)
        assert (await _health(a), await _health(b)) == (200, 200)


VISITORS = int(os.environ.get("TRESEN_OUTAGE_VISITORS", "200"))
EACH = 4  # messages per side and conversation after the first


async def test_redis_down_for_ten_seconds_with_many_visitors(
    pg_url: str, own_redis: RedisServer, tmp_path: Path, nodes: list[Node]
) -> None:
    """200 visitors spread over both nodes, each in a conversation that two agent consoles
    follow (anna on b answers in every one, ben on a watches the inbox); Redis goes for 10 s
    while they all send. Afterwards every client has every message of its conversations once,
    in order, with nothing pending: 0 lost, 0 duplicated, 0 stuck."""
    site_key, a, b = await two_nodes(pg_url, own_redis.url, tmp_path, nodes)
    anna_login = await Agent.login(b.url, "anna")
    ben_login = await Agent.login(a.url, "ben")
    anna, ben = anna_login.client(), ben_login.client()
    guests = await asyncio.gather(
        *(Visitor.arrive((a, b)[i % 2].url, site_key) for i in range(VISITORS))
    )
    clients = [g.client() for g in guests]
    sent: dict[int, list[str]] = {}
    acked: dict[str, int] = {}
    convs: list[int] = []

    try:
        await anna.start()
        await ben.start()
        await asyncio.gather(*(c.start() for c in clients))
        firsts = await asyncio.gather(
            *(c.send(f"guest {i}: hello", client_msg_id=f"g{i}-0") for i, c in enumerate(clients))
        )
        for c, cmid in zip(clients, firsts, strict=True):
            conv = (await c.wait_ack(cmid, 60))["conversation_id"]
            convs.append(conv)
            sent[conv] = [cmid]
        everyone = lambda: all(  # noqa: E731
            len(agent.messages.get(conv, [])) >= 1 for agent in (anna, ben) for conv in convs
        )
        await anna.wait_for(everyone, 60)
        await ben.wait_for(everyone, 60)

        async def pump(i: int) -> None:
            conv, c = convs[i], clients[i]
            for k in range(1, EACH + 1):
                sent[conv].append(await c.send(f"guest {i} #{k}", conv, client_msg_id=f"g{i}-{k}"))
                sent[conv].append(
                    await anna.send(f"anna to {i} #{k}", conv, client_msg_id=f"a{i}-{k}")
                )
                await asyncio.sleep(0.05)

        async def outage() -> None:
            target = VISITORS * (1 + 2 * EACH) // 3
            deadline = time.monotonic() + 120
            while sum(len(c.acks) for c in [*clients, anna]) < target:
                assert time.monotonic() < deadline, "the exchange did not get going"
                await asyncio.sleep(0.01)
            own_redis.stop()
            await asyncio.sleep(OUTAGE_SECONDS)
            own_redis.start()

        await asyncio.gather(*(pump(i) for i in range(VISITORS)), outage())

        # Settled: nothing pending anywhere, every client has every message of its conversations.
        want = {conv: len(cmids) for conv, cmids in sent.items()}

        def done(client: Any, mine: list[int]) -> bool:
            return not client.pending and all(
                len(client.messages.get(conv, [])) >= want[conv] for conv in mine
            )

        await anna.wait_for(lambda: done(anna, convs), 120)
        await ben.wait_for(lambda: done(ben, convs), 120)
        for i, c in enumerate(clients):
            await c.wait_for(lambda c=c, i=i: done(c, [convs[i]]), 60)

        for client in [*clients, anna]:
            acked.update({cmid: f["seq"] for cmid, f in client.acks.items()})
        for side, client, mine in [
            ("anna", anna, convs),
            ("ben", ben, convs),
            *[(f"guest {i}", c, [convs[i]]) for i, c in enumerate(clients)],
        ]:
            assert client.stats.duplicates == 0, f"{side} was sent duplicates"
            assert client.stats.out_of_order == 0, f"{side} saw seqs out of order"
            assert client.stats.errors == [], f"{side} got errors: {client.stats.errors[:3]}"
            for conv in mine:
                frames = client.messages[conv]
                assert [f["seq"] for f in frames] == list(range(1, want[conv] + 1)), (side, conv)
                assert sorted(f["client_msg_id"] for f in frames) == sorted(sent[conv])
        for conv in convs:
            stored = await stored_messages(pg_url, conv)
            assert [seq for seq, _ in stored] == list(range(1, want[conv] + 1))
            assert {cmid: seq for seq, cmid in stored} == {c: acked[c] for c in sent[conv]}
        print(
            f"redis outage: {VISITORS} visitors, {sum(want.values())} messages,"
            f" {OUTAGE_SECONDS} s without Redis: 0 lost, 0 duplicated, 0 stuck"
        )
    except BaseException:
        print("node a:", a.log_tail(), "\nnode b:", b.log_tail())
        raise
    finally:
        await asyncio.gather(*(c.stop() for c in clients), return_exceptions=True)
        await anna.stop()
        await ben.stop()
        await anna_login.close()
        await ben_login.close()
