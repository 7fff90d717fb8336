"""``GET /api/reports/funnel``: the invitation funnel of a range (supervisors and admins), served
by the radar, which owns offers, rules, goals and holdout; the reports view shows it with the
other report tables (docs/reports.md). ``?format=csv`` exports it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from tresen.agents.scope import site_ids_for
from tresen.auth.deps import RT, SupervisorDep
from tresen.csvsafe import csv_text
from tresen.errors import Invalid
from tresen.radar.funnel import funnel

router = APIRouter(prefix="/api/reports", tags=["reports"])
MAX_RANGE = timedelta(days=400)


@router.get("/funnel")
async def invitation_funnel(
    rt: RT,
    who: SupervisorDep,
    start: datetime | None = None,
    end: datetime | None = None,
    site_id: int | None = Query(None, ge=1, le=2**31),
    format: Literal["json", "csv"] = "json",
) -> Any:
    """Per rule: matched, shown, accepted, chats, goals, and the lift over held-out visitors."""
    end = end or rt.clock.now()
    start = start or end - timedelta(days=7)
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("start and end need a time zone (e.g. 2026-11-29T00:00:00Z)")
    if not start < end or end - start > MAX_RANGE:
        raise Invalid("the range must run forward and span at most 400 days")
    async with rt.db.read() as s:
        rows = await funnel(s, start, end, site_id, await site_ids_for(s, who))
    if format == "json":
        return rows
    return Response(
        csv_text(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="invitation-funnel.csv"'},
    )
