"""What every report endpoint shares, the reports' own (``reports/api.py``) and the radar's
invitation funnel (``radar/funnel_api.py``): the time range asked for and the answer as JSON
rows or as a CSV download."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi.responses import Response

from tresen.csvsafe import csv_text
from tresen.errors import Invalid

MAX_RANGE = timedelta(days=400)
Format = Literal["json", "csv"]


def report_range(
    now: datetime, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    """``start``..``end``, by default the 7 days up to ``now``; both with a time zone, running
    forward and spanning at most 400 days (else ``Invalid``)."""
    end = end or now
    start = start or end - timedelta(days=7)
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("start and end need a time zone (e.g. 2026-11-29T00:00:00Z)")
    if not start < end or end - start > MAX_RANGE:
        raise Invalid("the range must run forward and span at most 400 days")
    return start, end


def report_table(rows: list[dict[str, Any]], fmt: Format, name: str) -> Any:
    """The rows as JSON, or as the CSV file ``name``.csv."""
    if fmt == "json":
        return rows
    return Response(
        csv_text(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
