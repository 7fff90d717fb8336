"""Per-rule figures: matched, shown, accepted, chats, and the goal rate and value per visitor of
invited vs held-out visitors with the lift (``radar.holdout``). ``figures`` is the formula
written out over exposures and visits in memory (the reference the tests hold the SQL to);
``radar.funnel`` counts the same in the database (GROUP BY) and brings only each visitor's
first exposure with its visits here for the goal (``visit_of``, ``goal_reached``), then
``assemble``.

Each visitor counts once per rule, in the group of their first exposure (an offer shown, or
held out). A goal counts when it happened in the visit of that exposure, after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import urlsplit

from tresen.radar.holdout import Group, lift
from tresen.radar.rules import Goal


@dataclass(frozen=True, slots=True)
class Exposure:
    visitor_id: int
    outcome: str  # shown, accepted, dismissed, ignored, held_out
    at: float
    conversation_id: int | None = None


@dataclass(frozen=True, slots=True)
class VisitRecord:
    visitor_id: int
    started_at: float
    last_seen_at: float
    pages: list[list[Any]]  # [url, title, at, focused]
    goals: list[dict[str, Any]]  # {"name", "value", "at"}


def goal_reached(goal: Goal, visit: VisitRecord, since: float) -> tuple[bool, float]:
    """Did the visit reach the goal at or after ``since``, and with what value?"""
    if goal.event is not None:
        hits = [g for g in visit.goals if g["name"] == goal.event and g["at"] >= since]
        return bool(hits), sum(float(g.get("value") or 0) for g in hits)
    pattern = goal.url or ""
    hit = any(
        p[2] >= since and fnmatchcase(urlsplit(p[0]).path or "/", pattern) for p in visit.pages
    )
    return hit, 0.0


def figures(exposures: list[Exposure], visits: list[VisitRecord], goal: Goal) -> dict[str, Any]:
    first: dict[int, Exposure] = {}
    accepted: set[int] = set()
    chats: set[int] = set()
    for e in sorted(exposures, key=lambda e: e.at):
        first.setdefault(e.visitor_id, e)
        if e.outcome == "accepted":
            accepted.add(e.visitor_id)
        if e.conversation_id is not None:
            chats.add(e.visitor_id)
    by_visitor: dict[int, list[VisitRecord]] = {}
    for v in visits:
        by_visitor.setdefault(v.visitor_id, []).append(v)
    groups = {"invited": [0, 0, 0.0], "held_out": [0, 0, 0.0]}
    for vid, e in first.items():
        g = groups["held_out" if e.outcome == "held_out" else "invited"]
        g[0] += 1
        visit = visit_of(by_visitor.get(vid, []), e.at)
        if visit is not None:
            hit, value = goal_reached(goal, visit, e.at)
            g[1] += int(hit)
            g[2] += value
    invited = Group(int(groups["invited"][0]), int(groups["invited"][1]), groups["invited"][2])
    control = Group(int(groups["held_out"][0]), int(groups["held_out"][1]), groups["held_out"][2])
    return assemble(len(first), len(accepted), len(chats), invited, control, goal)


def empty_figures(goal: Goal) -> dict[str, Any]:
    """A rule with no exposure yet."""
    return assemble(0, 0, 0, Group(0, 0), Group(0, 0), goal)


def visit_of(visits: list[VisitRecord], at: float) -> VisitRecord | None:
    """The visit an exposure at ``at`` happened in (the first of ``visits`` that spans it)."""
    return next((v for v in visits if v.started_at <= at <= v.last_seen_at + 1), None)


def assemble(
    matched: int, accepted: int, chats: int, invited: Group, control: Group, goal: Goal
) -> dict[str, Any]:
    """The figures of a rule from its counts and groups (counted in Python by ``figures``, in
    SQL by ``radar.funnel``)."""
    result = lift(invited, control)
    return {
        "matched": matched,
        "shown": invited.visitors,
        "held_out": control.visitors,
        "accepted": accepted,
        "chats": chats,
        "goal": goal.model_dump(exclude_none=True),
        "invited_group": _group(invited),
        "held_out_group": _group(control),
        "lift": None
        if result is None
        else {
            "difference": result.difference,
            "relative": result.relative,
            "ci95": [result.low, result.high],
            "significant": result.significant,
            "needed_per_group": result.needed_per_group,
        },
    }


def _group(g: Group) -> dict[str, Any]:
    return {
        "visitors": g.visitors,
        "converted": g.converted,
        "rate": g.rate,
        "value": g.value,
        "value_per_visitor": g.value_per_visitor,
    }
