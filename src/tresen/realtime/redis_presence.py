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


# Hand a key over from a dead holder to this node, unless someone else did first.
SWAP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
HOLD_TTL = 24 * 3600  # a key held by nobody alive is taken over at once; this only cleans up


class RedisPresence(Presence):
    def __init__(self, client: Any, node: str) -> None:
        self.client = client
        self.node = node
        self._beat: asyncio.Task[None] | None = None
        self._change = client.register_script(CHANGE)
        self._swap = client.register_script(SWAP)
        self._release = client.register_script(RELEASE)

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

    async def claim(self, key: str) -> str | None:
        held = PREFIX + "held:" + key
        for _ in range(3):
            if await self.client.set(held, self.node, nx=True, ex=HOLD_TTL):
                return None
            raw = await self.client.get(held)
            if raw is None:
                continue  # let go meanwhile: try again
            holder = raw.decode() if isinstance(raw, bytes) else str(raw)
            if holder == self.node:
                return None
            beat = await self.client.zscore(PREFIX + "nodes", holder)
            if beat is not None and float(beat) >= time.time() - NODE_TTL:
                return holder
            if await self._swap(keys=[held], args=[holder, self.node, HOLD_TTL]):
                return None  # the holder died: this node takes over
        raw = await self.client.get(held)
        holder = raw.decode() if isinstance(raw, bytes) else raw
        return None if holder in (None, self.node) else str(holder)

    async def release(self, key: str) -> None:
        await self._release(keys=[PREFIX + "held:" + key], args=[self.node])
