"""The base of the domain events: ``Event``, ``ConversationEvent`` with the conversation's state
after the change, and ``record`` (the package's docstring says how they flow)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, Protocol


class _HasInfo(Protocol):
    @property
    def info(self) -> dict[Any, Any]: ...


def record(unit: _HasInfo, *events: Event) -> None:
    """Record events on a unit of work (an ``AsyncSession`` from ``Database.write()`` or the
    connection of a grouped write). They are dispatched after it commits, never before."""
    unit.info.setdefault("events", []).extend(events)


@dataclass(frozen=True, slots=True)
class ConversationState:
    """A conversation as it was committed: what listeners need to route and render it."""

    id: int
    site_id: int
    visitor_id: int
    status: str
    channel: str
    skill: str | None
    department: str | None
    assignee_id: int | None
    offered_to: int | None
    priority: int
    queued_at: datetime | None
    last_seq: int
    visitor_read_seq: int
    agent_read_seq: int
    meta: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    snoozed_until: datetime | None = None  # hidden from the active inbox views until then

    @classmethod
    def of(cls, conv: Any) -> ConversationState:
        """From a ``Conversation`` row (or anything with its attributes)."""
        return cls(**{name: getattr(conv, name) for name in _state_fields()})

    @property
    def in_bot_mode(self) -> bool:
        return bool(
            (self.meta or {}).get("bot")
            and self.assignee_id is None
            and self.queued_at is None
            and self.status == "open"
        )


@cache
def _state_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(ConversationState))


class Event:
    """Base of every domain event. ``key`` orders a listener's work: events with the same key
    reach a queued listener one after the other (per conversation, per visitor)."""

    __slots__ = ()

    @property
    def key(self) -> object:
        return None


class ConversationEvent(Event):
    """Something happened to a conversation; ``conversation`` is its state after the change."""

    __slots__ = ()
    conversation: ConversationState

    @property
    def key(self) -> object:
        return ("c", self.conversation.id)
