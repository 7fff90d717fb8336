"""Contact-centre metrics over the report store. Each formula is written out in docs/reports.md.

A range selects conversations by ``created_at`` (start inclusive, end exclusive); filters narrow
by site, channel, skill and agent. Percentiles are computed here from the selected values
(nearest-rank), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.reports import teams
from tresen.reports.csat import csat
from tresen.reports.occupancy import occupancy
from tresen.reports.occupancy import status_timeline as status_timeline  # re-exported
from tresen.reports.rollups import (
    SERVICE_KEYS,
    SUM_KEYS,
    service_columns,
    sums,
    when,
)
from tresen.storage.models import (
    Agent,
    Conversation,
    ReportConversation,
)

R = ReportConversation


@dataclass(frozen=True)
class Scope:
    start: datetime
    end: datetime
    site_id: int | None = None
    channel: str | None = None
    skill: str | None = None
    agent_id: int | None = None
    sl_seconds: float = 20.0  # service level: answered within this many seconds
    short_abandon_seconds: float = 10.0  # abandoned sooner: not counted against service
    now: datetime | None = None  # what is still going on counts until now (or the range's end)
    sites: frozenset[int] | None = None  # the sites the reader serves (None: all)
    team_id: int | None = None  # conversations whose agent is in this team ...
    team_agents: frozenset[int] | None = None  # ... its members (resolved by the caller)
    rollups: bool = True  # whole hours from the hourly rollups (False: facts only, to compare)

    @property
    def until(self) -> datetime:
        return min(self.end, self.now) if self.now is not None else self.end

    def where(self) -> list[ColumnElement[bool]]:
        conds = [R.created_at >= self.start, R.created_at < self.end]
        if self.site_id is not None:
            conds.append(R.site_id == self.site_id)
        if self.sites is not None:
            conds.append(R.site_id.in_(sorted(self.sites)))
        if self.channel is not None:
            conds.append(R.channel == self.channel)
        if self.skill is not None:
            conds.append(R.skill == self.skill)
        if self.agent_id is not None:
            conds.append(R.agent_id == self.agent_id)
        if self.team_agents is not None:
            conds.append(R.agent_id.in_(sorted(self.team_agents)))
        return conds


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least p % of values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _avg(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


async def summary(s: AsyncSession, scope: Scope) -> dict[str, Any]:
    """Everything of the range in one grouped pass over the facts, plus the percentiles (found
    by the database on covering indexes), the email backlog and occupancy."""
    groups = await _groups(s, scope, CSK)
    total = _sum_groups(groups)
    per_agent = await _groups(s, scope, ("agent",))
    _, of_agent = await teams.membership(s)
    by_team = teams.per_team(per_agent, of_agent, ("count",))
    return {
        "range": {"start": scope.start.isoformat(), "end": scope.end.isoformat()},
        "volume": {
            **_volume(groups, CSK),
            **_volume(per_agent, ("agent",)),
            "total": total["count"],
            "by_team": {str(k): int(v["count"]) for k, v in sorted(by_team.items())},
        },
        "times": await _times(s, scope, total),
        "service": _service(scope, *(total[k] for k in SERVICE_KEYS)),
        "bot": _bot(total["bot"], total["handed"]),
        "email_backlog": await email_backlog(s, scope),
        "occupancy": await occupancy(s, scope),
        "csat": await csat(s, scope),
    }


CSK = ("channel", "site", "skill")


async def _groups(s: AsyncSession, scope: Scope, dims: tuple[str, ...]) -> list[dict[str, Any]]:
    """Sums per ``dims``: whole hours from the rollups, the range's partial hours from the
    facts (reports/rollups.py)."""
    rows = await sums(s, scope, dims)
    return [dict(zip((*dims, *SUM_KEYS), row, strict=True)) for row in rows]


def _sum_groups(groups: list[dict[str, Any]]) -> dict[str, Any]:
    return {k: sum(g[k] for g in groups) for k in SUM_KEYS}


def _volume(groups: list[dict[str, Any]], dims: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in dims:
        counts: dict[str, int] = {}
        for g in groups:
            if key == "agent" and g[key] is None:
                continue
            counts[str(g[key])] = counts.get(str(g[key]), 0) + int(g["count"])
        out[f"by_{key}"] = counts
    return out


async def _times(s: AsyncSession, scope: Scope, t: dict[str, Any]) -> dict[str, Any]:
    p50, p90, wait90 = await _percentiles(s, scope, t)
    return {
        "first_response_avg": _mean(t["sum_first"], t["n_first"]),
        "first_response_p50": p50,
        "first_response_p90": p90,
        "response_avg": _mean(t["response_total"], t["responses"]),
        "handle_avg": _mean(t["sum_handle"], t["n_handle"]),
        "queue_wait_avg": _mean(t["sum_wait"], t["n_wait"]),
        "queue_wait_p90": wait90,
    }


async def _percentiles(
    s: AsyncSession, scope: Scope, t: dict[str, Any] | None = None
) -> tuple[Any, Any, Any]:
    """p50 and p90 of first responses, p90 of queue waits (nearest rank). PostgreSQL's
    ``percentile_disc`` is the nearest rank too. SQLite has none: the first responses of the
    range come back as one text (``group_concat`` on the covering (created_at, value) index:
    one row, not one a conversation), sorted once here for both; the wait's p90 is the value
    the database finds at its rank counted from the top (``ORDER BY .. DESC LIMIT 1 OFFSET``
    on the same kind of index, which keeps only the top tenth in its sorter), the count of
    waits being known from the sums (``t``) or counted."""
    first, wait = R.first_response_seconds, R.wait_seconds
    if s.get_bind().dialect.name == "postgresql":
        stmt = select(
            func.percentile_disc(0.5).within_group(first),
            func.percentile_disc(0.9).within_group(first),
            func.percentile_disc(0.9).within_group(wait),
        ).where(*scope.where())
        return tuple(_num(v) for v in (await s.execute(stmt)).one())  # type: ignore[return-value]
    firsts = sorted(await _values(s, scope, first))
    waits = int(t["n_wait"]) if t is not None else None
    wait90 = await _from_the_top(s, scope, wait, 90, waits)
    return _ranked(firsts, 50), _ranked(firsts, 90), wait90


def _ranked(ordered: Sequence[float], p: float) -> float | None:
    """``percentile`` of values already in order."""
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1] if ordered else None


async def _from_the_top(
    s: AsyncSession, scope: Scope, col: Any, p: float, n: int | None
) -> float | None:
    """The nearest-rank ``p`` percentile of the column's ``n`` values in the range (None:
    counted here), read by the database at its place from the largest value down."""
    where = [*scope.where(), col.is_not(None)]
    if n is None:
        n = int((await s.execute(select(func.count()).where(*where))).scalar_one())
    if not n:
        return None
    rank = max(1, math.ceil(p / 100 * n))
    stmt = select(col).where(*where).order_by(col.desc()).limit(1).offset(n - rank)
    return _num((await s.execute(stmt)).scalar_one_or_none())


async def _values(s: AsyncSession, scope: Scope, col: Any) -> list[float]:
    """The column's values of the range. SQLite writes a REAL as text with 15 significant
    digits, so a value of at most 15 (seconds with microseconds, as the facts hold) reads
    back as the same float."""
    stmt = select(func.group_concat(col, ",")).where(*scope.where(), col.is_not(None))
    text = (await s.execute(stmt)).scalar_one_or_none()
    return list(map(float, text.split(","))) if text else []


def _mean(total: Any, count: Any) -> float | None:
    return float(total) / int(count) if count else None


def _bot(with_bot: Any, handed: Any) -> dict[str, Any]:
    with_bot, handed = int(with_bot or 0), int(handed or 0)
    return {
        "conversations": with_bot,
        "handed_over": handed,
        "handover_rate": _ratio(handed, with_bot),
        "deflection_rate": _ratio(with_bot - handed, with_bot),
    }


# Everything below is aggregated by the database: a busy month is 100,000 fact rows, and only
# the columns percentiles need are read (docs/reports.md, bench/reports.py).


def _when(cond: ColumnElement[bool]) -> Any:
    return when(cond)


def _service_columns(scope: Scope) -> tuple[Any, ...]:
    return service_columns(scope.sl_seconds, scope.short_abandon_seconds)


def _service(
    scope: Scope, queued: Any, short: Any, abandoned: Any, in_time: Any, transfers: Any
) -> dict[str, Any]:
    """Offered: queued conversations, minus short abandons. Answered in time: assigned within
    ``sl_seconds`` of joining the queue."""
    offered = int(queued or 0) - int(short or 0)
    abandoned_n = int(abandoned or 0) - int(short or 0)
    in_time_n = int(in_time or 0)
    return {
        "sl_seconds": scope.sl_seconds,
        "offered": offered,
        "answered_in_time": in_time_n,
        "service_level": _ratio(in_time_n, offered),
        "service_level_without_abandoned": _ratio(in_time_n, offered - abandoned_n),
        "abandoned": abandoned_n,
        "short_abandoned": int(short or 0),
        "abandonment_rate": _ratio(abandoned_n, offered),
        "transfers": int(transfers or 0),
    }


async def email_backlog(s: AsyncSession, scope: Scope) -> dict[str, Any]:
    """Now, not over the range: pending email conversations and the oldest one's age."""
    stmt = select(func.count(), func.min(Conversation.created_at)).where(
        Conversation.channel == "email", Conversation.status == "pending"
    )
    if scope.site_id is not None:
        stmt = stmt.where(Conversation.site_id == scope.site_id)
    if scope.sites is not None:
        stmt = stmt.where(Conversation.site_id.in_(sorted(scope.sites)))
    count, oldest = (await s.execute(stmt)).one()
    age = (scope.until - oldest).total_seconds() if oldest is not None else None
    return {"pending": int(count), "oldest_age_seconds": age}


