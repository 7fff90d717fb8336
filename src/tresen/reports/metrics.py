"""Contact-centre metrics over the report store. Each formula is written out in docs/reports.md.

A range selects conversations by ``created_at`` (start inclusive, end exclusive); filters narrow
by site, channel, skill and agent. Percentiles are computed here from the selected values
(nearest-rank), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.storage.models import (
    Agent,
    Conversation,
    RadarOffer,
    ReportAgentStatus,
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

    @property
    def until(self) -> datetime:
        return min(self.end, self.now) if self.now is not None else self.end

    def where(self) -> list[ColumnElement[bool]]:
        conds = [R.created_at >= self.start, R.created_at < self.end]
        if self.site_id is not None:
            conds.append(R.site_id == self.site_id)
        if self.channel is not None:
            conds.append(R.channel == self.channel)
        if self.skill is not None:
            conds.append(R.skill == self.skill)
        if self.agent_id is not None:
            conds.append(R.agent_id == self.agent_id)
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


# What the summary reads of each fact row: plain rows, not ORM objects (100,000 of them per
# 30 days on a busy site).
FACT_COLUMNS = (
    R.channel,
    R.site_id,
    R.skill,
    R.agent_id,
    R.status,
    R.created_at,
    R.queued_at,
    R.wait_seconds,
    R.first_response_seconds,
    R.responses,
    R.response_seconds,
    R.handle_seconds,
    R.abandoned,
    R.abandon_seconds,
    R.bot,
    R.handed_over,
    R.transfers,
)


async def fact_rows(s: AsyncSession, scope: Scope, *extra: ColumnElement[bool]) -> Sequence[Any]:
    return (await s.execute(select(*FACT_COLUMNS).where(*scope.where(), *extra))).all()


async def summary(s: AsyncSession, scope: Scope) -> dict[str, Any]:
    rows = await fact_rows(s, scope)
    return {
        "range": {"start": scope.start.isoformat(), "end": scope.end.isoformat()},
        "volume": volume(rows),
        "times": times(rows),
        "service": service(rows, scope),
        "bot": bot(rows),
        "email_backlog": await email_backlog(s, scope),
        "occupancy": await occupancy(s, scope),
    }


def volume(rows: Sequence[Any]) -> dict[str, Any]:
    return {
        "total": len(rows),
        "by_channel": dict(Counter(r.channel for r in rows)),
        "by_site": {str(k): v for k, v in Counter(r.site_id for r in rows).items()},
        "by_skill": {str(k): v for k, v in Counter(r.skill for r in rows).items()},
        "by_agent": {str(k): v for k, v in Counter(r.agent_id for r in rows if r.agent_id).items()},
    }


def times(rows: Sequence[Any]) -> dict[str, Any]:
    first = [r.first_response_seconds for r in rows if r.first_response_seconds is not None]
    waits = [r.wait_seconds for r in rows if r.wait_seconds is not None]
    handle = [r.handle_seconds for r in rows if r.handle_seconds is not None]
    responses = sum(r.responses for r in rows)
    return {
        "first_response_avg": _avg(first),
        "first_response_p50": percentile(first, 50),
        "first_response_p90": percentile(first, 90),
        "response_avg": sum(r.response_seconds for r in rows) / responses if responses else None,
        "handle_avg": _avg(handle),
        "queue_wait_avg": _avg(waits),
        "queue_wait_p90": percentile(waits, 90),
    }


def service(rows: Sequence[Any], scope: Scope) -> dict[str, Any]:
    """Offered: queued conversations, minus short abandons. Answered in time: assigned within
    ``sl_seconds`` of joining the queue."""
    queued = [r for r in rows if r.queued_at is not None]
    short = [
        r for r in queued if r.abandoned and (r.abandon_seconds or 0) < scope.short_abandon_seconds
    ]
    offered = len(queued) - len(short)
    abandoned = sum(1 for r in queued if r.abandoned) - len(short)
    in_time = sum(
        1 for r in queued if r.wait_seconds is not None and r.wait_seconds <= scope.sl_seconds
    )
    return {
        "sl_seconds": scope.sl_seconds,
        "offered": offered,
        "answered_in_time": in_time,
        "service_level": _ratio(in_time, offered),
        "service_level_without_abandoned": _ratio(in_time, offered - abandoned),
        "abandoned": abandoned,
        "short_abandoned": len(short),
        "abandonment_rate": _ratio(abandoned, offered),
        "transfers": sum(r.transfers for r in rows),
    }


def bot(rows: Sequence[Any]) -> dict[str, Any]:
    with_bot = [r for r in rows if r.bot]
    handed = sum(1 for r in with_bot if r.handed_over)
    return {
        "conversations": len(with_bot),
        "handed_over": handed,
        "handover_rate": _ratio(handed, len(with_bot)),
        "deflection_rate": _ratio(len(with_bot) - handed, len(with_bot)),
    }


async def email_backlog(s: AsyncSession, scope: Scope) -> dict[str, Any]:
    """Now, not over the range: pending email conversations and the oldest one's age."""
    stmt = select(func.count(), func.min(Conversation.created_at)).where(
        Conversation.channel == "email", Conversation.status == "pending"
    )
    if scope.site_id is not None:
        stmt = stmt.where(Conversation.site_id == scope.site_id)
    count, oldest = (await s.execute(stmt)).one()
    age = (scope.until - oldest).total_seconds() if oldest is not None else None
    return {"pending": int(count), "oldest_age_seconds": age}


