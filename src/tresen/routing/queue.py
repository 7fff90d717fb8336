"""Reading the routing state from the database: agents with their loads, the waiting queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.routing.estimate import DEFAULT_HANDLING_SECONDS
from tresen.routing.strategies import AgentLoad, Request
from tresen.storage.models import Agent, Conversation

HANDLING_SAMPLE = 100


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0


async def agent_loads(s: AsyncSession, *, online_only: bool = True) -> list[AgentLoad]:
    """Agents with the number of open chats assigned or offered to them."""
    load = (
        select(func.count())
        .where(
            Conversation.status == "open",
            or_(Conversation.assignee_id == Agent.id, Conversation.offered_to == Agent.id),
        )
        .scalar_subquery()
    )
    stmt = select(Agent, load).where(Agent.is_active.is_(True))
    if online_only:
        stmt = stmt.where(Agent.status == "online")
    rows = (await s.execute(stmt.order_by(Agent.id))).all()
    return [
        AgentLoad(
            id=a.id,
            skills={k: int(a.skill_levels.get(k, 1)) for k in a.skills},
            max_chats=a.max_chats,
            load=int(n),
            idle_since=_ts(a.idle_since or a.created_at),
            departments=frozenset(a.departments),
        )
        for a, n in rows
    ]


def waiting_filter() -> tuple[object, ...]:
    return (
        Conversation.status == "open",
        Conversation.queued_at.is_not(None),
        Conversation.assignee_id.is_(None),
        Conversation.offered_to.is_(None),
    )


async def waiting(s: AsyncSession, *, lock: bool = False) -> list[tuple[Conversation, Request]]:
    """The waiting chats. ``lock`` (dispatch passes): lock their rows, so a chat that leaves
    the queue meanwhile (the visitor's choice, a resolve) is skipped on PostgreSQL, where the
    re-checked filter drops it, instead of being assigned over the change."""
    stmt = select(Conversation).where(*waiting_filter())  # type: ignore[arg-type]
    if lock:
        stmt = stmt.with_for_update()
    convs = (await s.execute(stmt)).scalars().all()
    return [(c, as_request(c)) for c in convs]


def as_request(c: Conversation) -> Request:
    return Request(
        id=c.id,
        queued_at=_ts(c.queued_at),
        skill=c.skill,
        department=c.department,
        priority=c.priority,
        preferred_agent=c.preferred_agent_id,
        sticky_until=_ts(c.sticky_until),
        declined=frozenset(c.declined_by),
    )


async def handling_seconds(s: AsyncSession) -> dict[str | None, float]:
    """Mean handling time (assigned to resolved) of recent chats, per skill and overall."""
    stmt = (
        select(Conversation.skill, Conversation.assigned_at, Conversation.closed_at)
        .where(Conversation.closed_at.is_not(None), Conversation.assigned_at.is_not(None))
        .order_by(Conversation.closed_at.desc())
        .limit(HANDLING_SAMPLE)
    )
    samples: dict[str | None, list[float]] = {}
    for skill, assigned, closed in (await s.execute(stmt)).all():
        if assigned is None or closed is None:
            continue
        seconds = (closed - assigned).total_seconds()
        if seconds > 0:
            samples.setdefault(skill, []).append(seconds)
            samples.setdefault(None, []).append(seconds)
    return {k: min(3600.0, max(30.0, sum(v) / len(v))) for k, v in samples.items()} or {
        None: DEFAULT_HANDLING_SECONDS
    }
