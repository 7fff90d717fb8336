"""The summary mailed to supervisors (``digest/``): who wants it (daily, weekly, off; their
time zone, the hour, the sites, the address) and the mails of each period, a small durable
queue of its own (the outbox needs a conversation and a message; a summary has neither)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base

FREQUENCIES = ("off", "daily", "weekly")


class ReportDigest(Base):
    """One supervisor's choice. ``site_ids`` empty: every site they see."""

    __tablename__ = "report_digests"

    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    frequency: Mapped[str] = mapped_column(String(8), default="off")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    hour: Mapped[int] = mapped_column(default=7)  # local hour it is mailed at
    site_ids: Mapped[list[int]] = mapped_column(default=list)
    email: Mapped[str] = mapped_column(String(320), default="")
    # en, de, da: the mail's language (None: the default, ``DIGEST_DEFAULT_LANGUAGE``)
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    since: Mapped[datetime]  # opted in (periods mailed before are not sent afterwards)
    updated_at: Mapped[datetime]


class DigestMail(Base):
    """The summary of one period for one supervisor: written once (the unique key), claimed
    with a lease (``storage/leases.py``), retried with backoff."""

    __tablename__ = "digest_mails"
    __table_args__ = (
        UniqueConstraint("agent_id", "period_key"),
        Index("ix_digest_mails_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    period_key: Mapped[str] = mapped_column(String(32))  # daily:2026-11-29, weekly:2026-11-23
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    external_id: Mapped[str | None] = mapped_column(String(255), default=None)
    figures: Mapped[dict[str, Any] | None] = mapped_column(default=None)  # as mailed
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
