"""One dispatch pass: under a global lock, expire unanswered offers, match waiting chats to
agents with free capacity, and work out every waiting visitor's position and expected wait.

Capacity is decided atomically: on PostgreSQL the pass holds a transaction-scoped advisory
lock, so passes of different processes never overlap and never both fill one agent's last
slot; on SQLite the process-wide write lock does the same.

Email work (pending email conversations) is blended in after the chats (see blend.py): an
agent gets it only while no chat they could serve waited when the pass began.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.events import (
    ConversationAssigned,
    ConversationDeclined,
    ConversationOffered,
    ConversationState,
    record,
)
from tresen.routing.blend import blend_email, email_rules
from tresen.routing.estimate import expected_wait, positions
from tresen.routing.queue import agent_loads, handling_seconds, waiting
from tresen.routing.strategies import STRATEGIES, AgentLoad, Request, plan
from tresen.runtime import Runtime
from tresen.storage.models import Agent, Conversation

LOCK_KEY = 73_110_001


@dataclass(frozen=True, slots=True)
class QueueState:
    conversation_id: int
    visitor_id: int
    position: int
    wait: float | None  # None: nobody who could take it is online
    overflow: Literal["nobody_online", "long_wait"] | None = None  # newly overflowed


@dataclass
class PassResult:
    assigned: list[Conversation] = field(default_factory=list)
    expired: list[Conversation] = field(default_factory=list)
    email: list[Conversation] = field(default_factory=list)  # assigned or returned email work
    waiting: list[QueueState] = field(default_factory=list)


async def run_pass(rt: Runtime) -> PassResult:
    now = rt.clock.now()
    result = PassResult()
    async with rt.db.write() as s:
        if not rt.db.is_sqlite:
            await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        result.expired = await _expire_offers(rt, s, now)
        agents = await agent_loads(s)
        queue = await waiting(s, lock=True)
        pairs = plan(agents, [r for _, r in queue], now.timestamp(), _strategies(rt))
        by_id = {c.id: c for c, _ in queue}
        for conv_id, agent_id in pairs:
            _assign(rt, by_id[conv_id], agent_id, now)
            result.assigned.append(by_id[conv_id])
        if pairs:
            ids = {a for _, a in pairs}
            await s.execute(update(Agent).where(Agent.id.in_(ids)).values(idle_since=now))
        done = {c for c, _ in pairs}
        still = [(c, r) for c, r in queue if c.id not in done]
        loaded = _after(agents, pairs)
        rules = email_rules(rt.settings)
        result.email = await blend_email(s, rules, loaded, [r for _, r in queue], now)
        if still:
            result.waiting = await _queue_states(rt, s, loaded, still, now)
        _record_pass(s, result)
    return result


def _record_pass(s: AsyncSession, result: PassResult) -> None:
    for conv in result.expired:
        state = ConversationState.of(conv)
        record(s, ConversationDeclined(state, conv.declined_by[-1], expired=True))
    for conv in result.assigned:
        state = ConversationState.of(conv)
        if conv.offered_to is not None:
            record(s, ConversationOffered(state, conv.offered_to))
        else:
            record(s, ConversationAssigned(state, conv.assignee_id, by="routing"))
    for conv in result.email:
        record(s, ConversationAssigned(ConversationState.of(conv), conv.assignee_id, by="routing"))


def _strategies(rt: Runtime):  # type: ignore[no-untyped-def]
    default = rt.settings.routing_strategy
    per_dept = rt.settings.routing_department_strategies

    def strategy_for(req: Request) -> str:
        chosen = per_dept.get(req.department or "", default)
        return chosen if chosen in STRATEGIES else "least_busy"

    return strategy_for


def _assign(rt: Runtime, conv: Conversation, agent_id: int, now: datetime) -> None:
    if rt.settings.accept_seconds > 0:
        conv.offered_to, conv.offered_at = agent_id, now
    else:
        conv.assignee_id, conv.assigned_at = agent_id, now
    conv.updated_at = now


async def _expire_offers(rt: Runtime, s: AsyncSession, now: datetime) -> list[Conversation]:
    """Offers to agents not accepted in time go back to the queue, skipping that agent."""
    if rt.settings.accept_seconds <= 0:
        return []
    deadline = now - timedelta(seconds=rt.settings.accept_seconds)
    stmt = (
        select(Conversation)
        .where(Conversation.offered_to.is_not(None), Conversation.offered_at <= deadline)
        .with_for_update()  # an accept committing meanwhile wins; its row no longer matches
    )
    expired = list((await s.execute(stmt)).scalars())
    for conv in expired:
        conv.declined_by = [*conv.declined_by, conv.offered_to]  # type: ignore[list-item]
        conv.offered_to = conv.offered_at = None
    if expired:
        await s.flush()
    return expired


def _after(agents: list[AgentLoad], pairs: list[tuple[int, int]]) -> list[AgentLoad]:
    extra: dict[int, int] = {}
    for _, agent_id in pairs:
        extra[agent_id] = extra.get(agent_id, 0) + 1
    return [replace(a, load=a.load + extra.get(a.id, 0)) for a in agents]


async def _queue_states(
    rt: Runtime,
    s: AsyncSession,
    agents: list[AgentLoad],
    still: list[tuple[Conversation, Request]],
    now: datetime,
) -> list[QueueState]:
    handling = await handling_seconds(s)
    pos = positions(r for _, r in still)
    out = []
    for conv, req in still:
        aht = handling.get(req.skill, handling.get(None, 240.0))
        wait = expected_wait(agents, req, pos[conv.id], aht)
        overflow: Literal["nobody_online", "long_wait"] | None = None
        if conv.overflow_at is None:
            if wait is None:
                overflow = "nobody_online"
            elif wait > rt.settings.overflow_wait_seconds:
                overflow = "long_wait"
            if overflow:
                conv.overflow_at = now
        out.append(QueueState(conv.id, conv.visitor_id, pos[conv.id], wait, overflow))
    return out
