"""Who is connected, across every process: counts of open sockets per key (``a:<agent>``,
``v:<visitor>``).

In one process a dict does; with Redis each node keeps its own count in a hash field, and a
node that stops refreshing its heartbeat (it crashed) no longer counts, so a dead node never
keeps an agent "present" or a visitor "still here".
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
