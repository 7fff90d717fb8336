"""Hourly rollups: the sums of the conversation facts per creation hour, site, channel and skill
(``report_hourly``) and per creation hour, site and agent (``report_hourly_agents``), so a long
range reads a few thousand rows instead of every conversation (docs/reports.md, "Rollups").

Written: an hour's rows are recomputed from the facts of that hour whenever a fact of it is
rebuilt (the flush listener and the backfill call ``rebuild_hours`` in the same transaction), so
a rollup is always the sum of its facts. Read: the whole hours inside a range come from the
rollups, the partial hours at its edges from the facts (``sums``). Facts only: other service
thresholds than the rollups'; figures per agent (or an agent or team filter) together with a
channel or skill filter; figures per channel or skill with an agent or team filter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.storage.models import ReportConversation, ReportHourly, ReportHourlyAgent

R, H, HA = ReportConversation, ReportHourly, ReportHourlyAgent
ROLLUP_SL_SECONDS = 20.0
ROLLUP_SHORT_ABANDON_SECONDS = 10.0
GROUP_KEYS = ("channel", "site", "skill", "agent")
SERVICE_KEYS = ("queued", "short", "abandoned", "in_time", "transfers")
SUM_KEYS = (
    "count",
    "n_first",
    "sum_first",
    "n_wait",
    "sum_wait",
    "response_total",
    "responses",
    "n_handle",
    "sum_handle",
    *SERVICE_KEYS,
    "bot",
    "handed",
    "resolved",
)
ROLLUP_LOCK = 0x7265706F  # "repo": the advisory lock key of rollup rebuilds
NO_SKILL = ""  # how the rollups spell "no skill" (a unique key cannot hold NULL)
FACT_DIMS = {"channel": R.channel, "site": R.site_id, "skill": R.skill, "agent": R.agent_id}


def when(cond: ColumnElement[bool]) -> Any:
    return func.sum(case((cond, 1), else_=0))


def service_columns(sl_seconds: float, short_abandon_seconds: float) -> tuple[Any, ...]:
    queued = R.queued_at.is_not(None)
    short = and_(
        queued, R.abandoned.is_(True), func.coalesce(R.abandon_seconds, 0) < short_abandon_seconds
    )
    return (
        when(queued),
        when(short),
        when(and_(queued, R.abandoned.is_(True))),
        when(and_(queued, R.wait_seconds <= sl_seconds)),
        func.coalesce(func.sum(R.transfers), 0),
    )


def fact_sums(sl_seconds: float, short_abandon_seconds: float) -> tuple[Any, ...]:
    """The SUM_KEYS over facts, in that order."""
    first, wait, handle = R.first_response_seconds, R.wait_seconds, R.handle_seconds
    return (
        func.count(),
        func.count(first),
        func.coalesce(func.sum(first), 0.0),
        func.count(wait),
        func.coalesce(func.sum(wait), 0.0),
        func.coalesce(func.sum(R.response_seconds), 0.0),
        func.coalesce(func.sum(R.responses), 0),
        func.count(handle),
        func.coalesce(func.sum(handle), 0.0),
        *service_columns(sl_seconds, short_abandon_seconds),
        when(R.bot.is_(True)),
        when(and_(R.bot.is_(True), R.handed_over.is_(True))),
        when(R.status == "resolved"),
    )


def _hour_ranges(hours: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted hours as [first, last] runs."""
    runs: list[tuple[int, int]] = []
    for h in sorted(set(hours)):
        if runs and runs[-1][1] == h - 1:
            runs[-1] = (runs[-1][0], h)
        else:
            runs.append((h, h))
    return runs


def _at(hour: int) -> datetime:
    return datetime.fromtimestamp(hour * 3600, UTC)


def _created_in(runs: list[tuple[int, int]]) -> ColumnElement[bool]:
    """Facts created in these hour runs, on the ``created_at`` index."""
    at = _at
    return or_(*(and_(R.created_at >= at(a), R.created_at < at(b + 1)) for a, b in runs))


async def rebuild_hours(s: AsyncSession, hours: Iterable[int]) -> None:
    """Recompute the rollup rows of these creation hours from their facts (in the caller's
    transaction). On PostgreSQL the nodes take turns (a transaction-scoped advisory lock): two
    nodes recomputing the current hour at once would otherwise both insert its rows."""
    runs = _hour_ranges(hours)
    if not runs:
        return
    if s.get_bind().dialect.name == "postgresql":
        await s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROLLUP_LOCK})
    sums_of = fact_sums(ROLLUP_SL_SECONDS, ROLLUP_SHORT_ABANDON_SECONDS)
    for start in range(0, len(runs), 200):
        chunk = runs[start : start + 200]
        for table in (H, HA):
            await s.execute(delete(table).where(or_(*(table.hour.between(a, b) for a, b in chunk))))
        keys: tuple[Any, ...] = (
            R.created_hour,
            R.site_id,
            R.channel,
            func.coalesce(R.skill, NO_SKILL),
        )
        grouped = select(*keys, *sums_of).where(_created_in(chunk)).group_by(*keys)
        columns = ["hour", "site_id", "channel", "skill", *SUM_KEYS]
        await s.execute(insert(H).from_select(columns, grouped))
        keys = (R.created_hour, R.site_id, R.agent_id)
        grouped = (
            select(*keys, *sums_of)
            .where(_created_in(chunk), R.agent_id.is_not(None))
            .group_by(*keys)
        )
        columns = ["hour", "site_id", "agent_id", *SUM_KEYS]
        await s.execute(insert(HA).from_select(columns, grouped))


