"""reports: resolved conversations in the hourly rollups (the agents table reads them), the
summary mail's language

Revision ID: 0026_reports
Revises: 0025_digest
Create Date: 2026-11-30 03:10:00

The upgrade counts the resolved conversations of every rollup row from the facts already stored.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_reports"
down_revision = "0025_digest"
branch_labels = None
depends_on = None

FILL = """
UPDATE report_hourly SET resolved = (
  SELECT COUNT(*) FROM report_conversations r
  WHERE r.created_hour = report_hourly.hour AND r.site_id = report_hourly.site_id
    AND r.channel = report_hourly.channel AND COALESCE(r.skill, '') = report_hourly.skill
    AND r.status = 'resolved')
"""
FILL_AGENTS = """
UPDATE report_hourly_agents SET resolved = (
  SELECT COUNT(*) FROM report_conversations r
  WHERE r.created_hour = report_hourly_agents.hour AND r.site_id = report_hourly_agents.site_id
    AND r.agent_id = report_hourly_agents.agent_id AND r.status = 'resolved')
"""


def upgrade() -> None:
    for table in ("report_hourly", "report_hourly_agents"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("resolved", sa.Integer(), server_default="0", nullable=False)
            )
    with op.batch_alter_table("report_digests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    op.execute(FILL)
    op.execute(FILL_AGENTS)


def downgrade() -> None:
    with op.batch_alter_table("report_digests", schema=None) as batch_op:
        batch_op.drop_column("language")
    for table in ("report_hourly_agents", "report_hourly"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("resolved")
