"""The console's inbox: conversations with their visitor, last message preview, unread count and
tags; views with counts, pages of a view behind a cursor, full-text search. Read-only; agents only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import Sites, scoped, site_ids_for
from tresen.auth.deps import RT, AgentDep
from tresen.conversations.search import search_messages
from tresen.conversations.search_index import catch_up
from tresen.conversations.views import (
    View,
    tag_counts,
    tags_by_conversation,
    unread_count,
    view_counts,
    view_page,
)
from tresen.conversations.wire import conversation_dict
from tresen.errors import Invalid
from tresen.storage.models import Conversation, Message, Visitor
from tresen.storage.pagination import cursor_int, decode_cursor, page_of, set_next_cursor

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
    s: AsyncSession,
    statuses: list[str],
    limit: int,
    sites: Sites = None,
    after: tuple[str, int] | None = None,
) -> list[tuple[Conversation, Visitor | None, Message | None, int]]:
    """Most recently changed first, of ``sites`` (None: all); ``after``: the (updated_at,
    id) of the previous page's last row."""
    stmt = (
        select(Conversation, Visitor, Message, unread_count())
        .outerjoin(Visitor, Visitor.id == Conversation.visitor_id)
        .outerjoin(
            Message,
            and_(Message.conversation_id == Conversation.id, Message.seq == Conversation.last_seq),
        )
        .where(Conversation.status.in_(statuses))
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(max(1, min(limit, MAX_INBOX + 1)))
    )
    stmt = scoped(stmt, Conversation.site_id, sites)
    if after is not None:
        at, conv_id = datetime.fromisoformat(after[0]), after[1]
        stmt = stmt.where(
            or_(
                Conversation.updated_at < at,
                and_(Conversation.updated_at == at, Conversation.id < conv_id),
            )
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


def _after(key: dict[str, Any]) -> tuple[str, int] | None:
    if not key:
        return None
    at, conv_id = key.get("at"), cursor_int(key, "id")
    try:
        if not isinstance(at, str) or conv_id is None:
            raise ValueError(at)
        datetime.fromisoformat(at)
    except ValueError as exc:
        raise Invalid("cursor: not a cursor this server gave", code="bad_cursor") from exc
    return at, conv_id


@router.get("/inbox")
async def inbox(
    rt: RT,
    who: AgentDep,
    response: Response,
    status: list[str] = Query(default=["open", "pending"]),
    limit: int = 100,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """The next page's cursor is in ``X-Next-Cursor`` (absent on the last page)."""
    limit = max(1, min(limit, MAX_INBOX))
    key = decode_cursor(cursor)
    after = _after(key)
    async with rt.db.read() as s:
        rows = await inbox_rows(s, status, limit + 1, await site_ids_for(s, who), after)
        rows, next_cursor = page_of(
            rows, limit, lambda r: {"at": r[0].updated_at.isoformat(), "id": r[0].id}
        )
        set_next_cursor(response, next_cursor)
        return await _render(s, rows)


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
    await catch_up(rt)  # SQLite: messages are indexed in batches; this search sees all of them
    async with rt.db.read() as s:
        hits = await search_messages(s, who, q, limit=limit, before_id=before_id)
    return {
        "results": [h.as_dict() for h in hits],
        "next_before_id": hits[-1].message_id if len(hits) == max(1, min(limit, 50)) else None,
    }