def whole_hours(scope: Any) -> tuple[int, int]:
    """The whole hours [first, last) inside the range (first >= last: none)."""
    return math.ceil(scope.start.timestamp() / 3600), math.floor(scope.end.timestamp() / 3600)


def rollup_for(scope: Any, dims: tuple[str, ...]) -> Any:
    """The rollup table that can answer these group dimensions under the scope's filters, or
    None (read the facts)."""
    first, last = whole_hours(scope)
    if not (
        scope.rollups
        and first < last
        and scope.sl_seconds == ROLLUP_SL_SECONDS
        and scope.short_abandon_seconds == ROLLUP_SHORT_ABANDON_SECONDS
    ):
        return None
    by_agent = "agent" in dims or scope.agent_id is not None or scope.team_agents is not None
    if not by_agent:
        return H
    if set(dims) <= {"site", "agent"} and scope.channel is None and scope.skill is None:
        return HA
    return None


def _rollup_where(table: Any, scope: Any, first: int, last: int) -> list[ColumnElement[bool]]:
    conds = [table.hour >= first, table.hour < last]
    if scope.site_id is not None:
        conds.append(table.site_id == scope.site_id)
    if scope.sites is not None:
        conds.append(table.site_id.in_(sorted(scope.sites)))
    if table is H:
        if scope.channel is not None:
            conds.append(H.channel == scope.channel)
        if scope.skill is not None:
            conds.append(H.skill == scope.skill)
    else:
        if scope.agent_id is not None:
            conds.append(HA.agent_id == scope.agent_id)
        if scope.team_agents is not None:
            conds.append(HA.agent_id.in_(sorted(scope.team_agents)))
    return conds


def _rollup_dim(table: Any, dim: str, hours: int) -> Any:
    if dim == "bucket":
        return table.hour // hours
    if dim == "skill":
        return func.nullif(H.skill, NO_SKILL)
    return getattr(table, {"site": "site_id", "channel": "channel", "agent": "agent_id"}[dim])


def _fact_dim(dim: str, hours: int) -> Any:
    return R.created_hour // hours if dim == "bucket" else FACT_DIMS[dim]


def _edges(first: int, last: int) -> ColumnElement[bool]:
    return or_(R.created_at < _at(first), R.created_at >= _at(last))


async def sums(
    s: AsyncSession, scope: Any, dims: tuple[str, ...], hours: int = 1
) -> list[tuple[Any, ...]]:
    """Rows of (*dims, *SUM_KEYS) for the range, grouped by ``dims`` (channel, site, skill,
    agent; ``bucket``: the creation hour // ``hours``). Whole hours from a rollup that can
    answer, the edges from the facts; a key seen in both is summed."""
    by = tuple(_fact_dim(d, hours) for d in dims)
    facts = select(*by, *fact_sums(scope.sl_seconds, scope.short_abandon_seconds)).where(
        *scope.where()
    )
    table = rollup_for(scope, tuple(d for d in dims if d != "bucket"))
    if table is None:
        return [tuple(r) for r in (await s.execute(facts.group_by(*by))).all()]
    first, last = whole_hours(scope)
    h_by = tuple(_rollup_dim(table, d, hours) for d in dims)
    rolled = (
        select(*h_by, *(func.sum(getattr(table, k)) for k in SUM_KEYS))
        .where(*_rollup_where(table, scope, first, last))
        .group_by(*h_by)
    )
    merged: dict[tuple[Any, ...], list[Any]] = {}
    n = len(dims)
    for stmt in (facts.where(_edges(first, last)).group_by(*by), rolled):
        for row in (await s.execute(stmt)).all():
            key, values = tuple(row[:n]), [v or 0 for v in row[n:]]
            if table is HA and "agent" in dims and key[dims.index("agent")] is None:
                continue  # the agents' rollup has only conversations someone has
            old = merged.get(key)
            merged[key] = (
                values if old is None else [a + b for a, b in zip(old, values, strict=True)]
            )
    return [(*k, *v) for k, v in merged.items()]
