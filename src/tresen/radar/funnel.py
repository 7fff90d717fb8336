"""The invitation funnel per rule: matched -> shown -> accepted -> chat -> goal, with the goal
rates of invited and held-out visitors and the lift (docs/reports.md, "Invitation funnel").

One formula (``radar.figures.figures``) serves a rule's figures (``GET
/api/radar/rules/{id}/figures``, all its offers) and the reports' funnel (``GET
/api/reports/funnel``, the offers of a range): both load exposures and visits here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.agents.scope import ensure_site_visible, site_ids_for
from tresen.principal import Principal
from tresen.radar.actions import access_rule_by_id
from tresen.radar.figures import Exposure, VisitRecord, figures
from tresen.radar.rules import DEFAULT_GOAL, Goal, parse_rule
from tresen.runtime import Runtime
from tresen.storage.models import RadarOffer, RadarRule, ReportConversation, Visit


async def load_exposures(
    s: AsyncSession, conds: Iterable[ColumnElement[bool]]
) -> dict[int | None, list[Exposure]]:
    """Offers (and held-out matches) per rule; an exposure carries its conversation only when
    the visitor wrote in it (a chat: the report facts' visitor messages, docs/reports.md)."""
    facts = ReportConversation
    chat = case((facts.visitor_messages > 0, 1), else_=0)
    stmt = (
        select(
            RadarOffer.rule_id,
            RadarOffer.visitor_id,
            RadarOffer.outcome,
            RadarOffer.shown_at,
            RadarOffer.conversation_id,
            chat,
        )
        .outerjoin(facts, facts.conversation_id == RadarOffer.conversation_id)
        .where(*conds)
    )
    out: dict[int | None, list[Exposure]] = {}
    for rule_id, visitor_id, outcome, at, conv, chatted in (await s.execute(stmt)).all():
        exposure = Exposure(visitor_id, outcome, at.timestamp(), conv if chatted else None)
        out.setdefault(rule_id, []).append(exposure)
    return out


async def load_visits(s: AsyncSession, conds: Iterable[ColumnElement[bool]]) -> list[VisitRecord]:
    """The visits of the visitors exposed under ``conds`` (one query: no lists of ids)."""
    exposed = select(RadarOffer.visitor_id).where(*conds)
    stmt = select(
        Visit.visitor_id, Visit.started_at, Visit.last_seen_at, Visit.pages, Visit.goals
    ).where(Visit.visitor_id.in_(exposed))
    return [
        VisitRecord(v[0], v[1].timestamp(), v[2].timestamp(), v[3], v[4])
        for v in (await s.execute(stmt)).all()
    ]


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
    per_rule = await load_exposures(s, conds)
    rule_ids = [r for r in per_rule if r is not None]
    rules = {
        r.id: r
        for r in (await s.execute(select(RadarRule).where(RadarRule.id.in_(rule_ids)))).scalars()
    }
    by_visitor: dict[int, list[VisitRecord]] = {}
    for v in await load_visits(s, conds):
        by_visitor.setdefault(v.visitor_id, []).append(v)
    rows = []
    for rule_id in sorted(per_rule, key=lambda r: (r is None, r or 0)):
        exposures = per_rule[rule_id]
        rule = rules.get(rule_id) if rule_id is not None else None
        goal = _goal(rule)
        mine = [v for e in {e.visitor_id for e in exposures} for v in by_visitor.get(e, [])]
        rows.append(_row(rule_id, rule, exposures, figures(exposures, mine, goal)))
    return rows


def _row(
    rule_id: int | None, rule: RadarRule | None, exposures: list[Exposure], f: dict[str, Any]
) -> dict[str, Any]:
    invited, control, lift = f["invited_group"], f["held_out_group"], f["lift"]
    said = {
        o: {e.visitor_id for e in exposures if e.outcome == o} for o in ("dismissed", "ignored")
    }
    return {
        "rule_id": rule_id,
        "rule": rule.name if rule is not None else None,
        "matched": f["matched"],
        "held_out": f["held_out"],
        "shown": f["shown"],
        "accepted": f["accepted"],
        "dismissed": len(said["dismissed"]),
        "ignored": len(said["ignored"]),
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
        exposures = (await load_exposures(s, conds)).get(rule_id, [])
        visits = await load_visits(s, conds)
    spec = parse_rule(rule.spec)
    return {"rule_id": rule_id, "control": spec.control, **figures(exposures, visits, spec.goal)}
