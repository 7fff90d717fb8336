"""The per-conversation message counter and the one way a message row is added with it, shared by
every write path that adds a message (chat sends, system and bot messages, inbound mail)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from tresen.storage.models import Conversation, Message


async def next_seq(s: AsyncSession, conv: Conversation, now: datetime) -> int:
    """Atomic per-conversation counter; on PostgreSQL the row lock orders concurrent writers,
    so a committed ``last_seq`` of N means every message up to N is committed too. Who has the
    conversation is read under that lock too, so the message goes to whoever has it now."""
    stmt = (
        update(Conversation)
        .where(Conversation.id == conv.id)
        .values(last_seq=Conversation.last_seq + 1, updated_at=now)
        .returning(Conversation.last_seq, Conversation.assignee_id, Conversation.offered_to)
        .execution_options(synchronize_session=False)
    )
    seq, assignee_id, offered_to = (await s.execute(stmt)).one()
    set_committed_value(conv, "last_seq", seq)
    set_committed_value(conv, "updated_at", now)
    if conv.assignee_id != assignee_id or conv.offered_to != offered_to:
        set_committed_value(conv, "assignee_id", assignee_id)
        set_committed_value(conv, "offered_to", offered_to)
    return int(seq)


async def store_message(
    s: AsyncSession,
    conv: Conversation,
    now: datetime,
    *,
    author_kind: str,
    author_id: int | None,
    body: str,
    internal: bool = False,
    client_msg_id: str | None = None,
    created_at: datetime | None = None,
) -> Message:
    """Number a new message of ``conv`` and add it, inside the caller's transaction.
    ``created_at``: when it was written, if not now (a platform's timestamp)."""
    msg = Message(
        conversation_id=conv.id,
        seq=await next_seq(s, conv, now),
        author_kind=author_kind,
        author_id=author_id,
        body=body,
        internal=internal,
        client_msg_id=client_msg_id,
        created_at=created_at or now,
    )
    s.add(msg)
    await s.flush()
    return msg
