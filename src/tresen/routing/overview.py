"""The supervisor's picture: queues, agents' load and status, waiting times, the email backlog
and each agent's email work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import Sites, site_visible
from tresen.routing.estimate import positions
from tresen.routing.queue import agent_loads, email_items, waiting
from tresen.routing.strategies import EmailItem
from tresen.runtime import Runtime
from tresen.storage.models import Agent, Conversation


async def overview(rt: Runtime, sites: Sites = None) -> dict[str, Any]:
    """``sites``: the supervisor's sites (None: all): their waiting chats and email work;
    positions stay those of the whole queue."""
    now = rt.clock.now().timestamp()
    async with rt.db.read() as s:
        loads = {a.id: a for a in await agent_loads(s, online_only=False)}
        agents = (await s.execute(select(Agent).where(Agent.is_active.is_(True)))).scalars()
        agent_rows = [
            {
                "id": a.id,
                "name": a.display_name,
                "status": a.status,
                "skills": a.skills,
                "load": loads[a.id].load if a.id in loads else 0,
                "max_chats": a.max_chats,
                "email_load": loads[a.id].email_load if a.id in loads else 0,
                "takes_email": a.takes_email,
            }
            for a in agents
        ]
        queue = await waiting(s)
        highlighted = await _highlighted(s)
        emails = [i for _, i in await email_items(s) if site_visible(sites, i.site_id)]
    pos = positions(r for _, r in queue)
    queue = [(c, r) for c, r in queue if site_visible(sites, c.site_id)]
    rows: list[dict[str, Any]] = sorted(
        (
            {
                "conversation_id": c.id,
                "visitor_id": c.visitor_id,
                "skill": c.skill,
                "department": c.department,
                "priority": c.priority,
                "position": pos[c.id],
                "waiting_seconds": round(now - r.queued_at),
            }
            for c, r in queue
        ),
        key=lambda row: (row["skill"] or "", row["position"]),
    )
    queues: dict[str, dict[str, Any]] = {}
    for row in rows:
        empty = {"skill": row["skill"], "waiting": 0, "longest_wait_seconds": 0}
        q = queues.setdefault(str(row["skill"] or ""), empty)
        q["waiting"] += 1
        q["longest_wait_seconds"] = max(q["longest_wait_seconds"], row["waiting_seconds"])
    return {
        "queues": list(queues.values()),
        "agents": agent_rows,
        "waiting": rows,
        "email_backlog": _backlog(emails, now),
        "highlighted": highlighted,
    }


async def _highlighted(s: AsyncSession) -> list[dict[str, Any]]:
    """Chats the lifecycle timers marked (docs/lifecycle.md): a visitor waiting for a reply
    longer than the site allows, or silent after the agent's question."""
    stmt = select(Conversation.id, Conversation.assignee_id, Conversation.meta).where(
        Conversation.status == "open", Conversation.assignee_id.is_not(None)
    )
    out = []
    for conv_id, agent_id, meta in (await s.execute(stmt)).all():
        marks = (meta or {}).get("lifecycle") or {}
        for flag in ("waiting", "silent"):
            if flag in marks:
                out.append(
                    {
                        "conversation_id": conv_id,
                        "agent_id": agent_id,
                        "flag": flag,
                        "since": marks.get("since"),
                    }
                )
    return sorted(out, key=lambda r: (r["flag"] != "waiting", str(r["since"])))


def _backlog(items: list[EmailItem], now: float) -> list[dict[str, Any]]:
    """Per skill: email items nobody holds, the oldest one's age, and those being answered."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        empty = {"skill": item.skill, "backlog": 0, "oldest_seconds": 0, "assigned": 0}
        row = out.setdefault(str(item.skill or ""), empty)
        if item.assignee is None:
            row["backlog"] += 1
            row["oldest_seconds"] = max(row["oldest_seconds"], round(now - item.queued_at))
        else:
            row["assigned"] += 1
    return sorted(out.values(), key=lambda r: str(r["skill"] or ""))
