"""Injected time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from tresen.clock import Clock, ManualClock


def test_system_clock_is_utc_and_monotonic_counter_moves_forward() -> None:
    clock = Clock()
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert abs((now - datetime.now(UTC)).total_seconds()) < 5
    a = clock.monotonic()
    time.sleep(0.01)
    assert clock.monotonic() > a


def test_manual_clock_stands_still_until_advanced() -> None:
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    clock = ManualClock(start)
    mono = clock.monotonic()
    time.sleep(0.01)
    assert clock.now() == start
    assert clock.monotonic() == mono
    clock.advance(90.5)
    assert clock.now() == start + timedelta(seconds=90.5)
    assert clock.monotonic() == mono + 90.5


def test_manual_clock_default_start_is_aware() -> None:
    clock = ManualClock()
    assert clock.now().tzinfo is not None
    assert isinstance(clock, Clock)
