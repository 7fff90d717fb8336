"""Agents: list (any agent), create and change (admins; agents may change their own status)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from tresen.agents.actions import check_create_agent, check_update_agent
from tresen.agents.avatar import MAX_AVATAR_BYTES, check_set_avatar, load_avatar
from tresen.agents.queries import agent_public, list_agents
from tresen.auth.deps import RT, SESSION_COOKIE, AdminDep, AgentDep
from tresen.errors import Forbidden, Invalid, NotFound

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


# What a supervisor may change for any agent: moving them between email and chat.
SUPERVISOR_FIELDS = {"takes_email"}


@router.get("")
async def get_agents(rt: RT, who: AgentDep) -> list[dict[str, object]]:
    async with rt.db.read() as s:
        return [agent_public(a) for a in await list_agents(s)]


@router.post("", status_code=201)
async def create_agent(body: AgentIn, rt: RT, who: AdminDep) -> dict[str, object]:
    agent = await check_create_agent(rt, **body.model_dump())
    return agent_public(agent)


@router.patch("/{agent_id}")
async def patch_agent(
    agent_id: int, body: AgentPatch, request: Request, rt: RT, who: AgentDep
) -> dict[str, object]:
    changes = body.model_dump(exclude_none=True)
    own = agent_id == who.id and not set(changes) - {"status", "display_name"}
    steer = who.role == "supervisor" and not set(changes) - SUPERVISOR_FIELDS
    if not (who.is_admin or own or steer):
        raise Forbidden("agents may change only their own status and name")
    session = request.cookies.get(SESSION_COOKIE)
    return agent_public(await check_update_agent(rt, agent_id, by_session=session, **changes))


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
