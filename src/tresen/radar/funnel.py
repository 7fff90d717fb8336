"""The invitation funnel per rule: matched -> shown -> accepted -> chat -> goal, with the goal
rates of invited and held-out visitors and the lift (docs/reports.md, "Invitation funnel").

One formula serves a rule's figures (``GET /api/radar/rules/{id}/figures``, all its offers)
and the reports' funnel (``GET /api/reports/funnel``, the offers of a range): ``rule_figures``
counts the stages in the database (GROUP BY, a window for each visitor's first exposure) and
judges the goal in Python on the visit of that first exposure only (``radar.figures``, whose
in-memory ``figures`` is the reference the tests hold this to).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Text,
    case,
    cast,
    distinct,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import ensure_site_visible, site_ids_for
from tresen.principal import Principal
from tresen.radar.actions import access_rule_by_id
from tresen.radar.figures import VisitRecord, assemble, empty_figures, goal_reached
from tresen.radar.holdout import Group
from tresen.radar.rules import DEFAULT_GOAL, Goal, parse_rule
from tresen.runtime import Runtime
from tresen.storage.models import RadarOffer, RadarRule, ReportConversation, Visit


async def rule_figures(
    s: AsyncSession, conds: list[ColumnElement[bool]], goals: Callable[[int | None], Goal]
) -> dict[int | None, tuple[dict[str, Any], dict[str, int]]]:
    """Per rule (of the exposures ``conds`` select): its figures and its visitors who
    dismissed, ignored. Counted by the database; only each visitor's first exposure that has
    a visit comes back, with that visit, to judge the goal (``radar.figures``)."""
    stages = await _stages(s, conds)
    goals_of = {rule_id: goals(rule_id) for rule_id in stages}
    reached = await _goals(s, conds, goals_of)
    out: dict[int | None, tuple[dict[str, Any], dict[str, int]]] = {}
    for rule_id, (matched, held_n, accepted, dismissed, ignored, chats) in stages.items():
        shown_n = matched - held_n
        hit = reached.get(rule_id, {})
        invited = Group(shown_n, *hit.get(False, (0, 0.0)))
        control = Group(held_n, *hit.get(True, (0, 0.0)))
        f = assemble(matched, accepted, chats, invited, control, goals_of[rule_id])
        out[rule_id] = (f, {"dismissed": dismissed, "ignored": ignored})
    return out


async def _stages(
    s: AsyncSession, conds: list[ColumnElement[bool]]
) -> dict[int | None, tuple[int, int, int, int, int, int]]:
    """Per rule, in one pass: visitors matched, first exposed by being held out, with an offer
    they accepted, dismissed, ignored, and with a chat (a conversation from the offer they
    wrote in: the report facts)."""
    facts, o = ReportConversation, RadarOffer
    chatted = case((facts.visitor_messages > 0, 1), else_=0)
    exposures = (
        select(o.rule_id, o.visitor_id, o.outcome, chatted.label("chat"), _rank())
        .outerjoin(facts, facts.conversation_id == o.conversation_id)
        .where(*conds)
        .subquery("exposures")
    )
    e = exposures.c
    first = e.rank == 1

    def visitors_who(cond: ColumnElement[bool]) -> Any:
        return func.count(distinct(case((cond, e.visitor_id))))

    stmt = select(
        e.rule_id,
        func.sum(case((first, 1), else_=0)),
        func.sum(case((first & (e.outcome == "held_out"), 1), else_=0)),
        visitors_who(e.outcome == "accepted"),
        visitors_who(e.outcome == "dismissed"),
        visitors_who(e.outcome == "ignored"),
        visitors_who(e.chat == 1),
    ).group_by(e.rule_id)
    rows = (await s.execute(stmt)).all()
    return {r[0]: tuple(int(v) for v in r[1:]) for r in rows}  # type: ignore[misc]


def _rank() -> Any:
    """1 for each visitor's first exposure per rule (earliest, then the first written)."""
    o = RadarOffer
    order = (o.shown_at, o.id)
    return (
        func.row_number().over(partition_by=(o.rule_id, o.visitor_id), order_by=order).label("rank")
    )


