"""attachments: files on messages (agents, web visitors), visitor uploads per site

Revision ID: 0022_attach
Revises: 0021_mail
Create Date: 2026-11-29 23:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_attach"
down_revision = "0021_mail"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy on SQLite: recreating ``sites`` would cascade deletes).
    op.add_column("messages", sa.Column("attachments", sa.JSON(), nullable=True))
    op.add_column(
        "sites",
        sa.Column("visitor_uploads", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "channel_media",
        sa.Column("author_kind", sa.String(length=16), server_default="", nullable=False),
    )
    op.add_column("channel_media", sa.Column("author_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("channel_media", "author_id")
    op.drop_column("channel_media", "author_kind")
    op.drop_column("sites", "visitor_uploads")
    op.drop_column("messages", "attachments")
