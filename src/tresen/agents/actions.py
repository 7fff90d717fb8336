"""The one write path for agents."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from tresen.agents.queries import access_agent_by_id
from tresen.agents.teams import agent_links, set_agent_sites, set_agent_teams
from tresen.auth.audit import record_audit, snapshot
from tresen.auth.sessions import do_end_sessions
from tresen.errors import Conflict, Invalid
from tresen.events import AgentAccessChanged, AgentStatusChanged, CapacityChanged, record
from tresen.principal import Principal
from tresen.runtime import Runtime
from tresen.security.passwords import hash_password
from tresen.storage.models import Agent, Site

ROLES = ("admin", "supervisor", "agent")
STATUSES = ("online", "away", "offline")
CAPACITY_FIELDS = frozenset({"skills", "max_chats", "is_active", "takes_email", "skill_levels"})
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def check_agent_fields(
    username: str | None = None,
    password: str | None = None,
    role: str | None = None,
    skills: list[str] | None = None,
    max_chats: int | None = None,
) -> None:
    if username is not None and not _USERNAME.match(username):
        raise Invalid("username: 2-64 of a-z 0-9 . _ - starting with a letter or digit")
    if password is not None and len(password) < 8:
        raise Invalid("password: at least 8 characters")
    if role is not None and role not in ROLES:
        raise Invalid(f"role: one of {', '.join(ROLES)}")
    if skills is not None and any(not k.strip() or len(k) > 64 for k in skills):
        raise Invalid("skills: names of 1 to 64 characters")
    if max_chats is not None and not 1 <= max_chats <= 20:
        raise Invalid("max_chats: between 1 and 20")


def check_routing_fields(
    skill_levels: dict[str, int] | None = None, departments: list[str] | None = None
) -> None:
    """Skill levels 1 (basic) to 5 (expert); department names of 1 to 64 characters."""
    if skill_levels is not None and any(not 1 <= v <= 5 for v in skill_levels.values()):
        raise Invalid("skill_levels: each level between 1 and 5")
    if departments is not None and any(not d.strip() or len(d) > 64 for d in departments):
        raise Invalid("departments: names of 1 to 64 characters")


async def check_create_agent(
    rt: Runtime,
    username: str,
    password: str,
    *,
    display_name: str | None = None,
    role: str = "agent",
    skills: list[str] | None = None,
    max_chats: int = 4,
    takes_email: bool = True,
    skill_levels: dict[str, int] | None = None,
    departments: list[str] | None = None,
    site_ids: list[int] | None = None,
    team_ids: list[int] | None = None,
    actor: Principal | None = None,
) -> Agent:
    """A new agent serves the sites given; none given: the only site if there is just one,
    else none until an admin assigns them (admins see every site anyway)."""
    check_agent_fields(username, password, role, skills, max_chats)
    check_routing_fields(skill_levels, departments)
    agent = Agent(
        username=username,
        display_name=(display_name or username).strip()[:200] or username,
        password_hash=hash_password(password),
        role=role,
        skills=[k.strip() for k in skills or []],
        max_chats=max_chats,
        takes_email=takes_email,
        skill_levels=dict(skill_levels or {}),
        departments=[d.strip() for d in departments or []],
        created_at=rt.clock.now(),
    )
    try:
        async with rt.db.write() as s:
            if (await s.execute(select(Agent.id).where(Agent.username == username))).first():
                raise Conflict(f"username {username!r} is taken")
            s.add(agent)
            await s.flush()
            if site_ids is None:
                all_sites = list((await s.execute(select(Site.id).limit(2))).scalars())
                site_ids = all_sites if len(all_sites) == 1 else []
            await set_agent_sites(s, agent.id, site_ids)
            await set_agent_teams(s, agent.id, team_ids or [])
            record_audit(
                s,
                actor,
                "agent.create",
                f"agent:{agent.id}",
                None,
                {**snapshot(agent), "site_ids": sorted(site_ids), "team_ids": team_ids or []},
                at=rt.clock.now(),
            )
    except IntegrityError as exc:
        raise Conflict(f"username {username!r} is taken") from exc
    return agent


async def check_update_agent(
    rt: Runtime,
    agent_id: int,
    *,
    by_session: str | None = None,
    actor: Principal | None = None,
    **changes: object,
) -> Agent:
    """Change display_name, role, skills, max_chats, password, status, is_active or
    takes_email (chat only / chat + email). A new password ends every other session of the
    agent (``by_session``, the session token of whoever changes it, stays); deactivation ends
    all of them. Their sockets close on every node."""
    fields = {k: v for k, v in changes.items() if v is not None}
    check_routing_fields(
        fields.get("skill_levels"),  # type: ignore[arg-type]
        fields.get("departments"),  # type: ignore[arg-type]
    )
    check_agent_fields(
        password=fields.get("password"),  # type: ignore[arg-type]
        role=fields.get("role"),  # type: ignore[arg-type]
        skills=fields.get("skills"),  # type: ignore[arg-type]
        max_chats=fields.get("max_chats"),  # type: ignore[arg-type]
    )
    if "status" in fields and fields["status"] not in STATUSES:
        raise Invalid(f"status: one of {', '.join(STATUSES)}")
    site_ids = fields.pop("site_ids", None)
    team_ids = fields.pop("team_ids", None)
    async with rt.db.write() as s:
        agent = await access_agent_by_id(s, agent_id)
        before = {**snapshot(agent), **await agent_links(s, agent_id)}
        old_status = agent.status
        if site_ids is not None:
            await set_agent_sites(s, agent_id, site_ids)  # type: ignore[arg-type]
        if team_ids is not None:
            await set_agent_teams(s, agent_id, team_ids)  # type: ignore[arg-type]
        for key, value in fields.items():
            if key == "password":
                agent.password_hash = hash_password(str(value))
            else:
                setattr(agent, key, value)
        if agent.status != old_status:
            record(s, AgentStatusChanged(agent_id, agent.status, old_status))
        if CAPACITY_FIELDS & fields.keys() or site_ids is not None:
            record(s, CapacityChanged(agent_id))  # routing reads the sites it may offer anew
        if site_ids is not None or ("role" in fields and fields["role"] != before["role"]):
            record(s, AgentAccessChanged(agent_id))
        if fields.get("is_active") is False:
            await do_end_sessions(s, agent_id, "deactivated")
        elif "password" in fields:
            await do_end_sessions(s, agent_id, "password_changed", keep_token=by_session)
        if _audited(fields, site_ids, team_ids):
            await s.flush()
            after = {**snapshot(agent), **await agent_links(s, agent_id)}
            if "password" in fields:
                after["password_changed"] = True
            record_audit(
                s, actor, "agent.update", f"agent:{agent_id}", before, after, at=rt.clock.now()
            )
    return agent


def _audited(fields: dict[str, object], site_ids: object, team_ids: object) -> bool:
    """An agent's own status (online, away) is routine; every other change is audited."""
    return bool(set(fields) - {"status"}) or site_ids is not None or team_ids is not None
