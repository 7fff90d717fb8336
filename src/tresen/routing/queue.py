"""Reading the routing state from the database: agents with their loads, the waiting queue,
the email backlog."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import sites_by_agent
from tresen.routing.estimate import DEFAULT_HANDLING_SECONDS
from tresen.routing.strategies import AgentLoad, EmailItem, Request
from tresen.storage.models import Agent, Conversation, Message

HANDLING_SAMPLE = 100


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0


async def agent_loads(s: AsyncSession, *, online_only: bool = True) -> list[AgentLoad]:
    """Agents with the number of open chats assigned or offered to them, and of pending email
    conversations assigned to them (counted apart)."""
    load = (
        select(func.count())
        .where(
            Conversation.status == "open",
            or_(Conversation.assignee_id == Agent.id, Conversation.offered_to == Agent.id),
        )
        .scalar_subquery()
    )
    email = (
        select(func.count())
        .where(*email_filter(), Conversation.assignee_id == Agent.id)
        .scalar_subquery()
    )
    stmt = select(Agent, load, email).where(Agent.is_active.is_(True))
    if online_only:
        stmt = stmt.where(Agent.status == "online")
    rows = (await s.execute(stmt.order_by(Agent.id))).all()
    served = await sites_by_agent(s, [a.id for a, _, _ in rows if a.role != "admin"])
    return [
        AgentLoad(
            id=a.id,
            skills={k: int(a.skill_levels.get(k, 1)) for k in a.skills},
            max_chats=a.max_chats,
            load=int(n),
            idle_since=_ts(a.idle_since or a.created_at),
            departments=frozenset(a.departments),
            email_load=int(e),
            takes_email=bool(a.takes_email),
            sites=None if a.role == "admin" else served.get(a.id, frozenset()),
        )
        for a, n, e in rows
    ]


def email_filter() -> tuple[ColumnElement[bool], ...]:
    """Email work: conversations waiting for an answer on an asynchronous channel: email (a
    message left in the queue, a mail) and the messaging channels (WhatsApp, Messenger,
    Telegram, page comments; docs/channels.md). Live chats (``web``) are queued instead."""
    return (Conversation.channel != "web", Conversation.status == "pending")


async def email_items(
    s: AsyncSession, *, lock: bool = False
) -> list[tuple[Conversation, EmailItem]]:
    """Pending email conversations, in the backlog or assigned. ``lock`` (dispatch passes):
    lock their rows first, so an agent's reply committing meanwhile (its seq update waits for
    the row) is seen by the ``touched`` check, which runs after the lock is held."""
    stmt = select(Conversation).where(*email_filter())
    if lock:
        stmt = stmt.with_for_update()
    convs = list((await s.execute(stmt)).scalars())
    touched = await _touched(s, [c for c in convs if c.assignee_id is not None])
    return [(c, as_email_item(c, c.id in touched)) for c in convs]


async def _touched(s: AsyncSession, convs: list[Conversation]) -> set[int]:
    """Assigned email conversations an agent has replied to since their assignment."""
    if not convs:
        return set()
    reply = exists().where(
        Message.conversation_id == Conversation.id,
        Message.author_kind == "agent",
        Message.internal.is_(False),
        or_(Conversation.assigned_at.is_(None), Message.created_at >= Conversation.assigned_at),
    )
    stmt = select(Conversation.id).where(Conversation.id.in_([c.id for c in convs]), reply)
    return set((await s.execute(stmt)).scalars())


def as_email_item(c: Conversation, touched: bool = False) -> EmailItem:
    return EmailItem(
        id=c.id,
        queued_at=_ts(c.created_at),
        skill=c.skill,
        department=c.department,
        assignee=c.assignee_id,
        touched=touched,
        site_id=c.site_id,
    )


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
        site_id=c.site_id,
    )


async def handling_seconds(s: AsyncSession) -> dict[str | None, float]:
    """Mean handling time (assigned to resolved) of recent chats, per skill and overall."""
    stmt = (
        select(Conversation.skill, Conversation.assigned_at, Conversation.closed_at)
        .where(
            Conversation.closed_at.is_not(None),
            Conversation.assigned_at.is_not(None),
            Conversation.channel != "email",  # email work is not chat handling time
        )
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
