"""Publish/subscribe between server processes: the doorbell, never the log.

A ``Bus`` carries text payloads on named topics. ``MemoryBus`` serves one process;
``RedisBus`` connects any number of ``tresen serve`` processes through Redis pub/sub.
Both pass the same contract suite (tests/contract/test_bus.py).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable

Handler = Callable[[str, str], None]
"""Called with (topic, payload) on the event loop. Must not block."""

log = logging.getLogger(__name__)


class Bus(ABC):
    """A topic is delivered to a handler once per subscription, in publish order per publisher."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect to the backend, if there is one."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release backend resources."""

    @abstractmethod
    async def publish(self, topic: str, payload: str) -> None:
        """Deliver ``payload`` to every subscriber of ``topic`` in every process."""

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


class MemoryBus(Bus):
    """In-process delivery: the embedded default for one ``tresen serve``."""

    async def publish(self, topic: str, payload: str) -> None:
        self._dispatch(topic, payload)

    async def ping(self) -> bool:
        return True


def create_bus(redis_url: str | None, node_name: str) -> Bus:
    if not redis_url:
        return MemoryBus()
    from tresen.realtime.redis_bus import RedisBus

    return RedisBus(redis_url, node_name=node_name)


async def cancel_task(task: asyncio.Task[object] | None) -> None:
    if task is None:
        return
    task.cancel()
    try:
        await task
    except (asyncio.CancelledError, Exception):
        pass
