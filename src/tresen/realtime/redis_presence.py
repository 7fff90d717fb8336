"""Presence over Redis: each node keeps its own count in a hash field and a heartbeat, so a node
that stops refreshing it (it crashed) no longer counts.

Works alike on one Redis and on Redis Cluster: every command and the script touch one key (a
key's hash, or the nodes' heartbeat set), so no two keys ever need to share a slot."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tresen.aio import cancel_task
from tresen.realtime.presence import Presence

NODE_TTL = 30  # seconds a node counts without refreshing its heartbeat
PREFIX = "tresen:presence:"
# A node's count for one key, changed and dropped at zero in one step (no increment between
# the decrement and the HDEL can be lost).
CHANGE = """
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return left
"""


class RedisPresence(Presence):
    def __init__(self, client: Any, node: str) -> None:
        self.client = client
        self.node = node
        self._beat: asyncio.Task[None] | None = None
        self._change = client.register_script(CHANGE)

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
        await self._change(keys=[PREFIX + key], args=[self.node, delta])

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
