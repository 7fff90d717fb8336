"""Picks the bus backend from the settings (apart from the ABC, so no circle forms)."""

from __future__ import annotations

from tresen.realtime.bus import Bus
from tresen.realtime.memory_bus import MemoryBus


def create_bus(redis_url: str | None, node_name: str) -> Bus:
    if not redis_url:
        return MemoryBus()
    from tresen.realtime.redis_bus import RedisBus

    return RedisBus(redis_url, node_name=node_name)
