"""attachments: files on messages (agents, web visitors), visitor uploads per site

Revision ID: 0022_attach
Revises: 0011_access
Create Date: 2026-11-29 23:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022_attach"
down_revision = "0011_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("attachments", sa.JSON(), nullable=True))
    with op.batch_alter_table("sites") as batch:
        batch.add_column(
            sa.Column("visitor_uploads", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("channel_media") as batch:
        batch.add_column(
            sa.Column("author_kind", sa.String(length=16), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("author_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_media") as batch:
        batch.drop_column("author_id")
        batch.drop_column("author_kind")
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("visitor_uploads")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("attachments")
