"""Which period a supervisor's summary is for, and when it is mailed: a day (local midnight to
midnight) at ``hour`` the next morning, or a week (Monday to Monday) at ``hour`` on Monday; in
the supervisor's time zone, so a day across a DST change has 23 or 25 hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class Period:
    key: str  # unique per supervisor: "daily:2026-11-29", "weekly:2026-11-23"
    start: datetime  # UTC
    end: datetime  # UTC, exclusive
    send_at: datetime  # UTC


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ``ValueError`` when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def _at(day: date, hour: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def latest_due(frequency: str, time_zone: str, hour: int, now: datetime) -> Period | None:
    """The most recent period whose mail time has come (``None`` for ``off``)."""
    if frequency not in ("daily", "weekly"):
        return None
    tz = zone(time_zone)
    today = now.astimezone(tz).date()
    step = timedelta(days=1 if frequency == "daily" else 7)
    end_day = today if frequency == "daily" else today - timedelta(days=today.weekday())
    if now < _at(end_day, hour, tz):
        end_day -= step
    start_day = end_day - step
    return Period(
        f"{frequency}:{start_day.isoformat()}",
        _at(start_day, 0, tz),
        _at(end_day, 0, tz),
        _at(end_day, hour, tz),
    )
