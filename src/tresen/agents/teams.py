"""Teams and the sites agents serve: reads and the one write path (admins).

A team is a named group of agents (for the console's filters and for people to find each
other); the sites an agent serves decide what they see and are routed (``agents/scope.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.auth.audit import record_audit
from tresen.errors import Conflict, Invalid, NotFound
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.storage.models import Agent, AgentSite, Site, Team, TeamMember

MAX_TEAM_NAME = 100


async def _existing(s: AsyncSession, column: Any, ids: Iterable[int], what: str) -> list[int]:
    wanted = sorted(set(ids))
    if not wanted:
        return []
    found = set((await s.execute(select(column).where(column.in_(wanted)))).scalars())
    missing = [i for i in wanted if i not in found]
    if missing:
        raise Invalid(f"no {what} {', '.join(map(str, missing))}")
    return wanted


async def set_agent_sites(s: AsyncSession, agent_id: int, site_ids: Iterable[int]) -> None:
    ids = await _existing(s, Site.id, site_ids, "site")
    await s.execute(delete(AgentSite).where(AgentSite.agent_id == agent_id))
    s.add_all(AgentSite(agent_id=agent_id, site_id=i) for i in ids)


async def set_agent_teams(s: AsyncSession, agent_id: int, team_ids: Iterable[int]) -> None:
    ids = await _existing(s, Team.id, team_ids, "team")
    await s.execute(delete(TeamMember).where(TeamMember.agent_id == agent_id))
    s.add_all(TeamMember(agent_id=agent_id, team_id=i) for i in ids)


async def agent_links(s: AsyncSession, agent_id: int) -> dict[str, list[int]]:
    return (await links_by_agent(s, [agent_id])).get(agent_id, {"site_ids": [], "team_ids": []})


async def links_by_agent(
    s: AsyncSession, agent_ids: Iterable[int]
) -> dict[int, dict[str, list[int]]]:
    """Each agent's sites and teams, for the agents list."""
    ids = list(agent_ids)
    out: dict[int, dict[str, list[int]]] = {a: {"site_ids": [], "team_ids": []} for a in ids}
    if not ids:
        return out
    sites = select(AgentSite.agent_id, AgentSite.site_id).where(AgentSite.agent_id.in_(ids))
    for agent_id, site_id in (await s.execute(sites.order_by(AgentSite.site_id))).all():
        out[agent_id]["site_ids"].append(site_id)
    teams = select(TeamMember.agent_id, TeamMember.team_id).where(TeamMember.agent_id.in_(ids))
    for agent_id, team_id in (await s.execute(teams.order_by(TeamMember.team_id))).all():
        out[agent_id]["team_ids"].append(team_id)
    return out


async def list_teams(s: AsyncSession) -> list[dict[str, Any]]:
    teams = list((await s.execute(select(Team).order_by(Team.name))).scalars())
    members: dict[int, list[int]] = {t.id: [] for t in teams}
    rows = await s.execute(
        select(TeamMember.team_id, TeamMember.agent_id).order_by(TeamMember.agent_id)
    )
    for team_id, agent_id in rows.all():
        members.setdefault(team_id, []).append(agent_id)
    return [team_view(t, members.get(t.id, [])) for t in teams]


def team_view(team: Team, member_ids: list[int]) -> dict[str, Any]:
    return {"id": team.id, "name": team.name, "member_ids": member_ids}


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_TEAM_NAME:
        raise Invalid(f"a team needs a name of 1 to {MAX_TEAM_NAME} characters")
    return name


async def _set_members(s: AsyncSession, team_id: int, agent_ids: Iterable[int]) -> list[int]:
    ids = await _existing(s, Agent.id, agent_ids, "agent")
    await s.execute(delete(TeamMember).where(TeamMember.team_id == team_id))
    s.add_all(TeamMember(team_id=team_id, agent_id=a) for a in ids)
    return ids


async def _name_taken(s: AsyncSession, name: str, but: int | None = None) -> bool:
    stmt = select(func.count()).where(func.lower(Team.name) == name.lower())
    if but is not None:
        stmt = stmt.where(Team.id != but)
    return bool((await s.execute(stmt)).scalar_one())


async def check_create_team(
    rt: Runtime, name: str, member_ids: list[int], *, actor: Principal | None = None
) -> dict[str, Any]:
    name = _check_name(name)
    try:
        async with rt.db.write() as s:
            if await _name_taken(s, name):
                raise Conflict(f"a team {name!r} exists")
            team = Team(name=name, created_at=rt.clock.now())
            s.add(team)
            await s.flush()
            view = team_view(team, await _set_members(s, team.id, member_ids))
            record_audit(s, actor, "team.create", f"team:{team.id}", None, view, at=rt.clock.now())
    except IntegrityError as exc:
        raise Conflict(f"a team {name!r} exists") from exc
    return view


async def check_update_team(
    rt: Runtime,
    team_id: int,
    *,
    name: str | None = None,
    member_ids: list[int] | None = None,
    actor: Principal | None = None,
) -> dict[str, Any]:
    async with rt.db.write() as s:
        team = await s.get(Team, team_id)
        if team is None:
            raise NotFound(f"no team {team_id}")
        old_members = list(
            (
                await s.execute(select(TeamMember.agent_id).where(TeamMember.team_id == team_id))
            ).scalars()
        )
        before = team_view(team, sorted(old_members))
        if name is not None:
            team.name = _check_name(name)
            if await _name_taken(s, team.name, but=team_id):
                raise Conflict(f"a team {team.name!r} exists")
        members = before["member_ids"]
        if member_ids is not None:
            members = await _set_members(s, team_id, member_ids)
        view = team_view(team, members)
        record_audit(s, actor, "team.update", f"team:{team_id}", before, view, at=rt.clock.now())
    return view


async def do_delete_team(rt: Runtime, team_id: int, *, actor: Principal | None = None) -> None:
    async with rt.db.write() as s:
        team = await s.get(Team, team_id)
        if team is None:
            raise NotFound(f"no team {team_id}")
        record_audit(
            s,
            actor,
            "team.delete",
            f"team:{team_id}",
            {"id": team.id, "name": team.name},
            None,
            at=rt.clock.now(),
        )
        await s.execute(delete(TeamMember).where(TeamMember.team_id == team_id))
        await s.delete(team)
