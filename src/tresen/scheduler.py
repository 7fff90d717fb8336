"""Timers on the injected clock: real ones on the event loop, manual ones in tests."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Protocol

from tresen.aio import spawn
from tresen.clock import Clock, ManualClock

log = logging.getLogger(__name__)


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    def call_at(self, when: float, callback: Callable[[], object]) -> TimerHandle:
        """Run ``callback`` at wall-clock time ``when`` (epoch seconds of the injected clock)."""
        ...


class LoopScheduler:
    """Timers on the running asyncio loop, measured against the clock's wall time."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def call_at(self, when: float, callback: Callable[[], object]) -> TimerHandle:
        delay = max(0.0, when - self.clock.now().timestamp())
        return asyncio.get_running_loop().call_later(delay, callback)


class _ManualTimer:
    __slots__ = ("callback", "cancelled")

    def __init__(self, callback: Callable[[], object]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualScheduler:
    """Fires timers only when the test advances time, in due order, at their exact second."""

    def __init__(self, clock: ManualClock) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, _ManualTimer]] = []
        self._ids = itertools.count()

    def call_at(self, when: float, callback: Callable[[], object]) -> TimerHandle:
        timer = _ManualTimer(callback)
        heapq.heappush(self._heap, (when, next(self._ids), timer))
        return timer

    def advance(self, seconds: float) -> None:
        target = self.clock.now().timestamp() + seconds
        while self._heap and self._heap[0][0] <= target:
            when, _, timer = heapq.heappop(self._heap)
            self.clock.advance(max(0.0, when - self.clock.now().timestamp()))
            if not timer.cancelled:
                timer.callback()
        self.clock.advance(max(0.0, target - self.clock.now().timestamp()))

    @property
    def pending(self) -> int:
        return sum(1 for _, _, t in self._heap if not t.cancelled)


class Repeating:
    """Calls ``callback`` every ``seconds`` on the scheduler (re-armed before each call), until
    cancelled. With the manual scheduler, only as the test advances time."""

    def __init__(
        self, scheduler: Scheduler, clock: Clock, seconds: float, callback: Callable[[], object]
    ) -> None:
        self.scheduler, self.clock, self.seconds = scheduler, clock, seconds
        self.callback = callback
        self.cancelled = False
        self._handle = self._arm()

    def _arm(self) -> TimerHandle:
        return self.scheduler.call_at(self.clock.now().timestamp() + self.seconds, self._fire)

    def _fire(self) -> None:
        if self.cancelled:
            return
        self._handle = self._arm()
        self.callback()

    def cancel(self) -> None:
        self.cancelled = True
        self._handle.cancel()


class Alarm:
    """One timer at the earliest due time of some stored work (a snooze's end, a callback's
    reminder): ``next_due`` reads it, ``fire`` does what is due, then it is armed again. Call
    ``rearm`` whenever the stored times may have changed. With the manual scheduler it rings
    only as the test advances time, at the exact second."""

    def __init__(
        self,
        scheduler: Scheduler,
        next_due: Callable[[], Awaitable[datetime | None]],
        fire: Callable[[], Awaitable[object]],
        name: str,
    ) -> None:
        self.scheduler, self.next_due, self.fire, self.name = scheduler, next_due, fire, name
        self._handle: TimerHandle | None = None
        self._lock = asyncio.Lock()
        self.stopped = False

    def rearm(self, *_: object) -> None:
        if not self.stopped:
            spawn(self._arm(), name=f"{self.name}.arm")

    async def _arm(self) -> None:
        async with self._lock:
            when = await self.next_due()
            if self._handle is not None:
                self._handle.cancel()
                self._handle = None
            if when is not None and not self.stopped:
                self._handle = self.scheduler.call_at(when.timestamp(), self._ring)

    def _ring(self) -> None:
        if not self.stopped:
            spawn(self._run(), name=f"{self.name}.fire")

    async def _run(self) -> None:
        try:
            await self.fire()
        except Exception:  # logged; armed again at the next change (no hot loop on a fault)
            log.exception("%s failed", self.name)
            return
        await self._arm()

    def stop(self) -> None:
        self.stopped = True
        if self._handle is not None:
            self._handle.cancel()