async def agent_table(s: AsyncSession, scope: Scope) -> list[dict[str, Any]]:
    """Per agent who has conversations of the range: the sums of ``_groups`` by agent (whole
    hours from the agents' rollup, unless a channel or skill filter needs the facts), occupancy
    and CSAT."""
    groups = [g for g in await _groups(s, scope, ("agent",)) if g["agent"] is not None]
    names = dict((await s.execute(select(Agent.id, Agent.display_name))).all())
    occ = (await occupancy(s, scope))["by_agent"]
    rated = (await csat(s, scope))["by_agent"]
    none = {"count": 0, "average": None}
    return [
        {
            "agent_id": g["agent"],
            "agent": names.get(g["agent"]),
            "conversations": int(g["count"]),
            "resolved": int(g["resolved"]),
            "first_response_avg": _mean(g["sum_first"], g["n_first"]),
            "response_avg": _mean(g["response_total"], g["responses"]),
            "handle_avg": _mean(g["sum_handle"], g["n_handle"]),
            "occupancy": occ.get(str(g["agent"])),
            "csat_average": rated.get(str(g["agent"]), none)["average"],
            "csat_count": rated.get(str(g["agent"]), none)["count"],
        }
        for g in sorted(groups, key=lambda g: int(g["agent"]))
        if g["count"]
    ]


