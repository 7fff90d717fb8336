"""The headline figures of a period, from the reports' own functions (the same as
``GET /api/reports/summary`` and ``/funnel`` over the same range and sites)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tresen.radar.funnel import funnel
from tresen.reports import metrics


async def headline(
    s: AsyncSession, start: datetime, end: datetime, sites: frozenset[int] | None, now: datetime
) -> dict[str, Any]:
    scope = metrics.Scope(start, end, now=now, sites=sites)
    summary = await metrics.summary(s, scope)
    offers = await funnel(s, start, end, None, sites)
    service, csat = summary["service"], summary["csat"]
    return {
        "conversations": summary["volume"]["total"],
        "service_level": service["service_level"],
        "first_response_avg": summary["times"]["first_response_avg"],
        "abandonment_rate": service["abandonment_rate"],
        "abandoned": service["abandoned"],
        "csat_average": csat["average"],
        "csat_count": csat["count"],
        "invitations_shown": sum(int(r["shown"]) for r in offers),
        "invitations_accepted": sum(int(r["accepted"]) for r in offers),
    }
