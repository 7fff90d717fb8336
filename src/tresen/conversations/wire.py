"""Wire shapes of conversations and messages, rendered from rows or committed events."""

from __future__ import annotations

from typing import Any

from tresen.events import ConversationState, MessageCreated
from tresen.realtime.protocol import Author, ConversationOut, MessageOut
from tresen.storage.models import Conversation, Message

BOT_NAME = "Tresen bot"  # the FAQ bot's name on its messages (docs/bot.md)


def message_out(msg: Message | MessageCreated, author_name: str | None) -> MessageOut:
    """A stored message (a row, or the event of its commit) as the ``message`` frame."""
    if msg.author_kind == "bot" and author_name is None:
        author_name = BOT_NAME  # stored bot messages have no author row to name them
    conversation_id = msg.conversation_id if isinstance(msg, Message) else msg.conversation.id
    return MessageOut(
        conversation_id=conversation_id,
        seq=msg.seq,
        id=msg.id if isinstance(msg, Message) else msg.message_id,
        author=Author(kind=msg.author_kind, id=msg.author_id, name=author_name),  # type: ignore[arg-type]
        body=msg.body,
        internal=msg.internal,
        client_msg_id=msg.client_msg_id,
        created_at=msg.created_at,
        attachments=list(msg.attachments or ()),
    )


def message_out_of(event: MessageCreated) -> MessageOut:
    """The ``message`` frame of a committed message, rendered once for every recipient."""
    return message_out(event, event.author_name)


def conversation_dict(
    conv: Conversation | ConversationState, *, for_visitor: bool = False
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": conv.id,
        "status": conv.status,
        "last_seq": conv.last_seq,
        "assignee_id": conv.assignee_id,
        "created_at": conv.created_at.isoformat(),
        "updated_at": conv.updated_at.isoformat(),
    }
    if for_visitor:
        meta = conv.meta or {}
        data["bot"] = bool(meta.get("bot"))  # the widget offers "Talk to a person"
        # "email": a message left for an answer by email; the widget offers no "End chat"
        data["channel"] = conv.channel
        # Lifecycle (docs/lifecycle.md): who has it (header), its end (rating), rated or not.
        data["agent"] = meta.get("agent")
        data["ended"] = meta.get("ended") if conv.status == "resolved" else None
        data["rated"] = "rating" in meta
    else:
        data.update(
            site_id=conv.site_id,
            visitor_id=conv.visitor_id,
            channel=conv.channel,
            skill=conv.skill,
            visitor_read_seq=conv.visitor_read_seq,
            agent_read_seq=conv.agent_read_seq,
            department=conv.department,
            priority=conv.priority,
            queued_at=conv.queued_at.isoformat() if conv.queued_at else None,
            offered_to=conv.offered_to,
            meta=conv.meta or {},
            snoozed_until=conv.snoozed_until.isoformat() if conv.snoozed_until else None,
        )
    return data


def conversation_frames(
    conv: Conversation | ConversationState, *, created: bool = False
) -> tuple[str, str]:
    """(frame for agents, frame for the visitor)."""
    return (
        ConversationOut(conversation=conversation_dict(conv), created=created).frame(),
        ConversationOut(
            conversation=conversation_dict(conv, for_visitor=True), created=created
        ).frame(),
    )