def _firsts(conds: list[ColumnElement[bool]]) -> Any:
    """Each visitor's first exposure per rule, of visitors with a visit on record (the rank
    is per visitor, so leaving the others out changes no one's)."""
    o = RadarOffer
    visited = o.visitor_id.in_(select(Visit.visitor_id))
    ranked = select(o.rule_id, o.visitor_id, o.outcome, o.shown_at, _rank()).where(*conds, visited)
    return ranked.subquery("ranked")


async def _goals(
    s: AsyncSession, conds: list[ColumnElement[bool]], goals: dict[int | None, Goal]
) -> dict[int | None, dict[bool, tuple[int, float]]]:
    """Per rule and group (held out or not): visitors who reached the goal in the visit of
    their first exposure, after it, and the goals' value. The database finds that visit (the
    first, by id, that spans the exposure) and brings back only those with a goal event (or a
    page, for a page goal) to judge here."""
    pages = any(g.event is None for g in goals.values())
    c = _first_visits(s, conds, pages).c
    keep = c.goals != "[]"
    if pages:
        keep = or_(keep, c.pages != "[]")
    stmt = select(c.rule_id, c.outcome, c.shown_at, c.goals, c.pages).where(c.nth == 1, keep)
    out: dict[int | None, dict[bool, tuple[int, float]]] = {}
    for rule_id, outcome, shown_at, hits, seen in (await s.execute(stmt)).all():
        at = _seconds(shown_at)
        visit = VisitRecord(0, at, at, json.loads(seen) if seen else [], json.loads(hits))
        hit, value = goal_reached(goals[rule_id], visit, at)
        if hit or value:
            group = out.setdefault(rule_id, {})
            n, total = group.get(outcome == "held_out", (0, 0.0))
            group[outcome == "held_out"] = (n + int(hit), total + value)
    return out


def _first_visits(s: AsyncSession, conds: list[ColumnElement[bool]], pages: bool) -> Any:
    """Each visitor's first exposure per rule with the visits that span it (started at or
    before it, last seen at most a second before it), numbered by visit id (``nth`` 1: the
    visit it happened in, ``radar.figures.visit_of``); goals and pages as text."""
    f = _firsts(conds)
    shown = type_coerce(f.c.shown_at, String)  # SQLite: compared as stored text
    nth = func.row_number().over(partition_by=(f.c.rule_id, f.c.visitor_id), order_by=Visit.id)
    return (
        select(
            f.c.rule_id,
            f.c.outcome,
            shown.label("shown_at"),
            cast(Visit.goals, Text).label("goals"),
            (cast(Visit.pages, Text) if pages else literal(None)).label("pages"),
            nth.label("nth"),
        )
        .join(Visit, Visit.visitor_id == f.c.visitor_id)
        .where(
            f.c.rank == 1,
            Visit.started_at <= f.c.shown_at,
            _seen_at_most_a_second_before(s, shown, Visit.last_seen_at),
        )
        .subquery("first_visits")
    )


def _seen_at_most_a_second_before(s: AsyncSession, shown: Any, seen: Any) -> Any:
    """``shown`` <= ``seen`` + 1 s, exactly: PostgreSQL adds an interval; SQLite stores
    ``YYYY-MM-DD HH:MM:SS.ffffff`` text, so the whole seconds move by one and the microseconds
    are put back as they were (comparable as text, as the stored instants are); most
    exposures are within their visit, which the plain comparison settles first."""
    if s.get_bind().dialect.name == "postgresql":
        return shown <= seen + literal_column("interval '1 second'")
    stored = type_coerce(seen, String)
    whole = func.strftime("%Y-%m-%d %H:%M:%S", func.substr(stored, 1, 19), "+1 seconds")
    return or_(shown <= stored, shown <= whole.op("||")(func.substr(stored, 20)))


