"""HTTP for co-browsing: a phone agent redeems a support code; the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from tresen.agents.scope import scoped, site_ids_for
from tresen.auth.deps import RT, AgentDep
from tresen.cobrowse.codes import check_join_by_code
from tresen.storage.models import CobrowseAudit, CobrowseSession
from tresen.storage.pagination import cursor_int, decode_cursor, page_of, set_next_cursor

router = APIRouter(prefix="/api/cobrowse", tags=["cobrowse"])


class CodeIn(BaseModel):
    code: str = Field(min_length=6, max_length=12)


@router.post("/join-by-code")
async def join_by_code(rt: RT, who: AgentDep, body: CodeIn, request: Request) -> dict[str, Any]:
    ip = request.client.host if request.client else "?"
    joined = await check_join_by_code(rt, who, body.code, ip)
    return {"session_id": joined.session.id, "conversation_id": joined.conversation_id}


@router.get("/audit")
async def audit_log(
    rt: RT,
    who: AgentDep,
    response: Response,
    conversation_id: int | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """Newest first, of the sites ``who`` serves; the next page's cursor in ``X-Next-Cursor``."""
    limit = max(1, min(limit, 500))
    before = cursor_int(decode_cursor(cursor), "before")
    stmt = (
        select(CobrowseAudit)
        .join(CobrowseSession, CobrowseSession.id == CobrowseAudit.session_id)
        .order_by(CobrowseAudit.id.desc())
        .limit(limit + 1)
    )
    if conversation_id is not None:
        stmt = stmt.where(CobrowseAudit.conversation_id == conversation_id)
    if before is not None:
        stmt = stmt.where(CobrowseAudit.id < before)
    async with rt.db.read() as s:
        stmt = scoped(stmt, CobrowseSession.site_id, await site_ids_for(s, who))
        rows, next_cursor = page_of(
            list((await s.execute(stmt)).scalars().all()), limit, lambda r: {"before": r.id}
        )
    set_next_cursor(response, next_cursor)
    return [
        {
            "id": r.id,
            "session_id": r.session_id,
            "conversation_id": r.conversation_id,
            "action": r.action,
            "actor": {"kind": r.actor_kind, "id": r.actor_id},
            "detail": r.detail,
            "at": r.at.isoformat(),
        }
        for r in rows
    ]


@router.get("/sessions")
async def sessions(rt: RT, who: AgentDep, conversation_id: int) -> list[dict[str, Any]]:
    """Open (requested or active) sessions of a conversation, for a console that opens it."""
    stmt = (
        select(CobrowseSession)
        .where(
            CobrowseSession.conversation_id == conversation_id,
            CobrowseSession.status.in_(("requested", "active")),
        )
        .order_by(CobrowseSession.id.desc())
        .limit(1)
    )
    async with rt.db.read() as s:
        stmt = scoped(stmt, CobrowseSession.site_id, await site_ids_for(s, who))
        rows = (await s.execute(stmt)).scalars().all()
    return [
        {
            "session_id": r.id,
            "conversation_id": r.conversation_id,
            "status": r.status,
            "control": r.control,
            "auto_follow": r.auto_follow,
        }
        for r in rows
    ]
