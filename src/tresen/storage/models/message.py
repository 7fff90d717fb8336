from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base

AUTHOR_KINDS = ("visitor", "agent", "system", "bot")


class Message(Base):
    """One message. ``seq`` orders it within its conversation; ``client_msg_id`` dedupes resends."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        UniqueConstraint("conversation_id", "client_msg_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int]
    author_kind: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[int | None] = mapped_column(default=None)
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(default=False)
    client_msg_id: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime]
    # Files sent with it (docs/attachments.md): [{"key", "name", "type", "size"}]; the bytes are
    # in ``channel_media``, stored once.
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)


class MessageSearchPosition(Base):
    """SQLite only in use: the last message id in the full-text index ``messages_fts``. Messages
    are indexed in batches after it (``conversations/search_index.py``), not by a trigger in
    every send's transaction. One row (``id`` 1)."""

    __tablename__ = "message_search_position"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_message_id: Mapped[int] = mapped_column(default=0)
