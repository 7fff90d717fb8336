"""Contacts: one record per person across web visitors, email addresses, phone numbers and
messaging ids; the identities that link them, the agents' notes, and per-site privacy rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base

IDENTITY_KINDS = ("visitor", "email", "phone", "whatsapp", "messenger", "telegram", "external_id")
CONSENT_STATES = ("unknown", "granted", "denied", "withdrawn")


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_site_updated", "site_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    tags: Mapped[list[str]] = mapped_column(default=list)
    consent: Mapped[str] = mapped_column(String(16), default="unknown")
    consent_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ContactIdentity(Base):
    """One way to reach or recognise a contact. A ``visitor`` identity carries the visitor row
    (its conversations follow it on a merge or split); ``value`` is normalised (emails lower
    case, phone numbers digits with a leading +)."""

    __tablename__ = "contact_identities"
    __table_args__ = (UniqueConstraint("site_id", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))
    verified: Mapped[bool] = mapped_column(default=False)
    visitor_id: Mapped[int | None] = mapped_column(
        ForeignKey("visitors.id", ondelete="CASCADE"), default=None, index=True
    )
    created_at: Mapped[datetime]


class ContactNote(Base):
    __tablename__ = "contact_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class SitePrivacy(Base):
    """A site's privacy rules: how an erasure treats messages, and how long data is kept
    (None: forever)."""

    __tablename__ = "site_privacy"

    site_id: Mapped[int] = mapped_column(
        ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True
    )
    message_erasure: Mapped[str] = mapped_column(String(16), default="anonymise")
    page_view_days: Mapped[int | None] = mapped_column(default=None)
    conversation_days: Mapped[int | None] = mapped_column(default=None)
    updated_at: Mapped[datetime]
