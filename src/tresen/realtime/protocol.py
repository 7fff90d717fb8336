"""Every message on the WebSocket wire, typed. Documented with examples in docs/protocol.md.

Each frame is one JSON object with a ``type``. Clients send the ``*In`` models; the server sends
the ``*Out`` models. Errors are frames too: ``{"type": "error", "code": ..., "message": ...}``.
"""

from __future__ import annotations

import json
import typing
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from tresen.realtime.cobrowse_frames import (
    CobrowseCodeIn,
    CobrowseCommandIn,
    CobrowseControlIn,
    CobrowseEventsIn,
    CobrowseReplyIn,
    CobrowseRequestIn,
    CobrowseResumeIn,
    CobrowseStopIn,
    CobrowseWatchIn,
)
from tresen.realtime.frame_base import InFrame, OutFrame

MAX_PROPS_CHARS = 2048
TRACK_MAX_BYTES = 16 * 1024
"""A ``track`` frame's cap: URL, title, referrer, UTM and props fit with room to spare."""


# ---- client to server -------------------------------------------------------------------------


class SendIn(InFrame):
    """Post a message. Without ``conversation_id`` a visitor starts a new conversation, routed
    by ``skill`` (the topic chosen in the widget, e.g. "Sales") when given."""

    type: Literal["send"]
    client_msg_id: Annotated[str, Field(min_length=1, max_length=64)]
    body: str
    conversation_id: int | None = None
    internal: bool = False
    skill: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    # keys of files uploaded for this message (docs/attachments.md)
    attachments: Annotated[list[Annotated[str, Field(max_length=32)]], Field(max_length=10)] = (
        Field(default_factory=list)
    )


class ResumeIn(InFrame):
    """Tell the server the last ``seq`` seen per conversation; it sends what came after."""

    type: Literal["resume"]
    conversations: dict[int, Annotated[int, Field(ge=0)]]


class TypingIn(InFrame):
    type: Literal["typing"]
    conversation_id: int
    is_typing: bool = True


class ReadIn(InFrame):
    """Everything up to ``seq`` has been read."""

    type: Literal["read"]
    conversation_id: int
    seq: Annotated[int, Field(ge=0)]


class TrackIn(InFrame):
    """What the visitor does (the loader reports it): a page view, form focus, or custom event.

    ``kind="page"``: url, title, referrer, device, language, utm, view (an id of this page
    load: the same view reported again after a reconnect is not a new page view), focused.
    ``kind="focus"``: focused (the tab gained or lost the focus). ``kind="form"``: form (id or
    name; None = left the form; never field values). ``kind="event"``: name, props.
    """

    type: Literal["track"]
    kind: Literal["page", "focus", "form", "event"]
    view: Annotated[str, Field(max_length=40)] = ""
    focused: bool = True
    url: Annotated[str, Field(max_length=2048)] = ""
    title: Annotated[str, Field(max_length=500)] = ""
    referrer: Annotated[str, Field(max_length=2048)] = ""
    device: Literal["desktop", "mobile", "tablet"] | None = None
    language: Annotated[str, Field(max_length=35)] | None = None
    utm: Annotated[dict[str, Annotated[str, Field(max_length=200)]], Field(max_length=5)] = Field(
        default_factory=dict
    )
    form: Annotated[str, Field(max_length=200)] | None = None
    name: Annotated[str, Field(max_length=100)] = ""
    props: Annotated[dict[str, Any], Field(max_length=20)] = Field(default_factory=dict)

    @field_validator("props")
    @classmethod
    def _small_props(cls, props: dict[str, Any]) -> dict[str, Any]:
        """Kept per visitor (the last 50 events): bounded, so a page cannot pin memory."""
        if len(json.dumps(props, separators=(",", ":"))) > MAX_PROPS_CHARS:
            raise ValueError(f"at most {MAX_PROPS_CHARS} characters of JSON")
        return props


