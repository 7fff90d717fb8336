"""reports: hourly rollups of the conversation facts, covering indexes for percentiles and occupancy

Revision ID: 0024_rollups
Revises: 0021_mail
Create Date: 2026-11-29 23:50:00

The upgrade fills the rollups from the facts already stored (the same sums as
``reports.rollups``, at the default thresholds: answered within 20 s, short abandon under 10 s).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_rollups"
down_revision = "0021_mail"
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
  SUM(CASE WHEN bot AND handed_over THEN 1 ELSE 0 END)"""
COLUMNS = """count, n_first, sum_first, n_wait, sum_wait, response_total, responses, n_handle,
  sum_handle, queued, short, abandoned, in_time, transfers, bot, handed"""
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


def _sums() -> list[sa.Column]:  # type: ignore[type-arg]
    ints = ("count", "n_first", "n_wait", "responses", "n_handle", "queued", "short")
    floats = ("sum_first", "sum_wait", "response_total", "sum_handle")
    rest = ("abandoned", "in_time", "transfers", "bot", "handed")
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in ints),
        *(sa.Column(c, sa.Double(), nullable=False) for c in floats),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in rest),
    ]


def upgrade() -> None:
    op.create_table(
        "report_hourly",
        *_sums(),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("skill", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_hourly")),
        sa.UniqueConstraint(
            "hour",
            "site_id",
            "channel",
            "skill",
            name=op.f("uq_report_hourly_hour_site_id_channel_skill"),
        ),
    )
    op.create_table(
        "report_hourly_agents",
        *_sums(),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_hourly_agents")),
        sa.UniqueConstraint(
            "hour",
            "site_id",
            "agent_id",
            name=op.f("uq_report_hourly_agents_hour_site_id_agent_id"),
        ),
    )
    with op.batch_alter_table("report_conversations", schema=None) as batch_op:
        # declared by the model since 0009 but never created: percentiles and occupancy read
        # these indexes alone (no row lookups)
        batch_op.create_index(
            "ix_report_conversations_created_first",
            ["created_at", "first_response_seconds"],
            if_not_exists=True,
        )
        batch_op.create_index(
            "ix_report_conversations_created_wait",
            ["created_at", "wait_seconds"],
            if_not_exists=True,
        )
        batch_op.create_index(
            "ix_report_conversations_held",
            ["held_until_ts", "held_since_ts", "channel", "agent_id"],
        )
    op.execute(FILL)
    op.execute(FILL_AGENTS)


def downgrade() -> None:
    with op.batch_alter_table("report_conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_report_conversations_held")
    op.drop_table("report_hourly_agents")
    op.drop_table("report_hourly")
