"""Heartbeat: the gateway's sweep pings live connections and closes idle ones (injected clock)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tests.support.actors import Scenario, next_frame, raw_socket, running_scenario
from tests.support.server import InProcessServer
from websockets.exceptions import ConnectionClosed

from tresen.clock import ManualClock
from tresen.gateway.endpoints import SWEEP_SLICES
from tresen.scheduler import ManualScheduler

IDLE = 75.0  # settings.idle_timeout_seconds (default)


@pytest.fixture
async def clocked(tmp_path: Path) -> AsyncIterator[tuple[InProcessServer, Scenario, ManualClock]]:
    clock = ManualClock()
    async with running_scenario(tmp_path, clock=clock) as (srv, sc):
        yield srv, sc, clock


async def _open(url: str, origin: str | None) -> Any:
    ws = await raw_socket(url, origin=origin)
    welcome = await next_frame(ws, "welcome")
    assert welcome["heartbeat_seconds"] == 25.0
    return ws


async def _raw(ws: Any) -> dict[str, Any]:
    """The next ping or pong (other news, such as radar updates for agents, is skipped)."""
    while True:
        frame: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 5))
        if frame["type"] in ("ping", "pong"):
            return frame


async def test_sweep_pings_live_and_closes_idle_connections(
    clocked: tuple[InProcessServer, Scenario, ManualClock],
) -> None:
    srv, sc, clock = clocked
    gateway = srv.app.state.gateway
    visitor = await sc.visitor()
    quiet = await _open(visitor.ws_url(), visitor.origin)
    chatty = await _open(await sc.anna.ws_url(), None)
    try:
        clock.advance(IDLE - 5)
        await chatty.send('{"type":"pong"}')  # any frame counts as life
        await chatty.send('{"type":"ping"}')
        assert (await _raw(chatty))["type"] == "pong"  # the server has handled both

        clock.advance(4)  # quiet: 74 s silent; chatty: 4 s
        gateway.sweep()
        assert await _raw(quiet) == {"type": "ping"}
        assert await _raw(chatty) == {"type": "ping"}

        clock.advance(2)  # quiet: 76 s silent -> closed; chatty: 6 s -> pinged
        gateway.sweep()
        with pytest.raises(ConnectionClosed) as closed:
            await _raw(quiet)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4000, "idle timeout")
        assert await _raw(chatty) == {"type": "ping"}
        await chatty.send('{"type":"ping"}')
        assert (await _raw(chatty))["type"] == "pong"
        assert len(gateway.connections) == 1
    finally:
        await quiet.close()
        await chatty.close()


async def test_answering_pings_keeps_a_connection_open(
    clocked: tuple[InProcessServer, Scenario, ManualClock],
) -> None:
    srv, sc, clock = clocked
    visitor = await sc.visitor()
    ws = await _open(visitor.ws_url(), visitor.origin)
    try:
        for _ in range(10):  # 250 s in all, answering each ping
            clock.advance(25)
            srv.app.state.gateway.sweep()
            assert await _raw(ws) == {"type": "ping"}
            await ws.send('{"type":"pong"}')
        await ws.send('{"type":"ping"}')
        assert await _raw(ws) == {"type": "pong"}
    finally:
        await ws.close()


async def _pings_before_pong(ws: Any) -> int:
    """Pings the server sent before it answers a ping sent now (frames keep their order)."""
    await ws.send('{"type":"ping"}')
    pings = 0
    while (await _raw(ws))["type"] == "ping":
        pings += 1
    return pings


async def test_the_sweeper_pings_a_slice_at_a_time_each_socket_once_a_period(
    tmp_path: Path,
) -> None:
    """The timer pings one slice of the sockets every heartbeat_seconds / SWEEP_SLICES: each
    socket once a period, and sockets that joined one after another on different ticks (one
    pass over every socket in one turn stalled the loop and brought all pongs back at once)."""
    clock = ManualClock()
    scheduler = ManualScheduler(clock)
    async with running_scenario(tmp_path, clock=clock, scheduler=scheduler) as (srv, sc):
        visitor = await sc.visitor()
        sockets = [await _open(visitor.ws_url(), visitor.origin) for _ in range(4)]
        try:
            step = srv.settings.heartbeat_seconds / SWEEP_SLICES
            pinged_at: dict[int, list[int]] = {i: [] for i in range(len(sockets))}
            for tick in range(2 * SWEEP_SLICES):  # two periods
                scheduler.advance(step)
                for i, ws in enumerate(sockets):
                    pinged_at[i] += [tick] * await _pings_before_pong(ws)
            for ticks in pinged_at.values():  # once a period, a period apart
                assert len(ticks) == 2 and ticks[1] - ticks[0] == SWEEP_SLICES
            assert len({ticks[0] for ticks in pinged_at.values()}) == len(sockets)
        finally:
            for ws in sockets:
                await ws.close()
