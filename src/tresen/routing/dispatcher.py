"""One dispatch pass: under a global lock, expire unanswered offers, match waiting chats to
agents with free capacity, and work out every waiting visitor's position and expected wait.

Capacity is decided atomically: on PostgreSQL the pass holds a transaction-scoped advisory
lock, so passes of different processes never overlap and never both fill one agent's last
slot; on SQLite the process-wide write lock does the same.

Email work (pending email conversations) is blended in after the chats (see blend.py): an
agent gets it only while no chat they could serve waited when the pass began.
"""

from __future__ import annotations

import time
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
from tresen.routing.estimate import DEFAULT_HANDLING_SECONDS, expected_wait, positions
from tresen.routing.queue import (
    agent_loads,
    email_items,
    handling_seconds,
    waiting,
    waiting_filter,
)
from tresen.routing.strategies import (
    STRATEGIES,
    AgentLoad,
    EmailItem,
    EmailRules,
    Request,
    plan,
    plan_email,
)
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
    held: float = 0.0  # seconds the pass held the write transaction (SQLite: the write lock)


async def run_pass(rt: Runtime) -> PassResult:
    """Read the queue and the agents without holding the write lock, plan, then write only what
    the plan changes (re-checked under the lock): the write transaction is proportional to the
    assignments and overflows of this pass, not to the length of the queue."""
    now = rt.clock.now()
    if not rt.db.is_sqlite:
        return await _pass_in_one_transaction(rt, now)
    result = PassResult()
    if rt.settings.accept_seconds > 0 and await _offers_due(rt, now):
        async with rt.db.write() as s:
            held_from = time.perf_counter()
            await _global_lock(rt, s)
            result.expired = await _expire_offers(rt, s, now)
            for conv in result.expired:
                state = ConversationState.of(conv)
                record(s, ConversationDeclined(state, conv.declined_by[-1], expired=True))
        result.held += time.perf_counter() - held_from
    async with rt.db.read() as s:
        agents = await agent_loads(s)
        queue = await waiting(s)
        handling = await handling_seconds(s) if queue else {}
        email = await email_items(s)
    pairs = plan(agents, [r for _, r in queue], now.timestamp(), _strategies(rt))
    rules = email_rules(rt.settings)
    if not pairs and not _email_work(rules, agents, email, queue):
        # Nothing to assign on the snapshot: no write at all. Whatever changes that (an agent
        # freed, a chat queued) commits an event that asks for the next pass.
        if queue:
            result.waiting = _queue_states(rt, agents, queue, handling)
            await _overflows(rt, result, now)
        return result
    async with rt.db.write() as s:
        held_from = time.perf_counter()
        await _global_lock(rt, s)
        # The agents as they are now (another pass or an accept may have committed since the
        # snapshot): the plan's pairs are re-checked against these, and email blends on them.
        agents = await agent_loads(s)
        claimed = await _claim(rt, s, pairs, agents, now)
        result.assigned = [c for c, _ in claimed]
        if claimed:
            ids = {a for _, a in claimed}
            await s.execute(update(Agent).where(Agent.id.in_(ids)).values(idle_since=now))
        done = {c.id for c in result.assigned}
        still = [(c, r) for c, r in queue if c.id not in done]
        loaded = _after(agents, [(c.id, a) for c, a in claimed])
        result.email = await blend_email(s, rules, loaded, [r for _, r in queue], now)
        _record_pass(s, result)
    result.held += time.perf_counter() - held_from  # the commit included
    if still:
        result.waiting = _queue_states(rt, loaded, still, handling)
        await _overflows(rt, result, now)
    return result


def _email_work(
    rules: EmailRules,
    agents: list[AgentLoad],
    email: list[tuple[Conversation, EmailItem]],
    queue: list[tuple[Conversation, Request]],
) -> bool:
    """Would blending email change anything, on the snapshot?"""
    if not email:
        return False
    back, pairs = plan_email(agents, [i for _, i in email], [r for _, r in queue], rules)
    return bool(back or pairs)


async def _overflows(rt: Runtime, result: PassResult, now: datetime) -> None:
    """Write the chats that overflow now; drop the news of any marked meanwhile."""
    newly = [st.conversation_id for st in result.waiting if st.overflow is not None]
    if not newly:
        return
    marked = await _mark_overflowed(rt, newly, now, result)
    result.waiting = [
        st if st.overflow is None or st.conversation_id in marked else replace(st, overflow=None)
        for st in result.waiting
    ]


