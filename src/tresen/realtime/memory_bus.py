"""In-process delivery: the embedded default for one ``tresen serve``."""

from __future__ import annotations

from tresen.realtime.bus import Bus


class MemoryBus(Bus):
    async def publish(self, topic: str, payload: str) -> None:
        self._dispatch(topic, payload)

    def publish_nowait(self, topic: str, payload: str) -> None:
        self._dispatch(topic, payload)  # nothing to wait for in one process

    async def ping(self) -> bool:
        return True
