"""Agents' time: occupancy (held chat-seconds over capacity-seconds) and the status timeline,
over the report store (formulas: docs/reports.md)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.storage.models import ReportAgentStatus, ReportConversation

if TYPE_CHECKING:
    from tresen.reports.metrics import Scope

R = ReportConversation


async def _busy(s: AsyncSession, scope: Scope, agents: set[int]) -> dict[int, float]:
    """Per agent: seconds their web chats were held within the range (held since … closed, or
    until now), summed by the database on plain epoch seconds."""
    if not agents:
        return {}
    start, end, until = (t.timestamp() for t in (scope.start, scope.end, scope.until))
    closed = case((R.held_until_ts <= until, R.held_until_ts), else_=until)
    lo = case((R.held_since_ts >= start, R.held_since_ts), else_=start)
    hi = case((closed <= end, closed), else_=end)
    held = func.sum(case((hi > lo, hi - lo), else_=0.0))
    agent = R.agent_id + 0  # grouped by an expression, so SQLite narrows by held_until_ts
    stmt = (
        select(agent, held)
        .where(  # nothing on the agent here: held_until_ts has the index that narrows it
            R.channel == "web",
            R.held_until_ts > start,  # indexed: the chats that end after the range begins
            R.held_since_ts < end,
        )
        .group_by(agent)
    )
    rows = (await s.execute(stmt)).all()
    return {int(a): float(v or 0) for a, v in rows if a is not None and a in agents}


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
    busy = await _busy(s, scope, set(capacity))
    total_cap, total_busy = sum(capacity.values()), sum(busy.values())
    return {
        "total": total_busy / total_cap if total_cap else None,
        "by_agent": {
            str(a): (busy.get(a, 0.0) / cap if cap else None) for a, cap in capacity.items()
        },
    }


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
