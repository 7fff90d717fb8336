"""visits that span pages; per-site radar policy; capacity samples for replay

Revision ID: 0007_visits
Revises: 0006
Create Date: 2026-11-29 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tresen.storage.models.base

revision = "0007_visits"
down_revision = "0006"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, tresen.storage.models.base.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        _at("started_at"),
        _at("last_seen_at"),
        _at("ended_at", nullable=True),
        sa.Column("entry_url", sa.Text(), nullable=False),
        sa.Column("referrer", sa.Text(), nullable=False),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("focused_seconds", sa.Float(), nullable=False),
        sa.Column("pages", sa.JSON(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("offers", sa.JSON(), nullable=False),
        sa.Column("goals", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_visits_site_id_sites"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
            name=op.f("fk_visits_visitor_id_visitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visits")),
    )
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.create_index("ix_visits_visitor_started", ["visitor_id", "started_at"])
    op.create_table(
        "capacity_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        _at("at"),
        sa.Column("skill", sa.String(length=64), nullable=True),
        sa.Column("free", sa.Integer(), nullable=False),
        sa.Column("wait", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_samples")),
    )
    with op.batch_alter_table("capacity_samples", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_capacity_samples_at"), ["at"], unique=False)
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("radar_policy", sa.JSON(), server_default="{}", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("radar_policy")
    with op.batch_alter_table("capacity_samples", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_capacity_samples_at"))
    op.drop_table("capacity_samples")
    with op.batch_alter_table("visits", schema=None) as batch_op:
        batch_op.drop_index("ix_visits_visitor_started")
    op.drop_table("visits")
