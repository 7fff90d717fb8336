"""Reads for agents."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.errors import NotFound
from tresen.storage.models import Agent


async def access_agent_by_id(s: AsyncSession, agent_id: int) -> Agent:
    agent = await s.get(Agent, agent_id)
    if agent is None:
        raise NotFound(f"no agent {agent_id}")
    return agent


async def agent_by_username(s: AsyncSession, username: str) -> Agent | None:
    return (await s.execute(select(Agent).where(Agent.username == username))).scalar_one_or_none()


async def list_agents(
    s: AsyncSession, *, after_id: int | None = None, limit: int | None = None
) -> list[Agent]:
    stmt = select(Agent).order_by(Agent.id)
    if after_id is not None:
        stmt = stmt.where(Agent.id > after_id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list((await s.execute(stmt)).scalars())


def agent_public(agent: Agent) -> dict[str, Any]:
    return {
        "id": agent.id,
        "username": agent.username,
        "display_name": agent.display_name,
        "role": agent.role,
        "skills": agent.skills,
        "max_chats": agent.max_chats,
        "status": agent.status,
        "is_active": agent.is_active,
        "takes_email": agent.takes_email,
        "skill_levels": {k: int(agent.skill_levels.get(k, 1)) for k in agent.skills},
        "departments": agent.departments,
        "avatar_url": avatar_path(agent),
    }


def avatar_path(agent: Agent) -> str | None:
    """Where the agent's picture is served (cache-busted by its time), or None."""
    if agent.avatar_type is None or agent.avatar_at is None:
        return None
    return f"/api/agents/{agent.id}/avatar?v={int(agent.avatar_at.timestamp())}"
