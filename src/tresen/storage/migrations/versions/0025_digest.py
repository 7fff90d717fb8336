"""digest: supervisors' summary mail settings and the mails of each period

Revision ID: 0025_digest
Revises: 0024_rollups
Create Date: 2026-11-30 00:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tresen.storage.models.base

revision = "0025_digest"
down_revision = "0024_rollups"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, tresen.storage.models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "report_digests",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=8), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("site_ids", sa.JSON(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        _at("since"),
        _at("updated_at"),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_report_digests_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_report_digests")),
    )
    op.create_table(
        "digest_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("period_key", sa.String(length=32), nullable=False),
        _at("period_start"),
        _at("period_end"),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _at("next_attempt_at"),
        _at("lease_until", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=True),
        _at("sent_at", nullable=True),
        _at("created_at"),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_digest_mails_agent_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_mails")),
        sa.UniqueConstraint(
            "agent_id", "period_key", name=op.f("uq_digest_mails_agent_id_period_key")
        ),
    )
    op.create_index(
        "ix_digest_mails_status_next", "digest_mails", ["status", "next_attempt_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_digest_mails_status_next", table_name="digest_mails")
    op.drop_table("digest_mails")
    op.drop_table("report_digests")
