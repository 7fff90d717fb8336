from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base


class ChatInvite(Base):
    """An invitation from an email into a live chat: a signed link (``nonce`` inside) that opens
    the widget on ``conversation_id`` as its visitor, at most ``max_uses`` times, until
    ``expires_at``. It authenticates nothing else."""

    __tablename__ = "chat_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    visitor_id: Mapped[int] = mapped_column(ForeignKey("visitors.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    page: Mapped[str] = mapped_column(String(2000))
    max_uses: Mapped[int] = mapped_column(default=3)
    uses: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime]
