from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base

STATUSES = ("open", "pending", "resolved", "abandoned")


class Conversation(Base):
    """A thread between a visitor and agents. ``last_seq`` numbers its messages."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_status_updated", "status", "updated_at"),
        Index("ix_conversations_status_closed", "status", "closed_at"),  # the resolved history
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    visitor_id: Mapped[int] = mapped_column(
        ForeignKey("visitors.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="open")
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None, index=True
    )
    channel: Mapped[str] = mapped_column(String(32), default="web")
    skill: Mapped[str | None] = mapped_column(String(64), default=None)
    department: Mapped[str | None] = mapped_column(String(64), default=None)
    # Routing: waiting while queued_at is set and nobody is assigned or offered it.
    priority: Mapped[int] = mapped_column(default=0)
    queued_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    assigned_at: Mapped[datetime | None] = mapped_column(default=None)
    offered_to: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    offered_at: Mapped[datetime | None] = mapped_column(default=None)
    declined_by: Mapped[list[int]] = mapped_column(default=list)
    preferred_agent_id: Mapped[int | None] = mapped_column(default=None)
    sticky_until: Mapped[datetime | None] = mapped_column(default=None)
    overflow_at: Mapped[datetime | None] = mapped_column(default=None)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    last_seq: Mapped[int] = mapped_column(default=0)
    visitor_read_seq: Mapped[int] = mapped_column(default=0)
    agent_read_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    # Snoozed: hidden from the active inbox views until then (docs/inbox.md).
    snoozed_until: Mapped[datetime | None] = mapped_column(default=None, index=True)
