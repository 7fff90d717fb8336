"""What a send produced, and the ``MessageCreated`` event of a stored message: shared by the
ORM path (actions.py) and the grouped SQLite path (grouped.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from tresen.events import ConversationState, MessageCreated
from tresen.realtime.protocol import MessageOut
from tresen.storage.models import Conversation, Message


@dataclass(frozen=True)
class Sent:
    seq: int
    id: int
    conversation: Conversation | ConversationState  # the grouped path builds no ORM row
    render: Callable[[], MessageOut] = field(repr=False, compare=False)
    duplicate: bool = False
    created: bool = False
    reopened: bool = False

    @classmethod
    def of(
        cls, out: MessageOut, conversation: Conversation | ConversationState, **flags: bool
    ) -> Sent:
        """From the message frame rendered already."""
        return cls(out.seq, out.id, conversation, lambda: out, **flags)

    @cached_property
    def message(self) -> MessageOut:
        """The ``message`` frame of what was sent, rendered when asked for (the socket's ack
        needs only ``seq`` and ``id``; the REST answer the whole message)."""
        return self.render()


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
