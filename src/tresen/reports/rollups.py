"""Hourly rollups: the sums of the conversation facts per creation hour and per site, channel,
skill and agent (``report_hourly``), so a long range reads a few thousand rows instead of every
conversation (docs/reports.md, "Rollups").

Written: an hour's rows are recomputed from the facts of that hour whenever a fact of it is
rebuilt (the flush listener and the backfill call ``rebuild_hours`` in the same transaction), so
a rollup is always the sum of its facts. Read: the whole hours inside a range come from the
rollups, the partial hours at its edges from the facts (``sums``); a range asking for other
service thresholds than the rollups' reads the facts only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.storage.models import ReportConversation, ReportHourly

R, H = ReportConversation, ReportHourly
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
)
NO_SKILL, NO_AGENT = "", 0  # how the rollups spell "none" (a unique key cannot hold NULL)


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
    transaction)."""
    runs = _hour_ranges(hours)
    for start in range(0, len(runs), 200):
        chunk = runs[start : start + 200]
        await s.execute(delete(H).where(or_(*(H.hour.between(a, b) for a, b in chunk))))
        skill, agent = func.coalesce(R.skill, NO_SKILL), func.coalesce(R.agent_id, NO_AGENT)
        keys = (R.created_hour, R.site_id, R.channel, skill, agent)
        grouped = (
            select(*keys, *fact_sums(ROLLUP_SL_SECONDS, ROLLUP_SHORT_ABANDON_SECONDS))
            .where(_created_in(chunk))
            .group_by(*keys)
        )
        columns = ["hour", "site_id", "channel", "skill", "agent_id", *SUM_KEYS]
        await s.execute(insert(H).from_select(columns, grouped))


async def hours_of(s: AsyncSession, conversation_ids: list[int]) -> set[int]:
    """The creation hours of these conversations' facts."""
    out: set[int] = set()
    for start in range(0, len(conversation_ids), 5000):
        chunk = conversation_ids[start : start + 5000]
        stmt = select(R.created_hour).where(R.conversation_id.in_(chunk)).distinct()
        out.update((await s.execute(stmt)).scalars())
    return out


def whole_hours(scope: Any) -> tuple[int, int]:
    """The whole hours [first, last) inside the range (first >= last: none)."""
    return math.ceil(scope.start.timestamp() / 3600), math.floor(scope.end.timestamp() / 3600)


def uses_rollups(scope: Any) -> bool:
    first, last = whole_hours(scope)
    return (
        scope.rollups
        and first < last
        and scope.sl_seconds == ROLLUP_SL_SECONDS
        and scope.short_abandon_seconds == ROLLUP_SHORT_ABANDON_SECONDS
    )


def _rollup_where(scope: Any, first: int, last: int) -> list[ColumnElement[bool]]:
    conds = [H.hour >= first, H.hour < last]
    if scope.site_id is not None:
        conds.append(H.site_id == scope.site_id)
    if scope.sites is not None:
        conds.append(H.site_id.in_(sorted(scope.sites)))
    if scope.channel is not None:
        conds.append(H.channel == scope.channel)
    if scope.skill is not None:
        conds.append(H.skill == scope.skill)
    if scope.agent_id is not None:
        conds.append(H.agent_id == scope.agent_id)
    agents = getattr(scope, "team_agents", None)
    if agents is not None:
        conds.append(H.agent_id.in_(sorted(agents)))
    return conds


def _edges(scope: Any, first: int, last: int) -> ColumnElement[bool]:
    return or_(R.created_at < _at(first), R.created_at >= _at(last))


async def sums(s: AsyncSession, scope: Any, by: tuple[Any, ...], h_by: tuple[Any, ...]) -> list:
    """Rows of (*group values, *SUM_KEYS) for the range, grouped by ``by`` (fact columns) and,
    from the rollups, by ``h_by`` (the matching rollup expressions). Whole hours from the
    rollups, the edges (and any range with other thresholds) from the facts; a key seen in
    both is summed."""
    sl, short = scope.sl_seconds, scope.short_abandon_seconds
    facts = select(*by, *fact_sums(sl, short)).where(*scope.where())
    if not uses_rollups(scope):
        return [tuple(r) for r in (await s.execute(facts.group_by(*by))).all()]
    first, last = whole_hours(scope)
    rolled = (
        select(*h_by, *(func.sum(getattr(H, k)) for k in SUM_KEYS))
        .where(*_rollup_where(scope, first, last))
        .group_by(*h_by)
    )
    merged: dict[tuple[Any, ...], list[Any]] = {}
    n = len(by)
    for stmt in (facts.where(_edges(scope, first, last)).group_by(*by), rolled):
        for row in (await s.execute(stmt)).all():
            key = tuple(row[:n])
            values = [v or 0 for v in row[n:]]
            if key in merged:
                merged[key] = [a + b for a, b in zip(merged[key], values, strict=True)]
            else:
                merged[key] = values
    return [(*k, *v) for k, v in merged.items()]


def by_dimensions() -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Group keys (channel, site, skill, agent) on the facts and on the rollups; the rollups'
    "none" reads as NULL like the facts'."""
    return (
        (R.channel, R.site_id, R.skill, R.agent_id),
        (H.channel, H.site_id, func.nullif(H.skill, NO_SKILL), func.nullif(H.agent_id, NO_AGENT)),
    )
