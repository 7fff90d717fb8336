"""Who gets which waiting chat: pure functions over snapshots, so they can be proven.

A dispatch pass takes the online agents with their loads and the waiting requests (in queue
order: priority first, then arrival) and plans assignments greedily. Per request, the eligible
agents are those online with the skill (and department), below their limit, who have not
declined it. Among them the strategy picks:

- ``least_busy`` (default): highest skill level, then fewest chats, then longest idle;
- ``longest_idle``: highest skill level, then longest idle, then fewest chats.

A returning customer's previous agent is preferred while ``sticky_until`` lasts: the request
waits for that agent during the window, then goes to anyone.

Email blending (``plan_email``): email conversations waiting for an answer are a second class
of work, counted apart from chats. Chats always go first: an agent takes email only while no
chat they could serve waits, with room under their chat limit minus a reserve, and below their
email slots; untouched email items of agents whom a chat waits for go back to the backlog.
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
    email_load: int = 0  # email conversations assigned, counted apart from chats
    takes_email: bool = True
    sites: frozenset[int] | None = None  # the sites the agent serves; None: all (admins)


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
    site_id: int | None = None


def queue_order(r: Request) -> tuple[int, float, int]:
    return (-r.priority, r.queued_at, r.id)


def eligible(agent: AgentLoad, req: Request) -> bool:
    return (
        agent.load < agent.max_chats
        and (req.skill is None or req.skill in agent.skills)
        and (req.department is None or req.department in agent.departments)
        and serves(agent, req.site_id)
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


# ---- email blending ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmailItem:
    """A pending email conversation: in the backlog (``assignee`` None) or being answered."""

    id: int
    queued_at: float
    skill: str | None = None
    department: str | None = None
    assignee: int | None = None
    touched: bool = False  # the assignee (an agent) has replied
    site_id: int | None = None


@dataclass(frozen=True, slots=True)
class EmailRules:
    slots: int = 1  # email items an agent holds at a time
    chat_reserve: int = 1  # chat slots kept free: email only while load < max_chats - reserve
    yield_untouched: bool = True  # a waiting chat sends untouched email items back


def serves(agent: AgentLoad, site_id: int | None) -> bool:
    """An agent is offered only the work of the sites they serve."""
    return agent.sites is None or site_id is None or site_id in agent.sites


def qualified(
    agent: AgentLoad, skill: str | None, department: str | None, site_id: int | None = None
) -> bool:
    return (
        (skill is None or skill in agent.skills)
        and (department is None or department in agent.departments)
        and serves(agent, site_id)
    )


def chat_waits_for(agent: AgentLoad, waiting: Iterable[Request]) -> bool:
    """A waiting chat asks for a skill (and department) this agent has."""
    return any(qualified(agent, r.skill, r.department, r.site_id) for r in waiting)


def chat_limit_for_email(agent: AgentLoad, rules: EmailRules) -> int:
    """Email only while the chat load is below this; an agent without chats always may."""
    return max(1, agent.max_chats - rules.chat_reserve)


def email_room(agent: AgentLoad, rules: EmailRules) -> bool:
    return (
        agent.takes_email
        and agent.email_load < rules.slots
        and agent.load < chat_limit_for_email(agent, rules)
    )


def email_to_yield(
    agents: Iterable[AgentLoad],
    items: Iterable[EmailItem],
    waiting: list[Request],
    rules: EmailRules,
) -> list[int]:
    """Untouched email items whose agent a chat waits for, who went chat only, or who is not
    online (not in ``agents``) any more."""
    if not rules.yield_untouched:
        return []
    agents = list(agents)
    free = {a.id for a in agents if a.takes_email and not chat_waits_for(a, waiting)}
    return [
        i.id for i in items if i.assignee is not None and i.assignee not in free and not i.touched
    ]


def plan_email(
    agents: Iterable[AgentLoad],
    items: Iterable[EmailItem],
    waiting: Iterable[Request],
    rules: EmailRules = EmailRules(),
) -> tuple[list[int], list[tuple[int, int]]]:
    """(items going back to the backlog, (item id, agent id) assignments), oldest item first.

    ``agents`` carry their chat loads after this pass's chat assignments; ``waiting`` are the
    chats that waited when the pass began, so a chat arriving holds email back at once.
    """
    waits = list(waiting)
    pool = {a.id: a for a in agents}
    items = list(items)
    back = set(email_to_yield(pool.values(), items, waits, rules))
    for item in items:
        if item.id in back and item.assignee in pool:
            a = pool[item.assignee]
            pool[a.id] = replace(a, email_load=max(0, a.email_load - 1))
    free = {a.id: a for a in pool.values() if not chat_waits_for(a, waits)}
    backlog = [i for i in items if i.assignee is None or i.id in back]
    out: list[tuple[int, int]] = []
    for item in sorted(backlog, key=lambda i: (i.queued_at, i.id)):
        cands = [
            a
            for a in free.values()
            if email_room(a, rules)
            and qualified(a, item.skill, item.department, item.site_id)
            and a.id != item.assignee
        ]
        if cands:
            a = min(cands, key=lambda a: (a.email_load, a.load, a.idle_since, a.id))
            free[a.id] = replace(a, email_load=a.email_load + 1)
            out.append((item.id, a.id))
    return sorted(back), out
