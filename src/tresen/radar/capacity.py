"""Free chat capacity per skill, read from the database (the router will own this).

Until routing (ACD) lands, capacity is: agents whose status is ``online`` and who are active,
each with ``max_chats`` minus the open conversations assigned to them. It is refreshed every few
seconds and on demand; the radar engine is told which skills changed.
"""

from __future__ import annotations

from sqlalchemy import func, select

from tresen.runtime import Runtime
from tresen.storage.models import Agent, Conversation


class DbCapacity:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._free: dict[str | None, int] = {}

    def free_slots(self, skill: str | None) -> int:
        return self._free.get(skill, 0)

    def queue_wait(self, skill: str | None) -> float:
        # No queue model yet: free capacity means no wait, none means "long".
        return 0.0 if self.free_slots(skill) > 0 else 3600.0

    async def refresh(self) -> set[str | None]:
        """Re-read capacity; return the skills whose free slots changed."""
        load = (
            select(Conversation.assignee_id, func.count().label("n"))
            .where(Conversation.status == "open", Conversation.assignee_id.is_not(None))
            .group_by(Conversation.assignee_id)
            .subquery()
        )
        stmt = (
            select(Agent.skills, Agent.max_chats, func.coalesce(load.c.n, 0))
            .outerjoin(load, load.c.assignee_id == Agent.id)
            .where(Agent.status == "online", Agent.is_active.is_(True))
        )
        async with self.rt.db.read() as s:
            rows = (await s.execute(stmt)).all()
        free: dict[str | None, int] = {None: 0}
        for skills, max_chats, busy in rows:
            slots = max(0, max_chats - busy)
            free[None] += slots
            for skill in skills:
                free[skill] = free.get(skill, 0) + slots
        changed = {k for k in free.keys() | self._free.keys() if free.get(k) != self._free.get(k)}
        self._free = free
        return changed
