"""The inbox's own rows: tags on conversations and callbacks as work items (docs/inbox.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base

CALLBACK_STATUSES = ("open", "done")


class ConversationTag(Base):
    """One tag on one conversation (lower case, trimmed)."""

    __tablename__ = "conversation_tags"
    __table_args__ = (Index("ix_conversation_tags_tag", "tag"),)

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime]


class Callback(Base):
    """A visitor asked to be called back: a number (E.164), when they prefer, who calls."""

    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_status_remind", "status", "remind_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None, index=True
    )
    visitor_id: Mapped[int | None] = mapped_column(
        ForeignKey("visitors.id", ondelete="SET NULL"), default=None
    )
    phone: Mapped[str] = mapped_column(String(32))
    preferred_at: Mapped[datetime | None] = mapped_column(default=None)
    preferred_text: Mapped[str | None] = mapped_column(String(100), default=None)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None, index=True
    )
    remind_at: Mapped[datetime | None] = mapped_column(default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(default=None)
    status: Mapped[str] = mapped_column(String(16), default="open")
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    done_at: Mapped[datetime | None] = mapped_column(default=None)
