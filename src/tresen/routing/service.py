"""Routing on one node: runs dispatch passes when anything changes (and every few seconds as a
safety net), tells waiting visitors their place and wait, and turns agents away whose consoles
are all gone."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from tresen.aio import cancel_task, spawn
from tresen.events import ConversationOverflowed, Event, QueuePositionChanged
from tresen.routing.actions import do_abandon_gone
from tresen.routing.dispatcher import PassResult, QueueState, run_pass
from tresen.runtime import Runtime
from tresen.scheduler import Repeating, TimerHandle

log = logging.getLogger(__name__)
SAFETY_SECONDS = 2.0
SLOW_PASS_SECONDS = 0.5  # log passes slower than this: waiting visitors feel them
OVERFLOW_OPTIONS = ("wait", "message", "callback", "bot")


class RoutingService:
    """Passes run one at a time: a kick while one runs asks for one more after it."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._safety: Repeating | None = None
        self._told: dict[int, tuple[int, int | None]] = {}
        self._timers: dict[str, TimerHandle] = {}
        self.passes = 0
        # Seconds each recent pass held the write transaction, for /metrics (drained there).
        self.held: deque[float] = deque(maxlen=4096)

    async def start(self) -> None:
        self._loop = asyncio.create_task(self._run_forever(), name="routing")
        # The safety net: a pass every few seconds even if no event asked for one (offers
        # that ran out, a kick lost with a node).
        self._safety = Repeating(self.rt.scheduler, self.rt.clock, SAFETY_SECONDS, self.kick)

    async def stop(self) -> None:
        if self._safety is not None:
            self._safety.cancel()
        await cancel_task(self._loop)
        for handle in self._timers.values():
            handle.cancel()

    def kick(self, event: Event | None = None) -> None:
        """Something changed that routing decides on (a listener of many events)."""
        self._wake.set()

    async def _run_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:
                log.exception("routing pass failed")

    async def run_once(self) -> PassResult:
        started = time.monotonic()
        result = await run_pass(self.rt)
        self.passes += 1
        self.held.append(result.held)
        passed = time.monotonic()
        # Forget what we told chats that left the queue (assigned, handed to the bot, left):
        # if one comes back, its visitor hears their place again even if it is unchanged.
        still = {st.conversation_id for st in result.waiting}
        for conv_id in [c for c in self._told if c not in still]:
            del self._told[conv_id]
        self.rt.events.emit([e for state in result.waiting for e in self._news(state)])
        if time.monotonic() - started > SLOW_PASS_SECONDS:
            log.warning(
                "slow routing pass: %.2f s in the database (%.3f s holding the write lock), "
                "%.2f s telling (%d assigned, %d wait)",
                passed - started,
                result.held,
                time.monotonic() - passed,
                len(result.assigned),
                len(result.waiting),
            )
        return result

    def _news(self, st: QueueState) -> list[Event]:
        """What a waiting visitor is told after a pass: their place when it changed, and the
        other ways when the wait overflowed."""
        wait = None if st.wait is None else round(st.wait)
        news: list[Event] = []
        if self._told.get(st.conversation_id) != (st.position, wait):
            self._told[st.conversation_id] = (st.position, wait)
            news.append(QueuePositionChanged(st.conversation_id, st.visitor_id, st.position, wait))
        if st.overflow is not None:
            news.append(
                ConversationOverflowed(
                    st.conversation_id, st.visitor_id, st.overflow, wait, OVERFLOW_OPTIONS
                )
            )
        return news

    # ---- presence: auto-away, abandonment ---------------------------------------------------

    async def agent_connected(self, agent_id: int) -> None:
        await self.rt.presence.change(f"a:{agent_id}", +1)
        self._cancel_timer(f"a:{agent_id}")

    async def agent_disconnected(self, agent_id: int) -> None:
        await self._gone(
            f"a:{agent_id}", self.rt.settings.auto_away_seconds, lambda: self._go_away(agent_id)
        )

    async def visitor_connected(self, visitor_id: int) -> None:
        await self.rt.presence.change(f"v:{visitor_id}", +1)
        self._cancel_timer(f"v:{visitor_id}")

    async def visitor_disconnected(self, visitor_id: int) -> None:
        """A queued visitor who is gone (on every node) for the grace period abandoned."""
        await self._gone(
            f"v:{visitor_id}",
            self.rt.settings.abandon_after_seconds,
            lambda: do_abandon_gone(self.rt, visitor_id),
        )

    async def _gone(self, key: str, grace: float, then: Callable[[], Awaitable[Any]]) -> None:
        await self.rt.presence.change(key, -1)
        if await self.rt.presence.count(key) > 0:
            return
        self._cancel_timer(key)

        async def check() -> None:
            if await self.rt.presence.count(key) == 0:
                await then()

        def fire() -> None:
            self._timers.pop(key, None)
            spawn(check(), name=f"gone:{key}")

        when = self.rt.clock.now().timestamp() + grace
        self._timers[key] = self.rt.scheduler.call_at(when, fire)

    def _cancel_timer(self, key: str) -> None:
        handle = self._timers.pop(key, None)
        if handle is not None:
            handle.cancel()

    async def _go_away(self, agent_id: int) -> Any:
        """No console of this agent is connected anywhere after the grace period."""
        from tresen.agents.actions import check_update_agent
        from tresen.agents.queries import access_agent_by_id

        async with self.rt.db.read() as s:
            agent = await access_agent_by_id(s, agent_id)
        if agent.status == "online":
            log.info("agent %s has no console connected: away", agent_id)
            return await check_update_agent(self.rt, agent_id, status="away")
        return None
