"""Messaging channels (WhatsApp Cloud API, Messenger, Telegram): a site's accounts, what their
webhooks delivered (dedupe by the platform's id, ordering by its timestamp), approved message
templates and the media received."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base

KINDS = ("whatsapp", "messenger", "telegram")


class ChannelAccount(Base):
    """One site's account on a messaging platform. ``external_id`` is the platform's id of the
    business side (WhatsApp phone number id, Facebook page id, Telegram bot id); ``hook_key``
    names the account in its webhook URL. Tokens and secrets are sealed with the secret key
    (``security/secretbox.py``) and never shown again."""

    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("kind", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200), default="")
    external_id: Mapped[str] = mapped_column(String(64))
    phone: Mapped[str] = mapped_column(String(32), default="")  # WhatsApp: the number (wa.me)
    hook_key: Mapped[str] = mapped_column(String(64), unique=True)
    access_token_enc: Mapped[str] = mapped_column(Text, default="")
    app_secret_enc: Mapped[str] = mapped_column(Text, default="")
    verify_token_enc: Mapped[str] = mapped_column(Text, default="")
    bot: Mapped[bool] = mapped_column(default=False)  # new conversations start with the FAQ bot
    enabled: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]


class ChannelEvent(Base):
    """Something a platform delivered: a customer's message or comment (stored once per account
    and platform id, whatever the platform's retries), with the platform's timestamp."""

    __tablename__ = "channel_events"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        Index("ix_channel_events_sender", "account_id", "sender_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(255))
    sender_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))  # message | comment
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None, index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    platform_at: Mapped[datetime]
    received_at: Mapped[datetime]


class MessageTemplate(Base):
    """A WhatsApp message template approved by Meta, as the site registered it here: its name,
    language and text with ``{{1}}``.. placeholders (the variables the agent fills in)."""

    __tablename__ = "message_templates"
    __table_args__ = (UniqueConstraint("site_id", "name", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16), default="en")
    body: Mapped[str] = mapped_column(Text)
    variables: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]


class ChannelMedia(Base):
    """An image or file in a conversation: one a customer sent on a messaging platform
    (downloaded within the limits), or one an agent or a web visitor uploaded
    (``author_kind``/``author_id``; ``message_id`` is set when the message that carries it is
    sent, docs/attachments.md)."""

    __tablename__ = "channel_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)  # names it in its URL
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    content_type: Mapped[str] = mapped_column(String(128))
    filename: Mapped[str] = mapped_column(String(255), default="")
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    author_kind: Mapped[str] = mapped_column(String(16), default="", server_default="")
    author_id: Mapped[int | None] = mapped_column(default=None)