async def _mark_overflowed(
    rt: Runtime, ids: list[int], now: datetime, result: PassResult
) -> set[int]:
    """Chats that overflow now, once each (one marked meanwhile is not told twice)."""
    async with rt.db.write() as s:
        held_from = time.perf_counter()
        stmt = (
            update(Conversation)
            .where(Conversation.id.in_(ids), Conversation.overflow_at.is_(None))
            .values(overflow_at=now)
            .returning(Conversation.id)
        )
        marked = set((await s.execute(stmt)).scalars())
    result.held += time.perf_counter() - held_from
    return marked


async def _pass_in_one_transaction(rt: Runtime, now: datetime) -> PassResult:
    """PostgreSQL: the whole pass in one transaction under the advisory lock, which serialises
    passes of every node but blocks no other writer (the SQLite write lock does; there the pass
    reads first and writes only its changes, above)."""
    result = PassResult()
    async with rt.db.write() as s:
        held_from = time.perf_counter()
        await _global_lock(rt, s)
        result.expired = await _expire_offers(rt, s, now)
        for conv in result.expired:
            state = ConversationState.of(conv)
            record(s, ConversationDeclined(state, conv.declined_by[-1], expired=True))
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
            handling = await handling_seconds(s)
            result.waiting = _queue_states(rt, loaded, still, handling)
            over = {st.conversation_id for st in result.waiting if st.overflow is not None}
            for conv, _ in still:
                if conv.id in over:
                    conv.overflow_at = now
        _record_pass(s, result)
    result.held = time.perf_counter() - held_from
    return result


async def _global_lock(rt: Runtime, s: AsyncSession) -> None:
    """Passes never overlap: on SQLite the write lock, on PostgreSQL an advisory lock."""
    if not rt.db.is_sqlite:
        await s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})


async def _claim(
    rt: Runtime,
    s: AsyncSession,
    pairs: list[tuple[int, int]],
    agents: list[AgentLoad],
    now: datetime,
) -> list[tuple[Conversation, int]]:
    """Assign the planned pairs that still hold under the lock: the chat still waits and did
    not decline that agent meanwhile, the agent is still online with a free slot (the plan was
    made on a snapshot read without the lock)."""
    if not pairs:
        return []
    stmt = (
        select(Conversation)
        .where(Conversation.id.in_([c for c, _ in pairs]), *waiting_filter())  # type: ignore[arg-type]
        .with_for_update()
    )
    convs = {c.id: c for c in (await s.execute(stmt)).scalars()}
    free = {a.id: a.max_chats - a.load for a in agents}
    out = []
    for conv_id, agent_id in pairs:
        conv = convs.get(conv_id)
        if conv is None or free.get(agent_id, 0) <= 0 or agent_id in conv.declined_by:
            continue
        free[agent_id] -= 1
        _assign(rt, conv, agent_id, now)
        out.append((conv, agent_id))
    return out


def _record_pass(s: AsyncSession, result: PassResult) -> None:
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


async def _offers_due(rt: Runtime, now: datetime) -> bool:
    deadline = now - timedelta(seconds=rt.settings.accept_seconds)
    stmt = select(Conversation.id).where(
        Conversation.offered_to.is_not(None), Conversation.offered_at <= deadline
    )
    async with rt.db.read() as s:
        return (await s.execute(stmt.limit(1))).first() is not None


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


def _queue_states(
    rt: Runtime,
    agents: list[AgentLoad],
    still: list[tuple[Conversation, Request]],
    handling: dict[str | None, float],
) -> list[QueueState]:
    """Every waiting chat's place and expected wait, and which overflow now (computed without
    any lock; ``_mark_overflowed`` writes those)."""
    pos = positions(r for _, r in still)
    out = []
    for conv, req in still:
        aht = handling.get(req.skill, handling.get(None, DEFAULT_HANDLING_SECONDS))
        wait = expected_wait(agents, req, pos[conv.id], aht)
        overflow: Literal["nobody_online", "long_wait"] | None = None
        if conv.overflow_at is None:
            if wait is None:
                overflow = "nobody_online"
            elif wait > rt.settings.overflow_wait_seconds:
                overflow = "long_wait"
        out.append(QueueState(conv.id, conv.visitor_id, pos[conv.id], wait, overflow))
    return out
