"""Conversation lifecycle: timer settings per site and skill, and visitors' ratings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base


class LifecycleSettings(Base):
    """Re-engagement and timers of a site; ``skill`` "" is the site's default, a skill's row
    overrides it for chats asking for that skill (docs/lifecycle.md)."""

    __tablename__ = "lifecycle_settings"
    __table_args__ = (UniqueConstraint("site_id", "skill"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    skill: Mapped[str] = mapped_column(String(64), default="")
    silent_after_seconds: Mapped[int] = mapped_column(default=120)
    auto_nudge: Mapped[bool] = mapped_column(default=False)
    close_after_minutes: Mapped[int] = mapped_column(default=10)
    wait_highlight_seconds: Mapped[int] = mapped_column(default=20)
    # language -> text; a missing language uses the built-in text
    nudge_texts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    closing_texts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    rating_scale: Mapped[str] = mapped_column(String(16), default="stars")  # stars | thumbs
    updated_at: Mapped[datetime]


class Rating(Base):
    """A visitor's rating of a conversation (1-5; thumbs are stored as 1 or 5) and the agent
    who had it."""

    __tablename__ = "ratings"
    __table_args__ = (Index("ix_ratings_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), unique=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None, index=True
    )
    score: Mapped[int]
    scale: Mapped[str] = mapped_column(String(16), default="stars")
    comment: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(32), default="web")
    created_at: Mapped[datetime]
