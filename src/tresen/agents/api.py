"""Agents: list (any agent), create and change (admins; agents may change their own status)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from tresen.agents.actions import check_create_agent, check_update_agent
from tresen.agents.queries import agent_public, list_agents
from tresen.auth.deps import RT, SESSION_COOKIE, AdminDep, AgentDep
from tresen.errors import Forbidden

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
