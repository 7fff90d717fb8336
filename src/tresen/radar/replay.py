"""Replay: what would a draft rule have done over the stored visits?

Each stored visit is played again in time order: its pages and events rebuild the visitor's facts
as the live engine saw them, the rule (compiled as for real) is tested after each step and at the
exact second a time condition would have become true, with the agents' availability of that
moment (``Timeline``). The first moment the rule holds in a visit is a match. Pacing then lets
matches through in time order while the skill has a free slot beyond the invitations still
outstanding (each held until answered, at most ``hold`` seconds).

Form dwell is replayed from the form focus changes kept with the visit (``Journey.forms``);
identity attributes are those the visitor has now. What a visit's record cannot answer is named
per condition in ``not_evaluated`` (``coverage``): visits stored before form focus was kept, and
visits whose kept events were cut to the last ``MAX_EVENTS``. Not replayed: the restraint of
earlier offers.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

from tresen.radar.compiled import Ctx
from tresen.radar.facts import MAX_EVENTS, TrackedEvent, VisitorFacts
from tresen.radar.rules import Rule


class Timeline(Protocol):
    """Free chat slots and expected wait per skill (None = any) at a moment in the past."""

    def free_slots(self, skill: str | None, at: float) -> int: ...

    def queue_wait(self, skill: str | None, at: float) -> float: ...

    def next_change(self, after: float) -> float | None: ...


@dataclass
class StepTimeline:
    """Availability as recorded: per skill, (time, free slots, wait) steps in time order."""

    steps: dict[str | None, list[tuple[float, int, float]]] = field(default_factory=dict)

    def _at(self, skill: str | None, at: float) -> tuple[float, int, float] | None:
        rows = self.steps.get(skill, [])
        i = bisect_right(rows, (at, float("inf"), float("inf"))) - 1
        return rows[i] if i >= 0 else None

    def free_slots(self, skill: str | None, at: float) -> int:
        row = self._at(skill, at)
        return row[1] if row else 0

    def queue_wait(self, skill: str | None, at: float) -> float:
        row = self._at(skill, at)
        return row[2] if row else float("inf")

    def next_change(self, after: float) -> float | None:
        later = [t for rows in self.steps.values() for t, _, _ in rows if t > after]
        return min(later) if later else None


@dataclass(frozen=True, slots=True)
class StoredVisit:
    visitor_id: int
    visit_id: int
    started_at: float
    pages: list[tuple[str, str, float]]  # url, title, at
    events: list[tuple[str, float, dict[str, Any]]]  # name, at, props
    device: str = "desktop"
    language: str = ""
    referrer: str = ""
    returning: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)
    utm: dict[str, str] = field(default_factory=dict)
    forms: list[tuple[float, str | None]] | None = None  # None: stored before forms were kept


@dataclass(frozen=True, slots=True)
class Match:
    visitor_id: int
    visit_id: int
    at: float


class _Resources:
    def __init__(self, timeline: Timeline) -> None:
        self.timeline, self.at = timeline, 0.0

    def agent_free(self, skill: str | None) -> bool:
        return self.timeline.free_slots(skill, self.at) > 0

    def queue_wait(self, skill: str | None) -> float:
        return self.timeline.queue_wait(skill, self.at)


def first_match(rule: Rule, visit: StoredVisit, timeline: Timeline) -> float | None:
    """The first moment the rule holds during the visit, or None."""
    facts = VisitorFacts(
        visit.visitor_id,
        0,
        site_started_at=visit.started_at,
        page_started_at=visit.started_at,
        referrer=visit.referrer,
        device=visit.device,
        language=visit.language,
        returning=visit.returning,
        attributes=visit.attributes,
        utm=dict(visit.utm),
    )
    steps: list[tuple[float, int, Any]] = [(p[2], 0, p) for p in visit.pages]
    steps += [(f[0], 1, f) for f in visit.forms or []]
    steps += [(e[1], 2, e) for e in visit.events]
    steps.sort(key=lambda s: (s[0], s[1]))
    resources = _Resources(timeline)
    ctx = Ctx(facts, 0.0, resources)
    for i, (at, kind, step) in enumerate(steps):
        _apply(facts, kind, step, at)
        end = steps[i + 1][0] if i + 1 < len(steps) else at + 3600.0
        hit = _holds_between(rule, ctx, resources, at, end)
        if hit is not None:
            return hit
    return None


def _apply(facts: VisitorFacts, kind: int, step: Any, at: float) -> None:
    if kind == 0:
        url, title, _ = step
        facts.page(url, urlsplit(url).path or "/", title, at)
        facts.url = url
    elif kind == 1:
        form = step[1]
        if form is None:
            facts.blur(at)
        else:
            facts.focus(str(form), at)
    else:
        name, _, props = step
        facts.events.append(TrackedEvent(name, at, props))
        if name == "product_viewed" and "sku" in props:
            facts.products.add(str(props["sku"]))


def _holds_between(
    rule: Rule, ctx: Ctx, resources: _Resources, start: float, end: float
) -> float | None:
    """Test at ``start``, then at each wake-up the rule asks for before ``end``, and, while
    only the agents' availability is missing, whenever it changed (as the live engine does)."""
    now = start
    while now < end:
        ctx.now = resources.at = now
        if rule.cond.test(ctx):
            return now
        wake = rule.behaviour.wake(ctx)
        if rule.needs is not None and rule.behaviour.test(ctx):
            wake = resources.timeline.next_change(now)
        if wake is None or wake <= now or wake >= end:
            return None
        now = wake
    return None


