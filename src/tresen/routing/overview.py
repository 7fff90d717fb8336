"""The supervisor's picture: queues, agents' load and status, waiting times."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tresen.routing.estimate import positions
from tresen.routing.queue import agent_loads, waiting
from tresen.runtime import Runtime
from tresen.storage.models import Agent


async def overview(rt: Runtime) -> dict[str, Any]:
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
            }
            for a in agents
        ]
        queue = await waiting(s)
    pos = positions(r for _, r in queue)
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
    return {"queues": list(queues.values()), "agents": agent_rows, "waiting": rows}
