"""The domain events: one immutable class per fact, named in the past tense.

Actions record them on their unit of work (``record(session, event)``); once the transaction has
committed, the dispatcher (``tresen.dispatcher``) hands each to the listeners registered in
``tresen.wiring``. A rolled-back transaction emits nothing. Facts that live only in memory (a page
view, a queue position) are emitted directly with ``Dispatcher.emit``.

Events carry ids and the data their listeners need, never a rendered wire frame: rendering is the
listener's business (the WebSocket delivery, an email, a webhook body). The catalogue with who
emits and who listens is in docs/architecture.md.
"""

from __future__ import annotations

import json
import typing
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from functools import cache
from typing import Any, Literal, Protocol


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


# ---- conversations and messages -----------------------------------------------------------------


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
    conversation: ConversationState
    by_agent_id: int | None


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
    """The visitor was told the chat ended (by an agent, or closed after the visitor's
    silence: ``by`` "agent" or "timer") and asked for a rating."""

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


# ---- visitors and Web Radar ------------------------------------------------------------------


class VisitorEvent(Event):
    __slots__ = ()
    visitor_id: int

    @property
    def key(self) -> object:
        return ("v", self.visitor_id)


@dataclass(frozen=True, slots=True)
class VisitorArrived(VisitorEvent):
    """The visitor's first socket on this node opened."""

    visitor_id: int
    site_id: int
    returning: bool


@dataclass(frozen=True, slots=True)
class PageViewed(VisitorEvent):
    visitor_id: int
    site_id: int
    url: str
    title: str | None
    referrer: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class VisitorLeft(VisitorEvent):
    """The visitor's last socket on this node closed."""

    visitor_id: int
    site_id: int


@dataclass(frozen=True, slots=True)
class OfferShown(VisitorEvent):
    """An invitation, message or bot offer was recorded and is shown to the visitor.
    ``agent_id`` marks an agent's manual invitation."""

    offer_id: int
    visitor_id: int
    site_id: int
    rule_id: int | None
    kind: str
    text: str
    auto_open: bool = False
    quiet: bool = False
    agent_id: int | None = None
    agent_name: str | None = None
    agent_photo: str | None = None
    tab: str | None = None  # shown in this tab only (the focused one); None: every tab


@dataclass(frozen=True, slots=True)
class OfferHeldOut(VisitorEvent):
    """A rule matched a visitor of its control group: nothing was shown (for the lift)."""

    offer_id: int
    visitor_id: int
    site_id: int
    rule_id: int | None


@dataclass(frozen=True, slots=True)
class OfferAccepted(VisitorEvent):
    offer_id: int
    visitor_id: int
    rule_id: int | None
    conversation_id: int | None


@dataclass(frozen=True, slots=True)
class OfferDismissed(VisitorEvent):
    offer_id: int
    visitor_id: int
    rule_id: int | None


@dataclass(frozen=True, slots=True)
class OfferIgnored(VisitorEvent):
    """Shown and left unanswered until the visitor moved on."""

    offer_id: int
    visitor_id: int
    rule_id: int | None


@dataclass(frozen=True, slots=True)
class RulesChanged(Event):
    """A radar rule was created, changed, reordered or deleted."""

    rule_id: int | None


# ---- co-browsing ---------------------------------------------------------------------------------


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


# ---- channels --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConversationTagged(ConversationEvent):
    """Tags were added to or removed from a conversation; ``tags`` is the set after the change."""

    conversation: ConversationState
    added: tuple[str, ...]
    removed: tuple[str, ...]
    tags: tuple[str, ...]
    by_agent_id: int | None


@dataclass(frozen=True, slots=True)
class ConversationSnoozed(ConversationEvent):
    """An agent snoozed it until ``conversation.snoozed_until``: out of the active views."""

    conversation: ConversationState
    by_agent_id: int | None


@dataclass(frozen=True, slots=True)
class ConversationWoke(ConversationEvent):
    """A snooze ended: its time came (``time``), the visitor wrote, or an agent woke it."""

    conversation: ConversationState
    reason: Literal["time", "visitor", "agent"]


@dataclass(frozen=True, slots=True)
class MessageDeliveryChanged(ConversationEvent):
    """A message's delivery on its channel (an email) moved: ``sending`` again after a failure
    (``retry``), ``sent``, ``failed`` for good (``error`` says why), or ``skipped`` (read in
    the chat before a follow-up mail was due)."""

    conversation: ConversationState
    message_id: int
    seq: int
    channel: str
    state: str  # retry | sent | failed | skipped
    attempts: int
    error: str | None
    external_id: str | None


@dataclass(frozen=True, slots=True)
class TranscriptRequested(ConversationEvent):
    """The visitor (at the end of a chat) or an agent asked for the chat's transcript by email:
    an outbox row for the note ``message_id`` is committed; the worker sends it now."""

    conversation: ConversationState
    message_id: int
    seq: int
    by: str  # visitor | agent


@dataclass(frozen=True, slots=True)
class MailboxChanged(Event):
    """A site's mailbox settings were saved: readers reconnect with them."""

    site_id: int

    @property
    def key(self) -> object:
        return ("s", self.site_id)


# ---- callbacks ---------------------------------------------------------------------------------


class CallbackEvent(Event):
    __slots__ = ()
    callback_id: int

    @property
    def key(self) -> object:
        return ("cb", self.callback_id)


@dataclass(frozen=True, slots=True)
class CallbackChanged(CallbackEvent):
    """A callback was requested (``created``), taken, rescheduled, noted or done."""

    callback_id: int
    site_id: int
    owner_id: int | None
    status: str
    remind_at: datetime | None
    created: bool = False


