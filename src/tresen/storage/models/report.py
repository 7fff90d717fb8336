"""The report store: one row of facts per conversation, and agents' status intervals.

Facts are derived from the system of record (conversations, messages, offers) by
``reports.facts``: the listener rebuilds the rows of conversations that changed, and
``tresen reports backfill`` rebuilds them all, with the same code.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tresen.storage.models.base import Base

OPEN_TS = 1e12  # "not closed yet" as a number that sorts after every real time


class ReportConversation(Base):
    __tablename__ = "report_conversations"
    __table_args__ = (
        Index("ix_report_conversations_site_created", "site_id", "created_at"),
        Index("ix_report_conversations_agent_created", "agent_id", "created_at"),
        Index("ix_report_conversations_held_until", "held_until_ts"),
        # covering: occupancy's held seconds per agent are read from the index alone
        Index(
            "ix_report_conversations_held",
            "held_until_ts",
            "held_since_ts",
            "channel",
            "agent_id",
        ),
        # covering indexes: percentiles of a range are read from the index alone
        Index("ix_report_conversations_created_first", "created_at", "first_response_seconds"),
        Index("ix_report_conversations_created_wait", "created_at", "wait_seconds"),
    )

    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[int]
    channel: Mapped[str] = mapped_column(String(32))
    skill: Mapped[str | None] = mapped_column(String(64), default=None)
    department: Mapped[str | None] = mapped_column(String(64), default=None)
    agent_id: Mapped[int | None] = mapped_column(default=None)  # who had it last
    first_agent_id: Mapped[int | None] = mapped_column(default=None)  # who answered first
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(index=True)
    # Plain numbers for portable SQL arithmetic (reports/metrics.py): hours and seconds since
    # the epoch. The agent who has it held it from ``held_since_ts`` until ``held_until_ts``
    # (closed; ``OPEN_TS`` while it is not); no agent: both None.
    created_hour: Mapped[int]
    held_since_ts: Mapped[float | None] = mapped_column(default=None)
    held_until_ts: Mapped[float | None] = mapped_column(default=None)
    queued_at: Mapped[datetime | None] = mapped_column(default=None)
    assigned_at: Mapped[datetime | None] = mapped_column(default=None)
    first_visitor_at: Mapped[datetime | None] = mapped_column(default=None)
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    wait_seconds: Mapped[float | None] = mapped_column(default=None)
    first_response_seconds: Mapped[float | None] = mapped_column(default=None)
    responses: Mapped[int] = mapped_column(default=0)
    response_seconds: Mapped[float] = mapped_column(default=0.0)  # summed over responses
    handle_seconds: Mapped[float | None] = mapped_column(default=None)
    abandoned: Mapped[bool] = mapped_column(default=False)
    abandon_seconds: Mapped[float | None] = mapped_column(default=None)
    bot: Mapped[bool] = mapped_column(default=False)  # the bot had it first
    handed_over: Mapped[bool] = mapped_column(default=False)  # ... and gave it to people
    offer_id: Mapped[int | None] = mapped_column(default=None)
    rule_id: Mapped[int | None] = mapped_column(default=None)
    transfers: Mapped[int] = mapped_column(default=0)
    visitor_messages: Mapped[int] = mapped_column(default=0)
    agent_messages: Mapped[int] = mapped_column(default=0)
    # Where folding messages in stopped: the last visible seq folded, and since when the visitor
    # has waited for an answer (None: answered).
    last_seq_seen: Mapped[int] = mapped_column(default=0)
    awaiting_since: Mapped[datetime | None] = mapped_column(default=None)
    rebuilt_at: Mapped[datetime]


class ReportAgentStatus(Base):
    """An agent was ``status`` from ``started_at`` until ``ended_at`` (None: still is)."""

    __tablename__ = "report_agent_status"
    __table_args__ = (Index("ix_report_agent_status_agent_started", "agent_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    max_chats: Mapped[int]
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)


class _HourSums:
    """The sums of the facts of the conversations created in one hour (``hour``: hours since
    the epoch, the facts' ``created_hour``); service counts at the default thresholds
    (``reports.rollups.ROLLUP_SL_SECONDS``, ``ROLLUP_SHORT_ABANDON_SECONDS``)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    hour: Mapped[int]
    site_id: Mapped[int]
    count: Mapped[int]
    n_first: Mapped[int]
    sum_first: Mapped[float]
    n_wait: Mapped[int]
    sum_wait: Mapped[float]
    response_total: Mapped[float]
    responses: Mapped[int]
    n_handle: Mapped[int]
    sum_handle: Mapped[float]
    queued: Mapped[int]
    short: Mapped[int]
    abandoned: Mapped[int]
    in_time: Mapped[int]
    transfers: Mapped[int]
    bot: Mapped[int]
    handed: Mapped[int]
    resolved: Mapped[int] = mapped_column(default=0, server_default="0")


class ReportHourly(_HourSums, Base):
    """Per hour, site, channel and skill (``skill`` ``""``: none, so the key is unique).
    Derived from the facts by ``reports.rollups``."""

    __tablename__ = "report_hourly"
    __table_args__ = (UniqueConstraint("hour", "site_id", "channel", "skill"),)

    channel: Mapped[str] = mapped_column(String(32))
    skill: Mapped[str] = mapped_column(String(64))


class ReportHourlyAgent(_HourSums, Base):
    """Per hour, site and the agent who has the conversation (conversations nobody has are not
    here). Derived from the facts by ``reports.rollups``."""

    __tablename__ = "report_hourly_agents"
    __table_args__ = (UniqueConstraint("hour", "site_id", "agent_id"),)

    agent_id: Mapped[int]
