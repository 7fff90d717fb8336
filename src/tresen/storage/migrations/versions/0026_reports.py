"""reports: resolved conversations in the hourly rollups (the agents table reads them), the
summary mail's language

Revision ID: 0026_reports
Revises: 0025_digest
Create Date: 2026-11-30 03:10:00

The upgrade refills the rollups from the facts already stored, with the resolved conversations
(the same sums as ``reports.rollups``, as 0024 did).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026_reports"
down_revision = "0025_digest"
branch_labels = None
depends_on = None

SUMS = """COUNT(*),
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
  SUM(CASE WHEN bot AND handed_over THEN 1 ELSE 0 END),
  SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END)"""
COLUMNS = """count, n_first, sum_first, n_wait, sum_wait, response_total, responses, n_handle,
  sum_handle, queued, short, abandoned, in_time, transfers, bot, handed, resolved"""
FILL = f"""
INSERT INTO report_hourly (hour, site_id, channel, skill, {COLUMNS})
SELECT created_hour, site_id, channel, COALESCE(skill, ''), {SUMS}
FROM report_conversations
GROUP BY created_hour, site_id, channel, COALESCE(skill, '')
"""
FILL_AGENTS = f"""
INSERT INTO report_hourly_agents (hour, site_id, agent_id, {COLUMNS})
SELECT created_hour, site_id, agent_id, {SUMS}
FROM report_conversations WHERE agent_id IS NOT NULL
GROUP BY created_hour, site_id, agent_id
"""


def upgrade() -> None:
    for table in ("report_hourly", "report_hourly_agents"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("resolved", sa.Integer(), server_default="0", nullable=False)
            )
    with op.batch_alter_table("report_digests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))
    # the rollups again from the facts, with their resolved conversations: one grouped pass each
    op.execute("DELETE FROM report_hourly")
    op.execute("DELETE FROM report_hourly_agents")
    op.execute(FILL)
    op.execute(FILL_AGENTS)


def downgrade() -> None:
    with op.batch_alter_table("report_digests", schema=None) as batch_op:
        batch_op.drop_column("language")
    for table in ("report_hourly_agents", "report_hourly"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("resolved")
