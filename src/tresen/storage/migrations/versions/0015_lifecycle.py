"""lifecycle: re-engagement settings, ratings, agent avatars

Revision ID: 0015_lifecycle
Revises: 0013_contacts
Create Date: 2026-11-29 20:45:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tresen.storage.models.base

revision = "0015_lifecycle"
down_revision = "0013_contacts"
branch_labels = None
depends_on = None

UTC = tresen.storage.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "lifecycle_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.Column("silent_after_seconds", sa.Integer(), nullable=False),
        sa.Column("auto_nudge", sa.Boolean(), nullable=False),
        sa.Column("close_after_minutes", sa.Integer(), nullable=False),
        sa.Column("wait_highlight_seconds", sa.Integer(), nullable=False),
        sa.Column("nudge_texts", sa.JSON(), nullable=False),
        sa.Column("closing_texts", sa.JSON(), nullable=False),
        sa.Column("rating_scale", sa.String(length=16), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_lifecycle_settings_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lifecycle_settings")),
        sa.UniqueConstraint("site_id", "skill", name=op.f("uq_lifecycle_settings_site_id_skill")),
    )
    op.create_table(
        "ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("scale", sa.String(length=16), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_ratings_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_ratings_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_ratings_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ratings")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_ratings_conversation_id")),
    )
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.create_index("ix_ratings_created", ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_ratings_agent_id"), ["agent_id"], unique=False)
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("avatar", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("avatar_type", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("avatar_at", UTC(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("avatar_at")
        batch_op.drop_column("avatar_type")
        batch_op.drop_column("avatar")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ratings_agent_id"))
        batch_op.drop_index("ix_ratings_created")
    op.drop_table("ratings")
    op.drop_table("lifecycle_settings")
