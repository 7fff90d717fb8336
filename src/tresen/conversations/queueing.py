"""Putting a conversation in the queue, inside the transaction that creates or reopens it
(routing then takes it from there)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tresen.settings import Settings
from tresen.storage.models import Conversation, Visitor


async def prepare_queue(
    s: AsyncSession, settings: Settings, conv: Conversation, now: datetime
) -> None:
    """Put a new (or reopened) conversation in the queue, inside the caller's transaction:
    priority segments jump ahead; a returning customer prefers their last agent for a while."""
    visitor = await s.get(Visitor, conv.visitor_id)
    segment = visitor.attributes.get("segment") if visitor and visitor.external_id else None
    conv.priority = 1 if segment in settings.priority_segments else 0
    conv.queued_at, conv.assignee_id, conv.offered_to = now, None, None
    conv.declined_by, conv.overflow_at = [], None
    previous = (
        await s.execute(
            select(Conversation.assignee_id)
            .where(
                Conversation.visitor_id == conv.visitor_id,
                Conversation.assignee_id.is_not(None),
                Conversation.id != conv.id,
            )
            .order_by(Conversation.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if conv.id is not None and previous is None:
        previous = conv.assignee_id
    if previous is not None and settings.sticky_seconds > 0:
        conv.preferred_agent_id = previous
        conv.sticky_until = now + timedelta(seconds=settings.sticky_seconds)
