"""Keeping the report store current: listeners on the event spine.

Conversation events mark the conversation (inline, no I/O); every ``FLUSH_SECONDS`` the marked
ones are brought up to date from the system of record in one transaction (their new messages
folded in). An agent's status change closes
their open interval and opens the next. What a crash loses between two flushes is rebuilt by
``tresen reports backfill`` (the same code over every conversation).
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select, update

from tresen.aio import spawn
from tresen.events import AgentStatusChanged, ConversationEvent, ConversationsPurged
from tresen.reports.facts import read_facts, rebuild_facts, write_facts
from tresen.reports.rollups import rebuild_hours
from tresen.runtime import Runtime
from tresen.scheduler import Repeating
from tresen.storage.models import Agent, Conversation, ReportAgentStatus

log = logging.getLogger(__name__)
FLUSH_SECONDS = 2.0


class ReportStore:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._dirty: set[int] = set()
        self._flushing = asyncio.Lock()
        self._loop: Repeating | None = None

    def start(self) -> None:
        self._loop = Repeating(self.rt.scheduler, self.rt.clock, FLUSH_SECONDS, self._due)

    async def stop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
        await self.flush()

    def on_conversation(self, event: ConversationEvent) -> None:
        self._dirty.add(event.conversation.id)

    def _due(self) -> None:
        if self._dirty and not self._flushing.locked():
            spawn(self.flush(), name="reports-flush")

    async def flush(self) -> int:
        """Rebuild the facts of the conversations marked since the last flush. Returns once
        everything marked before the call is written: a flush under way is waited for (a
        report read right after must not miss what it was still writing)."""
        async with self._flushing:
            return await self._flush()

    async def _flush(self) -> int:
        if not self._dirty:
            return 0
        ids, self._dirty = self._dirty, set()
        try:
            # Read and fold without the write lock (SQLite's sends wait for it), then write.
            # Only this flush writes these rows on this node; a conversation deleted meanwhile
            # fails the write, and the next flush no longer finds it.
            async with self.rt.db.read() as s:
                changed, new, hours = await read_facts(s, sorted(ids), self.rt.clock.now())
            async with self.rt.db.write() as s:
                await write_facts(s, changed, new, hours)
            return len(changed) + len(new)
        except Exception:
            log.exception("could not rebuild the facts of %d conversations", len(ids))
            self._dirty |= ids  # next time
            return 0

    async def on_purged(self, event: ConversationsPurged) -> None:
        """Old conversations were deleted (their facts with them): their hours' rollups are
        summed again from the facts that are left."""
        async with self.rt.db.write() as s:
            await rebuild_hours(s, event.created_hours)

    async def on_agent_status(self, event: AgentStatusChanged) -> None:
        await do_record_status(self.rt, event.agent_id, event.status)


async def do_record_status(rt: Runtime, agent_id: int, status: str) -> None:
    """Close the agent's open status interval and open one for ``status``."""
    now = rt.clock.now()
    async with rt.db.write() as s:
        await s.execute(
            update(ReportAgentStatus)
            .where(ReportAgentStatus.agent_id == agent_id, ReportAgentStatus.ended_at.is_(None))
            .values(ended_at=now)
        )
        agent = await s.get(Agent, agent_id)
        if agent is not None:
            s.add(
                ReportAgentStatus(
                    agent_id=agent_id, status=status, max_chats=agent.max_chats, started_at=now
                )
            )


async def backfill(rt: Runtime) -> int:
    """Rebuild the facts of every conversation (``tresen reports backfill``)."""
    async with rt.db.read() as s:
        ids = list((await s.execute(select(Conversation.id).order_by(Conversation.id))).scalars())
    done = 0
    for start in range(0, len(ids), 5000):
        async with rt.db.write() as s:
            done += await rebuild_facts(s, ids[start : start + 5000], rt.clock.now(), fresh=True)
    return done