async def team_table(s: AsyncSession, scope: Scope) -> list[dict[str, Any]]:
    """Per team (docs/reports.md, "Teams"): volume, times and service of the conversations its
    agents have."""
    names, of_agent = await teams.membership(s)
    per = teams.per_team(await _groups(s, scope, ("agent",)), of_agent, SUM_KEYS)
    rows = []
    for team_id, name in names.items():
        t = per.get(team_id) or dict.fromkeys(SUM_KEYS, 0)
        service = _service(scope, *(t[k] for k in SERVICE_KEYS))
        rows.append(
            {
                "team_id": team_id,
                "team": name,
                "conversations": int(t["count"]),
                "first_response_avg": _mean(t["sum_first"], t["n_first"]),
                "response_avg": _mean(t["response_total"], t["responses"]),
                "handle_avg": _mean(t["sum_handle"], t["n_handle"]),
                "queue_wait_avg": _mean(t["sum_wait"], t["n_wait"]),
                "service_level": service["service_level"],
                "abandoned": service["abandoned"],
                "transfers": service["transfers"],
            }
        )
    return rows


def _num(value: Any) -> float | None:
    return float(value) if value is not None else None


async def series(s: AsyncSession, scope: Scope) -> dict[str, Any]:
    """Per hour (ranges up to two days) or per UTC day: conversations, abandoned, service level,
    average queue wait; grouped by the database on whole hours since the epoch."""
    hourly = scope.end - scope.start <= timedelta(days=2)
    hours = 1 if hourly else 24
    found = {}
    for b, *v in await sums(s, scope, ("bucket",), hours):
        t = dict(zip(SUM_KEYS, v, strict=True))
        wait = t["sum_wait"] / t["n_wait"] if t["n_wait"] else None
        found[int(b)] = (t["count"], wait, *(t[k] for k in SERVICE_KEYS))
    first = int(scope.start.timestamp() // 3600) // hours
    last = int((scope.end.timestamp() - 1) // 3600) // hours
    points = []
    for b in range(first, last + 1):
        count, wait, *svc = found.get(b, (0, None, 0, 0, 0, 0, 0))
        service_of = _service(scope, *svc)
        points.append(
            {
                "at": datetime.fromtimestamp(b * hours * 3600, UTC).isoformat(),
                "conversations": int(count),
                "abandoned": service_of["abandoned"],
                "service_level": service_of["service_level"],
                "queue_wait_avg": _num(wait),
            }
        )
    return {"bucket": "hour" if hourly else "day", "points": points}


DRILL: dict[str, Callable[[Scope], list[ColumnElement[bool]]]] = {
    "all": lambda scope: [],
    "abandoned": lambda scope: [R.abandoned.is_(True)],
    "sl_missed": lambda scope: [
        R.queued_at.is_not(None),
        or_(R.wait_seconds.is_(None), R.wait_seconds > scope.sl_seconds),
    ],
    "handed_over": lambda scope: [R.handed_over.is_(True)],
    "from_invitation": lambda scope: [R.offer_id.is_not(None)],
    "unanswered": lambda scope: [R.first_response_at.is_(None), R.visitor_messages > 0],
}


async def drill_down(
    s: AsyncSession, scope: Scope, which: str, rule_id: int | None, limit: int
) -> list[dict[str, Any]]:
    """The conversations behind a number: newest first."""
    conds = [*scope.where(), *DRILL[which](scope)]
    if rule_id is not None:
        conds.append(R.rule_id == rule_id)
    stmt = select(R).where(*conds).order_by(R.created_at.desc()).limit(limit)
    return [fact_row(r) for r in (await s.execute(stmt)).scalars()]


def fact_row(r: ReportConversation) -> dict[str, Any]:
    return {
        "conversation_id": r.conversation_id,
        "site_id": r.site_id,
        "channel": r.channel,
        "skill": r.skill,
        "agent_id": r.agent_id,
        "status": r.status,
        "created_at": r.created_at.isoformat(),
        "wait_seconds": r.wait_seconds,
        "first_response_seconds": r.first_response_seconds,
        "handle_seconds": r.handle_seconds,
        "abandoned": r.abandoned,
        "bot": r.bot,
        "handed_over": r.handed_over,
        "rule_id": r.rule_id,
        "transfers": r.transfers,
    }
