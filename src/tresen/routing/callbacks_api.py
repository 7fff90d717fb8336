"""Callbacks over HTTP for the console: lists (mine, unassigned, due, open, done), take, notes,
reschedule, done (docs/inbox.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tresen.auth.deps import RT, AgentDep
from tresen.errors import MAX_ID
from tresen.routing.callbacks import callback_dict, check_update_callback, list_callbacks

router = APIRouter(prefix="/api/callbacks", tags=["callbacks"])


class CallbackPatch(BaseModel):
    owner_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    take: bool = False  # owner: me
    release: bool = False  # owner: nobody
    remind_at: datetime | None = None
    status: str | None = None
    notes: str | None = Field(default=None, max_length=4000)


@router.get("")
async def get_callbacks(
    rt: RT, who: AgentDep, list: str = "open", limit: int = 100
) -> list[dict[str, Any]]:
    async with rt.db.read() as s:
        rows = await list_callbacks(s, who, list, rt.clock.now(), limit)
    return [callback_dict(cb) for cb in rows]


@router.patch("/{callback_id}")
async def patch_callback(
    callback_id: int, body: CallbackPatch, rt: RT, who: AgentDep
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if body.take or body.owner_id is not None:
        changes["owner_id"] = body.owner_id if body.owner_id is not None else who.id
    elif body.release:
        changes["owner_id"] = None
    if "remind_at" in body.model_fields_set:
        changes["remind_at"] = body.remind_at
    cb = await check_update_callback(
        rt, who, callback_id, status=body.status, notes=body.notes, **changes
    )
    return callback_dict(cb)