@dataclass(frozen=True, slots=True)
class CallbackDue(CallbackEvent):
    """A callback's reminder time came: its owner (or, unowned, every console) is told."""

    callback_id: int
    site_id: int
    owner_id: int | None
    phone: str
    conversation_id: int | None


# ---- agents ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentStatusChanged(Event):
    agent_id: int
    status: str
    old_status: str

    @property
    def key(self) -> object:
        return ("a", self.agent_id)


@dataclass(frozen=True, slots=True)
class CapacityChanged(Event):
    """An agent's skills, chat limit, email blending or activity changed."""

    agent_id: int

    @property
    def key(self) -> object:
        return ("a", self.agent_id)


@dataclass(frozen=True, slots=True)
class AgentAccessChanged(Event):
    """The sites an agent serves (or their role) changed: their open consoles reconnect, so
    they follow the topics of their sites from then on."""

    agent_id: int

    @property
    def key(self) -> object:
        return ("a", self.agent_id)


@dataclass(frozen=True, slots=True)
class AgentSessionsEnded(Event):
    """Sessions of an agent ended (logout, password change, deactivation): the sockets opened
    with them close. ``session_ids`` None: every session of the agent."""

    agent_id: int
    session_ids: tuple[int, ...] | None
    reason: str  # logout | password_changed | deactivated

    @property
    def key(self) -> object:
        return ("a", self.agent_id)


# ---- outgoing webhooks ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookSubscriptionsChanged(Event):
    """A webhook subscription was created, changed, deleted or switched off (410 Gone): every
    node reads the active subscriptions again before it writes the next deliveries."""

    subscription_id: int


# ---- agent assist: knowledge base, canned responses, suggestions ---------------------------------


@dataclass(frozen=True, slots=True)
class ArticleChanged(Event):
    """A knowledge-base article was created, changed or deleted (``deleted``)."""

    article_id: int
    site_id: int
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class CannedChanged(Event):
    """A canned response was created, changed or deleted (``deleted``)."""

    canned_id: int
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class SuggestionPicked(Event):
    """An agent inserted a suggestion (``source`` kb | canned | answer) into a reply."""

    agent_id: int
    conversation_id: int | None
    source: str
    item_id: int


@dataclass(frozen=True, slots=True)
class ArticleRead(VisitorEvent):
    """A visitor opened a knowledge-base article in the widget."""

    visitor_id: int
    site_id: int
    article_id: int


@dataclass(frozen=True, slots=True)
class ChatDeflected(VisitorEvent):
    """A visitor said an article answered their question, without starting a chat."""

    visitor_id: int
    site_id: int
    article_id: int


# ---- contacts -------------------------------------------------------------------------------


class ContactEvent(Event):
    __slots__ = ()
    contact_id: int

    @property
    def key(self) -> object:
        return ("ct", self.contact_id)


@dataclass(frozen=True, slots=True)
class ContactCreated(ContactEvent):
    contact_id: int
    site_id: int
    via: str  # visitor | identify | email | api | import | split


@dataclass(frozen=True, slots=True)
class ContactUpdated(ContactEvent):
    """Fields, identities, notes or tags of a contact changed (``fields`` names which)."""

    contact_id: int
    site_id: int
    fields: tuple[str, ...]
    via: str  # identify | api | import | merge | split | email


@dataclass(frozen=True, slots=True)
class ContactsMerged(ContactEvent):
    """``merged_id`` was folded into ``contact_id`` and no longer exists."""

    contact_id: int
    site_id: int
    merged_id: int
    by: int | None


@dataclass(frozen=True, slots=True)
class ContactErased(ContactEvent):
    """A person was erased (GDPR): their contact no longer exists."""

    contact_id: int
    site_id: int
    by: int | None


@dataclass(frozen=True, slots=True)
class ConversationsPurged(Event):
    """The retention deleted ``count`` old conversations of a site; ``created_hours``: the hours
    (since the epoch) they were created in, whose report rollups are recomputed."""

    site_id: int
    count: int
    created_hours: tuple[int, ...]


# ---- one JSON form, for listeners that run on every node ----------------------------------------


def _all_events() -> dict[str, type[Event]]:
    """The event classes of this module by name (the module's own names: ``slots=True``
    dataclasses are new classes, and the ones they replaced must not be found)."""
    return {
        name: value
        for name, value in globals().items()
        if isinstance(value, type)
        and issubclass(value, Event)
        and "__dataclass_fields__" in vars(value)
    }


def encode(event: Event) -> str:
    """The event as JSON: ``{"event": name, "data": {...}}``."""
    data = asdict(event)  # type: ignore[call-overload]
    return json.dumps({"event": type(event).__name__, "data": data}, default=_default)


def decode(text: str) -> Event:
    raw = json.loads(text)
    cls = _registry()[raw["event"]]
    return _build(cls, raw["data"])


@cache
def _registry() -> dict[str, type[Event]]:
    return _all_events()


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(cls: type, data: dict[str, Any]) -> Any:
    hints = _hints(cls)
    values = {}
    for f in fields(cls):
        value, hint = data.get(f.name), hints[f.name]
        if value is not None and hint is ConversationState:
            value = _build(ConversationState, value)
        elif (isinstance(value, str) and datetime in typing.get_args(hint)) or hint is datetime:
            value = datetime.fromisoformat(value) if isinstance(value, str) else value
        elif isinstance(value, list):
            value = tuple(value)
        values[f.name] = value
    return cls(**values)


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")
