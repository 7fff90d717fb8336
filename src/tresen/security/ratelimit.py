"""Fixed-window rate limits, shared between processes when Redis is configured."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod


class RateLimiter(ABC):
    @abstractmethod
    async def hit(self, key: str, limit: int, window_seconds: int) -> bool:
        """Count one attempt; False once ``limit`` attempts were made in the current window."""


class MemoryRateLimiter(RateLimiter):
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str, limit: int, window_seconds: int) -> bool:
        window = int(time.time() // window_seconds)
        start, count = self._windows.get(key, (window, 0))
        if start != window:
            count = 0
        self._windows[key] = (window, count + 1)
        if len(self._windows) > 100_000:
            self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        return count + 1 <= limit


class RedisRateLimiter(RateLimiter):
    def __init__(self, client: object) -> None:
        self._client = client

    async def hit(self, key: str, limit: int, window_seconds: int) -> bool:
        window = int(time.time() // window_seconds)
        rkey = f"tresen:rl:{key}:{window}"
        pipe = self._client.pipeline()  # type: ignore[attr-defined]
        pipe.incr(rkey)
        pipe.expire(rkey, window_seconds + 1)
        count, _ = await pipe.execute()
        return int(count) <= limit
