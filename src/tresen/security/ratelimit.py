"""Fixed-window rate limits, shared between processes when Redis is configured."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod

from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class RateLimiter(ABC):
    @abstractmethod
    async def hit(self, key: str, limit: int, window_seconds: int) -> bool:
        """Count one attempt; False once ``limit`` attempts were made in the current window."""

    @abstractmethod
    async def count(self, key: str, window_seconds: int) -> int:
        """Attempts counted in the current window, without counting one more."""

    @abstractmethod
    async def claim(self, key: str, ttl_seconds: int) -> bool:
        """True the first time ``key`` is claimed; False while that claim lasts (single use)."""


class MemoryRateLimiter(RateLimiter):
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}
        self._claims: dict[str, float] = {}

    async def hit(self, key: str, limit: int, window_seconds: int) -> bool:
        window = int(time.time() // window_seconds)
        start, count = self._windows.get(key, (window, 0))
        if start != window:
            count = 0
        self._windows[key] = (window, count + 1)
        if len(self._windows) > 100_000:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        return count + 1 <= limit

    async def count(self, key: str, window_seconds: int) -> int:
        window = int(time.time() // window_seconds)
        start, count = self._windows.get(key, (window, 0))
        return count if start == window else 0

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        now = time.time()
        if self._claims.get(key, 0.0) > now:
            return False
        self._claims[key] = now + ttl_seconds
        if len(self._claims) > 100_000:
            self._claims = {k: v for k, v in self._claims.items() if v > now}
        return True


class RedisRateLimiter(RateLimiter):
    def __init__(self, client: object) -> None:
        self._client = client

    async def hit(self, key: str, limit: int, window_seconds: int) -> bool:
        """Fails open while Redis is away: a limit is not worth refusing every login and
        every new chat for (logged, so an outage is visible)."""
        window = int(time.time() // window_seconds)
        rkey = f"tresen:rl:{key}:{window}"
        try:
            pipe = self._client.pipeline()  # type: ignore[attr-defined]
            pipe.incr(rkey)
            pipe.expire(rkey, window_seconds + 1)
            count, _ = await pipe.execute()
        except (RedisError, OSError):
            log.warning("rate limit %s not counted: redis unavailable", key.split(":")[0])
            return True
        return int(count) <= limit

    async def count(self, key: str, window_seconds: int) -> int:
        window = int(time.time() // window_seconds)
        try:
            value = await self._client.get(f"tresen:rl:{key}:{window}")  # type: ignore[attr-defined]
        except (RedisError, OSError):
            return 0
        return int(value or 0)

    async def claim(self, key: str, ttl_seconds: int) -> bool:
        done = await self._client.set(f"tresen:once:{key}", 1, nx=True, ex=ttl_seconds)  # type: ignore[attr-defined]
        return bool(done)
