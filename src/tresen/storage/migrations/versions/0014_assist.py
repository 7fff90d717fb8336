"""assist: knowledge base, canned responses, suggestion picks, article reads

Revision ID: 0014_assist
Revises: 0009_reports
Create Date: 2026-11-29 20:30:02.236520
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tresen.storage.models.base

revision = "0014_assist"
down_revision = "0009_reports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "canned_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("shortcut", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column(
            "created_at", tresen.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", tresen.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["agents.id"],
            name=op.f("fk_canned_responses_owner_id_agents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_responses")),
    )
    with op.batch_alter_table("canned_responses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_canned_responses_owner_id"), ["owner_id"], unique=False
        )

    op.create_table(
        "kb_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", tresen.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_kb_categories_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_categories")),
    )
    with op.batch_alter_table("kb_categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_categories_site_id"), ["site_id"], unique=False)

    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", tresen.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", tresen.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["kb_categories.id"],
            name=op.f("fk_kb_articles_category_id_kb_categories"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_kb_articles_site_id_sites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
    )
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_articles_category_id"), ["category_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_kb_articles_site_id"), ["site_id"], unique=False)

    op.create_table(
        "kb_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column(
            "created_at", tresen.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_reads_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"], ["sites.id"], name=op.f("fk_kb_reads_site_id_sites"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["visitor_id"],
            ["visitors.id"],
            name=op.f("fk_kb_reads_visitor_id_visitors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_reads")),
    )
    with op.batch_alter_table("kb_reads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_reads_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_reads_site_id"), ["site_id"], unique=False)

    op.create_table(
        "suggestion_picks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at", tresen.storage.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"],
            ["agents.id"],
            name=op.f("fk_suggestion_picks_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_suggestion_picks_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestion_picks")),
    )
    with op.batch_alter_table("suggestion_picks", schema=None) as batch_op:
        batch_op.create_index(
            "ix_suggestion_picks_source_item", ["source", "item_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("suggestion_picks", schema=None) as batch_op:
        batch_op.drop_index("ix_suggestion_picks_source_item")

    op.drop_table("suggestion_picks")
    with op.batch_alter_table("kb_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_reads_site_id"))
        batch_op.drop_index(batch_op.f("ix_kb_reads_article_id"))

    op.drop_table("kb_reads")
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_articles_site_id"))
        batch_op.drop_index(batch_op.f("ix_kb_articles_category_id"))

    op.drop_table("kb_articles")
    with op.batch_alter_table("kb_categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_categories_site_id"))

    op.drop_table("kb_categories")
    with op.batch_alter_table("canned_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_canned_responses_owner_id"))

    op.drop_table("canned_responses")
