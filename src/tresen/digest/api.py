"""``GET/PUT /api/reports/digest``: the reader's own summary mail (supervisors and admins):
daily, weekly or off; their time zone and the local hour; the sites (none: all they see); the
address it goes to. Each period's mail shows in ``recent`` with its state."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import select

from tresen.auth.deps import RT, SupervisorDep
from tresen.digest.actions import DigestIn, check_save_digest
from tresen.digest.periods import latest_due
from tresen.runtime import Runtime
from tresen.storage.models import DigestMail, ReportDigest

router = APIRouter(prefix="/api/reports", tags=["reports"])


def _view(d: ReportDigest | None, recent: list[DigestMail], rt: Runtime) -> dict[str, Any]:
    if d is None:
        base: dict[str, Any] = {
            "frequency": "off",
            "time_zone": "UTC",
            "hour": 7,
            "site_ids": [],
            "email": "",
            "language": None,
        }
    else:
        base = {
            "frequency": d.frequency,
            "time_zone": d.time_zone,
            "hour": d.hour,
            "site_ids": list(d.site_ids),
            "email": d.email,
            "language": d.language,
        }
    upcoming = latest_due(base["frequency"], base["time_zone"], base["hour"], rt.clock.now())
    base["last_period_due"] = upcoming.key if upcoming else None
    base["recent"] = [
        {
            "period": m.period_key,
            "status": m.status,
            "attempts": m.attempts,
            "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            "error": m.last_error,
        }
        for m in recent
    ]
    return base


async def _recent(rt: Runtime, agent_id: int) -> tuple[ReportDigest | None, list[DigestMail]]:
    async with rt.db.read() as s:
        d = await s.get(ReportDigest, agent_id)
        stmt = (
            select(DigestMail)
            .where(DigestMail.agent_id == agent_id)
            .order_by(DigestMail.id.desc())
            .limit(10)
        )
        return d, list((await s.execute(stmt)).scalars())


@router.get("/digest")
async def get_digest(rt: RT, who: SupervisorDep) -> dict[str, Any]:
    return _view(*await _recent(rt, who.id), rt)


@router.put("/digest")
async def put_digest(body: DigestIn, rt: RT, who: SupervisorDep) -> dict[str, Any]:
    await check_save_digest(rt, who, body)
    return _view(*await _recent(rt, who.id), rt)
