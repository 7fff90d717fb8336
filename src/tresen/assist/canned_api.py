"""Canned responses (``/api/canned``) and answer suggestions (``/api/assist/suggest``,
``/api/assist/picks``) for agents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from tresen.assist import canned_actions as canned
from tresen.assist.actions import PickSpec, check_record_pick
from tresen.assist.canned_actions import canned_view, conversation_values, fill
from tresen.assist.kb_api import SuggesterDep
from tresen.auth.deps import RT, AgentDep
from tresen.conversations.queries import access_conversation_by_id
from tresen.storage.models import Message

router = APIRouter(tags=["assist"])


@router.get("/api/canned")
async def get_canned(
    rt: RT, who: AgentDep, conversation_id: int | None = None
) -> list[dict[str, Any]]:
    """Shared and own canned responses; with ``conversation_id`` each also has ``text``, its
    variables filled in for that conversation."""
    async with rt.db.read() as s:
        rows = await canned.list_canned(s, who)
        if conversation_id is None:
            return [canned_view(c) for c in rows]
        conv = await access_conversation_by_id(s, who, conversation_id)
        values = await conversation_values(s, who, conv)
    return [canned_view(c, fill(c.body, values, c.language)) for c in rows]


@router.post("/api/canned", status_code=201)
async def create_canned(body: canned.CannedSpec, rt: RT, who: AgentDep) -> dict[str, Any]:
    return canned_view(await canned.check_create_canned(rt, who, body))


@router.patch("/api/canned/{canned_id}")
async def patch_canned(
    canned_id: int, body: canned.CannedPatch, rt: RT, who: AgentDep
) -> dict[str, Any]:
    return canned_view(await canned.check_update_canned(rt, who, canned_id, body))


@router.delete("/api/canned/{canned_id}", status_code=204)
async def delete_canned(canned_id: int, rt: RT, who: AgentDep) -> None:
    await canned.check_delete_canned(rt, who, canned_id)


@router.get("/api/assist/suggest")
async def suggest(
    conversation_id: int,
    rt: RT,
    sg: SuggesterDep,
    who: AgentDep,
    q: Annotated[str | None, Query(max_length=2000)] = None,
    limit: Annotated[int, Query(ge=1, le=10)] = 3,
) -> list[dict[str, Any]]:
    """The best answers for the conversation: for ``q`` (the agent's draft) or else the
    visitor's last messages. Canned texts come with their variables filled in."""
    async with rt.db.read() as s:
        conv = await access_conversation_by_id(s, who, conversation_id)
        text = (q or "").strip()
        if not text:
            text = " ".join(reversed(await _last_visitor_messages(s, conversation_id)))
        values = await conversation_values(s, who, conv)
    if not text:
        return []
    found = sg.suggest(text, conv.site_id, who.id, conv.meta.get("bot_lang"), limit=limit)
    return [
        {
            "source": f.item.source,
            "id": f.item.id,
            "title": f.item.title,
            "text": fill(f.item.text, values, f.item.language)
            if f.item.source == "canned"
            else f.item.text,
            "language": f.item.language,
            "score": round(f.score, 4),
            "conversation_id": f.item.conversation_id,
        }
        for f in found
    ]


async def _last_visitor_messages(s: Any, conversation_id: int, n: int = 3) -> list[str]:
    """The visitor's last messages since an agent last wrote, newest first."""
    stmt = (
        select(Message.author_kind, Message.body)
        .where(Message.conversation_id == conversation_id, Message.internal.is_(False))
        .order_by(Message.seq.desc())
        .limit(20)
    )
    bodies: list[str] = []
    for kind, body in (await s.execute(stmt)).all():
        if kind == "agent" and bodies:
            break
        if kind == "visitor":
            bodies.append(body)
            if len(bodies) == n:
                break
    return bodies


@router.post("/api/assist/picks", status_code=201)
async def record_pick(body: PickSpec, rt: RT, who: AgentDep) -> dict[str, Any]:
    pick = await check_record_pick(rt, who, body)
    return {"id": pick.id, "source": pick.source, "item_id": pick.item_id}
