from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base


class FaqEntry(Base):
    """A frequent question the bot can answer on one site (docs/bot.md)."""

    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
