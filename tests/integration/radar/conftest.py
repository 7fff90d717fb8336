"""Radar tests with manual time: a migrated server, a site, anna and ben (``world``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.support.actors import running_scenario
from tests.support.radar_world import World

from tresen.clock import ManualClock
from tresen.scheduler import ManualScheduler


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = ManualClock()
    timers = ManualScheduler(clock)
    # Days pass on the manual clock: the heartbeat sweep must not close the test's sockets.
    quiet = {"idle_timeout_seconds": 1e9, "heartbeat_seconds": 1e8}
    async with running_scenario(tmp_path, clock=clock, scheduler=timers, **quiet) as (srv, sc):
        w = World(srv, sc, clock, timers)
        yield w
        if w.srv is not srv:
            await w.srv.stop()
