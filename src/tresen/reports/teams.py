"""Teams as a report dimension (docs/reports.md, "Teams").

A conversation counts for the teams of the agent who has it (an agent may be in several teams,
so the teams' volumes can add up to more than the total; conversations nobody has belong to no
team). Membership is read as it is now: moving an agent to another team moves their past
conversations with them, the way the agent filter does.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.storage.models import Team, TeamMember


async def members(s: AsyncSession, team_id: int) -> frozenset[int] | None:
    """The team's agents (None: no such team)."""
    if await s.get(Team, team_id) is None:
        return None
    stmt = select(TeamMember.agent_id).where(TeamMember.team_id == team_id)
    return frozenset((await s.execute(stmt)).scalars())


async def membership(s: AsyncSession) -> tuple[dict[int, str], dict[int, list[int]]]:
    """(team names by id, the teams of each agent)."""
    names = dict((await s.execute(select(Team.id, Team.name).order_by(Team.id))).all())
    of_agent: dict[int, list[int]] = {}
    for team_id, agent_id in (
        await s.execute(select(TeamMember.team_id, TeamMember.agent_id))
    ).all():
        of_agent.setdefault(agent_id, []).append(team_id)
    return names, of_agent


def per_team(
    groups: list[dict[str, Any]], of_agent: dict[int, list[int]], keys: tuple[str, ...]
) -> dict[int, dict[str, Any]]:
    """Sum ``keys`` of the per-agent groups into the agents' teams."""
    out: dict[int, dict[str, Any]] = {}
    for g in groups:
        if g["agent"] is None:
            continue
        for team_id in of_agent.get(int(g["agent"]), []):
            acc = out.setdefault(team_id, dict.fromkeys(keys, 0))
            for k in keys:
                acc[k] += g[k] or 0
    return out
