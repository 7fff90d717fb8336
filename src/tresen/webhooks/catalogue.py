"""Which domain events are sent to webhooks, under which public name, and their JSON body.

One line per event type in ``CATALOGUE``. Names refer to event classes of ``tresen.events`` by
class name, so an entry may name an event another part of the product adds later (it is simply
never seen until then). ``durable=False`` marks facts that are emitted from memory, not
committed: their deliveries are written by a listener right after the fact
(``WebhookWorker.on_memory_event``) instead of in the transaction of a change.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tresen import events
from tresen.events import ConversationState, Event


@dataclass(frozen=True, slots=True)
class Kind:
    name: str  # the public event type, e.g. "conversation.opened"
    durable: bool = True


CATALOGUE: dict[str, Kind] = {
    "ConversationOpened": Kind("conversation.opened"),
    "ConversationReopened": Kind("conversation.reopened"),
    "ConversationQueued": Kind("conversation.queued"),
    "ConversationAssigned": Kind("conversation.assigned"),
    "ConversationTransferred": Kind("conversation.transferred"),
    "ConversationStatusChanged": Kind("conversation.status_changed"),
    "ConversationResolved": Kind("conversation.resolved"),
    "ConversationAbandoned": Kind("conversation.abandoned"),
    "ConversationHandedOver": Kind("conversation.handed_over"),
    "MessageCreated": Kind("message.created"),
    "OfferShown": Kind("offer.shown"),
    "OfferAccepted": Kind("offer.accepted"),
    "OfferDismissed": Kind("offer.dismissed"),
    "CobrowseStarted": Kind("cobrowse.started"),
    "CobrowseStopped": Kind("cobrowse.stopped"),
    "ContactCreated": Kind("contact.created"),
    "ContactUpdated": Kind("contact.updated"),
    "ContactsMerged": Kind("contact.merged"),
    "ContactErased": Kind("contact.erased"),
    "RatingGiven": Kind("rating.given"),
    "VisitorArrived": Kind("visitor.arrived", durable=False),
    "VisitorLeft": Kind("visitor.left", durable=False),
}
EVENT_TYPES: tuple[str, ...] = tuple(sorted(k.name for k in CATALOGUE.values()))

# What a conversation looks like in a webhook body (not the internal routing fields).
CONVERSATION_FIELDS = (
    "id",
    "site_id",
    "visitor_id",
    "status",
    "channel",
    "skill",
    "department",
    "assignee_id",
    "priority",
    "last_seq",
    "created_at",
    "updated_at",
)


def event_classes(*, durable: bool) -> tuple[type[Event], ...]:
    """The catalogued event classes that exist (``durable``: committed, or from memory)."""
    found = (vars(events).get(name) for name, kind in CATALOGUE.items() if kind.durable == durable)
    return tuple(cls for cls in found if isinstance(cls, type) and issubclass(cls, Event))


def kind_of(event: Event) -> Kind | None:
    return CATALOGUE.get(type(event).__name__)


def site_of(event: Event) -> int | None:
    """The site an event belongs to, when the event says so itself."""
    conversation = getattr(event, "conversation", None)
    if isinstance(conversation, ConversationState):
        return conversation.site_id
    site_id = getattr(event, "site_id", None)
    return site_id if isinstance(site_id, int) else None


def event_data(event: Event) -> dict[str, Any]:
    """The ``data`` of a webhook body: the event's fields as JSON values; a conversation as
    its public fields."""
    data: dict[str, Any] = {}
    for f in dataclasses.fields(event):  # type: ignore[arg-type]
        value = getattr(event, f.name)
        if isinstance(value, ConversationState):
            value = {name: getattr(value, name) for name in CONVERSATION_FIELDS}
        data[f.name] = _plain(value)
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
