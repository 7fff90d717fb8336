"""Conversations and messages: the events of one conversation's life."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from tresen.events.base import ConversationEvent, ConversationState, Event


@dataclass(frozen=True, slots=True)
class MessageCreated(ConversationEvent):
    conversation: ConversationState
    message_id: int
    seq: int
    author_kind: str  # visitor | agent | system | bot
    author_id: int | None
    author_name: str | None
    body: str
    internal: bool
    client_msg_id: str | None
    created_at: datetime
    # files sent with it: ({"key", "name", "type", "size"}, ...) (docs/attachments.md)
    attachments: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class ConversationOpened(ConversationEvent):
    conversation: ConversationState
    via: Literal["visitor", "offer", "bot", "channel"]
    offer_id: int | None = None


@dataclass(frozen=True, slots=True)
class ConversationReopened(ConversationEvent):
    conversation: ConversationState
    by_kind: str


@dataclass(frozen=True, slots=True)
class ConversationQueued(ConversationEvent):
    """It joined the queue: new, reopened, handed over by the bot, or transferred to a skill."""

    conversation: ConversationState
    reason: Literal["new", "reopened", "handover", "transfer"]


@dataclass(frozen=True, slots=True)
class ConversationOffered(ConversationEvent):
    """Routing offered it to an agent who has ``accept_seconds`` to accept."""

    conversation: ConversationState
    agent_id: int


@dataclass(frozen=True, slots=True)
class ConversationAssigned(ConversationEvent):
    """``agent_id`` None: unassigned by an agent."""

    conversation: ConversationState
    agent_id: int | None
    by: Literal["routing", "accept", "agent"]
    by_agent_id: int | None = None


@dataclass(frozen=True, slots=True)
class ConversationDeclined(ConversationEvent):
    """An offer to an agent was declined, or ran out (``expired``): it is waiting again."""

    conversation: ConversationState
    agent_id: int
    expired: bool


@dataclass(frozen=True, slots=True)
class ConversationTransferred(ConversationEvent):
    conversation: ConversationState
    from_agent_id: int | None
    to_agent_id: int | None
    skill: str | None
    department: str | None
    by_agent_id: int
    note: str


@dataclass(frozen=True, slots=True)
class ConversationStatusChanged(ConversationEvent):
    """An agent set the status (a resolution also emits ``ConversationResolved``)."""

    conversation: ConversationState
    old_status: str
    by_agent_id: int | None


@dataclass(frozen=True, slots=True)
class ConversationResolved(ConversationEvent):
    """It was resolved: by an agent (``by_agent_id``), by the visitor ending the chat in the
    widget, or closed by the lifecycle timer after the visitor's silence."""

    conversation: ConversationState
    by_agent_id: int | None
    by: Literal["agent", "visitor", "timer"] = "agent"


@dataclass(frozen=True, slots=True)
class ConversationAbandoned(ConversationEvent):
    """The visitor left the queue, or left the site while waiting."""

    conversation: ConversationState
    reason: Literal["left_queue", "left_site"]


@dataclass(frozen=True, slots=True)
class QueueChoiceMade(ConversationEvent):
    """A waiting visitor chose: wait, leave a message, callback, the bot, or leave."""

    conversation: ConversationState
    choice: str


@dataclass(frozen=True, slots=True)
class ConversationHandedOver(ConversationEvent):
    """The bot handed the conversation to people (it is queued with priority)."""

    conversation: ConversationState
    reason: str


@dataclass(frozen=True, slots=True)
class ConversationRead(ConversationEvent):
    conversation: ConversationState
    reader: Literal["visitor", "agent"]
    seq: int


@dataclass(frozen=True, slots=True)
class ConversationFlagged(ConversationEvent):
    """The lifecycle timers marked (or unmarked) it: ``silent`` (the visitor has not answered
    the agent for the configured time), ``waiting`` (the visitor waits for a reply), ``nudged``
    (a gentle message was sent automatically). ``flags``: the marks now set."""

    conversation: ConversationState
    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AgentIntroduced(ConversationEvent):
    """The visitor was told who has the chat now (widget header; "Ben takes over" after a
    transfer). ``previous_agent_id``: who had it before, None at the first assignment."""

    conversation: ConversationState
    agent_id: int
    previous_agent_id: int | None


@dataclass(frozen=True, slots=True)
class ConversationEnded(ConversationEvent):
    """The visitor was told the chat ended (by an agent, by the visitor in the widget, or
    closed after the visitor's silence: ``by`` "agent", "visitor" or "timer") and asked for a
    rating."""

    conversation: ConversationState
    by: str


@dataclass(frozen=True, slots=True)
class RatingGiven(ConversationEvent):
    """The visitor rated the conversation (1-5; thumbs are 1 or 5) and the agent who had it."""

    conversation: ConversationState
    rating_id: int
    agent_id: int | None
    score: int
    scale: str
    comment: str
    channel: str


@dataclass(frozen=True, slots=True)
class QueuePositionChanged(Event):
    """A waiting visitor's place and expected wait (None: nobody who could take it is online)."""

    conversation_id: int
    visitor_id: int
    position: int
    wait_seconds: int | None

    @property
    def key(self) -> object:
        return ("c", self.conversation_id)


@dataclass(frozen=True, slots=True)
class ConversationOverflowed(Event):
    """Nobody is online for it, or the wait is long: the visitor is offered other ways."""

    conversation_id: int
    visitor_id: int
    reason: Literal["nobody_online", "long_wait"]
    wait_seconds: int | None
    options: tuple[str, ...]

    @property
    def key(self) -> object:
        return ("c", self.conversation_id)
