"""reports: hourly rollups of the conversation facts

Revision ID: 0024_rollups
Revises: 0011_access
Create Date: 2026-11-29 23:50:00

The upgrade fills it from the facts already stored (the same sums as ``reports.rollups``, at the
default thresholds: answered within 20 s, short abandon under 10 s).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_rollups"
down_revision = "0011_access"
branch_labels = None
depends_on = None


FILL = """
INSERT INTO report_hourly (hour, site_id, channel, skill, agent_id, count, n_first, sum_first,
  n_wait, sum_wait, response_total, responses, n_handle, sum_handle, queued, short, abandoned,
  in_time, transfers, bot, handed)
SELECT created_hour, site_id, channel, COALESCE(skill, ''), COALESCE(agent_id, 0), COUNT(*),
  COUNT(first_response_seconds), COALESCE(SUM(first_response_seconds), 0),
  COUNT(wait_seconds), COALESCE(SUM(wait_seconds), 0),
  COALESCE(SUM(response_seconds), 0), COALESCE(SUM(responses), 0),
  COUNT(handle_seconds), COALESCE(SUM(handle_seconds), 0),
  SUM(CASE WHEN queued_at IS NOT NULL THEN 1 ELSE 0 END),
  SUM(CASE WHEN queued_at IS NOT NULL AND abandoned AND COALESCE(abandon_seconds, 0) < 10
      THEN 1 ELSE 0 END),
  SUM(CASE WHEN queued_at IS NOT NULL AND abandoned THEN 1 ELSE 0 END),
  SUM(CASE WHEN queued_at IS NOT NULL AND wait_seconds <= 20 THEN 1 ELSE 0 END),
  COALESCE(SUM(transfers), 0),
  SUM(CASE WHEN bot THEN 1 ELSE 0 END),
  SUM(CASE WHEN bot AND handed_over THEN 1 ELSE 0 END)
FROM report_conversations
GROUP BY created_hour, site_id, channel, COALESCE(skill, ''), COALESCE(agent_id, 0)
"""


def upgrade() -> None:
    op.create_table(
        "report_hourly",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("n_first", sa.Integer(), nullable=False),
        sa.Column("sum_first", sa.Double(), nullable=False),
        sa.Column("n_wait", sa.Integer(), nullable=False),
        sa.Column("sum_wait", sa.Double(), nullable=False),
        sa.Column("response_total", sa.Double(), nullable=False),
        sa.Column("responses", sa.Integer(), nullable=False),
        sa.Column("n_handle", sa.Integer(), nullable=False),
        sa.Column("sum_handle", sa.Double(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("short", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("in_time", sa.Integer(), nullable=False),
        sa.Column("transfers", sa.Integer(), nullable=False),
        sa.Column("bot", sa.Integer(), nullable=False),
        sa.Column("handed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_hourly")),
        sa.UniqueConstraint(
            "hour",
            "site_id",
            "channel",
            "skill",
            "agent_id",
            name=op.f("uq_report_hourly_hour_site_id_channel_skill_agent_id"),
        ),
    )
    with op.batch_alter_table("report_hourly", schema=None) as batch_op:
        batch_op.create_index("ix_report_hourly_site_hour", ["site_id", "hour"], unique=False)
    op.execute(FILL)


def downgrade() -> None:
    with op.batch_alter_table("report_hourly", schema=None) as batch_op:
        batch_op.drop_index("ix_report_hourly_site_hour")
    op.drop_table("report_hourly")
