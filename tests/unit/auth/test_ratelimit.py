"""The in-memory fixed-window rate limiter."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tresen.security import ratelimit
from tresen.security.ratelimit import MemoryRateLimiter


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """A settable wall clock for the limiter's windows."""
    t = [6000.0]
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: t[0]))
    return t


async def test_allows_limit_then_refuses(now: list[float]) -> None:
    rl = MemoryRateLimiter()
    assert [await rl.hit("k", 3, 60) for _ in range(5)] == [True, True, True, False, False]


async def test_keys_are_independent(now: list[float]) -> None:
    rl = MemoryRateLimiter()
    for _ in range(2):
        await rl.hit("a", 2, 60)
    assert not await rl.hit("a", 2, 60)
    assert await rl.hit("b", 2, 60)


async def test_next_window_starts_fresh(now: list[float]) -> None:
    rl = MemoryRateLimiter()
    for _ in range(3):
        await rl.hit("k", 2, 60)
    assert not await rl.hit("k", 2, 60)
    now[0] += 59.0  # 6059: still the same window [6000, 6060)
    assert not await rl.hit("k", 2, 60)
    now[0] += 1.0  # 6060: a new window
    assert await rl.hit("k", 2, 60)
    assert await rl.hit("k", 2, 60)
    assert not await rl.hit("k", 2, 60)


async def test_memory_stays_bounded_under_many_keys(now: list[float]) -> None:
    rl = MemoryRateLimiter()
    for i in range(100_001):
        await rl.hit(f"old-{i}", 5, 60)
    now[0] += 60
    await rl.hit("fresh", 5, 60)
    # Crossing the cap drops every key from past windows.
    assert len(rl._windows) <= 1
