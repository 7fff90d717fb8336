"""Co-browsing sessions."""

from __future__ import annotations

from dataclasses import dataclass

from tresen.events.base import Event


class CobrowseEvent(Event):
    __slots__ = ()
    session_id: int
    conversation_id: int

    @property
    def key(self) -> object:
        return ("c", self.conversation_id)


@dataclass(frozen=True, slots=True)
class CobrowseChanged(CobrowseEvent):
    """A co-browsing session's state: requested, active (started), declined, ended, or the
    visitor's remote-control consent changed. ``by``: who made the change."""

    session_id: int
    conversation_id: int
    visitor_id: int
    agent_id: int | None
    status: str
    control: bool
    auto_follow: bool
    agent_name: str | None
    by: str | None


@dataclass(frozen=True, slots=True)
class CobrowseStarted(CobrowseEvent):
    session_id: int
    conversation_id: int
    visitor_id: int
    agent_id: int | None
    via_code: bool


@dataclass(frozen=True, slots=True)
class CobrowseStopped(CobrowseEvent):
    session_id: int
    conversation_id: int
    visitor_id: int
    by: str