class OfferReplyIn(InFrame):
    """The visitor accepted or dismissed an offer."""

    type: Literal["offer_reply"]
    offer_id: int
    outcome: Literal["accepted", "dismissed"]


class QueueChoiceIn(InFrame):
    """A waiting visitor's choice: keep waiting, leave a message (answered by email: give
    ``email``), ask for a callback (``phone``, optional ``when``), talk to the bot, or leave."""

    type: Literal["queue_choice"]
    conversation_id: int
    choice: Literal["wait", "message", "callback", "bot", "leave"]
    email: Annotated[str, Field(max_length=320)] | None = None
    phone: Annotated[str, Field(max_length=40)] | None = None
    when: Annotated[str, Field(max_length=100)] | None = None


class RateIn(InFrame):
    """The visitor rates an ended chat: ``score`` 1-5 (thumbs: 1 down, 5 up) and a comment."""

    type: Literal["rate"]
    conversation_id: int
    score: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=2000)] = ""


class EndChatIn(InFrame):
    """The visitor ends their chat (the widget's "End chat", after a confirmation)."""

    type: Literal["end_chat"]
    conversation_id: int


class HandoverIn(InFrame):
    """The visitor pressed "Talk to a person" while the bot has the conversation."""

    type: Literal["handover"]
    conversation_id: int


class WatchIn(InFrame):
    """Agents: follow a conversation on this socket (its messages, typing, read receipts) even
    if it is not theirs; with ``seq``, first get what came after it (like ``resume``)."""

    type: Literal["watch"]
    conversation_id: int
    seq: Annotated[int, Field(ge=0)] | None = None


class UnwatchIn(InFrame):
    type: Literal["unwatch"]
    conversation_id: int


class SubscribeIn(InFrame):
    """Agents: receive a live view's updates on this socket (``visitors``: the radar feed)."""

    type: Literal["subscribe"]
    view: Literal["visitors"]


class UnsubscribeIn(InFrame):
    type: Literal["unsubscribe"]
    view: Literal["visitors"]


class PingIn(InFrame):
    type: Literal["ping"]


class PongIn(InFrame):
    type: Literal["pong"]


ClientFrame = Annotated[
    SendIn
    | ResumeIn
    | TypingIn
    | ReadIn
    | TrackIn
    | OfferReplyIn
    | QueueChoiceIn
    | HandoverIn
    | RateIn
    | EndChatIn
    | CobrowseRequestIn
    | CobrowseReplyIn
    | CobrowseStopIn
    | CobrowseControlIn
    | CobrowseWatchIn
    | CobrowseResumeIn
    | CobrowseEventsIn
    | CobrowseCommandIn
    | CobrowseCodeIn
    | WatchIn
    | UnwatchIn
    | SubscribeIn
    | UnsubscribeIn
    | PingIn
    | PongIn,
    Field(discriminator="type"),
]


# ---- server to client -------------------------------------------------------------------------


class Author(BaseModel):
    kind: Literal["visitor", "agent", "system", "bot"]
    id: int | None = None
    name: str | None = None


class MessageOut(OutFrame):
    type: Literal["message"] = "message"
    conversation_id: int
    seq: int
    id: int
    author: Author
    body: str
    internal: bool = False
    client_msg_id: str | None = None
    created_at: datetime
    attachments: list[dict[str, Any]] = Field(
        default_factory=list
    )  # {"key", "name", "type", "size"} (files on it)


class AckOut(OutFrame):
    """The sender's message is stored with this ``seq``. ``duplicate`` means it was already."""

    type: Literal["ack"] = "ack"
    client_msg_id: str
    conversation_id: int
    seq: int
    id: int
    duplicate: bool = False


class ConversationOut(OutFrame):
    """A conversation was created (``created``) or changed (status, assignee, queue)."""

    type: Literal["conversation"] = "conversation"
    conversation: dict[str, Any]
    created: bool = False


class TypingOut(OutFrame):
    type: Literal["typing"] = "typing"
    conversation_id: int
    author: Author
    is_typing: bool


