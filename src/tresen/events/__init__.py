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
from dataclasses import asdict, fields
from datetime import datetime
from functools import cache
from typing import Any

from tresen.events.agents import (
    AgentAccessChanged,
    AgentSessionsEnded,
    AgentStatusChanged,
    CapacityChanged,
    WebhookSubscriptionsChanged,
)
from tresen.events.assist import (
    ArticleChanged,
    ArticleRead,
    CannedChanged,
    ChatDeflected,
    SuggestionPicked,
)
from tresen.events.base import ConversationEvent, ConversationState, Event, record
from tresen.events.callbacks import (
    CallbackChanged,
    CallbackDue,
    CallbackEvent,
)
from tresen.events.channels import (
    ConversationSnoozed,
    ConversationTagged,
    ConversationWoke,
    MailboxChanged,
    MessageDeliveryChanged,
    TranscriptRequested,
)
from tresen.events.cobrowse import (
    CobrowseChanged,
    CobrowseEvent,
    CobrowseStarted,
    CobrowseStopped,
)
from tresen.events.contacts import (
    ContactCreated,
    ContactErased,
    ContactEvent,
    ContactsMerged,
    ContactUpdated,
    ConversationsPurged,
)
from tresen.events.conversations import (
    AgentIntroduced,
    ConversationAbandoned,
    ConversationAssigned,
    ConversationDeclined,
    ConversationEnded,
    ConversationFlagged,
    ConversationHandedOver,
    ConversationOffered,
    ConversationOpened,
    ConversationOverflowed,
    ConversationQueued,
    ConversationRead,
    ConversationReopened,
    ConversationResolved,
    ConversationStatusChanged,
    ConversationTransferred,
    MessageCreated,
    QueueChoiceMade,
    QueuePositionChanged,
    RatingGiven,
)
from tresen.events.visitors import (
    OfferAccepted,
    OfferDismissed,
    OfferHeldOut,
    OfferIgnored,
    OfferShown,
    PageViewed,
    RulesChanged,
    VisitorArrived,
    VisitorEvent,
    VisitorLeft,
)

__all__ = [
    "AgentAccessChanged",
    "AgentIntroduced",
    "AgentSessionsEnded",
    "AgentStatusChanged",
    "ArticleChanged",
    "ArticleRead",
    "CallbackChanged",
    "CallbackDue",
    "CallbackEvent",
    "CannedChanged",
    "CapacityChanged",
    "ChatDeflected",
    "CobrowseChanged",
    "CobrowseEvent",
    "CobrowseStarted",
    "CobrowseStopped",
    "ContactCreated",
    "ContactErased",
    "ContactEvent",
    "ContactUpdated",
    "ContactsMerged",
    "ConversationAbandoned",
    "ConversationAssigned",
    "ConversationDeclined",
    "ConversationEnded",
    "ConversationEvent",
    "ConversationFlagged",
    "ConversationHandedOver",
    "ConversationOffered",
    "ConversationOpened",
    "ConversationOverflowed",
    "ConversationQueued",
    "ConversationRead",
    "ConversationReopened",
    "ConversationResolved",
    "ConversationSnoozed",
    "ConversationState",
    "ConversationStatusChanged",
    "ConversationTagged",
    "ConversationTransferred",
    "ConversationWoke",
    "ConversationsPurged",
    "Event",
    "MailboxChanged",
    "MessageCreated",
    "MessageDeliveryChanged",
    "OfferAccepted",
    "OfferDismissed",
    "OfferHeldOut",
    "OfferIgnored",
    "OfferShown",
    "PageViewed",
    "QueueChoiceMade",
    "QueuePositionChanged",
    "RatingGiven",
    "RulesChanged",
    "SuggestionPicked",
    "TranscriptRequested",
    "VisitorArrived",
    "VisitorEvent",
    "VisitorLeft",
    "WebhookSubscriptionsChanged",
    "record",
]


# ---- one JSON form, for listeners that run on every node ----------------------------------------


def _all_events() -> dict[str, type[Event]]:
    """The event classes of this package by name (the names it exports: ``slots=True``
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
