"""``/api/reports``: the dashboards' data, for supervisors and admins. Every table is also CSV
(``?format=csv``); ``/conversations`` is the drill-down from a number to its conversations.
The invitation funnel (``/funnel``) is served by the radar (``radar/funnel_api.py``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from tresen.agents.report_query import Format, report_range, report_table
from tresen.agents.scope import site_ids_for
from tresen.auth.deps import RT, SupervisorDep
from tresen.errors import Invalid
from tresen.reports import metrics, teams
from tresen.reports.metrics import DRILL, Scope

router = APIRouter(prefix="/api/reports", tags=["reports"])


def _scope(
    rt: Any,
    start: datetime | None,
    end: datetime | None,
    site_id: int | None,
    channel: str | None,
    skill: str | None,
    agent_id: int | None,
    sl_seconds: float,
    short_abandon_seconds: float,
) -> Scope:
    start, end = report_range(rt.clock.now(), start, end)
    if not 0 < sl_seconds <= 86400 or not 0 <= short_abandon_seconds <= 3600:
        raise Invalid("sl_seconds: 1 s to a day; short_abandon_seconds: 0 s to an hour")
    return Scope(
        start,
        end,
        site_id,
        channel,
        skill,
        agent_id,
        sl_seconds,
        short_abandon_seconds,
        now=rt.clock.now(),
    )


def _params(
    rt: RT,
    start: datetime | None = None,
    end: datetime | None = None,
    site_id: int | None = Query(None, ge=1, le=2**31),
    channel: str | None = Query(None, max_length=32),
    skill: str | None = Query(None, max_length=64),
    agent_id: int | None = Query(None, ge=1, le=2**31),
    team_id: int | None = Query(None, ge=1, le=2**31),
    sl_seconds: float = 20.0,
    short_abandon_seconds: float = 10.0,
) -> Scope:
    scope = _scope(
        rt, start, end, site_id, channel, skill, agent_id, sl_seconds, short_abandon_seconds
    )
    return replace(scope, team_id=team_id)


async def _scoped_params(
    rt: RT, who: SupervisorDep, scope: Annotated[Scope, Depends(_params)]
) -> Scope:
    """The reader's sites narrow every figure (a supervisor of site 1 sees site 1's)."""
    async with rt.db.read() as s:
        sites = await site_ids_for(s, who)
        agents = None if scope.team_id is None else await teams.members(s, scope.team_id)
    if scope.team_id is not None and agents is None:
        raise Invalid("team_id: no such team")
    return replace(scope, sites=sites, team_agents=agents)


ScopeDep = Annotated[Scope, Depends(_scoped_params)]


@router.get("/summary")
async def summary(rt: RT, who: SupervisorDep, scope: ScopeDep) -> dict[str, Any]:
    """Volume, times, service level, abandonment, bot, email backlog, occupancy."""
    async with rt.db.read() as s:
        return await metrics.summary(s, scope)


@router.get("/volume")
async def volume(
    rt: RT,
    who: SupervisorDep,
    scope: ScopeDep,
    by: Literal["channel", "site", "skill", "agent", "team"] = "channel",
    format: Format = "json",
) -> Any:
    async with rt.db.read() as s:
        data = (await metrics.summary(s, scope))["volume"][f"by_{by}"]
    rows = [{by: key, "conversations": count} for key, count in data.items()]
    return report_table(rows, format, f"volume-by-{by}")


@router.get("/series")
async def series(rt: RT, who: SupervisorDep, scope: ScopeDep, format: Format = "json") -> Any:
    """Conversations, abandons, service level and queue wait per hour or day (the charts)."""
    async with rt.db.read() as s:
        data = await metrics.series(s, scope)
    return data if format == "json" else report_table(data["points"], format, "series")


@router.get("/agents")
async def agents(rt: RT, who: SupervisorDep, scope: ScopeDep, format: Format = "json") -> Any:
    async with rt.db.read() as s:
        return report_table(await metrics.agent_table(s, scope), format, "agents")


@router.get("/teams")
async def team_table(rt: RT, who: SupervisorDep, scope: ScopeDep, format: Format = "json") -> Any:
    """Per team: volume, times and service of the conversations its agents have."""
    async with rt.db.read() as s:
        return report_table(await metrics.team_table(s, scope), format, "teams")


@router.get("/timeline")
async def timeline(rt: RT, who: SupervisorDep, scope: ScopeDep, format: Format = "json") -> Any:
    """Agents' status intervals within the range."""
    async with rt.db.read() as s:
        return report_table(await metrics.status_timeline(s, scope), format, "agent-status")


@router.get("/conversations")
async def conversations(
    rt: RT,
    who: SupervisorDep,
    scope: ScopeDep,
    which: str = "all",
    rule_id: int | None = Query(None, ge=1, le=2**31),
    limit: int = Query(200, ge=1, le=5000),
    format: Format = "json",
) -> Any:
    """The conversations behind a number (``which``: all, abandoned, sl_missed, handed_over,
    from_invitation, unanswered)."""
    if which not in DRILL:
        raise Invalid(f"which: one of {', '.join(DRILL)}")
    async with rt.db.read() as s:
        rows = await metrics.drill_down(s, scope, which, rule_id, limit)
    return report_table(rows, format, f"conversations-{which}")
