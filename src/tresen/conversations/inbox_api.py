"""The console's inbox: conversations with their visitor, last message preview and unread count.

One query for the list instead of one request per conversation. Read-only; agents only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import Sites, scoped, site_ids_for
from tresen.auth.deps import RT, AgentDep
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
    unread = (
        select(func.count(Message.id))
        .where(
            Message.conversation_id == Conversation.id,
            Message.author_kind == "visitor",
            Message.seq > Conversation.agent_read_seq,
        )
        .correlate(Conversation)
        .scalar_subquery()
    )
    stmt = (
        select(Conversation, Visitor, Message, unread)
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
    return [
        {
            **conversation_dict(c),
            "visitor": visitor_brief(v),
            "last_message": preview(m),
            "unread": n,
        }
        for c, v, m, n in rows
    ]