def replay(
    rule: Rule, visits: list[StoredVisit], timeline: Timeline, hold: float = 120.0
) -> dict[str, Any]:
    """Matches per visit, and how many offers pacing would have let through."""
    matches = []
    for visit in visits:
        at = first_match(rule, visit, timeline)
        if at is not None:
            matches.append(Match(visit.visitor_id, visit.visit_id, at))
    matches.sort(key=lambda m: m.at)
    through = _paced(rule, matches, timeline, hold) if rule.paced else len(matches)
    return {
        "visits": len(visits),
        "not_evaluated": coverage(rule, visits),
        "matched_visits": len(matches),
        "matched_visitors": len({m.visitor_id for m in matches}),
        "let_through": through,
        "matches": [
            {"visitor_id": m.visitor_id, "visit_id": m.visit_id, "at": m.at} for m in matches
        ],
    }


def _paced(rule: Rule, matches: list[Match], timeline: Timeline, hold: float) -> int:
    outstanding: list[float] = []
    through = 0
    for m in matches:
        outstanding = [t for t in outstanding if t > m.at]
        if timeline.free_slots(rule.skill, m.at) - len(outstanding) > 0:
            outstanding.append(m.at + hold)
            through += 1
    return through


def _leaves(tree: Any, path: str = "when") -> list[tuple[str, str, Any]]:
    """(path, leaf name, argument) of every leaf of a valid condition tree (paths as in
    rule errors)."""
    ((key, arg),) = tree.items()
    if key in ("all", "any"):
        return [leaf for i, c in enumerate(arg) for leaf in _leaves(c, f"{path}.{key}[{i}]")]
    if key == "not":
        return _leaves(arg, f"{path}.not")
    return [(f"{path}.{key}", key, arg)]


def coverage(rule: Rule, visits: list[StoredVisit]) -> list[dict[str, Any]]:
    """Per condition, the visits whose record could not answer it (none: an empty list)."""
    no_forms = sum(v.forms is None for v in visits)
    cut = sum(len(v.events) >= MAX_EVENTS for v in visits)
    out = []
    for path, leaf, arg in _leaves(rule.spec.when):
        by_event = leaf == "event" or (leaf == "viewed" and "product" in arg)
        if leaf == "form_dwell" and no_forms:
            reason = "visits stored before form focus was kept: taken as no time in forms"
            out.append({"path": path, "condition": leaf, "visits": no_forms, "reason": reason})
        elif by_event and cut:
            reason = f"only the last {MAX_EVENTS} events of these visits are kept"
            out.append({"path": path, "condition": leaf, "visits": cut, "reason": reason})
    return out
