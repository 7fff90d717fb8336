"""A close the server decided (idle 4000, slow consumer 4008) really ends the connection: a
peer that stopped reading never takes the close frame, so after ``CLOSE_GRACE_SECONDS`` (on
the injected scheduler) the transport is aborted and the socket leaves the gateway and the hub,
instead of staying open forever, silent, and counted as connected for routing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.support.actors import Scenario, running_scenario
from tests.support.server import InProcessServer
from tests.support.stalled import StalledClient

from tresen.clock import ManualClock
from tresen.gateway.connection import CLOSE_GRACE_SECONDS, Connection
from tresen.realtime.protocol import Author, TypingOut
from tresen.realtime.topics import agent_topic
from tresen.scheduler import ManualScheduler

QUEUE_LIMIT = 64


@pytest.fixture
async def manual(
    tmp_path: Path,
) -> AsyncIterator[tuple[InProcessServer, Scenario, ManualScheduler]]:
    clock = ManualClock()
    scheduler = ManualScheduler(clock)
    async with running_scenario(
        tmp_path, clock=clock, scheduler=scheduler, send_queue_limit=QUEUE_LIMIT
    ) as (srv, sc):
        yield srv, sc, scheduler


async def _until(predicate: object, what: str) -> None:
    """A deadline, not a bound: the condition is expected in milliseconds."""
    for _ in range(2000):
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def _stall(conn: Connection) -> None:
    """Send large frames until the socket's buffers are full and frames wait in its queue."""
    frame = TypingOut(
        conversation_id=1, author=Author(kind="bot", name="x" * 16000), is_typing=True
    ).frame()
    for _ in range(2000):
        while len(conn.queue) < 8:
            conn.send(frame)
            await asyncio.sleep(0)
        before = len(conn.queue)
        await asyncio.sleep(0.05)
        if len(conn.queue) == before:
            return  # nothing moved: the peer's window and our buffers are full
    raise AssertionError("the socket never filled up")


@pytest.mark.parametrize("how", ["idle", "slow"])
async def test_a_close_the_peer_never_takes_aborts_the_connection(
    manual: tuple[InProcessServer, Scenario, ManualScheduler], how: str
) -> None:
    srv, sc, scheduler = manual
    gateway = srv.app.state.gateway
    stalled = await StalledClient.connect(await sc.anna.ws_url())
    await _until(lambda: len(gateway.connections) == 1, "the socket connected")
    conn = next(iter(gateway.connections))
    await _stall(conn)
    if how == "idle":
        for _ in range(int(srv.settings.idle_timeout_seconds + srv.settings.heartbeat_seconds)):
            scheduler.advance(1)  # until its slice of the sweep finds it idle
            if conn.closed:
                break
    else:
        while not conn.closed:
            conn.send('{"type":"ping"}')
    assert conn.closed
    await asyncio.sleep(0.05)
    assert conn in gateway.connections  # the close frame cannot get through...

    scheduler.advance(CLOSE_GRACE_SECONDS)  # ...so after the grace period the transport goes
    await _until(lambda: conn not in gateway.connections, "the connection left the gateway")
    assert srv.rt.hub.subscribers(agent_topic(sc.anna.id)) == 0
    code, _ = await stalled.read_to_end()
    assert code is None  # dropped, not closed: it never read far enough to see a close frame
    stalled.close()
