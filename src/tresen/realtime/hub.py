"""Local fan-out: one bus subscription per topic per process, many sockets behind it.

Payloads that need ordering carry a short header the server wrote (never client text), parsed
once per process: ``#m <conversation> <seq>`` for a message, ``#c <conversation> <visitor>
<assignee or 0> <created 0/1>`` for a conversation change, ``#s <session ids, comma-separated,
or *>`` for sessions that ended (their sockets close), ``#r`` for an agent whose access
changed (their sockets close to reconnect). Anything else is passed as it is.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from tresen.realtime.bus import Bus


class Tag(NamedTuple):
    kind: str  # "m": a message; "c": a conversation change; "s": sessions ended; "r": access
    conversation_id: int
    seq: int = 0
    visitor_id: int = 0
    assignee_id: int = 0
    created: bool = False
    sessions: frozenset[int] | None = None  # "s": the sessions that ended; None: all


class Subscriber(Protocol):
    def deliver(self, frame: str, tag: Tag | None) -> None: ...


def tag_message(frame: str, conversation_id: int, seq: int) -> str:
    return f"#m {conversation_id} {seq}\n{frame}"


def tag_conversation(
    frame: str, conversation_id: int, visitor_id: int, assignee_id: int | None, created: bool
) -> str:
    return f"#c {conversation_id} {visitor_id} {assignee_id or 0} {int(created)}\n{frame}"


def tag_sessions_ended(frame: str, session_ids: tuple[int, ...] | None) -> str:
    ids = "*" if session_ids is None else ",".join(str(i) for i in session_ids) or "-"
    return f"#s {ids}\n{frame}"


def tag_access_changed(frame: str) -> str:
    return f"#r\n{frame}"


def untag(payload: str) -> tuple[str, Tag | None]:
    if not payload.startswith("#"):
        return payload, None
    head, frame = payload.split("\n", 1)
    kind, *nums = head[1:].split(" ")
    if kind == "r":
        return frame, Tag("r", 0)
    if kind == "s":
        ids = None if nums[0] == "*" else frozenset(int(i) for i in nums[0].split(",") if i != "-")
        return frame, Tag("s", 0, sessions=ids)
    if kind == "m":
        return frame, Tag("m", int(nums[0]), seq=int(nums[1]))
    conv, visitor, assignee, created = (int(n) for n in nums)
    return frame, Tag("c", conv, visitor_id=visitor, assignee_id=assignee, created=bool(created))


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
        frame, tag = untag(payload)
        for sub in list(subs):
            sub.deliver(frame, tag)

    def deliver(self, topic: str, payload: str) -> None:
        """To this process's subscribers of ``topic`` only (not over the bus)."""
        self._on_event(topic, payload)

    def subscribers(self, topic: str) -> int:
        return len(self._local.get(topic, ()))

    @property
    def connections(self) -> int:
        return len({s for subs in self._local.values() for s in subs})
