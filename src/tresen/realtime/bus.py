"""Publish/subscribe between server processes: the doorbell, never the log.

A ``Bus`` carries text payloads on named topics. Backends live beside this ABC, each in its own
module (``memory_bus``, ``redis_bus``); ``buses.create_bus`` picks one. All pass the same
contract suite (tests/contract/test_bus.py).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable

from tresen.aio import cancel_task

Handler = Callable[[str, str], None]
"""Called with (topic, payload) on the event loop. Must not block."""

log = logging.getLogger(__name__)
OUTBOX_LIMIT = 100_000
"""Payloads ``publish_nowait`` keeps while the backend is slow or away; beyond, the oldest go
(the database is the log: clients catch up by resuming)."""


class Bus(ABC):
    """A topic is delivered to a handler once per subscription, in publish order per publisher."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._outbox: deque[tuple[str, str]] = deque()
        self._sender: asyncio.Task[None] | None = None
        self.dropped = 0
        self.reconnected: list[Callable[[], object]] = []
        """Called after the backend's subscriber connection came back: whatever was published
        meanwhile is lost to this process, and the listeners catch up from the database."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect to the backend, if there is one."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release backend resources."""

    @abstractmethod
    async def publish(self, topic: str, payload: str) -> None:
        """Deliver ``payload`` to every subscriber of ``topic`` in every process."""

    def publish_nowait(self, topic: str, payload: str) -> None:
        """Publish without waiting: queued and sent in order by one task. For listeners that
        must not block (the WebSocket fan-out after a commit)."""
        if len(self._outbox) >= OUTBOX_LIMIT:
            self._outbox.popleft()
            self.dropped += 1
        self._outbox.append((topic, payload))
        if self._sender is None:
            self._sender = asyncio.get_running_loop().create_task(self._send_outbox())

    async def _send_outbox(self) -> None:
        try:
            while self._outbox:
                batch = [self._outbox.popleft() for _ in range(min(len(self._outbox), 256))]
                try:
                    await self._publish_many(batch)
                except Exception:
                    log.warning("bus publish of %d payloads failed; retrying", len(batch))
                    self._outbox.extendleft(reversed(batch))
                    await asyncio.sleep(0.5)
        finally:
            self._sender = None

    async def _publish_many(self, batch: list[tuple[str, str]]) -> None:
        for topic, payload in batch:
            await self.publish(topic, payload)

    async def flush(self) -> None:
        """Wait until everything ``publish_nowait`` queued has been published."""
        while self._sender is not None:
            await asyncio.shield(self._sender)

    async def _stop_sending(self) -> None:
        """At close: publish what is queued (a short while at most), then stop the sender."""
        try:
            await asyncio.wait_for(self.flush(), timeout=2)
        except Exception:
            log.warning("closing the bus with %d payloads unpublished", len(self._outbox))
        await cancel_task(self._sender)

    @abstractmethod
    async def ping(self) -> bool:
        """True while the backend is reachable."""

    async def subscribe(self, topic: str, handler: Handler) -> None:
        """Start delivering ``topic``. Once this returns, later publishes reach ``handler``."""
        handlers = self._handlers.setdefault(topic, [])
        handlers.append(handler)
        if len(handlers) == 1:
            await self._listen(topic)

    async def unsubscribe(self, topic: str, handler: Handler) -> None:
        handlers = self._handlers.get(topic)
        if not handlers or handler not in handlers:
            return
        handlers.remove(handler)
        if not handlers:
            del self._handlers[topic]
            await self._unlisten(topic)

    async def _listen(self, topic: str) -> None:  # noqa: B027 - backends override
        """The first local handler for ``topic`` was added."""

    async def _unlisten(self, topic: str) -> None:  # noqa: B027 - backends override
        """The last local handler for ``topic`` was removed."""

    def _dispatch(self, topic: str, payload: str) -> None:
        for handler in list(self._handlers.get(topic, ())):
            try:
                handler(topic, payload)
            except Exception:
                log.exception("bus handler failed on topic %s", topic)

    @property
    def topics(self) -> int:
        return len(self._handlers)
