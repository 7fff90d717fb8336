from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base


class Visitor(Base):
    """Someone on a site: anonymous at first, optionally with a verified identity."""

    __tablename__ = "visitors"
    __table_args__ = (
        UniqueConstraint("site_id", "anon_id"),
        UniqueConstraint("site_id", "external_id"),
        # contacts by address (inbound mail), case-insensitively
        Index("ix_visitors_site_email", "site_id", text("lower(email)")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    anon_id: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
