"""Organising the inbox over HTTP: tags, snooze, and bulk actions on a selection. Each
conversation of a bulk action is its own transaction through the usual write path, so one that
fails (gone, not allowed) is reported and the others still change."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tresen.auth.deps import RT, AgentDep
from tresen.conversations import actions, organize
from tresen.conversations.wire import conversation_dict
from tresen.errors import MAX_ID, Invalid, TresenError
from tresen.principal import Principal
from tresen.runtime import Runtime

router = APIRouter(prefix="/api/conversations", tags=["inbox"])
MAX_BULK = 100


class TagsIn(BaseModel):
    add: list[str] = Field(default_factory=list, max_length=20)
    remove: list[str] = Field(default_factory=list, max_length=20)


class SnoozeIn(BaseModel):
    until: datetime | None = None  # None: wake now


class BulkIn(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=MAX_BULK)
    action: Literal["assign", "unassign", "resolve", "reopen", "tag", "untag", "snooze", "wake"]
    assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    tags: list[str] = Field(default_factory=list, max_length=20)
    until: datetime | None = None


@router.post("/{conversation_id}/tags")
async def post_tags(conversation_id: int, body: TagsIn, rt: RT, who: AgentDep) -> dict[str, Any]:
    tags = await organize.check_tag(rt, who, conversation_id, add=body.add, remove=body.remove)
    return {"conversation_id": conversation_id, "tags": tags}


@router.post("/{conversation_id}/snooze")
async def post_snooze(
    conversation_id: int, body: SnoozeIn, rt: RT, who: AgentDep
) -> dict[str, Any]:
    return conversation_dict(await organize.check_snooze(rt, who, conversation_id, body.until))


async def _one(rt: Runtime, who: Principal, conv_id: int, body: BulkIn) -> None:
    if body.action == "assign":
        await actions.check_assign(rt, who, conv_id, body.assignee_id or who.id)
    elif body.action == "unassign":
        await actions.check_assign(rt, who, conv_id, None)
    elif body.action in ("resolve", "reopen"):
        status = "resolved" if body.action == "resolve" else "open"
        await actions.check_set_status(rt, who, conv_id, status)
    elif body.action == "tag":
        await organize.check_tag(rt, who, conv_id, add=body.tags)
    elif body.action == "untag":
        await organize.check_tag(rt, who, conv_id, remove=body.tags)
    else:
        until = body.until if body.action == "snooze" else None
        if body.action == "snooze" and until is None:
            raise Invalid("until is required to snooze", code="bad_time")
        await organize.check_snooze(rt, who, conv_id, until)


@router.post("/bulk")
async def bulk(body: BulkIn, rt: RT, who: AgentDep) -> dict[str, Any]:
    """One action on up to 100 conversations; per conversation ``ok`` or the error."""
    results: list[dict[str, Any]] = []
    for conv_id in dict.fromkeys(body.ids):
        try:
            await _one(rt, who, conv_id, body)
            results.append({"id": conv_id, "ok": True})
        except TresenError as e:
            results.append({"id": conv_id, "ok": False, "code": e.code, "message": str(e)})
    return {"results": results, "changed": sum(1 for r in results if r["ok"])}
