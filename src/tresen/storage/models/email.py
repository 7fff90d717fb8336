"""Channel storage: a site's mailbox settings, the durable outbox of channel deliveries and the
mails received (threading and dedupe)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base

SECURITY = ("none", "starttls", "tls")
OUTBOX_STATES = ("pending", "sending", "sent", "failed")


class Mailbox(Base):
    """One site's support mailbox: where replies are sent from (SMTP) and read from (IMAP).
    Passwords are stored encrypted with the secret key (``security/secretbox.py``)."""

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), unique=True, index=True
    )
    from_address: Mapped[str] = mapped_column(String(320))
    from_name: Mapped[str] = mapped_column(String(200), default="")
    smtp_host: Mapped[str] = mapped_column(String(255), default="")
    smtp_port: Mapped[int] = mapped_column(default=587)
    smtp_security: Mapped[str] = mapped_column(String(16), default="starttls")
    smtp_user: Mapped[str] = mapped_column(String(320), default="")
    smtp_password_enc: Mapped[str] = mapped_column(Text, default="")
    imap_host: Mapped[str] = mapped_column(String(255), default="")
    imap_port: Mapped[int] = mapped_column(default=993)
    imap_security: Mapped[str] = mapped_column(String(16), default="tls")
    imap_user: Mapped[str] = mapped_column(String(320), default="")
    imap_password_enc: Mapped[str] = mapped_column(Text, default="")
    imap_folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    imap_uidvalidity: Mapped[int | None] = mapped_column(default=None)
    imap_last_uid: Mapped[int] = mapped_column(default=0)
    # the one node reading this mailbox, until its lease runs out (``channels/imap_lease.py``)
    imap_reader: Mapped[str | None] = mapped_column(String(64), default=None)
    imap_lease_until: Mapped[datetime | None] = mapped_column(default=None)
    verify_tls: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime]


class Outbox(Base):
    """A message to deliver on a channel, written in the transaction that stored the message:
    whatever happens after the commit, a worker finds it and delivers it (``channels/outbox``).
    ``external_id`` is the channel's id of what was sent (an email's Message-ID)."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    external_id: Mapped[str | None] = mapped_column(String(255), default=None, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
    # what the channel needs beyond the message text (a WhatsApp template and its variables,
    # a Messenger tag, a private reply's comment), and the receipt the platform reported
    payload: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    receipt: Mapped[str | None] = mapped_column(String(16), default=None)  # delivered | read
    receipt_at: Mapped[datetime | None] = mapped_column(default=None)


class InboundMail(Base):
    """A mail received for a site: its Message-ID (dedupe, threading), the message it became
    (none for a bounce or an auto-reply, recorded but not routed) and what happened to it."""

    __tablename__ = "inbound_mails"
    __table_args__ = (UniqueConstraint("site_id", "rfc_message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    rfc_message_id: Mapped[str] = mapped_column(String(255))
    sender: Mapped[str] = mapped_column(String(320), index=True)
    subject: Mapped[str] = mapped_column(String(500), default="")
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), default=None, index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), default=None
    )
    outcome: Mapped[str] = mapped_column(String(32))  # stored | auto_reply | bounce | rejected
    size: Mapped[int] = mapped_column(default=0)
    raw: Mapped[bytes] = mapped_column(LargeBinary, default=b"")  # the full original, kept
    received_at: Mapped[datetime]
