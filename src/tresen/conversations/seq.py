"""The per-conversation message counter, shared by every write path that adds a message."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from tresen.storage.models import Conversation


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
