"""Who is connected, across every process: counts of open sockets per key (``a:<agent>``,
``v:<visitor>``).

In one process a dict does; with Redis each node keeps its own count in a hash field, and a
node that stops refreshing its heartbeat (it crashed) no longer counts, so a dead node never
keeps an agent "present" or a visitor "still here". ``claim`` names the one process that holds
something (a visitor's visit, ``radar.holders``) while it lives.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class Presence(ABC):
    async def start(self) -> None:  # noqa: B027 - optional hook
        """Begin heartbeats, if the backend needs them."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop heartbeats."""

    @abstractmethod
    async def change(self, key: str, delta: int) -> None:
        """This process opened (+1) or closed (-1) a socket for ``key``."""

    @abstractmethod
    async def count(self, key: str) -> int:
        """Open sockets for ``key`` in every live process."""

    async def claim(self, key: str) -> str | None:
        """Hold ``key`` for this process unless a live process holds it: None when this
        process holds it now, else the holder's node name. One process holds every key."""
        return None

    async def release(self, key: str) -> None:  # noqa: B027 - one process: nothing to do
        """Let go of ``key`` if this process holds it."""


class MemoryPresence(Presence):
    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    async def change(self, key: str, delta: int) -> None:
        left = self._counts.get(key, 0) + delta
        if left > 0:
            self._counts[key] = left
        else:
            self._counts.pop(key, None)

    async def count(self, key: str) -> int:
        return self._counts.get(key, 0)
