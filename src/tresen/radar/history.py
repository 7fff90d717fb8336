"""What the radar keeps for replay, and for how long: the visits (pages, events), page views
and the agents' availability over time, purged after ``radar_history_days``."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, insert, select

from tresen.radar.pacing import acceptance_rate
from tresen.radar.replay import StepTimeline, StoredVisit, replay
from tresen.radar.rules import compile_rule
from tresen.radar.visits import RETURNING_AFTER
from tresen.runtime import Runtime
from tresen.storage.models import CapacitySample, PageView, RadarOffer, Visit, Visitor


async def do_log_capacity(rt: Runtime, samples: dict[str | None, tuple[int, float]]) -> None:
    """The free slots and wait of the skills that changed, from now on."""
    if not samples:
        return
    now = rt.clock.now()
    rows = [
        {"at": now, "skill": k, "free": free, "wait": wait if math.isfinite(wait) else None}
        for k, (free, wait) in samples.items()
    ]
    async with rt.db.write() as s:
        await s.execute(insert(CapacitySample), rows)


async def do_purge_history(rt: Runtime) -> None:
    before = rt.clock.now() - timedelta(days=rt.settings.radar_history_days)
    async with rt.db.write() as s:
        await s.execute(delete(Visit).where(Visit.last_seen_at < before))
        await s.execute(delete(PageView).where(PageView.at < before))
        await s.execute(delete(CapacitySample).where(CapacitySample.at < before))


async def access_replay(
    rt: Runtime, spec: dict[str, Any], *, days: float, site_id: int | None
) -> dict[str, Any]:
    """Replay a (validated) draft rule over the visits of the last ``days``."""
    since = rt.clock.now() - timedelta(days=days)
    async with rt.db.read() as s:
        stmt = (
            select(Visit, Visitor.created_at, Visitor.external_id, Visitor.attributes)
            .join(Visitor, Visitor.id == Visit.visitor_id)
            .where(Visit.last_seen_at >= since)
            .order_by(Visit.started_at)
        )
        if site_id is not None:
            stmt = stmt.where(Visit.site_id == site_id)
        visits = [_stored(*row) for row in (await s.execute(stmt)).all()]
        samples = (
            await s.execute(
                select(
                    CapacitySample.at,
                    CapacitySample.skill,
                    CapacitySample.free,
                    CapacitySample.wait,
                ).order_by(CapacitySample.at, CapacitySample.id)
            )
        ).all()
    timeline = StepTimeline()
    for at, skill, free, wait in samples:
        timeline.steps.setdefault(skill, []).append(
            (at.timestamp(), free, float("inf") if wait is None else wait)
        )
    return replay(compile_rule(0, site_id, spec), visits, timeline)


def _stored(
    v: Visit, created_at: datetime, external_id: str | None, attributes: dict[str, Any] | None
) -> StoredVisit:
    """A stored visit as the replay reads it; like the live engine, identity attributes count
    for verified visitors only (as they are now), and a visitor is returning when first seen
    more than ``RETURNING_AFTER`` before the visit began."""
    facts = v.facts or {}
    forms = facts.get("forms")
    started = v.started_at.timestamp()
    return StoredVisit(
        v.visitor_id,
        v.id,
        started,
        [(str(p[0]), str(p[1]), float(p[2])) for p in v.pages],
        [(str(e["name"]), float(e["at"]), dict(e["props"])) for e in v.events],
        device=str(facts.get("device", "desktop")),
        language=str(facts.get("language", "")),
        referrer=v.referrer,
        returning=created_at.timestamp() < started - RETURNING_AFTER,
        attributes=dict(attributes or {}) if external_id else {},
        utm={str(k): str(x) for k, x in (facts.get("utm") or {}).items()},
        forms=None if forms is None else [(float(f[0]), f[1]) for f in forms],
    )


async def acceptance_rates(rt: Runtime, days: float) -> dict[int, float]:
    """Each rule's acceptance rate over the last ``days`` (offers with an outcome only), for
    pacing by predicted wait; a rule without offers is not in it (the prior applies)."""
    since = rt.clock.now() - timedelta(days=days)
    accepted = func.sum(case((RadarOffer.outcome == "accepted", 1), else_=0))
    async with rt.db.read() as s:
        rows = await s.execute(
            select(RadarOffer.rule_id, func.count(), accepted)
            .where(
                RadarOffer.rule_id.is_not(None),
                RadarOffer.manual.is_(False),
                RadarOffer.shown_at >= since,
                RadarOffer.outcome != "shown",  # still open: no outcome yet
            )
            .group_by(RadarOffer.rule_id)
        )
        return {int(r): acceptance_rate(int(a or 0), int(n)) for r, n, a in rows.all()}
