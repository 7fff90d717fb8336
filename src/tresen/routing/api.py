"""Routing endpoints: accept/decline an offered chat, transfer, supervisor overview."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tresen.agents.scope import site_ids_for
from tresen.auth.deps import RT, AgentDep
from tresen.conversations.wire import conversation_dict
from tresen.errors import Forbidden
from tresen.routing import actions
from tresen.routing.overview import overview

router = APIRouter(prefix="/api", tags=["routing"])


class TransferIn(BaseModel):
    agent_id: int | None = None
    skill: str | None = Field(default=None, max_length=64)
    department: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=2000)


@router.post("/conversations/{conversation_id}/accept")
async def accept(conversation_id: int, rt: RT, who: AgentDep) -> dict[str, Any]:
    return conversation_dict(await actions.check_answer_offer(rt, who, conversation_id, True))


@router.post("/conversations/{conversation_id}/decline")
async def decline(conversation_id: int, rt: RT, who: AgentDep) -> dict[str, Any]:
    return conversation_dict(await actions.check_answer_offer(rt, who, conversation_id, False))


@router.post("/conversations/{conversation_id}/transfer")
async def transfer(conversation_id: int, body: TransferIn, rt: RT, who: AgentDep) -> dict[str, Any]:
    conv = await actions.check_transfer(
        rt,
        who,
        conversation_id,
        agent_id=body.agent_id,
        skill=body.skill,
        department=body.department,
        note=body.note,
    )
    return conversation_dict(conv)


@router.get("/routing/overview")
async def get_overview(rt: RT, who: AgentDep) -> dict[str, Any]:
    """Every queue, every agent's load and status, who waits how long (supervisors, admins)."""
    if who.role not in ("admin", "supervisor"):
        raise Forbidden("supervisors and admins only")
    async with rt.db.read() as s:
        sites = await site_ids_for(s, who)
    return await overview(rt, sites)
