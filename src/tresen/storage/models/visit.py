from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base


class Visit(Base):
    """One visit (docs/rules.md): a visitor's pages, events and offers from arrival until
    ``visit_timeout_seconds`` without activity. Kept in memory by the node that serves the
    visitor and written through here, so a restart or another node picks it up. ``policy``
    carries the restraint that outlives the visit (last "no thanks", offers of the last day)."""

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_visitor_started", "visitor_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"))
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    entry_url: Mapped[str] = mapped_column(Text, default="")
    referrer: Mapped[str] = mapped_column(Text, default="")
    page_count: Mapped[int] = mapped_column(default=0)
    focused_seconds: Mapped[float] = mapped_column(default=0.0)
    pages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    offers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    goals: Mapped[list[Any]] = mapped_column(JSON, default=list)
    facts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    policy: Mapped[dict[str, Any]] = mapped_column(default=dict)
