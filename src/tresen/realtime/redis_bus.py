"""Redis pub/sub backend for the bus: one publishing client, one subscriber connection a process."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

from tresen.aio import cancel_task
from tresen.realtime.bus import Bus

log = logging.getLogger(__name__)
PREFIX = "tresen:"
POOL_SIZE = 64
POOL_WAIT_SECONDS = 10


class RedisBus(Bus):
    def __init__(self, url: str, *, node_name: str = "node") -> None:
        super().__init__()
        self.url = url
        # A bounded pool that waits for a free connection instead of raising when many
        # publishes, limits and presence updates run at once.
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=POOL_SIZE, timeout=POOL_WAIT_SECONDS, health_check_interval=15
        )
        self.client: redis.Redis = redis.Redis(connection_pool=pool)
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._confirm: dict[str, asyncio.Future[None]] = {}
        self._node_topic = PREFIX + "node:" + node_name

    async def start(self) -> None:
        self._pubsub = self.client.pubsub()
        # An always-present subscription keeps the reader's connection open and reading.
        await self._subscribe_confirmed(self._node_topic)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read_loop(), name="redis-bus-reader")

    async def close(self) -> None:
        await self._stop_sending()
        await cancel_task(self._reader)
        self._reader = None
        if self._pubsub is not None:
            await self._pubsub.aclose()
        await self.client.aclose(close_connection_pool=True)  # the pool is ours

    async def publish(self, topic: str, payload: str) -> None:
        await self.client.publish(PREFIX + topic, payload)

    async def _publish_many(self, batch: list[tuple[str, str]]) -> None:
        """One round trip for a batch of queued publishes (order kept)."""
        async with self.client.pipeline(transaction=False) as pipe:
            for topic, payload in batch:
                pipe.publish(PREFIX + topic, payload)
            await pipe.execute()

    async def ping(self) -> bool:
        """Two tries: after Redis restarts, a pooled connection fails once before it renews."""
        for _ in range(2):
            try:
                return bool(await self.client.ping())
            except (RedisError, OSError):
                continue
        return False

    async def _listen(self, topic: str) -> None:
        await self._subscribe_confirmed(PREFIX + topic)

    async def _unlisten(self, topic: str) -> None:
        try:
            await self._pubsub.unsubscribe(PREFIX + topic)
        except (RedisError, OSError):
            log.warning("redis unsubscribe of %s failed", topic)

    async def _subscribe_confirmed(self, channel: str) -> None:
        """SUBSCRIBE and wait until Redis confirms it, so no publish after return is missed."""
        loop = asyncio.get_running_loop()
        fut = self._confirm.get(channel)
        if fut is None or fut.done():
            fut = self._confirm[channel] = loop.create_future()
        await self._pubsub.subscribe(channel)
        if self._reader is None:
            # Before the reader runs (at start), read the confirmation ourselves.
            while not fut.done():
                msg = await self._pubsub.get_message(timeout=1.0)
                if msg:
                    self._handle(msg)
            return
        await asyncio.wait_for(asyncio.shield(fut), timeout=10)

    async def _read_loop(self) -> None:
        lost = False
        while True:
            try:
                msg = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                if not lost:
                    log.warning("redis bus connection lost; reconnecting", exc_info=True)
                lost = True
                await asyncio.sleep(0.5)
                continue
            if lost:
                # Reconnected, subscriptions renewed (redis-py re-subscribes on connect): what
                # was published meanwhile never reached us.
                lost = False
                log.warning("redis bus connection back; catching up from the database")
                self._reconnected()
            if msg:
                self._handle(msg)

    def _reconnected(self) -> None:
        for callback in list(self.reconnected):
            try:
                callback()
            except Exception:
                log.exception("bus reconnect callback failed")

    def _handle(self, msg: dict[str, Any]) -> None:
        channel = msg["channel"].decode() if isinstance(msg["channel"], bytes) else msg["channel"]
        kind = msg["type"]
        if kind == "subscribe":
            fut = self._confirm.pop(channel, None)
            if fut is not None and not fut.done():
                fut.set_result(None)
        elif kind == "message" and channel.startswith(PREFIX):
            data = msg["data"]
            payload = data.decode() if isinstance(data, bytes) else data
            self._dispatch(channel[len(PREFIX) :], payload)
