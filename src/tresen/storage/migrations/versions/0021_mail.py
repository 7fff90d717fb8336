"""mail: one reader per IMAP mailbox (a lease held by one node)

Revision ID: 0021_mail
Revises: 0011_access
Create Date: 2026-11-30 00:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tresen.storage.models.base

revision = "0021_mail"
down_revision = "0011_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mailboxes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("imap_reader", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "imap_lease_until",
                tresen.storage.models.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("mailboxes", schema=None) as batch_op:
        batch_op.drop_column("imap_lease_until")
        batch_op.drop_column("imap_reader")
