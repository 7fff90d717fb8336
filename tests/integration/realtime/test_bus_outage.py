"""Bus faults over a real Redis: what was published while this process's subscriber connection
was away is caught up from the database once it is back (0 lost, 0 duplicated, 0 stuck), and
/healthz says 503 while the bus is down."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from tests.support.actors import Scenario, next_frame, raw_socket, running_scenario
from tests.support.server import InProcessServer
from tests.support.services import RedisServer

pytestmark = [pytest.mark.redis]


@pytest.fixture
def own_redis() -> Any:
    """A Redis of this test's own: it is stopped and started again."""
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def on_redis(
    tmp_path: Path, own_redis: RedisServer
) -> AsyncIterator[tuple[InProcessServer, Scenario]]:
    async with running_scenario(tmp_path, redis_url=own_redis.url) as setup:
        yield setup


async def _open_chat(sc: Scenario) -> tuple[Any, int]:
    visitor = await sc.visitor()
    ws = await raw_socket(visitor.ws_url())
    await next_frame(ws, "welcome")
    await ws.send('{"type":"resume","conversations":{}}')
    await ws.send(json.dumps({"type": "send", "client_msg_id": "first", "body": "hello"}))
    conv = (await next_frame(ws, "ack"))["conversation_id"]
    return ws, int(conv)


async def _messages(ws: Any, conv: int, upto: int) -> list[int]:
    """The seqs of ``conv``'s message frames until ``upto`` arrived (a deadline, not a bound)."""
    seqs: list[int] = []
    while not seqs or seqs[-1] < upto:
        frame = await next_frame(ws, "message", timeout=30)
        if frame["conversation_id"] == conv:
            seqs.append(frame["seq"])
    return seqs


async def _agent_says(sc: Scenario, conv: int, body: str) -> int:
    r = await sc.anna.post(f"/api/conversations/{conv}/messages", json={"body": body})
    assert r.status_code == 201, r.text
    return int(r.json()["seq"])


async def test_messages_published_while_the_subscriber_was_away_are_caught_up(
    on_redis: tuple[InProcessServer, Scenario], own_redis: RedisServer
) -> None:
    srv, sc = on_redis
    ws, conv = await _open_chat(sc)
    try:
        assert await _messages(ws, conv, 1) == [1]
        # The doorbell does not ring for three messages (as when Redis or this node's
        # subscriber connection is away): they are stored, never published.
        bus = srv.rt.bus
        ring = bus.publish_nowait
        bus.publish_nowait = lambda topic, payload: None
        try:
            seqs = [await _agent_says(sc, conv, f"while away {i}") for i in range(3)]
        finally:
            bus.publish_nowait = ring
        assert seqs == [2, 3, 4]
        # The subscriber connection drops and comes back.
        admin = redis.Redis.from_url(own_redis.url)
        await admin.client_kill_filter(_type="pubsub")
        await admin.aclose()
        # Once the subscriber is back, the gateway fills the conversation from the database.
        assert await _messages(ws, conv, 4) == [2, 3, 4]  # none lost, none twice, in order
        assert await _agent_says(sc, conv, "after") == 5
        assert await _messages(ws, conv, 5) == [5]
    finally:
        await ws.close()


async def test_health_is_503_while_redis_is_down_and_200_after(
    on_redis: tuple[InProcessServer, Scenario], own_redis: RedisServer
) -> None:
    srv, sc = on_redis
    ws, conv = await _open_chat(sc)
    try:
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as http:
            assert (await http.get("/healthz")).status_code == 200
            own_redis.stop()
            down = await http.get("/healthz")
            assert down.status_code == 503 and down.json()["bus"]["ok"] is False
            # A message sent meanwhile is stored and acknowledged: the bus is not the log.
            assert await _agent_says(sc, conv, "during the outage") == 2
            own_redis.start()
            for _ in range(300):  # a deadline: the client reconnects within a second or two
                if (await http.get("/healthz")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert (await http.get("/healthz")).status_code == 200
        assert await _messages(ws, conv, 2) == [1, 2]
    finally:
        await ws.close()


async def test_the_redis_pool_waits_instead_of_raising(
    own_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many Redis calls at once (first sends counting their limit, presence, publishes) wait for
    a pooled connection; none fails because the pool is busy."""
    from tresen.realtime import redis_bus
    from tresen.security.ratelimit import RedisRateLimiter

    monkeypatch.setattr(redis_bus, "POOL_SIZE", 4)
    bus = redis_bus.RedisBus(own_redis.url)
    try:
        limiter = RedisRateLimiter(bus.client)
        allowed = await asyncio.gather(*(limiter.hit(f"k{i}", 1, 60) for i in range(150)))
        assert all(allowed)
        counts = await asyncio.gather(*(limiter.count(f"k{i}", 60) for i in range(150)))
        assert counts == [1] * 150  # each was counted: none failed open on a busy pool
    finally:
        await bus.close()
