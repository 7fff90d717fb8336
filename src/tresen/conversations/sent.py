"""What a send produced, and the ``MessageCreated`` event of a stored message: shared by the
ORM path (actions.py) and the grouped SQLite path (grouped.py)."""

from __future__ import annotations

from dataclasses import dataclass

from tresen.events import ConversationState, MessageCreated
from tresen.realtime.protocol import MessageOut
from tresen.storage.models import Conversation, Message


@dataclass(frozen=True)
class Sent:
    message: MessageOut
    conversation: Conversation | ConversationState  # the grouped path builds no ORM row
    duplicate: bool = False
    created: bool = False
    reopened: bool = False


def message_created(
    state: ConversationState, msg: Message, author_name: str | None
) -> MessageCreated:
    return MessageCreated(
        conversation=state,
        message_id=msg.id,
        seq=msg.seq,
        author_kind=msg.author_kind,
        author_id=msg.author_id,
        author_name=author_name,
        body=msg.body,
        internal=msg.internal,
        client_msg_id=msg.client_msg_id,
        created_at=msg.created_at,
        attachments=tuple(msg.attachments or ()),
    )
