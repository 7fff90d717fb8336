"""Agents: list (any agent), create and change (admins; agents may change their own status)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from tresen.agents.actions import check_create_agent, check_update_agent
from tresen.agents.avatar import MAX_AVATAR_BYTES, check_set_avatar, load_avatar
from tresen.agents.queries import agent_public, list_agents
from tresen.agents.teams import agent_links, links_by_agent
from tresen.auth.deps import RT, SESSION_COOKIE, AdminDep, AgentDep
from tresen.errors import Forbidden, Invalid, NotFound
from tresen.storage.pagination import (
    clamp_limit,
    cursor_int,
    decode_cursor,
    page_of,
    set_next_cursor,
)

router = APIRouter(prefix="/api/agents", tags=["agents"])


class AgentIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=1024)
    display_name: str | None = Field(default=None, max_length=200)
    role: str = "agent"
    skills: list[str] = Field(default_factory=list, max_length=50)
    max_chats: int = 4
    takes_email: bool = True
    skill_levels: dict[str, int] = Field(default_factory=dict, max_length=50)
    departments: list[str] = Field(default_factory=list, max_length=20)
    site_ids: list[int] | None = Field(default=None, max_length=1000)  # None: see docs/access.md
    team_ids: list[int] = Field(default_factory=list, max_length=100)


class AgentPatch(BaseModel):
    display_name: str | None = Field(default=None, max_length=200)
    password: str | None = Field(default=None, max_length=1024)
    role: str | None = None
    skills: list[str] | None = Field(default=None, max_length=50)
    max_chats: int | None = None
    status: str | None = None
    is_active: bool | None = None
    takes_email: bool | None = None  # chat only (False) or chat + email work (True)
    skill_levels: dict[str, int] | None = Field(default=None, max_length=50)  # 1 basic .. 5
    departments: list[str] | None = Field(default=None, max_length=20)
    site_ids: list[int] | None = Field(default=None, max_length=1000)  # the sites served
    team_ids: list[int] | None = Field(default=None, max_length=100)


# What a supervisor may change for any agent: moving them between email and chat.
SUPERVISOR_FIELDS = {"takes_email"}


@router.get("")
async def get_agents(
    rt: RT, who: AgentDep, response: Response, limit: int = 200, cursor: str | None = None
) -> list[dict[str, object]]:
    """Every agent with the sites they serve and their teams; pages of ``limit`` (the next
    page's cursor in ``X-Next-Cursor``)."""
    limit = clamp_limit(limit)
    after = cursor_int(decode_cursor(cursor), "after")
    async with rt.db.read() as s:
        rows = await list_agents(s, after_id=after, limit=limit + 1)
        page, next_cursor = page_of(rows, limit, lambda a: {"after": a.id})
        links = await links_by_agent(s, [a.id for a in page])
    set_next_cursor(response, next_cursor)
    return [{**agent_public(a), **links[a.id]} for a in page]


async def _with_links(rt: RT, agent: object) -> dict[str, object]:
    view = agent_public(agent)  # type: ignore[arg-type]
    async with rt.db.read() as s:
        return {**view, **await agent_links(s, int(view["id"]))}


@router.post("", status_code=201)
async def create_agent(body: AgentIn, rt: RT, who: AdminDep) -> dict[str, object]:
    agent = await check_create_agent(rt, **body.model_dump(), actor=who)
    return await _with_links(rt, agent)


@router.patch("/{agent_id}")
async def patch_agent(
    agent_id: int, body: AgentPatch, request: Request, rt: RT, who: AgentDep
) -> dict[str, object]:
    changes = body.model_dump(exclude_none=True)
    own = agent_id == who.id and not set(changes) - {"status", "display_name"}
    if who.token_id is not None:
        own = False  # a token acts only within its owner's role
    steer = who.role == "supervisor" and not set(changes) - SUPERVISOR_FIELDS
    if not (who.is_admin or own or steer):
        raise Forbidden("agents may change only their own status and name")
    session = request.cookies.get(SESSION_COOKIE)
    agent = await check_update_agent(rt, agent_id, by_session=session, actor=who, **changes)
    return await _with_links(rt, agent)


@router.put("/{agent_id}/avatar")
async def put_avatar(agent_id: int, request: Request, rt: RT, who: AgentDep) -> dict[str, object]:
    """The agent's picture as the raw request body (PNG, JPEG, GIF or WebP; own or admin)."""
    if not (who.is_admin or agent_id == who.id):
        raise Forbidden("agents may change only their own picture")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_AVATAR_BYTES:
            raise Invalid(f"the image is over {MAX_AVATAR_BYTES} bytes", code="image_too_large")
    ctype = request.headers.get("content-type")
    return agent_public(await check_set_avatar(rt, agent_id, bytes(data), ctype))


@router.delete("/{agent_id}/avatar")
async def delete_avatar(agent_id: int, rt: RT, who: AgentDep) -> dict[str, object]:
    if not (who.is_admin or agent_id == who.id):
        raise Forbidden("agents may change only their own picture")
    return agent_public(await check_set_avatar(rt, agent_id, None, None))


@router.get("/{agent_id}/avatar")
async def get_avatar(agent_id: int, rt: RT) -> Response:
    """Public: visitors see the picture of the agent who talks to them."""
    found = await load_avatar(rt, agent_id)
    if found is None:
        raise NotFound(f"agent {agent_id} has no picture", code="no_avatar")
    data, kind = found
    return Response(
        data,
        media_type=kind,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "public, max-age=86400",
        },
    )
