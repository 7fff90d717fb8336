"""One dispatcher: hands committed events to the listeners registered in ``tresen.wiring``.

Three kinds of listener, chosen when registering:

- ``now``: a plain function called right after the commit, before the action returns (the
  WebSocket fan-out, routing kicks). It must be quick and must not block; if it raises, the
  error is logged and counted and the other listeners still get the event.
- ``queued`` (the default): a coroutine run in the background. Each listener has its own queue,
  bounded (``queue_limit``), worked per ``event.key`` in order (a conversation's events one
  after the other, different conversations side by side), each call bounded by ``timeout``. A
  listener that raises, hangs or falls behind never delays the sender's ack nor another
  listener.
- ``everywhere=True``: the event is also published on the bus (topic ``events``) and the
  listener runs on every node when it arrives there, this one included (the radar engines of
  all nodes learn that a visitor started chatting, wherever their socket is).

A rolled-back transaction never reaches ``emit``: events are recorded on the unit of work and
handed over by ``Database`` only after its commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from tresen.events import Event, decode, encode
from tresen.realtime.bus import Bus

log = logging.getLogger(__name__)
EVENTS_TOPIC = "events"
QUEUE_LIMIT = 10_000
TIMEOUT_SECONDS = 60.0

Mode = Literal["now", "queued"]


@dataclass
class ListenerStats:
    handled: int = 0
    failed: int = 0
    dropped: int = 0
    timed_out: int = 0


class _Listener:
    def __init__(
        self,
        name: str,
        fn: Callable[[Any], Any],
        mode: Mode,
        limit: int,
        timeout: float,
        when: Callable[[Any], bool] | None,
    ) -> None:
        self.name, self.fn, self.mode, self.when = name, fn, mode, when
        self.limit, self.timeout = limit, timeout
        self.stats = ListenerStats()
        self._pending: dict[object, deque[Event]] = {}
        self._tasks: dict[object, asyncio.Task[None]] = {}
        self._size = 0

    def handle(self, event: Event) -> None:
        if self.when is not None and not self._wanted(event):
            return
        if self.mode == "now":
            try:
                self.fn(event)
                self.stats.handled += 1
            except Exception:
                self.stats.failed += 1
                log.exception("listener %s failed on %s", self.name, type(event).__name__)
            return
        if self._size >= self.limit:
            self.stats.dropped += 1
            log.error(
                "listener %s is %d events behind: dropped %s",
                self.name,
                self._size,
                type(event).__name__,
            )
            return
        key = event.key
        self._pending.setdefault(key, deque()).append(event)
        self._size += 1
        if key not in self._tasks:
            self._tasks[key] = asyncio.get_running_loop().create_task(
                self._work(key), name=f"listener:{self.name}"
            )

    def _wanted(self, event: Event) -> bool:
        assert self.when is not None
        try:
            return self.when(event)
        except Exception:
            self.stats.failed += 1
            log.exception("listener %s: its filter failed on %s", self.name, type(event).__name__)
            return False

    async def _work(self, key: object) -> None:
        queue = self._pending[key]
        try:
            while queue:
                event = queue.popleft()
                self._size -= 1
                await self._call(event)
        finally:
            del self._tasks[key]
            if not queue:
                self._pending.pop(key, None)

    async def _call(self, event: Event) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                await self.fn(event)
            self.stats.handled += 1
        except TimeoutError:
            self.stats.timed_out += 1
            log.error(
                "listener %s took over %.0f s on %s; moved on",
                self.name,
                self.timeout,
                type(event).__name__,
            )
        except Exception:
            self.stats.failed += 1
            log.exception("listener %s failed on %s", self.name, type(event).__name__)

    @property
    def tasks(self) -> list[asyncio.Task[None]]:
        return list(self._tasks.values())

    def cancel(self) -> list[asyncio.Task[None]]:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        return tasks


class Dispatcher:
    def __init__(
        self,
        bus: Bus | None = None,
        *,
        queue_limit: int = QUEUE_LIMIT,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.bus = bus
        self.queue_limit, self.timeout = queue_limit, timeout
        self._local: dict[type[Event], list[_Listener]] = {}
        self._everywhere: dict[type[Event], list[_Listener]] = {}
        self._listeners: list[_Listener] = []
        self._subscribed = False

    def on(
        self,
        *types: type[Event],
        do: Callable[[Any], None] | Callable[[Any], Awaitable[None]],
        mode: Mode = "queued",
        everywhere: bool = False,
        when: Callable[[Any], bool] | None = None,
        name: str | None = None,
    ) -> None:
        """When any of ``types`` happened (and ``when`` says yes to it), call ``do`` with it."""
        label = name or str(getattr(do, "__qualname__", repr(do)))
        listener = _Listener(label, do, mode, self.queue_limit, self.timeout, when)
        self._listeners.append(listener)
        table = self._everywhere if everywhere else self._local
        for t in types:
            table.setdefault(t, []).append(listener)

    async def start(self) -> None:
        """Receive the events other nodes (and this one) publish for ``everywhere`` listeners."""
        if self.bus is not None and self._everywhere and not self._subscribed:
            await self.bus.subscribe(EVENTS_TOPIC, self._from_bus)
            self._subscribed = True

    async def stop(self) -> None:
        if self.bus is not None and self._subscribed:
            await self.bus.unsubscribe(EVENTS_TOPIC, self._from_bus)
            self._subscribed = False
        tasks = [t for listener in self._listeners for t in listener.cancel()]
        await asyncio.gather(*tasks, return_exceptions=True)

    def emit(self, events: Iterable[Event]) -> None:
        """Hand committed events (or facts of memory) to their listeners. Never raises."""
        for event in events:
            for listener in self._local.get(type(event), ()):
                listener.handle(event)
            if type(event) in self._everywhere:
                self._broadcast(event)

    def _broadcast(self, event: Event) -> None:
        if self.bus is None:
            self._run_everywhere(event)
            return
        try:
            self.bus.publish_nowait(EVENTS_TOPIC, encode(event))
        except Exception:
            log.exception("could not publish %s to the other nodes", type(event).__name__)
            self._run_everywhere(event)

    def _from_bus(self, topic: str, payload: str) -> None:
        try:
            event = decode(payload)
        except Exception:
            log.exception("undecodable event on the bus: %.200s", payload)
            return
        self._run_everywhere(event)

    def _run_everywhere(self, event: Event) -> None:
        for listener in self._everywhere.get(type(event), ()):
            listener.handle(event)

    async def drain(self) -> None:
        """Wait until every queued listener has worked off what it has (tests, shutdown)."""
        while tasks := [t for listener in self._listeners for t in listener.tasks]:
            await asyncio.wait(tasks)

    def stats(self) -> dict[str, ListenerStats]:
        return {listener.name: listener.stats for listener in self._listeners}
