"""A client that stops reading is disconnected (4008) once its send queue is full; the server
never buffers for it without bound, and everyone else carries on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.support.actors import Scenario, next_frame, raw_socket, running_scenario
from tests.support.server import InProcessServer
from tests.support.stalled import StalledClient

from tresen.gateway.connection import Connection
from tresen.realtime.protocol import Author, TypingOut
from tresen.realtime.topics import inbox_topics

QUEUE_LIMIT = 32
FRAMES = 3000  # about 24 MB in all: far more than socket buffers hold


@pytest.fixture
async def small_queue(tmp_path: Path) -> AsyncIterator[tuple[InProcessServer, Scenario]]:
    async with running_scenario(tmp_path, send_queue_limit=QUEUE_LIMIT) as setup:
        yield setup


def _agent_connection(srv: InProcessServer, agent_id: int) -> Connection:
    conns = [c for c in srv.app.state.gateway.connections if c.who.id == agent_id]
    assert len(conns) == 1
    return conns[0]


async def test_slow_consumer_is_cut_off_at_the_queue_limit(
    small_queue: tuple[InProcessServer, Scenario],
) -> None:
    srv, sc = small_queue
    slow = await StalledClient.connect(await sc.anna.ws_url())
    fast = await raw_socket(await sc.ben.ws_url(), origin=None)
    await next_frame(fast, "welcome")
    await asyncio.sleep(0.1)
    slow_conn = _agent_connection(srv, sc.anna.id)
    fast_conn = _agent_connection(srv, sc.ben.id)
    received = 0

    async def read_fast() -> None:
        nonlocal received
        while received < FRAMES:
            if json.loads(await fast.recv())["type"] == "typing":
                received += 1

    reader = asyncio.create_task(read_fast())
    high_water = 0
    for i in range(FRAMES):
        name = f"{i:06d}" + "x" * 8000
        frame = TypingOut(conversation_id=1, author=Author(kind="bot", name=name), is_typing=True)
        for topic in inbox_topics(1):  # anna (admin): every site's; ben: his site's
            await srv.rt.bus.publish(topic, frame.frame())
        high_water = max(high_water, len(slow_conn.queue))
        while len(fast_conn.queue) > QUEUE_LIMIT // 4:  # noqa: ASYNC110 -- at its pace
            await asyncio.sleep(0.001)
    await asyncio.wait_for(reader, 30)

    # The slow client was dropped once its queue was full; it never held more than the limit.
    assert slow_conn.closed
    assert high_water <= QUEUE_LIMIT
    assert len(slow_conn.queue) == 0
    # The fast client got every frame, in order.
    assert received == FRAMES

    # When the slow client finally reads, it finds the close code after what was in flight.
    assert await slow.read_to_close() == 4008
    slow.close()

    # The server is fine: the fast client still talks, a new connection works.
    await fast.send('{"type":"ping"}')
    assert (await next_frame(fast))["type"] == "pong"
    again = await raw_socket(await sc.anna.ws_url(), origin=None)
    assert (await next_frame(again, "welcome"))["principal"]["id"] == sc.anna.id
    await again.close()
    await fast.close()
