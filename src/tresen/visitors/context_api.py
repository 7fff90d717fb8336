"""Visitor context for agents: who the visitor is and what was said before.

``GET /api/visitors/{id}``: identity (verified fields only), attributes, first/last seen and the
visitor's conversations with a preview of each one's last message, the last pages viewed
(``page_views``, newest first) and, when the visitor is on the site and connected to this node,
the radar's live state (``live``: current page, time on page and on site, invited/chatting).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import and_, select

from tresen.agents.scope import ensure_visible_to, scoped, site_ids_for
from tresen.auth.deps import RT, AgentDep
from tresen.contacts.linking import contact_id_of_visitor
from tresen.conversations.inbox_api import preview
from tresen.errors import NotFound
from tresen.storage.models import Conversation, Message, PageView, Site, Visitor
from tresen.storage.pagination import (
    clamp_limit,
    cursor_int,
    decode_cursor,
    page_of,
    set_next_cursor,
)

router = APIRouter(prefix="/api/visitors", tags=["visitors"])
PAGES = 20


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


def page_view(p: PageView) -> dict[str, Any]:
    return {"url": p.url, "title": p.title, "referrer": p.referrer, "at": p.at.isoformat()}


def live_view(
    snap: dict[str, Any] | None, pages: list[dict[str, Any]], now: float
) -> dict[str, Any]:
    """Pages (newest first), the current page and, if the visitor is live here, their state."""
    if snap is None:
        return {
            "current_page": pages[0]["url"] if pages else None,
            "pages": pages,
            "live": None,
            "time_on_site_seconds": None,
        }
    return {
        "current_page": snap.get("url") or (pages[0]["url"] if pages else None),
        "pages": pages,
        "live": snap,
        "time_on_site_seconds": max(0, round(now - float(snap["site_started_at"]))),
    }


@router.get("")
async def list_visitors(
    rt: RT,
    who: AgentDep,
    response: Response,
    limit: int = 50,
    cursor: str | None = None,
    site_id: int | None = None,
    seen_since: datetime | None = None,
) -> list[dict[str, Any]]:
    """Visitors of the sites ``who`` serves, most recently created first; ``seen_since``:
    seen on the site since then. The next page's cursor is in ``X-Next-Cursor``."""
    limit = clamp_limit(limit)
    before = cursor_int(decode_cursor(cursor), "before")
    stmt = select(Visitor, Site).join(Site, Site.id == Visitor.site_id).order_by(Visitor.id.desc())
    if before is not None:
        stmt = stmt.where(Visitor.id < before)
    if site_id is not None:
        stmt = stmt.where(Visitor.site_id == site_id)
    if seen_since is not None:
        if seen_since.tzinfo is None:
            seen_since = seen_since.replace(tzinfo=UTC)
        stmt = stmt.where(Visitor.last_seen_at >= seen_since)
    async with rt.db.read() as s:
        stmt = scoped(stmt, Visitor.site_id, await site_ids_for(s, who))
        rows = list((await s.execute(stmt.limit(limit + 1))).all())
    page, next_cursor = page_of(rows, limit, lambda r: {"before": r[0].id})
    set_next_cursor(response, next_cursor)
    return [visitor_view(v, site) for v, site in page]


@router.get("/{visitor_id}")
async def get_visitor(visitor_id: int, rt: RT, who: AgentDep) -> dict[str, Any]:
    async with rt.db.read() as s:
        v = await s.get(Visitor, visitor_id)
        if v is None:
            raise NotFound(f"no visitor {visitor_id}", code="no_such_visitor")
        await ensure_visible_to(
            s, who, v.site_id, f"no visitor {visitor_id}", code="no_such_visitor"
        )
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
        views = (
            await s.execute(
                select(PageView)
                .where(PageView.visitor_id == visitor_id)
                .order_by(PageView.at.desc(), PageView.id.desc())
                .limit(PAGES)
            )
        ).scalars()
        pages = [page_view(p) for p in views]
        contact_id = await contact_id_of_visitor(s, visitor_id)
    return {
        **visitor_view(v, site),
        "contact_id": contact_id,
        **live_view(rt.radar.live_row(visitor_id), pages, rt.clock.now().timestamp()),
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