def _seconds(value: Any) -> float:
    """A stored instant as seconds: PostgreSQL's driver hands back an aware datetime; SQLite's
    text (UTC, ``2026-10-01 00:13:36.120766``) is parsed here, far faster than row by row
    through the column type, and to the same instant."""
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(value).replace(tzinfo=UTC).timestamp()


async def funnel(
    s: AsyncSession,
    start: datetime,
    end: datetime,
    site_id: int | None = None,
    sites: frozenset[int] | None = None,
) -> list[dict[str, Any]]:
    """Per rule (``rule_id`` None: agents' manual invitations, judged by the default goal),
    the exposures of ``[start, end)``; flat rows (they export as CSV)."""
    conds = [RadarOffer.shown_at >= start, RadarOffer.shown_at < end]
    if site_id is not None:
        conds.append(RadarOffer.site_id == site_id)
    if sites is not None:
        conds.append(RadarOffer.site_id.in_(sorted(sites)))
    rule_ids = select(RadarOffer.rule_id).where(*conds, RadarOffer.rule_id.is_not(None))
    rules = {
        r.id: r
        for r in (await s.execute(select(RadarRule).where(RadarRule.id.in_(rule_ids)))).scalars()
    }
    per_rule = await rule_figures(s, conds, lambda rule_id: _goal(rules.get(rule_id or 0)))
    return [
        _row(rule_id, rules.get(rule_id) if rule_id is not None else None, *per_rule[rule_id])
        for rule_id in sorted(per_rule, key=lambda r: (r is None, r or 0))
    ]


def _row(
    rule_id: int | None, rule: RadarRule | None, f: dict[str, Any], said: dict[str, int]
) -> dict[str, Any]:
    invited, control, lift = f["invited_group"], f["held_out_group"], f["lift"]
    return {
        "rule_id": rule_id,
        "rule": rule.name if rule is not None else None,
        "matched": f["matched"],
        "held_out": f["held_out"],
        "shown": f["shown"],
        "accepted": f["accepted"],
        "dismissed": said["dismissed"],
        "ignored": said["ignored"],
        "chats": f["chats"],
        "goals": invited["converted"],
        "acceptance_rate": f["accepted"] / f["shown"] if f["shown"] else None,
        "goal_rate": invited["rate"] if invited["visitors"] else None,
        "value": invited["value"],
        "held_out_goals": control["converted"],
        "held_out_goal_rate": control["rate"] if control["visitors"] else None,
        "lift": lift["difference"] if lift else None,
        "lift_relative": lift["relative"] if lift else None,
        "lift_ci95_low": lift["ci95"][0] if lift else None,
        "lift_ci95_high": lift["ci95"][1] if lift else None,
        "significant": lift["significant"] if lift else None,
    }


def _goal(rule: RadarRule | None) -> Goal:
    if rule is None:
        return DEFAULT_GOAL
    try:
        return parse_rule(rule.spec).goal
    except ValueError:  # a rule stored before its spec was checked: the default goal
        return DEFAULT_GOAL


async def access_rule_figures(rt: Runtime, who: Principal, rule_id: int) -> dict[str, Any]:
    """A rule's figures over all its offers on the sites ``who`` sees (a rule of another site:
    404; a rule for every site: its offers on ``who``'s sites)."""
    async with rt.db.read() as s:
        rule = await access_rule_by_id(s, rule_id)
        sites = await site_ids_for(s, who)
        if rule.site_id is not None:
            ensure_site_visible(sites, rule.site_id, f"no rule {rule_id}")
        conds = [RadarOffer.rule_id == rule_id]
        if sites is not None:
            conds.append(RadarOffer.site_id.in_(sorted(sites)))
        spec = parse_rule(rule.spec)
        found = await rule_figures(s, conds, lambda _: spec.goal)
    f = found[rule_id][0] if rule_id in found else empty_figures(spec.goal)
    return {"rule_id": rule_id, "control": spec.control, **f}
