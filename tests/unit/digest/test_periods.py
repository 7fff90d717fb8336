"""Which period a summary is for and when it goes: the supervisor's local midnight and hour,
across a DST change, weekly from Monday to Monday."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tresen.digest.mail import DigestMessage, compose
from tresen.digest.periods import latest_due


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_daily_in_berlin_at_seven() -> None:
    # 2026-11-25 05:59 UTC is 06:59 in Berlin: still the day before yesterday's turn
    before = latest_due("daily", "Europe/Berlin", 7, utc(2026, 11, 25, 5, 59))
    at = latest_due("daily", "Europe/Berlin", 7, utc(2026, 11, 25, 6, 0))
    assert before is not None and at is not None
    assert before.key == "daily:2026-11-23" and at.key == "daily:2026-11-24"
    assert (at.start, at.end, at.send_at) == (
        utc(2026, 11, 23, 23),
        utc(2026, 11, 24, 23),
        utc(2026, 11, 25, 6),
    )


def test_a_day_across_the_change_to_winter_time_has_25_hours() -> None:
    p = latest_due("daily", "Europe/Berlin", 0, utc(2026, 10, 26, 12))
    assert p is not None and p.key == "daily:2026-10-25"
    assert (p.end - p.start).total_seconds() == 25 * 3600


def test_weekly_is_monday_to_monday_mailed_on_monday() -> None:
    sunday = latest_due("weekly", "Europe/Copenhagen", 8, utc(2026, 11, 29, 22))
    monday = latest_due("weekly", "Europe/Copenhagen", 8, utc(2026, 11, 30, 7))
    assert sunday is not None and monday is not None
    assert sunday.key == "weekly:2026-11-16" and monday.key == "weekly:2026-11-23"
    assert (monday.start, monday.end) == (utc(2026, 11, 22, 23), utc(2026, 11, 29, 23))


def test_off_and_unknown_zones() -> None:
    assert latest_due("off", "UTC", 7, utc(2026, 11, 30)) is None
    with pytest.raises(ValueError):
        latest_due("daily", "Mars/Olympus", 7, utc(2026, 11, 30))


def test_the_html_part_escapes_every_value() -> None:
    figures = dict(
        conversations=3,
        service_level=0.5,
        first_response_avg=12.0,
        abandonment_rate=None,
        abandoned=0,
        csat_average=None,
        csat_count=0,
        invitations_shown=4,
        invitations_accepted=1,
    )
    msg = compose(
        DigestMessage(
            "support@shop.example",
            "Shop <Support>",
            "boss@shop.example",
            "<d.1.1@shop.example>",
            "daily",
            "2026-11-24",
            "2026-11-24",
            "Europe/Berlin",
            ["<script>x</script>"],
            figures,
        ),
        date=utc(2026, 11, 25, 6),
    )
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    plain = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "Service level: 50.0 %" in plain and "Abandonment rate: -" in plain
    assert "Invitations accepted: 1 of 4 shown" in plain
