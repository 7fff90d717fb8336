"""Customer satisfaction from visitors' ratings (docs/reports.md, "Ratings"): per agent and
overall, for conversations created in the range (filters as for the other figures; the agent
is the one who had the conversation when it was rated)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.storage.models import Conversation, Rating

SATISFIED = 4  # a score of 4 or 5 (thumbs up is 5) counts as satisfied


def _where(scope: Any) -> list[ColumnElement[bool]]:
    conds = [Conversation.created_at >= scope.start, Conversation.created_at < scope.end]
    if scope.site_id is not None:
        conds.append(Conversation.site_id == scope.site_id)
    if scope.channel is not None:
        conds.append(Conversation.channel == scope.channel)
    if scope.skill is not None:
        conds.append(Conversation.skill == scope.skill)
    if scope.sites is not None:  # the reader's sites
        conds.append(Conversation.site_id.in_(sorted(scope.sites)))
    if scope.agent_id is not None:
        conds.append(Rating.agent_id == scope.agent_id)
    if scope.team_agents is not None:
        conds.append(Rating.agent_id.in_(sorted(scope.team_agents)))
    return conds


def _figures(count: Any, total: Any, happy: Any) -> dict[str, Any]:
    n = int(count or 0)
    return {
        "count": n,
        "average": round(float(total) / n, 2) if n else None,
        "satisfied_ratio": round(int(happy or 0) / n, 4) if n else None,
    }


def _columns() -> tuple[Any, ...]:
    happy = func.sum(case((Rating.score >= SATISFIED, 1), else_=0))
    return func.count(Rating.id), func.sum(Rating.score), happy


async def csat(s: AsyncSession, scope: Any) -> dict[str, Any]:
    """``{"count", "average", "satisfied_ratio", "by_agent": {agent_id: {...}}}``."""
    base = select(*_columns()).join(Conversation, Conversation.id == Rating.conversation_id)
    overall = (await s.execute(base.where(*_where(scope)))).one()
    per_agent = (
        select(Rating.agent_id, *_columns())
        .join(Conversation, Conversation.id == Rating.conversation_id)
        .where(*_where(scope), Rating.agent_id.is_not(None))
        .group_by(Rating.agent_id)
    )
    by_agent = {
        str(agent_id): _figures(*rest) for agent_id, *rest in (await s.execute(per_agent)).all()
    }
    return {**_figures(*overall), "by_agent": by_agent}
