"""``GET /api/reports/funnel``: the invitation funnel of a range (supervisors and admins), served
by the radar, which owns offers, rules, goals and holdout; the reports view shows it with the
other report tables (docs/reports.md). ``?format=csv`` exports it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query

from tresen.agents.report_query import Format, report_range, report_table
from tresen.agents.scope import site_ids_for
from tresen.auth.deps import RT, SupervisorDep
from tresen.radar.funnel import funnel

router = APIRouter(prefix="/api/reports", tags=["reports"])


@router.get("/funnel")
async def invitation_funnel(
    rt: RT,
    who: SupervisorDep,
    start: datetime | None = None,
    end: datetime | None = None,
    site_id: int | None = Query(None, ge=1, le=2**31),
    format: Format = "json",
) -> Any:
    """Per rule: matched, shown, accepted, chats, goals, and the lift over held-out visitors."""
    start, end = report_range(rt.clock.now(), start, end)
    async with rt.db.read() as s:
        rows = await funnel(s, start, end, site_id, await site_ids_for(s, who))
    return report_table(rows, format, "invitation-funnel")
