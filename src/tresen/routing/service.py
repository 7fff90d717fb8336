"""Routing on one node: runs dispatch passes when anything changes (and every few seconds as a
safety net), tells waiting visitors their place and wait, and turns agents away whose consoles
are all gone."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from tresen.conversations.actions import publish_conversation
from tresen.realtime.bus import cancel_task
from tresen.realtime.protocol import OverflowOut, QueueOut
from tresen.routing.dispatcher import PassResult, QueueState, run_pass
from tresen.runtime import CAPACITY_TOPIC, Runtime, visitor_topic

log = logging.getLogger(__name__)
SAFETY_SECONDS = 2.0
SLOW_PASS_SECONDS = 0.5  # log passes slower than this: waiting visitors feel them
OVERFLOW_OPTIONS = ["wait", "message", "callback", "bot"]


class RoutingService:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._told: dict[int, tuple[int, int | None]] = {}
        self._sockets: dict[int, int] = {}
        self._away_timers: dict[int, asyncio.TimerHandle] = {}
        self.passes = 0

    async def start(self) -> None:
        await self.rt.bus.subscribe(CAPACITY_TOPIC, lambda topic, payload: self.kick())
        self._loop = asyncio.create_task(self._run_forever(), name="routing")

    async def stop(self) -> None:
        await cancel_task(self._loop)
        for handle in self._away_timers.values():
            handle.cancel()

    def kick(self) -> None:
        self._wake.set()

    async def _run_forever(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), SAFETY_SECONDS)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.run_once()
            except Exception:
                log.exception("routing pass failed")
                await asyncio.sleep(0.5)

    async def run_once(self) -> PassResult:
        started = time.monotonic()
        result = await run_pass(self.rt)
        self.passes += 1
        passed = time.monotonic()
        changed = [*result.assigned, *result.expired, *result.email]
        # Forget what we told chats that left the queue (assigned, handed to the bot, left):
        # if one comes back, its visitor hears their place again even if it is unchanged.
        still = {st.conversation_id for st in result.waiting}
        for conv_id in [c for c in self._told if c not in still]:
            del self._told[conv_id]
        # Concurrently: one after the other, each publish waits its turn on a busy event loop
        # and the next pass waits for all of them (seconds, with 40 visitors waiting). Frames
        # to one visitor keep their order: each conversation, each _tell is one sequence.
        await asyncio.gather(
            *(publish_conversation(self.rt, conv) for conv in changed),  # re-kicks passes, radar
            *(self._tell(state) for state in result.waiting),
        )
        if time.monotonic() - started > SLOW_PASS_SECONDS:
            log.warning(
                "slow routing pass: %.2f s in the database, %.2f s telling (%d assigned, %d wait)",
                passed - started,
                time.monotonic() - passed,
                len(result.assigned),
                len(result.waiting),
            )
        return result

    async def _tell(self, st: QueueState) -> None:
        wait = None if st.wait is None else round(st.wait)
        topic = visitor_topic(st.visitor_id)
        if self._told.get(st.conversation_id) != (st.position, wait):
            self._told[st.conversation_id] = (st.position, wait)
            out = QueueOut(
                conversation_id=st.conversation_id,
                position=st.position,
                estimated_wait_seconds=wait,
            )
            await self.rt.publish(topic, out.frame())
        if st.overflow is not None:
            out2 = OverflowOut(
                conversation_id=st.conversation_id,
                reason=st.overflow,
                estimated_wait_seconds=wait,
                options=OVERFLOW_OPTIONS,
            )
            await self.rt.publish(topic, out2.frame())

    # ---- agent presence: auto-away ----------------------------------------------------------

    def agent_connected(self, agent_id: int) -> None:
        self._sockets[agent_id] = self._sockets.get(agent_id, 0) + 1
        handle = self._away_timers.pop(agent_id, None)
        if handle is not None:
            handle.cancel()

    def agent_disconnected(self, agent_id: int) -> None:
        left = self._sockets.get(agent_id, 0) - 1
        if left > 0:
            self._sockets[agent_id] = left
            return
        self._sockets.pop(agent_id, None)
        loop = asyncio.get_running_loop()
        self._away_timers[agent_id] = loop.call_later(
            self.rt.settings.auto_away_seconds, self._spawn_away, agent_id
        )

    def _spawn_away(self, agent_id: int) -> None:
        self._away_timers.pop(agent_id, None)
        task = asyncio.create_task(self._go_away(agent_id))
        task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _go_away(self, agent_id: int) -> Any:
        """No console of this agent is connected (to this process) after the grace period."""
        from tresen.agents.actions import check_update_agent
        from tresen.agents.queries import access_agent_by_id

        if self._sockets.get(agent_id):
            return None
        async with self.rt.db.read() as s:
            agent = await access_agent_by_id(s, agent_id)
        if agent.status == "online":
            log.info("agent %s has no console connected: away", agent_id)
            return await check_update_agent(self.rt, agent_id, status="away")
        return None
