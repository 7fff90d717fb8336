"""Reads for conversations and messages, with access checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import Sites, ensure_visible_to, scoped
from tresen.conversations.wire import message_out
from tresen.errors import Forbidden, NotFound
from tresen.principal import Principal
from tresen.realtime.protocol import MessageOut
from tresen.storage.models import Agent, Conversation, Message, Visitor

MAX_PAGE = 200


async def access_conversation_by_id(
    s: AsyncSession, who: Principal, conversation_id: int, *, lock: bool = False
) -> Conversation:
    """The conversation, if ``who`` may see it. Visitors see only their own."""
    stmt = select(Conversation).where(Conversation.id == conversation_id)
    if lock:
        stmt = stmt.with_for_update()
    conv = (await s.execute(stmt)).scalar_one_or_none()
    check_visible(who, conversation_id, conv.visitor_id if conv else None)
    assert conv is not None  # check_visible raised otherwise
    if who.kind == "agent":
        await ensure_visible_to(
            s, who, conv.site_id, f"no conversation {conversation_id}", code="no_such_conversation"
        )
    return conv


def check_visible(who: Principal, conversation_id: int, visitor_id: int | None) -> None:
    """A visitor sees only their own conversations (agents: the sites they serve, checked by
    ``access_conversation_by_id``). ``visitor_id`` None: absent. The same answer for "absent"
    and "not yours", so ids cannot be probed."""
    if visitor_id is None or (who.kind == "visitor" and visitor_id != who.id):
        raise NotFound(f"no conversation {conversation_id}", code="no_such_conversation")


def check_writable(
    who: Principal, meta: dict[str, Any] | None, assignee_id: int | None, internal: bool
) -> None:
    """After a transfer the previous agent's view is read-only (internal notes stay allowed;
    admins and supervisors may still write)."""
    if (
        who.kind == "agent"
        and not internal
        and who.role not in ("admin", "supervisor")
        and assignee_id != who.id
        and who.id in (meta or {}).get("former_agents", [])
    ):
        raise Forbidden(
            "this chat was transferred to a colleague: your view is read-only", code="read_only"
        )


async def messages_page(
    s: AsyncSession,
    who: Principal,
    conversation_id: int,
    *,
    after_seq: int | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[MessageOut]:
    """Messages in seq order: after ``after_seq`` (forward) or the newest before ``before_seq``."""
    await access_conversation_by_id(s, who, conversation_id)
    limit = max(1, min(limit, MAX_PAGE))
    stmt = (
        select(Message, Agent.display_name, Visitor.name)
        .outerjoin(Agent, (Message.author_kind == "agent") & (Agent.id == Message.author_id))
        .outerjoin(Visitor, (Message.author_kind == "visitor") & (Visitor.id == Message.author_id))
        .where(Message.conversation_id == conversation_id)
    )
    if who.kind == "visitor":
        stmt = stmt.where(Message.internal.is_(False))
    if after_seq is not None:
        stmt = stmt.where(Message.seq > after_seq).order_by(Message.seq).limit(limit)
        rows: Sequence = (await s.execute(stmt)).all()
    else:
        if before_seq is not None:
            stmt = stmt.where(Message.seq < before_seq)
        rows = list(
            reversed((await s.execute(stmt.order_by(Message.seq.desc()).limit(limit))).all())
        )
    return [message_out(m, agent_name or visitor_name) for m, agent_name, visitor_name in rows]


async def list_conversations(
    s: AsyncSession,
    *,
    sites: Sites = None,
    status: str | None = None,
    limit: int = 100,
    before_id: int | None = None,
    site_id: int | None = None,
    updated_since: datetime | None = None,
) -> list[Conversation]:
    """Newest first, of the given sites (None: all), ``limit`` rows (one more tells the caller
    there is a next page)."""
    stmt = select(Conversation).order_by(Conversation.id.desc()).limit(min(limit, MAX_PAGE + 1))
    stmt = scoped(stmt, Conversation.site_id, sites)
    if status:
        stmt = stmt.where(Conversation.status == status)
    if site_id is not None:
        stmt = stmt.where(Conversation.site_id == site_id)
    if updated_since is not None:
        stmt = stmt.where(Conversation.updated_at >= updated_since)
    if before_id:
        stmt = stmt.where(Conversation.id < before_id)
    return list((await s.execute(stmt)).scalars())


async def visitor_conversations(s: AsyncSession, visitor_id: int) -> list[Conversation]:
    stmt = (
        select(Conversation).where(Conversation.visitor_id == visitor_id).order_by(Conversation.id)
    )
    return list((await s.execute(stmt)).scalars())
