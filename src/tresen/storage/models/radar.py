from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base


class RadarRule(Base):
    """A proactive rule (docs/rules.md). ``spec`` is the validated JSON; site None = all sites."""

    __tablename__ = "radar_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int | None] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), default=None, index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(default=True)
    priority: Mapped[int] = mapped_column(default=100)
    spec: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RadarOffer(Base):
    """One offer made to a visitor and what became of it (for reporting per rule)."""

    __tablename__ = "radar_offers"
    __table_args__ = (Index("ix_radar_offers_rule_shown", "rule_id", "shown_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("radar_rules.id", ondelete="SET NULL"), default=None
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    visitor_id: Mapped[int] = mapped_column(
        ForeignKey("visitors.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    manual: Mapped[bool] = mapped_column(default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    skill: Mapped[str | None] = mapped_column(String(64), default=None)
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    outcome: Mapped[str] = mapped_column(String(16), default="shown")
    shown_at: Mapped[datetime]
    answered_at: Mapped[datetime | None] = mapped_column(default=None)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )


class PageView(Base):
    """A page a visitor saw, written in batches."""

    __tablename__ = "page_views"
    __table_args__ = (Index("ix_page_views_visitor_at", "visitor_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(500), default="")
    referrer: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]


class CapacitySample(Base):
    """Free chat slots and expected wait of a skill (None = any) from ``at`` on, logged when
    they change: replaying a draft rule sees the agents' availability of the time."""

    __tablename__ = "capacity_samples"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    skill: Mapped[str | None] = mapped_column(String(64), default=None)
    free: Mapped[int]
    wait: Mapped[float | None] = mapped_column(default=None)  # None: nobody to wait for