def _overlap(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> float:
    return max(0.0, (min(a1, b1) - max(a0, b0)).total_seconds())


async def occupancy(s: AsyncSession, scope: Scope) -> dict[str, Any]:
    """Per agent: chat-seconds of assigned chats (assigned until closed, or the range's end)
    over capacity-seconds (online time times their chat limit), both within the range."""
    intervals = (
        (
            await s.execute(
                select(ReportAgentStatus).where(
                    ReportAgentStatus.status == "online",
                    ReportAgentStatus.started_at < scope.end,
                    or_(
                        ReportAgentStatus.ended_at.is_(None),
                        ReportAgentStatus.ended_at > scope.start,
                    ),
                )
            )
        )
        .scalars()
        .all()
    )
    capacity: dict[int, float] = {}
    for iv in intervals:
        if scope.agent_id is not None and iv.agent_id != scope.agent_id:
            continue
        seconds = _overlap(iv.started_at, iv.ended_at or scope.until, scope.start, scope.end)
        capacity[iv.agent_id] = capacity.get(iv.agent_id, 0.0) + seconds * iv.max_chats
    chats = (
        await s.execute(
            select(R.agent_id, R.assigned_at, R.closed_at).where(
                R.agent_id.is_not(None),
                R.channel == "web",
                R.assigned_at.is_not(None),
                R.assigned_at < scope.end,
                or_(R.closed_at.is_(None), R.closed_at > scope.start),
            )
        )
    ).all()
    busy: dict[int, float] = {}
    for agent_id, assigned, closed in chats:
        if agent_id in capacity and assigned is not None:
            seconds = _overlap(assigned, closed or scope.until, scope.start, scope.end)
            busy[agent_id] = busy.get(agent_id, 0.0) + seconds
    total_cap, total_busy = sum(capacity.values()), sum(busy.values())
    return {
        "total": total_busy / total_cap if total_cap else None,
        "by_agent": {
            str(a): (busy.get(a, 0.0) / cap if cap else None) for a, cap in capacity.items()
        },
    }


async def agent_table(s: AsyncSession, scope: Scope) -> list[dict[str, Any]]:
    by_agent: dict[int, list[Any]] = {}
    for r in await fact_rows(s, scope, R.agent_id.is_not(None)):
        by_agent.setdefault(r.agent_id, []).append(r)
    names = dict((await s.execute(select(Agent.id, Agent.display_name))).all())
    occ = (await occupancy(s, scope))["by_agent"]
    out = []
    for agent_id, mine in sorted(by_agent.items()):
        t = times(mine)
        out.append(
            {
                "agent_id": agent_id,
                "agent": names.get(agent_id),
                "conversations": len(mine),
                "resolved": sum(1 for r in mine if r.status == "resolved"),
                "first_response_avg": t["first_response_avg"],
                "response_avg": t["response_avg"],
                "handle_avg": t["handle_avg"],
                "occupancy": occ.get(str(agent_id)),
            }
        )
    return out


async def funnel(s: AsyncSession, scope: Scope) -> list[dict[str, Any]]:
    """Per rule (None: agents' manual invitations): offers shown in the range, accepted, and
    accepted ones that became a chat with at least one visitor message after the opening."""
    conds = [RadarOffer.shown_at >= scope.start, RadarOffer.shown_at < scope.end]
    if scope.site_id is not None:
        conds.append(RadarOffer.site_id == scope.site_id)
    stmt = (
        select(
            RadarOffer.rule_id,
            func.count(),
            func.sum(_case(RadarOffer.outcome == "accepted")),
            func.sum(_case(RadarOffer.outcome == "dismissed")),
            func.sum(_case(RadarOffer.outcome == "ignored")),
            func.sum(_case(and_(R.visitor_messages > 0, RadarOffer.conversation_id.is_not(None)))),
        )
        .outerjoin(R, R.conversation_id == RadarOffer.conversation_id)
        .where(*conds)
        .group_by(RadarOffer.rule_id)
        .order_by(RadarOffer.rule_id)
    )
    out = []
    for rule_id, shown, accepted, dismissed, ignored, chats in (await s.execute(stmt)).all():
        out.append(
            {
                "rule_id": rule_id,
                "shown": int(shown),
                "accepted": int(accepted or 0),
                "dismissed": int(dismissed or 0),
                "ignored": int(ignored or 0),
                "chats": int(chats or 0),
                "acceptance_rate": _ratio(int(accepted or 0), int(shown)),
            }
        )
    return out


def _case(cond: ColumnElement[bool]) -> Any:
    from sqlalchemy import case

    return case((cond, 1), else_=0)


async def status_timeline(s: AsyncSession, scope: Scope) -> list[dict[str, Any]]:
    stmt = (
        select(ReportAgentStatus)
        .where(
            ReportAgentStatus.started_at < scope.end,
            or_(ReportAgentStatus.ended_at.is_(None), ReportAgentStatus.ended_at > scope.start),
        )
        .order_by(ReportAgentStatus.agent_id, ReportAgentStatus.started_at)
    )
    if scope.agent_id is not None:
        stmt = stmt.where(ReportAgentStatus.agent_id == scope.agent_id)
    return [
        {
            "agent_id": iv.agent_id,
            "status": iv.status,
            "start": max(iv.started_at, scope.start).isoformat(),
            "end": min(iv.ended_at or scope.until, scope.end).isoformat(),
        }
        for iv in (await s.execute(stmt)).scalars()
    ]


async def series(s: AsyncSession, scope: Scope) -> dict[str, Any]:
    """Per hour (ranges up to two days) or per day: conversations, abandoned, answered in
    time of offered, average queue wait. Buckets in UTC."""
    hourly = scope.end - scope.start <= timedelta(days=2)
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    first = scope.start.replace(minute=0, second=0, microsecond=0)
    if not hourly:
        first = first.replace(hour=0)
    buckets: dict[datetime, list[Any]] = {}
    at = first
    while at < scope.end:
        buckets[at] = []
        at += step
    stmt = select(
        R.created_at, R.queued_at, R.wait_seconds, R.abandoned, R.abandon_seconds, R.transfers
    )
    for row in (await s.execute(stmt.where(*scope.where()))).all():
        key = first + step * int((row.created_at - first) / step)
        buckets.setdefault(key, []).append(row)
    points = []
    for at, rows in sorted(buckets.items()):
        svc = service(rows, scope)
        waits = [r.wait_seconds for r in rows if r.wait_seconds is not None]
        points.append(
            {
                "at": at.isoformat(),
                "conversations": len(rows),
                "abandoned": svc["abandoned"],
                "service_level": svc["service_level"],
                "queue_wait_avg": _avg(waits),
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
