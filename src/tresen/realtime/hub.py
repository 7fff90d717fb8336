"""Local fan-out: one bus subscription per topic per process, many sockets behind it."""

from __future__ import annotations

import json
from typing import Protocol

from tresen.realtime.bus import Bus


class Subscriber(Protocol):
    def deliver(self, frame: str, conversation_id: int | None, seq: int | None) -> None: ...


class Hub:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self._local: dict[str, set[Subscriber]] = {}

    async def join(self, topic: str, sub: Subscriber) -> None:
        subs = self._local.setdefault(topic, set())
        subs.add(sub)
        if len(subs) == 1:
            await self.bus.subscribe(topic, self._on_event)

    async def leave(self, topic: str, sub: Subscriber) -> None:
        subs = self._local.get(topic)
        if subs is None:
            return
        subs.discard(sub)
        if not subs:
            del self._local[topic]
            await self.bus.unsubscribe(topic, self._on_event)

    def _on_event(self, topic: str, payload: str) -> None:
        subs = self._local.get(topic)
        if not subs:
            return
        conversation_id = seq = None
        if payload.startswith('{"type":"message"'):
            # Parsed once per process, so each socket can keep its order without parsing.
            data = json.loads(payload)
            conversation_id, seq = data["conversation_id"], data["seq"]
        for sub in list(subs):
            sub.deliver(payload, conversation_id, seq)

    @property
    def connections(self) -> int:
        return len({s for subs in self._local.values() for s in subs})
