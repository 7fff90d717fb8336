"""Agent assist: the knowledge base, canned responses, suggestion picks and article reads
(docs/assist.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base


class KbCategory(Base):
    """A group of knowledge-base articles on one site, in one language."""

    __tablename__ = "kb_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="en")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]


class KbArticle(Base):
    """A knowledge-base article: Markdown, shown sanitised to visitors and agents."""

    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_categories.id", ondelete="SET NULL"), default=None, index=True
    )
    language: Mapped[str] = mapped_column(String(8), default="en")
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    keywords: Mapped[list[str]] = mapped_column(default=list)
    published: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class KbRead(Base):
    """A visitor opened an article in the widget; ``answered`` once they said it answered
    their question (a chat deflected)."""

    __tablename__ = "kb_reads"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True
    )
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"))
    answered: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]


class CannedResponse(Base):
    """A saved reply: shared (``owner_id`` None) or one agent's own; ``shortcut`` is typed as
    ``/shortcut`` in the composer; ``{{visitor.name}}`` and friends are filled in."""

    __tablename__ = "canned_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), default=None, index=True
    )
    shortcut: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SuggestionPick(Base):
    """An agent inserted a suggestion: ``source`` kb | canned | answer, ``item_id`` the article,
    canned response or message. Counted per item to rank later suggestions."""

    __tablename__ = "suggestion_picks"
    __table_args__ = (Index("ix_suggestion_picks_source_item", "source", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    source: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int]
    created_at: Mapped[datetime]
