"""Queue position and expected wait (the model is written up in docs/routing.md)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tresen.routing.strategies import AgentLoad, Request, queue_order

DEFAULT_HANDLING_SECONDS = 240.0


def competes(req: Request, other: Request) -> bool:
    """Requests ahead in the same queue: same skill and department."""
    return req.skill == other.skill and req.department == other.department


def positions(waiting: Iterable[Request]) -> dict[int, int]:
    """1-based position of each waiting request within its own queue (the requests it
    ``competes`` with), counted per queue in one pass: n log n, not n² (a routing pass runs it
    over the whole waiting list)."""
    out: dict[int, int] = {}
    counts: dict[tuple[str | None, str | None], int] = {}
    for req in sorted(waiting, key=queue_order):
        queue = (req.skill, req.department)
        out[req.id] = counts[queue] = counts.get(queue, 0) + 1
    return out


def serving(agents: Sequence[AgentLoad], req: Request) -> list[AgentLoad]:
    return [
        a
        for a in agents
        if (req.skill is None or req.skill in a.skills)
        and (req.department is None or req.department in a.departments)
    ]


def expected_wait(
    agents: Sequence[AgentLoad], req: Request, position: int, handling_seconds: float
) -> float | None:
    """Seconds until a slot is expected for the request at ``position``; None: nobody serves it.

    The agents able to take the request finish chats at ``sum(max_chats) / handling`` per
    second at full load; the request needs ``position`` slots to free up (fewer if some are
    free already).
    """
    pool = serving(agents, req)
    if not pool:
        return None
    free = sum(max(0, a.max_chats - a.load) for a in pool)
    if free >= position:
        return 0.0
    rate = sum(a.max_chats for a in pool) / max(handling_seconds, 1.0)
    return (position - free) / rate
