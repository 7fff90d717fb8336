"""Radar journeys with manual time: the server, its scenario and clock, and the helpers a
journey needs (rules, the live list, the stored offers, restarts)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from tests.support.actors import Scenario
from tests.support.browsing import Tab
from tests.support.server import InProcessServer
from tresen.clock import ManualClock
from tresen.scheduler import ManualScheduler
from tresen.storage.models import RadarOffer


class World:
    def __init__(
        self, srv: InProcessServer, sc: Scenario, clock: ManualClock, timers: ManualScheduler
    ) -> None:
        self.srv, self.sc, self.clock, self.timers = srv, sc, clock, timers

    async def add_rule(self, rule: dict[str, Any]) -> int:
        r = await self.sc.anna.post("/api/radar/rules", json={"rule": rule})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    async def live(self, visitor_id: int) -> dict[str, Any] | None:
        rows = (await self.sc.anna.http.get("/api/radar/visitors")).json()
        return next((v for v in rows if v["id"] == visitor_id), None)

    async def offers(self) -> list[RadarOffer]:
        async with self.srv.rt.db.read() as s:
            return list((await s.execute(select(RadarOffer).order_by(RadarOffer.id))).scalars())

    async def closed(self, tab: Tab) -> None:
        """The tab was closed and the server has seen its socket go."""
        await tab.close()
        for _ in range(500):
            if self.srv.rt.radar.away(tab.visitor.id):
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the server still counts the tab")

    def advance(self, seconds: float) -> None:
        self.timers.advance(seconds)

    async def restart(self) -> None:
        """Stop the server (it writes its visits through) and start a fresh one on the same
        database and port: nothing of the old process's memory survives."""
        await self.srv.stop()
        self.srv = InProcessServer(self.srv.settings, clock=self.clock, scheduler=self.timers)
        await self.srv.start()


async def settled(tab: Tab, world: World) -> None:
    """The tab's frames were handled and the offers they caused are stored."""
    await tab.handled()
    await world.srv.rt.events.drain()
