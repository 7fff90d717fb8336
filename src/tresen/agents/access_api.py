"""Teams, API tokens and the audit log (admins). Lists are ``{"items", "next_cursor"}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tresen.agents import teams, tokens
from tresen.auth.audit import audit_rows, audit_view
from tresen.auth.bearer import RESOURCES, SCOPES
from tresen.auth.deps import RT, AdminDep, AgentDep
from tresen.errors import Forbidden
from tresen.storage.pagination import clamp_limit, cursor_int, decode_cursor, page_of

router = APIRouter(prefix="/api", tags=["access"])


class TeamIn(BaseModel):
    name: str = Field(max_length=100)
    member_ids: list[int] = Field(default_factory=list, max_length=1000)


class TeamPatch(BaseModel):
    name: str | None = Field(default=None, max_length=100)
    member_ids: list[int] | None = Field(default=None, max_length=1000)


class TokenIn(BaseModel):
    name: str = Field(max_length=100)
    scopes: list[str] = Field(max_length=64)
    agent_id: int | None = None  # the owner (a service account); default: whoever creates it
    site_ids: list[int] | None = Field(default=None, max_length=1000)


@router.get("/teams")
async def get_teams(rt: RT, who: AgentDep) -> dict[str, Any]:
    async with rt.db.read() as s:
        return {"items": await teams.list_teams(s), "next_cursor": None}


@router.post("/teams", status_code=201)
async def create_team(body: TeamIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    return await teams.check_create_team(rt, body.name, body.member_ids, actor=who)


@router.patch("/teams/{team_id}")
async def patch_team(team_id: int, body: TeamPatch, rt: RT, who: AdminDep) -> dict[str, Any]:
    return await teams.check_update_team(
        rt, team_id, name=body.name, member_ids=body.member_ids, actor=who
    )


@router.delete("/teams/{team_id}", status_code=204)
async def delete_team(team_id: int, rt: RT, who: AdminDep) -> None:
    await teams.do_delete_team(rt, team_id, actor=who)


def _no_token_minting(who: Any) -> None:
    if who.token_id is not None:
        raise Forbidden("API tokens are managed from a logged-in console", code="scope")


@router.get("/tokens")
async def get_tokens(
    rt: RT, who: AdminDep, limit: int = 50, cursor: str | None = None
) -> dict[str, Any]:
    limit = clamp_limit(limit)
    after = cursor_int(decode_cursor(cursor), "after")
    rows = await tokens.list_tokens(rt, after_id=after, limit=limit + 1)
    items, next_cursor = page_of(rows, limit, lambda t: {"after": t["id"]})
    return {"items": items, "next_cursor": next_cursor}


@router.post("/tokens", status_code=201)
async def create_token(body: TokenIn, rt: RT, who: AdminDep) -> dict[str, Any]:
    """The token is in this answer only: it is stored hashed."""
    _no_token_minting(who)
    token, view = await tokens.check_create_token(
        rt, who, name=body.name, scopes=body.scopes, agent_id=body.agent_id, site_ids=body.site_ids
    )
    return {**view, "token": token}


@router.delete("/tokens/{token_id}")
async def revoke_token(token_id: int, rt: RT, who: AdminDep) -> dict[str, Any]:
    return await tokens.do_revoke_token(rt, who, token_id)


@router.get("/audit")
async def get_audit(
    rt: RT,
    who: AdminDep,
    limit: int = 50,
    cursor: str | None = None,
    actor_id: int | None = None,
    action: str | None = None,
    target: str | None = None,
) -> dict[str, Any]:
    limit = clamp_limit(limit)
    before = cursor_int(decode_cursor(cursor), "before")
    async with rt.db.read() as s:
        rows = await audit_rows(
            s,
            limit=limit + 1,
            before_id=before,
            actor_id=actor_id,
            action=action,
            target=target,
        )
    page, next_cursor = page_of(rows, limit, lambda e: {"before": e.id})
    return {"items": [audit_view(e) for e in page], "next_cursor": next_cursor}


@router.get("/scopes")
async def get_scopes(who: AdminDep) -> dict[str, Any]:
    """What a token may be given: ``resource:read`` or ``resource:write``."""
    return {"resources": list(RESOURCES), "scopes": list(SCOPES)}
