"""Visitor context for agents: who the visitor is and what was said before.

``GET /api/visitors/{id}``: identity (verified fields only), attributes, first/last seen and the
visitor's conversations with a preview of each one's last message. Pages visited are not tracked
yet; the field is there (empty) so the console shows them once tracking lands.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import and_, select

from tresen.auth.deps import RT, AgentDep
from tresen.conversations.inbox_api import preview
from tresen.errors import NotFound
from tresen.storage.models import Conversation, Message, Site, Visitor

router = APIRouter(prefix="/api/visitors", tags=["visitors"])


def visitor_view(v: Visitor, site: Site | None) -> dict[str, Any]:
    return {
        "id": v.id,
        "site_id": v.site_id,
        "site_name": site.name if site else None,
        "verified": v.external_id is not None,
        "external_id": v.external_id,
        "name": v.name,
        "email": v.email,
        "attributes": v.attributes or {},
        "created_at": v.created_at.isoformat(),
        "last_seen_at": v.last_seen_at.isoformat(),
        "current_page": None,
        "pages": [],
    }


@router.get("/{visitor_id}")
async def get_visitor(visitor_id: int, rt: RT, who: AgentDep) -> dict[str, Any]:
    async with rt.db.read() as s:
        v = await s.get(Visitor, visitor_id)
        if v is None:
            raise NotFound(f"no visitor {visitor_id}", code="no_such_visitor")
        site = await s.get(Site, v.site_id)
        rows = (
            await s.execute(
                select(Conversation, Message)
                .outerjoin(
                    Message,
                    and_(
                        Message.conversation_id == Conversation.id,
                        Message.seq == Conversation.last_seq,
                    ),
                )
                .where(Conversation.visitor_id == visitor_id)
                .order_by(Conversation.id.desc())
                .limit(50)
            )
        ).all()
    return {
        **visitor_view(v, site),
        "conversations": [
            {
                "id": c.id,
                "status": c.status,
                "created_at": c.created_at.isoformat(),
                "updated_at": c.updated_at.isoformat(),
                "last_message": preview(m),
            }
            for c, m in rows
        ],
    }
