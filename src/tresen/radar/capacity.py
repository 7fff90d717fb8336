"""Free chat capacity and expected wait per skill, as routing sees them.

Free slots of a skill are the online agents' free slots minus the chats already waiting for
that skill: when queues grow, invitations for that skill pause by themselves. Refreshed every
few seconds and whenever an agent's status or load changes; the radar engine is told which
skills changed.
"""

from __future__ import annotations

from tresen.radar.pacing import Load
from tresen.routing.estimate import expected_wait
from tresen.routing.queue import agent_loads, handling_seconds, waiting
from tresen.routing.strategies import AgentLoad, Request
from tresen.runtime import Runtime


class DbCapacity:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._free: dict[str | None, int] = {}
        self._wait: dict[str | None, float] = {}
        self._agents: list[AgentLoad] = []
        self._load: dict[str | None, tuple[int, int, int, float]] = {}

    def sample(self, skills: set[str | None]) -> dict[str | None, tuple[int, float]]:
        """Free slots and wait of these skills (for the capacity log)."""
        return {k: (self.free_slots(k), self.queue_wait(k)) for k in skills}

    def free_slots(self, skill: str | None) -> int:
        return self._free.get(skill, 0)

    def queue_wait(self, skill: str | None) -> float:
        return self._wait.get(skill, float("inf"))

    def load(self, skill: str | None, expected: float) -> Load | None:
        """Slots, load, queue and handling time of ``skill`` (None: any), with ``expected``
        acceptances still to come; None when no agent with the skill is online."""
        known = self._load.get(skill)
        if known is None:
            return None
        slots, busy, queued, handling = known
        return Load(slots=slots, busy=busy, queued=queued, expected=expected, handling=handling)

    async def refresh(self) -> set[str | None]:
        """Re-read capacity; return the skills whose free slots changed."""
        async with self.rt.db.read() as s:
            agents = await agent_loads(s)
            queued = [r for _, r in await waiting(s)]
            handling = await handling_seconds(s)
        free: dict[str | None, int] = {None: -len(queued)}
        skills = {k for a in agents for k in a.skills} | {r.skill for r in queued if r.skill}
        for skill in skills:
            free[skill] = -sum(1 for r in queued if r.skill == skill)
        for a in agents:
            slots = max(0, a.max_chats - a.load)
            free[None] += slots
            for skill in a.skills:
                free[skill] += slots
        self._wait, self._load = {}, {}
        for key in free:
            ahead = sum(1 for r in queued if key is None or r.skill == key)
            aht = handling.get(key, handling.get(None, 240.0))
            staff = [a for a in agents if key is None or key in a.skills]
            if staff:
                slots = sum(a.max_chats for a in staff)
                self._load[key] = (slots, sum(min(a.load, a.max_chats) for a in staff), ahead, aht)
            w = expected_wait(agents, Request(0, 0.0, skill=key), ahead + 1, aht)
            self._wait[key] = float("inf") if w is None else w
        changed = {k for k in free.keys() | self._free.keys() if free.get(k) != self._free.get(k)}
        self._free = free
        return changed