class ReadOut(OutFrame):
    type: Literal["read"] = "read"
    conversation_id: int
    reader: Literal["visitor", "agent"]
    seq: int


class DeliveryOut(OutFrame):
    """How an agent's message fared on its channel (email, messaging): ``retry`` (failed, tried
    again later), ``sent``, ``failed`` (given up; ``error`` says why) or ``skipped`` (a follow-up
    mail not sent: the visitor read it in the chat meanwhile), then the platform's receipts
    ``delivered`` and ``read`` (messaging). Consoles only."""

    type: Literal["delivery"] = "delivery"
    conversation_id: int
    message_id: int
    seq: int
    channel: str
    state: Literal["retry", "sent", "failed", "skipped", "delivered", "read"]
    attempts: int
    error: str | None = None


class ResumedOut(OutFrame):
    """Everything missed has been sent; ``conversations`` maps id to the newest seq."""

    type: Literal["resumed"] = "resumed"
    conversations: dict[int, int]


class WelcomeOut(OutFrame):
    type: Literal["welcome"] = "welcome"
    node: str
    principal: dict[str, Any]
    heartbeat_seconds: float
    max_message_chars: int
    # A visitor socket opened with ``session=1``: what ``POST /api/visitor/session`` answers
    # (token, visitor_id, verified, name, conversations, flags); left out otherwise.
    session: dict[str, Any] | None = None

    def frame(self) -> str:
        return self.model_dump_json(exclude_none=True)


class OfferOut(OutFrame):
    """A proactive offer for the visitor: show an invitation (never opens the panel unless
    ``auto_open``), a message (e.g. a promo code), or the bot. ``quiet`` on phones."""

    type: Literal["offer"] = "offer"
    offer_id: int
    kind: Literal["invite", "message", "bot"]
    text: str
    auto_open: bool = False
    quiet: bool = False
    agent_name: str | None = None
    agent_photo: str | None = None
    tab: str | None = None  # only the widget in this tab shows it (None: any)


class RadarOut(OutFrame):
    """For consoles with the visitors view open: live visitors whose state changed, and those
    who left the site. Coalesced: a few frames a second per node at most."""

    type: Literal["radar"] = "radar"
    visitors: list[dict[str, Any]] = Field(default_factory=list)
    gone: list[int] = Field(default_factory=list)


class QueueOut(OutFrame):
    """The visitor's place in the queue and the expected wait (None: nobody is online)."""

    type: Literal["queue"] = "queue"
    conversation_id: int
    position: int
    estimated_wait_seconds: int | None


class OverflowOut(OutFrame):
    """Nobody who could help is online, or the wait is long: the visitor may choose another
    way (answer with ``queue_choice``)."""

    type: Literal["overflow"] = "overflow"
    conversation_id: int
    reason: Literal["nobody_online", "long_wait"]
    estimated_wait_seconds: int | None
    options: list[str]


class TagsOut(OutFrame):
    """A conversation's tags changed (the inbox: views by tag and their counts)."""

    type: Literal["tags"] = "tags"
    conversation_id: int
    tags: list[str]


class CallbackOut(OutFrame):
    """A callback was requested or changed; ``due`` when its reminder time came."""

    type: Literal["callback"] = "callback"
    callback: dict[str, Any]
    due: bool = False


class ErrorOut(OutFrame):
    type: Literal["error"] = "error"
    code: str
    message: str
    ref: str | None = None


class PingOut(OutFrame):
    type: Literal["ping"] = "ping"


class PongOut(OutFrame):
    type: Literal["pong"] = "pong"


def error_frame(code: str, message: str, ref: str | None = None) -> str:
    return ErrorOut(code=code, message=message, ref=ref).frame()


def _client_models() -> dict[str, type[BaseModel]]:
    union = typing.get_args(ClientFrame)[0]
    return {
        typing.get_args(m.model_fields["type"].annotation)[0]: m for m in typing.get_args(union)
    }


CLIENT_MODELS = _client_models()
"""Each client frame type and its model: frames are validated by the model of their parsed type."""
