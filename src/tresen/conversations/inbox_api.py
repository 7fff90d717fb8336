"""The console's inbox: conversations with their visitor, last message preview and unread count.

One query for the list instead of one request per conversation. Read-only; agents only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.auth.deps import RT, AgentDep
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
        .limit(max(1, min(limit, MAX_INBOX)))
    )
    return [(c, v, m, int(n or 0)) for c, v, m, n in (await s.execute(stmt)).all()]


@router.get("/inbox")
async def inbox(
    rt: RT,
    who: AgentDep,
    status: list[str] = Query(default=["open", "pending"]),
    limit: int = 100,
) -> list[dict[str, Any]]:
    async with rt.db.read() as s:
        rows = await inbox_rows(s, status, limit)
    return [
        {
            **conversation_dict(c),
            "visitor": visitor_brief(v),
            "last_message": preview(m),
            "unread": n,
        }
        for c, v, m, n in rows
    ]
