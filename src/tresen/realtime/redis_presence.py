"""Presence over Redis: each node keeps its own count in a hash field and a heartbeat, so a node
that stops refreshing it (it crashed) no longer counts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tresen.aio import cancel_task
from tresen.realtime.presence import Presence

NODE_TTL = 30  # seconds a node counts without refreshing its heartbeat
PREFIX = "tresen:presence:"


class RedisPresence(Presence):
    def __init__(self, client: Any, node: str) -> None:
        self.client = client
        self.node = node
        self._beat: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._heartbeat()
        self._beat = asyncio.create_task(self._beat_forever(), name="presence-heartbeat")

    async def stop(self) -> None:
        await cancel_task(self._beat)

    async def _heartbeat(self) -> None:
        await self.client.zadd(PREFIX + "nodes", {self.node: time.time()})

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(NODE_TTL / 3)
            try:
                await self._heartbeat()
            except Exception:  # Redis away for a moment: try again on the next beat
                continue

    async def change(self, key: str, delta: int) -> None:
        left = await self.client.hincrby(PREFIX + key, self.node, delta)
        if int(left) <= 0:
            await self.client.hdel(PREFIX + key, self.node)

    async def count(self, key: str) -> int:
        fields = await self.client.hgetall(PREFIX + key)
        if not fields:
            return 0
        alive = await self.client.zrangebyscore(PREFIX + "nodes", time.time() - NODE_TTL, "+inf")
        live = {n.decode() if isinstance(n, bytes) else n for n in alive}
        total = 0
        for node, n in fields.items():
            name = node.decode() if isinstance(node, bytes) else node
            if name in live:
                total += max(0, int(n))
        return total
