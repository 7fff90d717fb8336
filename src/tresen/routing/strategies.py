"""Who gets which waiting chat: pure functions over snapshots, so they can be proven.

A dispatch pass takes the online agents with their loads and the waiting requests (in queue
order: priority first, then arrival) and plans assignments greedily. Per request, the eligible
agents are those online with the skill (and department), below their limit, who have not
declined it. Among them the strategy picks:

- ``least_busy`` (default): highest skill level, then fewest chats, then longest idle;
- ``longest_idle``: highest skill level, then longest idle, then fewest chats.

A returning customer's previous agent is preferred while ``sticky_until`` lasts: the request
waits for that agent during the window, then goes to anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

STRATEGIES = ("least_busy", "longest_idle")


@dataclass(frozen=True, slots=True)
class AgentLoad:
    id: int
    skills: dict[str, int]  # skill -> level (1 = basic)
    max_chats: int
    load: int
    idle_since: float
    departments: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Request:
    id: int
    queued_at: float
    skill: str | None = None
    department: str | None = None
    priority: int = 0
    preferred_agent: int | None = None
    sticky_until: float = 0.0
    declined: frozenset[int] = field(default_factory=frozenset)


def queue_order(r: Request) -> tuple[int, float, int]:
    return (-r.priority, r.queued_at, r.id)


def eligible(agent: AgentLoad, req: Request) -> bool:
    return (
        agent.load < agent.max_chats
        and (req.skill is None or req.skill in agent.skills)
        and (req.department is None or req.department in agent.departments)
        and agent.id not in req.declined
    )


def _key(strategy: str, req: Request) -> Callable[[AgentLoad], tuple[float, ...]]:
    def level(a: AgentLoad) -> int:
        return a.skills.get(req.skill, 0) if req.skill else 0

    if strategy == "longest_idle":
        return lambda a: (-level(a), a.idle_since, a.load, a.id)
    return lambda a: (-level(a), a.load, a.idle_since, a.id)


def choose(
    agents: Iterable[AgentLoad], req: Request, now: float, strategy: str = "least_busy"
) -> AgentLoad | None:
    candidates = [a for a in agents if eligible(a, req)]
    if req.preferred_agent is not None and now < req.sticky_until:
        return next((a for a in candidates if a.id == req.preferred_agent), None)
    return min(candidates, key=_key(strategy, req)) if candidates else None


def plan(
    agents: Iterable[AgentLoad],
    requests: Iterable[Request],
    now: float,
    strategy_for: Callable[[Request], str] = lambda r: "least_busy",
) -> list[tuple[int, int]]:
    """(request id, agent id) pairs, in queue order, never beyond an agent's limit."""
    pool = {a.id: a for a in agents}
    out: list[tuple[int, int]] = []
    for req in sorted(requests, key=queue_order):
        agent = choose(pool.values(), req, now, strategy_for(req))
        if agent is not None:
            pool[agent.id] = replace(agent, load=agent.load + 1, idle_since=now)
            out.append((req.id, agent.id))
    return out
