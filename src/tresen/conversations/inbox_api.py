"""The console's inbox: conversations with their visitor, last message preview, unread count and
tags; views with counts, pages of a view behind a cursor, full-text search. Read-only; agents only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.auth.deps import RT, AgentDep
from tresen.conversations.search import search_messages
from tresen.conversations.views import (
    View,
    tag_counts,
    tags_by_conversation,
    unread_count,
    view_counts,
    view_page,
)
from tresen.conversations.wire import conversation_dict
from tresen.storage.models import Conversation, Message, Visitor

router = APIRouter(prefix="/api/console", tags=["console"])
PREVIEW_CHARS = 140
MAX_INBOX = 200


def preview(msg: Message | None) -> dict[str, Any] | None:
    if msg is None:
        return None
    return {
        "seq": msg.seq,
        "body": msg.body[:PREVIEW_CHARS],
        "author_kind": msg.author_kind,
        "internal": msg.internal,
        "created_at": msg.created_at.isoformat(),
    }


def visitor_brief(v: Visitor | None) -> dict[str, Any] | None:
    if v is None:
        return None
    return {"id": v.id, "name": v.name, "email": v.email, "external_id": v.external_id}


async def inbox_rows(
    s: AsyncSession, statuses: list[str], limit: int
) -> list[tuple[Conversation, Visitor | None, Message | None, int]]:
    stmt = (
        select(Conversation, Visitor, Message, unread_count())
        .outerjoin(Visitor, Visitor.id == Conversation.visitor_id)
        .outerjoin(
            Message,
            and_(Message.conversation_id == Conversation.id, Message.seq == Conversation.last_seq),
        )
        .where(Conversation.status.in_(statuses))
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(max(1, min(limit, MAX_INBOX)))
    )
    return [(c, v, m, int(n or 0)) for c, v, m, n in (await s.execute(stmt)).all()]


async def _render(
    s: AsyncSession, rows: list[tuple[Conversation, Visitor | None, Message | None, int]]
) -> list[dict[str, Any]]:
    tags = await tags_by_conversation(s, [c.id for c, *_ in rows])
    return [
        {
            **conversation_dict(c),
            "visitor": visitor_brief(v),
            "last_message": preview(m),
            "unread": n,
            "tags": tags[c.id],
        }
        for c, v, m, n in rows
    ]


@router.get("/inbox")
async def inbox(
    rt: RT,
    who: AgentDep,
    status: list[str] = Query(default=["open", "pending"]),
    limit: int = 100,
) -> list[dict[str, Any]]:
    async with rt.db.read() as s:
        return await _render(s, await inbox_rows(s, status, limit))


@router.get("/views")
async def views(rt: RT, who: AgentDep) -> dict[str, Any]:
    """How many conversations each view holds: mine, unassigned, all, snoozed, resolved, and
    per channel and tag (of the active ones)."""
    async with rt.db.read() as s:
        return await view_counts(s, who)


@router.get("/views/{name}")
async def view(
    name: str, rt: RT, who: AgentDep, cursor: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """One page of a view, newest first; ``next_cursor`` fetches the next (None: no more)."""
    parsed = View.parse(name)
    async with rt.db.read() as s:
        rows, next_cursor = await view_page(s, who, parsed, cursor=cursor, limit=limit)
        return {"items": await _render(s, rows), "next_cursor": next_cursor}


@router.get("/tags")
async def tags(rt: RT, who: AgentDep) -> list[dict[str, Any]]:
    async with rt.db.read() as s:
        return await tag_counts(s, who)


@router.get("/search")
async def search(
    rt: RT, who: AgentDep, q: str = "", limit: int = 20, before_id: int | None = None
) -> dict[str, Any]:
    """Messages holding every word of ``q``, newest first, each with a plain-text snippet and
    the [start, end) offsets of the words in it. ``before_id`` pages on."""
    async with rt.db.read() as s:
        hits = await search_messages(s, who, q, limit=limit, before_id=before_id)
    return {
        "results": [h.as_dict() for h in hits],
        "next_before_id": hits[-1].message_id if len(hits) == max(1, min(limit, 50)) else None,
    }
