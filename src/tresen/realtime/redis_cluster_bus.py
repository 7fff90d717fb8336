"""Redis Cluster backend for the bus: sharded pub/sub (``SPUBLISH`` / ``SSUBSCRIBE``).

A topic is a shard channel. The cluster hashes its whole name to a slot (no hash tag), so topics
spread over the masters and the bus grows with them: a master carries only the traffic of its
own slots, unlike classic ``PUBLISH`` which every cluster node repeats to every other.

Publishing goes through the cluster client, which follows ``MOVED`` and failovers. Subscribing
needs one connection to each master that serves a subscribed topic (``_Shard``). When a shard's
connection breaks (its master died), when Redis takes a slot away from it (it sends
``sunsubscribe`` on a failover or a slot migration) or answers ``MOVED``, the keeper refreshes
the slot map, subscribes every topic again on its current master, and then calls the
``reconnected`` callbacks: what was published meanwhile never reached this process, and the
listeners catch up from the database (as after an outage of the single Redis).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import (
    RedisClusterException,
    RedisError,
    ResponseError,
    SlotNotCoveredError,
)
from redis.maint_notifications import MaintNotificationsConfig
from redis.retry import Retry

from tresen.aio import cancel_task
from tresen.realtime.bus import Bus

log = logging.getLogger(__name__)
PREFIX = "tresen:"
CONFIRM_SECONDS = 5  # a master confirms SSUBSCRIBE within this, or the shard counts as broken
WATCH_SECONDS = 5  # each shard is pinged this often; silent for 3 rounds, it counts as broken
RETRY_MAX_SECONDS = 1.0
STALE_MAP_SECONDS = 10  # how long a master that gave a slot up is not believed to serve it
TROUBLE = (RedisError, RedisClusterException, OSError, TimeoutError)


class _Shard:
    """One connection to one master, holding the subscriptions of the topics in its slots."""

    def __init__(self, bus: RedisClusterBus, node: ClusterNode) -> None:
        self.bus = bus
        self.name = node.name
        kwargs = dict(node.connection_kwargs)
        # Ours to read: RESP2 (subscription messages are plain replies, not push frames), no
        # retries that would reconnect to the same (maybe dead) master behind our back, no
        # health check that would read replies meant for the reader.
        kwargs.pop("oss_cluster_maint_notifications_handler", None)
        kwargs.update(
            protocol=2,
            maint_notifications_config=MaintNotificationsConfig(enabled=False),
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        self.conn = node.connection_class(**kwargs)
        self.channels: set[str] = set()
        # Replies come in command order: what each SSUBSCRIBE / SUNSUBSCRIBE we sent awaits.
        self._asked: deque[tuple[str, str, asyncio.Future[None] | None]] = deque()
        self._reader: asyncio.Task[None] | None = None
        self.dead = False
        self.last_seen = time.monotonic()

    async def open(self) -> None:
        await self.conn.connect()
        self._reader = asyncio.create_task(self._read_loop(), name=f"redis-shard-{self.name}")

    async def close(self) -> None:
        self.dead = True
        await cancel_task(self._reader)
        self._fail_asked(RedisConnectionError("shard closed"))
        await self.conn.disconnect()

    async def subscribe(self, channels: list[str]) -> None:
        """SSUBSCRIBE each channel (one command each: they may lie in different slots) in one
        write, and wait until the master confirmed all of them."""
        loop = asyncio.get_running_loop()
        waits = []
        for channel in channels:
            fut: asyncio.Future[None] = loop.create_future()
            self._asked.append(("ssubscribe", channel, fut))
            waits.append(fut)
        await self._send([("SSUBSCRIBE", c) for c in channels])
        try:
            await asyncio.wait_for(asyncio.gather(*waits), CONFIRM_SECONDS + len(channels) / 1000)
        except TimeoutError as exc:
            self._broke(exc)
            raise
        self.channels.update(channels)

    async def unsubscribe(self, channel: str) -> None:
        self.channels.discard(channel)
        self._asked.append(("sunsubscribe", channel, None))
        await self._send([("SUNSUBSCRIBE", channel)])

    async def ping(self) -> None:
        await self._send([("PING",)])

    async def _send(self, commands: Iterable[tuple[str, ...]]) -> None:
        if self.dead or not self.conn.is_connected:  # never a silent reconnect
            raise RedisConnectionError(f"redis cluster shard {self.name} is broken")
        try:
            await self.conn.send_packed_command(self.conn.pack_commands(commands))
        except (RedisError, OSError) as exc:
            self._broke(exc)
            raise

    async def _read_loop(self) -> None:
        while True:
            try:
                reply = await self.conn.read_response(timeout=math.inf)
            except asyncio.CancelledError:
                raise
            except ResponseError as exc:  # MOVED, CLUSTERDOWN...: the slot map is stale
                self._on_error(exc)
                continue
            except Exception as exc:
                self._broke(exc)
                return
            self.last_seen = time.monotonic()
            self._on_reply(reply)

    def _on_reply(self, reply: Any) -> None:
        kind = _text(reply[0]) if isinstance(reply, list) and reply else ""
        if kind == "smessage":
            channel = _text(reply[1])
            if channel.startswith(PREFIX):
                self.bus._dispatch(channel[len(PREFIX) :], _text(reply[2]))
        elif kind in ("ssubscribe", "sunsubscribe"):
            channel = _text(reply[1])
            if self._asked and self._asked[0][:2] == (kind, channel):
                _, _, fut = self._asked.popleft()
                if fut is not None and not fut.done():
                    fut.set_result(None)
            elif kind == "sunsubscribe":
                # Unasked: this master no longer serves the channel's slot (failover, move).
                log.info("redis cluster shard %s gave up %s", self.name, channel)
                self.channels.discard(channel)
                self.bus._lost(channel, self.name)

    def _on_error(self, exc: ResponseError) -> None:
        if self._asked:
            _, _, fut = self._asked.popleft()
            if fut is not None and not fut.done():
                fut.set_exception(exc)
        self.bus._trouble.set()

    def _broke(self, exc: BaseException) -> None:
        if not self.dead:
            self.dead = True
            log.warning("redis cluster shard %s lost: %s", self.name, exc)
        self._fail_asked(exc)
        self.bus._trouble.set()

    def _fail_asked(self, exc: BaseException) -> None:
        while self._asked:
            _, _, fut = self._asked.popleft()
            if fut is not None and not fut.done():
                fut.set_exception(RedisConnectionError(str(exc)))
                fut.exception()  # retrieved here: nobody may be waiting any more


class RedisClusterBus(Bus):
    def __init__(self, client: RedisCluster, *, node_name: str = "node") -> None:
        super().__init__()
        self.client = client
        self.node_name = node_name
        self._wanted: set[str] = set()  # channels this process listens to
        self._home: dict[str, str] = {}  # channel -> the shard (master) it is subscribed on
        self._shards: dict[str, _Shard] = {}
        self._lock = asyncio.Lock()  # one (re)subscription pass at a time
        self._trouble = asyncio.Event()
        self._keeper: asyncio.Task[None] | None = None
        # channel -> (master, when) that told us it no longer serves the channel's slot: a slot
        # map naming that master again soon after is stale (the cluster is still agreeing)
        self._gave_up: dict[str, tuple[str, float]] = {}
        self.resyncs = 0

    async def start(self) -> None:
        await self.client.initialize()
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.create_task(self._keep(), name="redis-cluster-bus-keeper")

    async def close(self) -> None:
        await self._stop_sending()
        await cancel_task(self._keeper)
        self._keeper = None
        for shard in list(self._shards.values()):
            await shard.close()
        self._shards.clear()
        await self.client.aclose()

    async def publish(self, topic: str, payload: str) -> None:
        await self.client.spublish(PREFIX + topic, payload)

    async def _publish_many(self, batch: list[tuple[str, str]]) -> None:
        """One round trip per master for a batch (the order of each topic kept)."""
        pipe = self.client.pipeline(transaction=False)
        for topic, payload in batch:
            pipe.spublish(PREFIX + topic, payload)
        await pipe.execute()

    async def ping(self) -> bool:
        """A master answers: the cluster is reachable (one master failing over is not an
        outage of the bus; its topics are caught up from the database)."""
        for _ in range(2):
            try:
                return bool(await self.client.ping(target_nodes=RedisCluster.RANDOM))
            except (RedisError, OSError):
                continue
        return False

    # ---- subscriptions ---------------------------------------------------------------------

    async def _listen(self, topic: str) -> None:
        channel = PREFIX + topic
        self._wanted.add(channel)
        try:
            async with self._lock:
                if channel in self._wanted and channel not in self._home:
                    await self._subscribe([channel])
        except TROUBLE as exc:
            # The keeper subscribes it once the cluster answers; the listeners then catch up.
            log.warning("redis cluster subscribe of %s deferred: %s", topic, exc)
            self._trouble.set()

    async def _unlisten(self, topic: str) -> None:
        channel = PREFIX + topic
        self._wanted.discard(channel)
        shard = self._shards.get(self._home.pop(channel, ""))
        if shard is None or shard.dead:
            return
        try:
            await shard.unsubscribe(channel)
        except (RedisError, OSError):
            log.warning("redis cluster unsubscribe of %s failed", topic)

    async def _subscribe(self, channels: list[str]) -> None:
        """Subscribe ``channels`` on the masters the slot map names (under ``_lock``)."""
        by_node: dict[str, tuple[ClusterNode, list[str]]] = {}
        for channel in channels:
            node = self._owner(channel)
            by_node.setdefault(node.name, (node, []))[1].append(channel)
        for name, (node, mine) in by_node.items():
            shard = self._shards.get(name)
            if shard is None or shard.dead:
                if shard is not None:
                    await self._drop(shard)
                shard = _Shard(self, node)
                await shard.open()
                self._shards[name] = shard
            await shard.subscribe(mine)
            self._home.update(dict.fromkeys(mine, name))

    def _owner(self, channel: str) -> ClusterNode:
        """The master serving ``channel``'s slot, as the client's slot map has it."""
        node = self.client.get_node_from_key(channel)
        if node is None:
            raise SlotNotCoveredError(f"no master serves {channel}")
        return node

    def _lost(self, channel: str, shard: str) -> None:
        if self._home.get(channel) == shard:
            del self._home[channel]
        self._gave_up[channel] = (shard, time.monotonic())
        self._trouble.set()

    async def _drop(self, shard: _Shard) -> None:
        self._shards.pop(shard.name, None)
        for channel in shard.channels:
            if self._home.get(channel) == shard.name:
                del self._home[channel]
        await shard.close()

    # ---- keeping them --------------------------------------------------------------------

    async def _keep(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._trouble.wait(), WATCH_SECONDS)
            except TimeoutError:
                await self._watch()
                if not self._trouble.is_set():
                    continue
            try:
                await self._resync()
            except Exception:  # a bug must not end the keeping: try again shortly
                log.exception("redis cluster bus resubscription failed")
                self._trouble.set()
                await asyncio.sleep(RETRY_MAX_SECONDS)

    async def _watch(self) -> None:
        """Ping every shard; one silent for three rounds is broken (a vanished peer)."""
        now = time.monotonic()
        for shard in list(self._shards.values()):
            if now - shard.last_seen > 3 * WATCH_SECONDS:
                shard._broke(TimeoutError("no reply to pings"))
                continue
            try:
                await shard.ping()
            except (RedisError, OSError):
                pass  # _send marked it broken

    async def _resync(self) -> None:
        """Refresh the slot map and subscribe every wanted channel on its current master,
        until that works; then the listeners catch up from the database."""
        delay = 0.1
        failures = 0
        while True:
            self._trouble.clear()
            try:
                async with self._lock:
                    await self.client.nodes_manager.initialize()
                    await self._rehome()
                break
            except TROUBLE as exc:
                failures += 1
                if failures == 1:
                    log.warning("redis cluster bus resubscribing: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
        self.resyncs += 1
        log.warning("redis cluster bus resubscribed; catching up from the database")
        self._reconnected()

    async def _rehome(self) -> None:
        masters = {n.name for n in self.client.nodes_manager.get_nodes_by_server_type("primary")}
        for shard in list(self._shards.values()):
            if shard.dead or shard.name not in masters:
                await self._drop(shard)
        moved: list[str] = []
        now = time.monotonic()
        for channel in self._wanted:
            owner = self._owner(channel).name
            left, when = self._gave_up.get(channel, ("", 0.0))
            if owner == left and now - when < STALE_MAP_SECONDS:
                raise SlotNotCoveredError(f"the slot map still names {left} for {channel}")
            home = self._home.get(channel)
            if home == owner:
                continue
            if home is not None and home in self._shards:
                # The slot moved but the old master lives: leave there (best effort).
                del self._home[channel]
                await self._shards[home].unsubscribe(channel)
            moved.append(channel)
        if moved:
            await self._subscribe(moved)
        self._gave_up.clear()

    def _reconnected(self) -> None:
        for callback in list(self.reconnected):
            try:
                callback()
            except Exception:
                log.exception("bus reconnect callback failed")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
